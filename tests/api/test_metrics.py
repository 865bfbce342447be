"""GET /metrics: Prometheus text with calls, latencies, batches and queue depths."""

from typing import Any

import pytest

from tests.helpers import RPC_PATH, Rpc, RpcError, basic_auth


def _sample(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in the metrics")


async def test_metrics_count_what_happened(rpc: Rpc, client: Any) -> None:
    for _ in range(3):
        await rpc("sms.send", "SMS", "+33612345678", "counted", None)
    with pytest.raises(RpcError):
        await rpc("sms.get", "ZZZZZZZZ")
    for name in ("sms.nope", "anything.else"):
        with pytest.raises(RpcError):
            await rpc(name)
    call = {"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": ["ZZZZZZZZ"]}
    wrong = {"Authorization": basic_auth("alice", "wrong")}
    async with client.post(RPC_PATH, json=call, headers=wrong) as refused:
        assert refused.status == 401
    async with client.get("/exports/ABCDEFGH.csv", headers=wrong) as refused:
        assert refused.status == 401
    async with client.get("/metrics") as response:
        assert response.status == 200 and response.content_type == "text/plain"
        text = await response.text()
    assert _sample(text, 'gateway_rpc_calls_total{method="sms.send",outcome="ok"}') == 3
    assert _sample(text, 'gateway_rpc_calls_total{method="sms.get",outcome="-32602"}') == 1
    assert _sample(text, 'gateway_rpc_calls_total{method="(unknown)",outcome="-32601"}') == 2
    assert _sample(text, 'gateway_auth_refusals_total{status="401"}') == 2
    assert _sample(text, 'gateway_rpc_call_seconds_count{method="sms.send"}') == 3
    assert _sample(text, "gateway_store_write_batch_size_count") >= 1
    # The carrier is paused in these tests: all three wait to be dispatched.
    assert _sample(text, 'gateway_queue_depth{queue="dispatch"}') == 3
    assert _sample(text, 'gateway_queue_depth{queue="jobs"}') == 0
