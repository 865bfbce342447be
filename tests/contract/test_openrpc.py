"""The published contract: generated, complete, valid OpenRPC, and served by rpc.discover."""

import json
from typing import Any

import pytest
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from gateway.rpc.methods import METHODS
from gateway.rpc.openrpc import dumps, openrpc_document, webhook_event_schema
from tests.helpers import REPO_ROOT, RPC_PATH

SCHEMA_DIR = REPO_ROOT / "schema"
REFERENCE = REPO_ROOT.parent / "shared" / "reference"


def test_openrpc_file_is_generated_and_current() -> None:
    on_disk = (SCHEMA_DIR / "openrpc.json").read_text(encoding="utf-8")
    assert on_disk == dumps(openrpc_document()), (
        "regenerate: sms-gateway schema > schema/openrpc.json"
    )


def test_webhook_schema_file_is_generated_and_current() -> None:
    on_disk = (SCHEMA_DIR / "webhook-event.schema.json").read_text(encoding="utf-8")
    assert on_disk == dumps(webhook_event_schema()), (
        "regenerate: sms-gateway schema --webhook-event > schema/webhook-event.schema.json"
    )


def test_every_method_of_the_dispatch_table_is_documented() -> None:
    documented = {method["name"] for method in openrpc_document()["methods"]}
    assert documented == set(METHODS)
    for method in openrpc_document()["methods"]:
        spec = METHODS[method["name"]]
        assert [param["name"] for param in method["params"]] == list(spec.params)
        assert method["summary"] and method["errors"]


@pytest.mark.skipif(
    not REFERENCE.is_dir(), reason="the shared reference folder is not beside the checkout"
)
def test_document_validates_against_the_openrpc_meta_schema() -> None:
    meta = json.loads((REFERENCE / "openrpc-meta-schema.json").read_text())
    json_schema_meta = json.loads((REFERENCE / "json-schema-tools-meta-schema.json").read_text())
    # The meta-schema refers to the JSON Schema meta-schema by URL; resolve it from the file.
    registry: Registry[Any] = Registry().with_resources(
        [
            (uri, Resource.from_contents(json_schema_meta, default_specification=_draft7()))
            for uri in ("https://meta.json-schema.tools", "https://meta.json-schema.tools/")
        ]
    )
    validator = Draft7Validator(meta, registry=registry)
    errors = sorted(validator.iter_errors(openrpc_document()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def _draft7() -> Any:
    from referencing.jsonschema import DRAFT7

    return DRAFT7


async def test_rpc_discover_needs_no_authentication(client: Any) -> None:
    call = {"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}
    async with client.post(RPC_PATH, json=call) as response:
        assert response.status == 200
        body = await response.json()
    assert body["result"] == json.loads(dumps(openrpc_document()))
    other = {"jsonrpc": "2.0", "id": 2, "method": "sms.get_gsm_charset_mapping"}
    async with client.post(RPC_PATH, json=[call, other]) as response:
        assert response.status == 401  # one call of the batch needs an account
