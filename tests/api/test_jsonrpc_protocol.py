"""The JSON-RPC 2.0 specification's section 7 examples, on the gateway's own methods.

The specification's `subtract`/`sum` methods become sms.get_count_for_body and friends; the
shapes, ids and error codes are the specification's.
"""

import gzip
import io
from typing import Any

from tests.helpers import LOGIN, PASSWORD, RPC_PATH, basic_auth

COUNT = "sms.get_count_for_body"


def _count_result(parts: int, encoding: str = "GSM") -> dict[str, Any]:
    return {
        "nb_sms": parts,
        "encoding": encoding,
        "cost": None,
        "currency": "EUR",
        "unit_cost": None,
        "country": None,
    }


async def test_positional_params(post: Any) -> None:
    status, body = await post({"jsonrpc": "2.0", "method": COUNT, "params": ["hello"], "id": 1})
    assert status == 200
    assert body == {"jsonrpc": "2.0", "result": _count_result(1), "id": 1}


async def test_named_params(post: Any) -> None:
    status, body = await post(
        {"jsonrpc": "2.0", "method": COUNT, "params": {"body": "x" * 161}, "id": 3}
    )
    assert status == 200
    assert body == {"jsonrpc": "2.0", "result": _count_result(2), "id": 3}


async def test_notification_gets_no_answer_but_runs(post: Any, rpc: Any) -> None:
    status, body = await post(
        {"jsonrpc": "2.0", "method": "sms.send", "params": ["SMS", "+33612345678", "notified"]}
    )
    assert (status, body) == (204, None)


async def test_unknown_method(post: Any) -> None:
    status, body = await post({"jsonrpc": "2.0", "method": "foobar", "id": "1"})
    assert status == 200
    assert body["error"]["code"] == -32601 and body["id"] == "1"
    assert "foobar" not in str(body["error"])  # never echoes the input


async def test_invalid_json(post: Any) -> None:
    status, body = await post('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
    assert status == 200
    assert body["error"]["code"] == -32700 and body["id"] is None


async def test_invalid_request_object(post: Any) -> None:
    status, body = await post({"jsonrpc": "2.0", "method": 1, "params": "bar"})
    assert status == 200
    assert body["error"]["code"] == -32600 and body["id"] is None


async def test_batch_with_invalid_json(post: Any) -> None:
    status, body = await post(
        '[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},'
        '{"jsonrpc": "2.0", "method"]'
    )
    assert status == 200
    assert isinstance(body, dict) and body["error"]["code"] == -32700 and body["id"] is None


async def test_empty_batch(post: Any) -> None:
    status, body = await post([])
    assert status == 200
    assert isinstance(body, dict) and body["error"]["code"] == -32600 and body["id"] is None


async def test_invalid_batch_of_one(post: Any) -> None:
    status, body = await post([1])
    assert status == 200
    assert isinstance(body, list) and len(body) == 1
    assert body[0]["error"]["code"] == -32600 and body[0]["id"] is None


async def test_invalid_batch_of_three(post: Any) -> None:
    status, body = await post([1, 2, 3])
    assert status == 200
    assert [entry["error"]["code"] for entry in body] == [-32600, -32600, -32600]
    assert all(entry["id"] is None for entry in body)


async def test_mixed_batch(post: Any) -> None:
    status, body = await post(
        [
            {"jsonrpc": "2.0", "method": COUNT, "params": ["a"], "id": "1"},
            {"jsonrpc": "2.0", "method": COUNT, "params": ["notify"]},
            {"jsonrpc": "2.0", "method": COUNT, "params": ["€" * 81], "id": "2"},
            {"foo": "boo"},
            {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
            {"jsonrpc": "2.0", "method": "sms.get_gsm_charset_mapping", "id": "9"},
        ]
    )
    assert status == 200
    by_id = {entry["id"]: entry for entry in body if entry["id"] is not None}
    assert len(body) == 5  # the notification is not answered
    assert by_id["1"]["result"] == _count_result(1)
    assert by_id["2"]["result"] == _count_result(2)  # 81 euro signs: 162 septets
    assert by_id["5"]["error"]["code"] == -32601
    assert "gsm" in by_id["9"]["result"]
    invalid = [entry for entry in body if entry["id"] is None]
    assert len(invalid) == 1 and invalid[0]["error"]["code"] == -32600


async def test_batch_of_only_notifications_answers_nothing(post: Any) -> None:
    status, body = await post(
        [
            {"jsonrpc": "2.0", "method": COUNT, "params": ["a"]},
            {"jsonrpc": "2.0", "method": COUNT, "params": ["b"]},
        ]
    )
    assert (status, body) == (204, None)


async def test_batch_over_the_limit_is_one_invalid_request(post: Any, settings: Any) -> None:
    call = {"jsonrpc": "2.0", "method": COUNT, "params": ["a"], "id": 1}
    status, body = await post([call] * (settings.server.max_batch_size + 1))
    assert status == 200
    assert isinstance(body, dict) and body["error"]["code"] == -32600


async def test_too_many_positional_params(post: Any) -> None:
    status, body = await post({"jsonrpc": "2.0", "method": COUNT, "params": ["a", "b"], "id": 1})
    assert status == 200
    assert body["error"] == {
        "code": -32602,
        "message": "PROPERTY_VALUE_ERROR [params]",
        "data": {"property": "params", "reason": "sms.get_count_for_body takes at most 1 params"},
    }


async def test_unknown_named_param(post: Any) -> None:
    status, body = await post({"jsonrpc": "2.0", "method": COUNT, "params": {"text": "a"}, "id": 1})
    assert status == 200
    assert body["error"]["message"] == "PROPERTY_VALUE_ERROR [text]"


async def test_nan_and_non_utf8_are_parse_errors(post: Any) -> None:
    for raw in (b'{"jsonrpc": "2.0", "method": "x", "params": [NaN], "id": 1}', b"\xff\xfe{"):
        status, body = await post(raw)
        assert status == 200 and body["error"]["code"] == -32700


async def test_a_number_beyond_a_double_is_a_parse_error(post: Any) -> None:
    # 1e999 parses to infinity, which would go back out as `Infinity`: not JSON.
    raw = b'{"jsonrpc": "2.0", "method": "webhooks.get_event_types", "id": 1e999}'
    status, body = await post(raw)
    assert status == 200 and body["error"]["code"] == -32700 and body["id"] is None


async def test_a_body_its_content_encoding_does_not_decode_is_a_parse_error(
    client: Any, api_key: str
) -> None:
    headers = {
        "Authorization": basic_auth(LOGIN, PASSWORD),
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    call = b'{"jsonrpc": "2.0", "method": "sms.get_count_for_body", "params": ["x"], "id": 1}'
    # Real gzip is read as it should be.
    async with client.post(RPC_PATH, headers=headers, data=gzip.compress(call)) as response:
        assert (await response.json())["result"]["nb_sms"] == 1
    # The server answers, then closes the connection: its HTTP parser cannot go on after it.
    async with client.post(RPC_PATH, headers=headers, data=call) as response:
        assert response.status == 200
        assert (await response.json())["error"]["code"] == -32700


async def test_deeply_nested_json_is_a_parse_error(post: Any) -> None:
    status, body = await post("[" * 100_000 + "]" * 100_000)
    assert status == 200 and body["error"]["code"] == -32700


async def test_unsupported_content_type_is_an_invalid_request(client: Any, api_key: str) -> None:
    async with client.post(
        RPC_PATH,
        data=b'{"jsonrpc": "2.0", "method": "sms.get_gsm_charset_mapping", "id": 1}',
        headers={"Authorization": f"Api-Key {api_key}", "Content-Type": "text/html"},
    ) as response:
        body = await response.json()
    assert response.status == 200 and body["error"]["code"] == -32600


async def test_json_rpc_content_type_with_charset_and_no_trailing_slash(
    client: Any, api_key: str
) -> None:
    async with client.post(
        RPC_PATH.rstrip("/"),
        data=b'{"jsonrpc": "2.0", "method": "sms.get_gsm_charset_mapping", "id": 7}',
        headers={
            "Authorization": f"Api-Key {api_key}",
            "Content-Type": "application/json-rpc; charset=utf-8",
        },
    ) as response:
        body = await response.json(content_type=None)
    assert response.status == 200 and body["id"] == 7 and "mapping" in body["result"]
    assert response.content_type == "application/json-rpc"


async def test_oversized_body_is_refused_before_parsing(
    client: Any, api_key: str, settings: Any
) -> None:
    payload = (
        b'{"jsonrpc": "2.0", "method": "x", "params": ["'
        + b"a" * settings.server.max_request_bytes
        + b'"]}'
    )
    async with client.post(
        RPC_PATH, data=io.BytesIO(payload), headers={"Authorization": f"Api-Key {api_key}"}
    ) as response:
        assert response.status == 413
