"""The published contract: an OpenRPC 1.3 document generated from the method table's models."""

import json
from functools import cache
from importlib.metadata import version
from typing import Any, Literal

from pydantic import TypeAdapter

from gateway.rpc.methods import METHODS
from gateway.services.wire import WebhookEvent

_REF = "#/components/schemas/{model}"
_COMMON_ERRORS = [
    {
        "code": -32602,
        "message": "MISSING_PROPERTY [p] | PROPERTY_TYPE_ERROR [p] | "
        "PROPERTY_VALUE_ERROR [p] | INVALID_PARAM_FORMAT [p]: a param is absent, of the wrong "
        "type, invalid, or badly formatted; `data` has `property` and `reason`",
    },
    {"code": -32603, "message": "INTERNAL_ERROR: `data.incident` is found in the server log"},
]
_SPECIFIC_ERRORS = {
    "sms.send": [100, 1000],
    "sms.send_batch": [100],
    "sms.get_quote": [1000],
    "numbers.create": [100],
}
_ERROR_MESSAGES = {
    100: "FEATURE_NOT_ALLOWED [p]: e.g. a sender or number the account may not use",
    1000: "SMS_ROUTING_ERROR [to]: no price or route for the destination",
}


class _Schemas:
    """JSON Schemas with every named model gathered once under components.schemas."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, annotation: Any, mode: Literal["validation", "serialization"]) -> dict[str, Any]:
        """The schema of a type; a model becomes a $ref to its entry in components."""
        # Wrapped in a list so that a model at the top is a $ref too, not inlined.
        schema = TypeAdapter(list[annotation]).json_schema(
            by_alias=True, ref_template=_REF, mode=mode
        )
        self.components.update(schema.pop("$defs", {}))
        item: dict[str, Any] = schema["items"]
        return item

    def properties(self, model: Any) -> tuple[dict[str, Any], set[str]]:
        """The params model's properties and which are required."""
        schema = TypeAdapter(model).json_schema(by_alias=True, ref_template=_REF)
        self.components.update(schema.pop("$defs", {}))
        return schema.get("properties", {}), set(schema.get("required", []))


def _method(name: str, schemas: _Schemas) -> dict[str, Any]:
    spec = METHODS[name]
    properties, required = schemas.properties(spec.model)
    errors = [
        {"code": code, "message": _ERROR_MESSAGES[code]} for code in _SPECIFIC_ERRORS.get(name, [])
    ]
    method: dict[str, Any] = {
        "name": name,
        "summary": spec.summary,
        "paramStructure": "either",
        "params": [
            {"name": param, "required": param in required, "schema": properties[param]}
            for param in spec.params
        ],
        "result": {"name": "result", "schema": schemas.of(spec.result, "serialization")},
        "errors": errors + _COMMON_ERRORS,
    }
    if spec.public:
        method["description"] = "Needs no authentication."
    return method


@cache
def openrpc_document() -> dict[str, Any]:
    """The OpenRPC document of every method (built once: the table does not change)."""
    schemas = _Schemas()
    methods = [_method(name, schemas) for name in sorted(METHODS)]
    return {
        "openrpc": "1.3.2",
        "info": {
            "title": "sms-gateway",
            "version": version("sms-gateway"),
            "description": "JSON-RPC 2.0 SMS gateway, compatible with CALLR's API (v1.1).",
        },
        "servers": [{"name": "gateway", "url": "/json-rpc/v1.1/"}],
        "methods": methods,
        "components": {"schemas": dict(sorted(schemas.components.items()))},
    }


def webhook_event_schema() -> dict[str, Any]:
    schema = TypeAdapter(WebhookEvent).json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def dumps(document: dict[str, Any]) -> str:
    """The document as the files in schema/ hold it."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
