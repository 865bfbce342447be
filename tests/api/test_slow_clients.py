"""Slow and abusive clients: a body that never finishes, and oversized headers."""

import asyncio
from typing import Any

import pytest

from gateway.config import Settings
from tests.helpers import LOGIN, PASSWORD, RPC_PATH, basic_auth

MO_SECRET = "mo-secret"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    server = settings.server.model_copy(update={"body_read_timeout_s": 0.3})
    simulator = settings.carrier.simulator.model_copy(update={"mo_secret": MO_SECRET})
    carrier = settings.carrier.model_copy(update={"simulator": simulator})
    return settings.model_copy(update={"server": server, "carrier": carrier})


async def _raw(client: Any, request: bytes, pause_s: float = 0) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    try:
        writer.write(request)
        await writer.drain()
        await asyncio.sleep(pause_s)
        return await asyncio.wait_for(reader.read(4096), timeout=5)
    finally:
        writer.close()


async def test_a_body_that_never_finishes_gets_408(client: Any, api_key: str) -> None:
    head = (
        f"POST {RPC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {basic_auth(LOGIN, PASSWORD)}\r\nContent-Length: 200\r\n\r\n"
    ).encode()
    answer = await _raw(client, head + b'{"jsonrpc": "2.0", ')  # and nothing more
    assert answer.startswith(b"HTTP/1.1 408")
    # The carrier's inbound route has the same bound.
    head = (
        "POST /carrier/simulator/mo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {MO_SECRET}\r\nContent-Length: 100\r\n\r\n"
    ).encode()
    assert (await _raw(client, head + b'{"from": ')).startswith(b"HTTP/1.1 408")


async def test_oversized_headers_are_refused(client: Any, api_key: str) -> None:
    head = (
        f"POST {RPC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: {'a' * 20_000}\r\n"
        "Content-Length: 2\r\n\r\n{}"
    ).encode()
    answer = await _raw(client, head)
    assert answer.split(b" ")[1] in (b"400", b"431")
    call = b'{"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["x"]}'
    normal = (
        f"POST {RPC_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: {basic_auth(LOGIN, PASSWORD)}\r\nContent-Length: {len(call)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    assert (await _raw(client, normal + call)).startswith(b"HTTP/1.1 200")  # still serving
