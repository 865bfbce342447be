"""Authentication: Basic, Api-Key and Bearer; failures are HTTP 401, not JSON-RPC errors."""

import asyncio
import base64
from typing import Any

import pytest

from gateway.app import SERVICES
from tests.helpers import LOGIN, PASSWORD, RPC_PATH, basic_auth

CALL = {"jsonrpc": "2.0", "method": "sms.get_gsm_charset_mapping", "id": 1}


async def _status(client: Any, authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    async with client.post(RPC_PATH, json=CALL, headers=headers) as response:
        if response.status == 401:
            assert response.headers["WWW-Authenticate"] == 'Basic realm="sms-gateway"'
            assert (await response.json())["error"]
        return response.status


async def test_every_scheme_is_accepted_case_insensitively(client: Any, api_key: str) -> None:
    assert await _status(client, basic_auth(LOGIN, PASSWORD)) == 200
    assert await _status(client, "basic " + basic_auth(LOGIN, PASSWORD).split()[1]) == 200
    assert await _status(client, f"Api-Key {api_key}") == 200
    assert await _status(client, f"API-KEY {api_key}") == 200
    assert await _status(client, f"Bearer {api_key}") == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        basic_auth(LOGIN, "wrong"),
        basic_auth("nobody", PASSWORD),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
        "Api-Key " + "0" * 100,
        "Api-Key short",
        "Bearer",
        "Digest abc",
    ],
)
async def test_bad_credentials_are_http_401(
    client: Any, api_key: str, authorization: str | None
) -> None:
    assert await _status(client, authorization) == 401


@pytest.mark.parametrize("scheme", [b"Basic", b"Api-Key", b"Bearer"])
async def test_credentials_that_are_not_utf8_are_http_401(
    client: Any, api_key: str, scheme: bytes
) -> None:
    # The bytes of the header as sent: aiohttp's client would encode a str header itself.
    body = b'{"jsonrpc": "2.0", "method": "sms.get_gsm_charset_mapping", "id": 1}'
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST " + RPC_PATH.encode() + b" HTTP/1.1\r\nHost: gateway\r\n"
        b"Authorization: " + scheme + b" \xff\xfe\xfd\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401 ")


async def test_api_keys_are_stored_hashed(client: Any, api_key: str) -> None:
    store = client.app[SERVICES].store
    rows = await store._read("SELECT token_sha256 FROM api_keys", ())
    assert len(api_key) == 100 and all(c in "0123456789abcdef" for c in api_key)
    assert [bytes(row[0]) for row in rows] != [api_key.encode()]
    assert len(bytes(rows[0][0])) == 32


async def test_password_is_stored_as_salted_scrypt(client: Any, api_key: str) -> None:
    credentials = await client.app[SERVICES].store.credentials_for_login(LOGIN)
    assert credentials is not None
    assert (
        credentials.password_hash.startswith("scrypt$")
        and PASSWORD not in credentials.password_hash
    )


async def test_verified_basic_credentials_are_cached(
    client: Any, api_key: str, monkeypatch: Any
) -> None:
    from gateway.services import accounts

    calls = 0
    real_verify = accounts.verify_password

    def counting_verify(password: str, encoded: str) -> bool:
        nonlocal calls
        calls += 1
        return real_verify(password, encoded)

    monkeypatch.setattr(accounts, "verify_password", counting_verify)
    for _ in range(5):
        assert await _status(client, basic_auth(LOGIN, PASSWORD)) == 200
    assert calls == 1
    # A wrong password is never served from the cache of the right one.
    assert await _status(client, basic_auth(LOGIN, PASSWORD + "x")) == 401
    assert calls == 2


async def test_duplicate_login_is_refused(client: Any, api_key: str) -> None:
    from gateway.errors import DuplicateLogin

    with pytest.raises(DuplicateLogin):
        await client.app[SERVICES].accounts.create(LOGIN, "other")


async def test_healthz(client: Any) -> None:
    async with client.get("/healthz") as response:
        assert response.status == 200 and (await response.json())["status"] == "ok"


async def test_readyz_checks_writes_and_background_tasks(client: Any, settings: Any) -> None:
    import asyncio
    import sqlite3

    def outsider(sql: str) -> None:
        # Another process's connection, from a thread: the event loop keeps serving meanwhile.
        with sqlite3.connect(settings.store.path, timeout=10) as connection:
            connection.execute(sql)

    async with client.get("/readyz") as response:
        assert response.status == 200 and (await response.json())["status"] == "ready"
    # Writes start failing under the gateway (as on a full disk or a read-only file).
    await asyncio.to_thread(
        outsider,
        "CREATE TRIGGER block_health BEFORE INSERT ON health "
        "BEGIN SELECT RAISE(ABORT, 'read-only'); END",
    )
    async with client.get("/readyz") as response:
        body = await response.json()
    assert response.status == 503 and body["problems"] == ["the store does not take writes"]
    await asyncio.to_thread(outsider, "DROP TRIGGER block_health")
    async with client.get("/readyz") as response:
        assert response.status == 200  # recovered once the condition cleared
