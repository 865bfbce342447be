"""Failed-login throttling, equal cost for unknown logins and wrong passwords, clean logs."""

import logging
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from gateway.app import SERVICES, create_app
from gateway.config import Settings
from tests.helpers import LOGIN, PASSWORD, RPC_PATH, FakeClock, basic_auth

CALL = {"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["x"]}


async def _status(client: TestClient[Any, Any], authorization: str) -> tuple[int, Any]:
    async with client.post(
        RPC_PATH, json=CALL, headers={"Authorization": authorization}
    ) as response:
        return response.status, response.headers


@pytest.fixture
def settings(settings: Settings) -> Settings:
    auth = settings.auth.model_copy(update={"max_failed_logins": 3, "failed_login_window_s": 60})
    return settings.model_copy(update={"auth": auth})


async def test_repeated_failures_throttle_the_login_and_the_address(
    client: Any, api_key: str
) -> None:
    for _ in range(3):
        assert (await _status(client, basic_auth(LOGIN, "guess")))[0] == 401
    status, headers = await _status(client, basic_auth(LOGIN, PASSWORD))
    assert status == 429 and 0 < int(headers["Retry-After"]) <= 60  # even the right password
    status, _ = await _status(client, f"Api-Key {api_key}")
    assert status == 429  # the same address is held back for any credential it has not proven


async def test_unknown_login_costs_what_a_wrong_password_costs(
    aiohttp_client: Any, settings: Settings, clock: FakeClock
) -> None:
    real_cost = settings.model_copy(
        update={
            "auth": settings.auth.model_copy(update={"scrypt_n": 2**14, "max_failed_logins": 100})
        }
    )
    client = await aiohttp_client(create_app(real_cost, clock=clock))
    await client.app[SERVICES].accounts.create(LOGIN, PASSWORD)

    async def mean_s(authorization: str) -> float:
        started = time.perf_counter()
        for _ in range(6):
            assert (await _status(client, authorization))[0] == 401
        return (time.perf_counter() - started) / 6

    wrong_password = await mean_s(basic_auth(LOGIN, "wrong"))
    unknown_login = await mean_s(basic_auth("nobody-at-all", "wrong"))
    # Both pay one scrypt; the gap must not tell an attacker which logins exist.
    assert 0.5 < unknown_login / wrong_password < 2


async def test_logs_hold_no_secret_and_no_message_body(rpc: Any, client: Any, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    body = "my one-time code is 918273"
    secret = "whsec_c2VjcmV0LWtleS1mb3ItbG9ncw=="
    await rpc(
        "sms.send",
        "SMS",
        "+33612345678",
        body,
        {"webhook": {"endpoint": "http://127.0.0.1:9/x", "options": {"hmac_secret": secret}}},
    )
    await _status(client, basic_auth(LOGIN, "password-in-a-log?"))
    await rpc("sms.send", "SMS", "+33612345678", body, None)
    await client.app[SERVICES].store._read("SELECT 1", ())
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for forbidden in (body, secret, PASSWORD, "password-in-a-log?"):
        assert forbidden not in logged
