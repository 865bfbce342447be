"""Hostile input against the running app: every answer is a well-formed JSON-RPC error (or
401/413), never a 500 or a hang, and a rejected request leaves the store unchanged."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.app import SERVICES
from gateway.rpc.methods import METHODS
from tests.helpers import LOGIN, PASSWORD, RPC_PATH, basic_auth

AUTH = {"Authorization": basic_auth(LOGIN, PASSWORD), "Content-Type": "application/json"}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


async def _post(client: Any, data: bytes, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with client.post(RPC_PATH, data=data, headers=headers or AUTH) as response:
        text = await response.text()
        assert response.status in (200, 204, 401, 413), (response.status, text)
        assert "Traceback" not in text
        return response.status, (json.loads(text) if text and response.status == 200 else None)


def _assert_well_formed(answer: Any) -> None:
    entries = answer if isinstance(answer, list) else [answer]
    for entry in entries:
        assert entry["jsonrpc"] == "2.0" and "id" in entry
        assert ("result" in entry) != ("error" in entry)
        if "error" in entry:
            error = entry["error"]
            assert isinstance(error["code"], int) and isinstance(error["message"], str)
            assert error["code"] != -32603, error  # bad input is never an internal error


async def _message_count(client: Any) -> int:
    rows = await client.app[SERVICES].store._read("SELECT COUNT(*) FROM messages", ())
    count: int = rows[0][0]
    return count


@FUZZ
@given(body=st.binary(max_size=300))
async def test_arbitrary_bytes(client: Any, api_key: str, body: bytes) -> None:
    status, answer = await _post(client, body)
    if status == 200:
        _assert_well_formed(answer)


@FUZZ
@given(
    method=st.sampled_from(sorted(METHODS)),
    params=st.lists(json_values, max_size=5)
    | st.dictionaries(st.text(max_size=8), json_values, max_size=4),
)
async def test_wrong_values_in_every_param_position(
    client: Any, api_key: str, method: str, params: Any
) -> None:
    before = await _message_count(client)
    call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    status, answer = await _post(client, json.dumps(call).encode())
    assert status == 200
    _assert_well_formed(answer)
    if "error" in answer:
        assert await _message_count(client) == before  # nothing half-written


@FUZZ
@given(batch=st.lists(json_values, min_size=1, max_size=8))
async def test_batches_of_mixed_garbage(client: Any, api_key: str, batch: list[Any]) -> None:
    status, answer = await _post(client, json.dumps(batch).encode())
    if status == 200:
        _assert_well_formed(answer)
        assert isinstance(answer, list) and len(answer) == len(batch)


async def test_deep_nesting_huge_numbers_and_long_strings(client: Any, api_key: str) -> None:
    for raw in (
        b"[" * 50_000 + b"]" * 50_000,
        b'{"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": [' + b"9" * 5000 + b"]}",
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "sms.send",
                "params": ["SMS", "+33612345678", "x" * 500_000],
            }
        ).encode(),
        b'{"jsonrpc": "2.0", "id": 1e400, "method": "sms.get", "params": ["A"]}',
    ):
        status, answer = await _post(client, raw)
        assert status == 200
        _assert_well_formed(answer)
    # The server still answers a valid call afterwards.
    call = {"jsonrpc": "2.0", "id": 2, "method": "sms.get_count_for_body", "params": ["ok"]}
    status, answer = await _post(client, json.dumps(call).encode())
    assert answer["result"]["nb_sms"] == 1


async def test_content_types(client: Any, api_key: str) -> None:
    call = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["x"]}
    )
    for content_type in (
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "",
        "application/json; charset=latin-1",
    ):
        headers = {"Authorization": AUTH["Authorization"], "Content-Type": content_type}
        status, answer = await _post(client, call.encode(), headers)
        assert status == 200
        _assert_well_formed(answer)
