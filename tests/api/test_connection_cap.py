"""[server] max_connections_per_address: one client address holds at most that many open
connections; one more is answered 503 and closed before it is read."""

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gateway.app import METRICS
from gateway.config import Settings
from tests.helpers import free_port, gateway_config, start_gateway

CAP = 3
HEALTH = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    server = settings.server.model_copy(update={"max_connections_per_address": CAP})
    return settings.model_copy(update={"server": server})


class Connection:
    """A raw keep-alive HTTP/1.1 connection to the gateway."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def answer(self) -> tuple[int, dict[str, str], bytes]:
        """The next response: status, headers (lower-case names) and body."""
        head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout=5)
        status_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
        headers = dict(line.split(": ", 1) for line in lines)
        headers = {name.lower(): value for name, value in headers.items()}
        body = await self.reader.readexactly(int(headers["content-length"]))
        return int(status_line.split()[1]), headers, body

    async def get_health(self) -> int:
        self.writer.write(HEALTH)
        await self.writer.drain()
        status, _, _ = await self.answer()
        return status

    async def closed_by_server(self) -> bool:
        return await asyncio.wait_for(self.reader.read(1), timeout=5) == b""

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):  # reset by the gateway
            await self.writer.wait_closed()


Dial = Callable[[], Awaitable[Connection]]


@pytest.fixture
async def dial(client: Any) -> AsyncIterator[Dial]:
    """Opens connections to the gateway; whatever is still open is closed at the end."""
    opened: list[Connection] = []

    async def open_connection() -> Connection:
        opened.append(Connection(*await asyncio.open_connection("127.0.0.1", client.port)))
        return opened[-1]

    yield open_connection
    for connection in opened:
        await connection.close()


def _sample(client: Any, name: str) -> float:
    value = client.app[METRICS].registry.get_sample_value(name)
    assert value is not None, name
    return float(value)


async def _until_open_connections(client: Any, count: int) -> None:
    """Wait (bounded) until the gateway has seen enough connections close."""
    for _ in range(500):
        if _sample(client, "gateway_open_connections") == count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never {count} open connections")


async def test_one_connection_over_the_cap_is_refused_until_one_closes(
    client: Any, dial: Dial
) -> None:
    held = [await dial() for _ in range(CAP)]
    for connection in held:
        assert await connection.get_health() == 200
    await _until_open_connections(client, CAP)

    # One more, before it sends anything: a 503 and the end of the connection.
    extra = await dial()
    status, headers, body = await extra.answer()
    assert (status, headers["connection"]) == (503, "close")
    assert b"too many open connections" in body
    assert await extra.closed_by_server()
    # One that sends its request at once is never served either (a 503, or a reset when
    # the request was still unread at the close).
    eager = await dial()
    eager.writer.write(HEALTH)
    try:
        answer = await asyncio.wait_for(eager.reader.read(), timeout=5)
    except ConnectionResetError:
        answer = b""
    assert not answer.startswith(b"HTTP/1.1 200")
    assert _sample(client, "gateway_connections_refused_total") == 2

    # The connections under the cap were not disturbed: they keep serving.
    for connection in held:
        assert await connection.get_health() == 200
    await held.pop().close()
    await _until_open_connections(client, CAP - 1)
    again = await dial()
    assert await again.get_health() == 200
    # And the address is at its cap once more.
    refused = await dial()
    assert (await refused.answer())[0] == 503


async def test_closed_connections_do_not_count(client: Any, dial: Dial) -> None:
    # Three times the cap, one after the other, closed by either side.
    for number in range(3 * CAP):
        connection = await dial()
        if number % 2:
            connection.writer.write(
                b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
            )
            assert (await connection.answer())[0] == 200
            assert await connection.closed_by_server()
        else:
            assert await connection.get_health() == 200
        await connection.close()
    await _until_open_connections(client, 0)
    held = [await dial() for _ in range(CAP)]
    for connection in held:
        assert await connection.get_health() == 200
    assert _sample(client, "gateway_connections_refused_total") == 0


async def test_the_cap_holds_in_a_served_process(tmp_path: Path) -> None:
    # `sms-gateway serve` builds its own runner (no handler cancellation, unlike the tests'
    # server): a refusal there must not leave a failing task behind in the log.
    config = gateway_config(
        tmp_path, {"max_connections_per_address = 256": "max_connections_per_address = 2"}
    )
    port, log = free_port(), tmp_path / "gateway.log"
    server = await asyncio.to_thread(
        start_gateway, config, tmp_path / "cap.db", port, tmp_path, log
    )
    opened: list[Connection] = []
    try:
        for _ in range(2):
            opened.append(Connection(*await asyncio.open_connection("127.0.0.1", port)))
            assert await opened[-1].get_health() == 200
        for _ in range(3):
            opened.append(Connection(*await asyncio.open_connection("127.0.0.1", port)))
            assert (await opened[-1].answer())[0] == 503
            assert await opened[-1].closed_by_server()
        assert await opened[0].get_health() == 200
    finally:
        for connection in opened:
            await connection.close()
        server.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(server.wait, 30) == 0
    lines = log.read_text()
    assert "Traceback" not in lines and " ERROR " not in lines, lines
