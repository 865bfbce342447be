"""`[server] account_requests_per_s`: over it, calls answer QUOTA_EXCEEDED with retry_after."""

import asyncio
from typing import Any

import pytest

from gateway.app import SERVICES
from gateway.config import Settings
from tests.helpers import Rpc, RpcError, basic_auth

CALL = {"jsonrpc": "2.0", "method": "sms.get_count_for_body", "params": ["x"]}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    server = settings.server.model_copy(update={"account_requests_per_s": 2})
    return settings.model_copy(update={"server": server})


async def test_requests_over_the_limit_are_refused_with_retry_after(
    rpc: Rpc, post: Any, client: Any
) -> None:
    await rpc("sms.get_count_for_body", "a")
    await rpc("sms.get_count_for_body", "b")
    with pytest.raises(RpcError) as refused:
        await rpc("sms.get_count_for_body", "c")
    assert (refused.value.code, refused.value.message) == (110, "QUOTA_EXCEEDED")
    retry_after = refused.value.data["retry_after"]
    assert 0 < retry_after <= 0.5
    status, batch = await post([{**CALL, "id": 1}, CALL, {**CALL, "id": "two"}])
    assert status == 200 and [(a["id"], a["error"]["code"]) for a in batch] == [
        (1, 110),
        ("two", 110),
    ]
    # Another account has its own allowance.
    await client.app[SERVICES].accounts.create("bob", "pw")
    assert (await rpc("sms.get_count_for_body", "x", auth=basic_auth("bob", "pw")))["nb_sms"] == 1
    await asyncio.sleep(retry_after + 0.05)
    assert (await rpc("sms.get_count_for_body", "d"))["nb_sms"] == 1
