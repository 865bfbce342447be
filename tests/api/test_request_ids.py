"""Request ids: in every answer's X-Request-Id, and on every log record of the request."""

import json
import logging
from typing import Any

from gateway.logs import REQUEST_ID, JsonFormatter, RequestIdFilter
from tests.helpers import LOGIN, PASSWORD, RPC_PATH, basic_auth

CALL = {"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["x"]}


async def test_every_answer_carries_a_request_id(client: Any, api_key: str) -> None:
    headers = {"Authorization": basic_auth(LOGIN, PASSWORD)}
    async with (
        client.post(RPC_PATH, json=CALL, headers=headers) as first,
        client.post(RPC_PATH, json=CALL, headers=headers) as second,
    ):
        assert len(first.headers["X-Request-Id"]) == 32
        assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    given = {**headers, "X-Request-Id": "client-trace.42"}
    async with client.post(RPC_PATH, json=CALL, headers=given) as response:
        assert response.headers["X-Request-Id"] == "client-trace.42"
    odd = {**headers, "X-Request-Id": "no spaces or <tags> please"}
    async with client.post(RPC_PATH, json=CALL, headers=odd) as response:
        assert len(response.headers["X-Request-Id"]) == 32
    async with client.post(RPC_PATH, json=CALL) as refused:  # errors carry one too
        assert refused.status == 401 and len(refused.headers["X-Request-Id"]) == 32
    async with client.get("/nowhere") as missing:
        assert missing.status == 404 and len(missing.headers["X-Request-Id"]) == 32


def test_json_log_lines_carry_the_request_id() -> None:
    token = REQUEST_ID.set("abc123")
    try:
        record = logging.LogRecord(
            "gateway.test", logging.ERROR, __file__, 1, "failed %s", ("x",), None
        )
        assert RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["request_id"] == "abc123" and line["message"] == "failed x"
    assert line["level"] == "ERROR" and line["time"].endswith("+00:00")
