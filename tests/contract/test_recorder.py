"""The recording proxy in front of the real app: what it answers, what it writes, its CLI."""

import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.replay.recorder import Recorder, recorder_app
from gateway.replay.runner import Profile, replay
from tests.helpers import CLI, LOGIN, PASSWORD, RPC_PATH, basic_auth, free_port

JSON = {"Content-Type": "application/json"}
ALICE = {"Authorization": basic_auth(LOGIN, PASSWORD)} | JSON


@pytest.fixture
def profiles(api_key: str) -> dict[str, Profile]:
    return {"default": Profile(LOGIN, PASSWORD)}


async def _proxy(client: Any, aiohttp_server: Any, out: Path) -> tuple[Recorder, Any]:
    """A recording proxy in front of the test's gateway, writing to `out`."""
    recorder = Recorder(default_login=LOGIN)
    return recorder, await aiohttp_server(recorder_app(str(client.make_url("/")), out, recorder))


async def _post(url: Any, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as answer,
    ):
        return answer.status, await answer.read()


async def test_rpc_discover_is_proxied_recorded_and_replayed(
    client: Any, profiles: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    # The OpenRPC document has "status" members that are objects, not an SMS's status.
    out = tmp_path / "discover.jsonl"
    recorder, proxy = await _proxy(client, aiohttp_server, out)
    call = b'{"jsonrpc": "2.0", "id": 1, "method": "rpc.discover"}'
    status, body = await _post(proxy.make_url(RPC_PATH), call, JSON)
    direct = await client.post(RPC_PATH, data=call, headers=JSON)
    assert status == 200 and json.loads(body) == await direct.json()
    assert json.loads(body)["result"]["openrpc"]
    assert recorder.count == 1 and len(out.read_text().splitlines()) == 1
    report = await replay(
        [out], url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert report.ok, report.render()


async def test_a_lone_surrogate_escape_is_proxied_and_recorded(
    client: Any, profiles: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    out = tmp_path / "surrogate.jsonl"
    recorder, proxy = await _proxy(client, aiohttp_server, out)
    call = b'{"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["\\ud800"]}'
    status, body = await _post(proxy.make_url(RPC_PATH), call, ALICE)
    assert status == 200 and json.loads(body)["id"] == 1
    assert recorder.count == 1 and "\\ud800" in out.read_text(encoding="utf-8")
    report = await replay(
        [out], url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert report.ok, report.render()


async def test_end_to_end_answer_headers_are_passed_back(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    async def too_many(request: web.Request) -> web.StreamResponse:
        # Streamed, so the upstream's answer is chunked: its Transfer-Encoding is hop-by-hop.
        answer = web.StreamResponse(status=429, headers={"Retry-After": "7", "X-Request-Id": "r1"})
        answer.content_type = "application/json"
        await answer.prepare(request)
        await answer.write(b'{"error": "too many failed logins"}')
        await answer.write_eof()
        return answer

    upstream = web.Application()
    upstream.router.add_post(RPC_PATH, too_many)
    gateway = await aiohttp_server(upstream)
    out = tmp_path / "headers.jsonl"
    proxy = await aiohttp_server(recorder_app(str(gateway.make_url("/")), out, Recorder()))
    async with (
        aiohttp.ClientSession() as session,
        session.post(proxy.make_url(RPC_PATH), data=b"{}") as answer,
    ):
        assert answer.status == 429
        assert answer.headers["Retry-After"] == "7" and answer.headers["X-Request-Id"] == "r1"
        assert answer.headers["Content-Type"] == "application/json"
        assert "Transfer-Encoding" not in answer.headers
        assert await answer.json() == {"error": "too many failed logins"}


async def test_only_posts_to_the_rpc_endpoint_are_recorded(
    client: Any, api_key: str, aiohttp_server: Any, tmp_path: Path
) -> None:
    out = tmp_path / "endpoint.jsonl"
    recorder, proxy = await _proxy(client, aiohttp_server, out)
    # Forwarded and answered by the gateway, but a fixture cannot say "POST /healthz".
    status, _ = await _post(proxy.make_url("/healthz"), b"{}", ALICE)
    assert status == 405 and not out.exists()
    call = b'{"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["a"]}'
    status, _ = await _post(proxy.make_url(RPC_PATH.rstrip("/")), call, ALICE)
    assert status == 200 and recorder.count == len(out.read_text().splitlines()) == 1


async def test_an_exchange_not_written_is_answered_and_not_counted(
    client: Any, api_key: str, aiohttp_server: Any, tmp_path: Path
) -> None:
    out = tmp_path / "a-folder"
    out.mkdir()  # appending to it fails
    recorder, proxy = await _proxy(client, aiohttp_server, out)
    call = b'{"jsonrpc": "2.0", "id": 1, "method": "sms.get_count_for_body", "params": ["a"]}'
    status, body = await _post(proxy.make_url(RPC_PATH), call, ALICE)
    assert status == 200 and "result" in json.loads(body)
    assert (recorder.count, recorder.not_recorded) == (0, 1)


def _record(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "record", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_cli_record_refuses_a_taken_address_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = str(tmp_path / "out.jsonl")
        refused = _record("--listen", f"127.0.0.1:{port}", "--out", out)
    assert refused.returncode == 1
    [error] = [line for line in refused.stderr.splitlines() if "error" in line.lower()]
    assert error.startswith(f"error: cannot listen on 127.0.0.1:{port}: ")
    assert "Traceback" not in refused.stderr


def test_cli_record_refuses_an_out_file_that_is_not_utf8(tmp_path: Path) -> None:
    out = tmp_path / "binary.jsonl"
    out.write_bytes(b"\xff\n")
    refused = _record("--listen", f"127.0.0.1:{free_port()}", "--out", str(out))
    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: {out}: cannot read: 'utf-8' codec")
    assert len(refused.stderr.splitlines()) == 1
