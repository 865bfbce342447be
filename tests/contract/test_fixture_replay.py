"""tests/fixtures replay against the real app, in process and through the `sms-gateway` CLI."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.app import SERVICES
from gateway.replay.fixtures import load
from gateway.replay.recorder import Recorder, recorder_app
from gateway.replay.runner import Profile, replay
from gateway.rpc.methods import METHODS
from tests.helpers import LOGIN, PASSWORD, REPO_ROOT, RPC_PATH, basic_auth, free_port

FIXTURES = sorted((REPO_ROOT / "tests" / "fixtures").glob("*.jsonl"))
CLI = [sys.executable, "-m", "gateway"]
PUBLIC_METHODS = set(METHODS)
# Canceling succeeds only while a job is pending or running, which a replay cannot time:
# tests/api/test_exports.py shows it. Every other method has a success fixture.
ONLY_ERROR_FIXTURES = {"jobs.cancel"}

# Line 2 expects 3 parts of a 1-part SMS: the diff must name the path and both values.
WRONG_FIXTURE = "\n".join(
    json.dumps(line)
    for line in (
        {
            "name": "send",
            "request": {"method": "sms.send", "params": ["SMS", "+33612345678", "hi", None]},
            "response": {"result": {"$capture": "sms1", "$match": "hash"}},
        },
        {
            "name": "deliberately wrong",
            "request": {"method": "sms.get", "params": ["$sms1"]},
            "response": {"result": {"$contains": {"hash": "$sms1", "parts": 3}}},
        },
    )
)


@pytest.fixture
async def profiles(client: Any, api_key: str) -> dict[str, Profile]:
    """alice (from api_key) is the default profile; bob is the second account of isolation."""
    await client.app[SERVICES].accounts.create("bob", "pw")
    alice = Profile(LOGIN, PASSWORD)
    return {"default": alice, LOGIN: alice, "bob": Profile("bob", "pw")}


def test_fixtures_cover_every_public_method_with_successes_and_errors() -> None:
    assert [path.name for path in FIXTURES] == [
        "auth.jsonl",
        "batches.jsonl",
        "jobs_webhooks.jsonl",
        "numbers.jsonl",
        "protocol.jsonl",
        "quotes.jsonl",
        "search.jsonl",
        "send_and_get.jsonl",
    ]
    outcomes: dict[str, set[str]] = {}
    for path in FIXTURES:
        for exchange in load(path).exchanges:
            method = getattr(exchange.request, "method", None)
            if method in PUBLIC_METHODS and exchange.status == 200:
                outcomes.setdefault(method, set()).update(exchange.response)
    assert outcomes == {
        method: {"error"} if method in ONLY_ERROR_FIXTURES else {"result", "error"}
        for method in PUBLIC_METHODS
    }


async def test_every_fixture_file_replays_in_one_run(client: Any, profiles: Any) -> None:
    report = await replay(
        FIXTURES, url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert report.ok, report.render()
    assert len(report.outcomes) == sum(len(load(path).exchanges) for path in FIXTURES) > 100


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
async def test_each_fixture_file_replays_on_a_fresh_server(
    client: Any, profiles: Any, path: Path
) -> None:
    report = await replay(
        [path], url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert report.ok, report.render()


async def test_a_wrong_fixture_fails_with_a_readable_diff(
    client: Any, profiles: Any, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(WRONG_FIXTURE)
    report = await replay(
        [wrong], url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert not report.ok
    assert [outcome.passed for outcome in report.outcomes] == [True, False]
    assert report.render().splitlines() == [
        f"FAIL {wrong}:2 deliberately wrong",
        "  $.result.parts: expected 3, got 1",
        "replayed 2 exchanges from 1 file: 1 passed, 1 failed",
    ]


async def test_a_mismatched_status_shows_the_body(client: Any, profiles: Any) -> None:
    from gateway.replay.fixtures import parse

    fixture = parse(
        '{"name": "no auth", "auth": null, "request": {"method": "sms.get", "params": ["X"]},'
        ' "response": {"result": true}}',
        "inline.jsonl",
    )
    report = await replay(
        [fixture], url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert report.render().splitlines()[:3] == [
        "FAIL inline.jsonl:1 no auth",
        "  HTTP status: expected 200, got 401",
        '  body: expected {"result": true}, got {"error": "authentication required"}',
    ]


# --- the command line, against `sms-gateway serve` as a real process -------------------------


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A fresh database with alice and bob, served by `sms-gateway serve`; yields its URL."""
    db = ["--config", str(REPO_ROOT / "config.toml"), "--db", str(tmp_path / "served.db")]
    for login, password in ((LOGIN, PASSWORD), ("bob", "pw")):
        created = _cli("accounts", "create", login, "--password", password, *db)
        assert created.returncode == 0, created.stderr
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", *db, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # The shipped config's relative paths (the export folder) land here, not in the checkout.
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)


def test_cli_replays_the_fixtures_and_reports_a_wrong_one(served: str, tmp_path: Path) -> None:
    credentials = ["--login", LOGIN, "--password", PASSWORD, "--profile", "bob=bob:pw"]
    passed = _cli("replay", *map(str, FIXTURES), "--url", served, *credentials)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert passed.stdout.endswith(" failed\n") and ", 0 failed" in passed.stdout

    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(WRONG_FIXTURE)
    failed = _cli("replay", str(wrong), "--url", served, *credentials)
    assert failed.returncode == 1, failed.stderr
    assert f"FAIL {wrong}:2 deliberately wrong" in failed.stdout
    assert "$.result.parts: expected 3, got 1" in failed.stdout


def test_cli_usage_and_format_errors_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"request": {"method": "sms.get", "params": ["$sms1"]}, "response": 1}\n')
    bad_format = _cli("replay", str(broken), "--login", "a", "--password", "b")
    assert bad_format.returncode == 2
    assert f"{broken}:1: $sms1 is not captured" in bad_format.stderr
    no_profile = _cli("replay", str(FIXTURES[0]), "--login", "a", "--password", "b")
    assert no_profile.returncode == 2 and "no profile 'bob'" in no_profile.stderr
    bad_spec = _cli("replay", str(FIXTURES[0]), "--profile", "bob")
    assert bad_spec.returncode == 2 and "NAME=LOGIN:PASSWORD" in bad_spec.stderr
    discover = tmp_path / "discover.jsonl"
    discover.write_text(
        '{"auth": null, "request": {"method": "rpc.discover"}, "response": {"$match": "any"}}\n'
    )
    for url in ("http://[::1", "http://127.0.0.1:99999", "ftp://127.0.0.1"):
        bad_url = _cli("replay", str(discover), "--url", url)
        assert bad_url.returncode == 2 and "--url" in bad_url.stderr, bad_url.stderr
        assert "Traceback" not in bad_url.stderr
    # Parsed fine once, but too deep for the runner to build the request: refused up front.
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"request": {"json": ' + "[" * 600 + "]" * 600 + '}, "status": 400}\n')
    too_deep = _cli("replay", str(deep), "--login", "a", "--password", "b")
    assert too_deep.returncode == 2
    assert (
        too_deep.stderr
        == f"error: {deep}:1: nested deeper than 100 levels (send such a body as text)\n"
    )


# --- the recorder -----------------------------------------------------------------------------


async def test_recorded_traffic_replays_against_the_same_server(
    client: Any, profiles: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    out = tmp_path / "recorded.jsonl"
    recorder = Recorder(default_login=LOGIN)
    proxy = await aiohttp_server(recorder_app(str(client.make_url("/")), out, recorder))
    alice, bob = basic_auth(LOGIN, PASSWORD), basic_auth("bob", "pw")
    session = aiohttp.ClientSession()

    async def call(document: Any, auth: str | None = alice, raw: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"} | ({"Authorization": auth} if auth else {})
        data = raw if raw is not None else json.dumps(document).encode()
        async with session.post(proxy.make_url(RPC_PATH), data=data, headers=headers) as answer:
            text = await answer.text()
            return json.loads(text) if text else answer.status

    def rpc(method: str, *params: Any) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": 7, "method": method, "params": list(params)}

    async with session:
        # Idempotency keys make the sends answer the same hashes again when replayed, so that
        # the search totals recorded here hold on the second pass too.
        hashes = [
            (await call(rpc("sms.send", "SMS", "+33612345678", f"$ {n}", options)))["result"]
            for n, options in enumerate(
                [{"user_data": "rec", "idempotency_key": f"rec-{n}"} for n in range(2)]
            )
        ]
        assert (await call(rpc("sms.get", hashes[0])))["result"]["text"] == "$ 0"
        first = await call(rpc("sms.search", {"user_data": "rec"}, {"limit": 1}))
        cursor = first["result"]["next_cursor"]
        second = await call(rpc("sms.search", {"user_data": "rec"}, {"limit": 1, "cursor": cursor}))
        assert second["result"]["data"][0]["hash"] == hashes[1]
        assert "error" in await call(rpc("sms.get", hashes[0]), auth=bob)
        assert await call(rpc("sms.get_count_for_body", "a"), auth=None) == {
            "error": "authentication required"
        }
        assert await call(rpc("sms.get_count_for_body", "a"), auth=basic_auth(LOGIN, "x"))
        assert len(await call([rpc("sms.get_quote", "+447400123456", "hi", None), [1]])) == 2
        assert await call({"jsonrpc": "2.0", "method": "sms.get_count_for_body"}) == 204
        assert (await call(None, raw=b"\xff{"))["error"]["code"] == -32700
        assert (await call(rpc("sms.get_gsm_charset_mapping")))["result"]["mapping"]

    text = out.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == recorder.count == 12
    assert PASSWORD not in text and basic_auth(LOGIN, PASSWORD).split()[1] not in text
    assert lines[0]["request"]["params"][2] == "$$ 0"  # a "$" string is escaped
    assert lines[0]["response"] == {"result": {"$capture": "hash1", "$match": "hash"}}
    assert lines[2]["request"]["params"] == ["$hash1"] and "auth" not in lines[2]
    assert lines[4]["request"]["params"][1]["cursor"] == "$cursor1"
    assert lines[5]["auth"] == "bob"
    assert lines[6]["auth"] is None and lines[6]["status"] == 401
    assert lines[7]["auth"]["header"] != basic_auth(LOGIN, "x")
    assert lines[9]["status"] == 204 and "response" not in lines[9]
    assert "base64" in lines[10]["request"]

    report = await replay(
        [out], url=str(client.make_url("/")), profiles=profiles, session=client.session
    )
    assert report.ok, report.render()
    assert len(report.outcomes) == 12


async def test_recorder_answers_502_and_records_nothing_without_upstream(
    aiohttp_server: Any, tmp_path: Path
) -> None:
    out = tmp_path / "nothing.jsonl"
    proxy = await aiohttp_server(recorder_app(f"http://127.0.0.1:{free_port()}", out, Recorder()))
    async with (
        aiohttp.ClientSession() as session,
        session.post(proxy.make_url(RPC_PATH), data=b"{}") as answer,
    ):
        assert answer.status == 502
    assert not out.exists()


def test_cli_record_then_replay(served: str, tmp_path: Path) -> None:
    out = tmp_path / "cli.jsonl"
    port = free_port()
    proxy = subprocess.Popen(
        [*CLI, "record", "--listen", f"127.0.0.1:{port}", "--upstream", served, "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 20
        call = json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "sms.send",
                "params": ["SMS", "+12025550123", "r"],
            }
        ).encode()
        while True:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{RPC_PATH}",
                data=call,
                headers={
                    "Authorization": basic_auth("bob", "pw"),
                    "Content-Type": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    sent = json.loads(response.read())["result"]
                    break
            except OSError:
                assert time.monotonic() < deadline, "recorder did not start"
                time.sleep(0.1)
        request.data = json.dumps(
            {"jsonrpc": "2.0", "id": 2, "method": "sms.get", "params": [sent]}
        ).encode()
        with urllib.request.urlopen(request, timeout=5) as response:
            assert json.loads(response.read())["result"]["text"] == "r"
    finally:
        proxy.send_signal(signal.SIGINT)
        output, _ = proxy.communicate(timeout=30)
    assert proxy.returncode == 0, output
    assert b"recorded 2 exchanges" in output
    recorded = out.read_text()
    assert '"auth": "bob"' in recorded and '"params": ["$hash1"]' in recorded
    replayed = _cli("replay", str(out), "--url", served, "--profile", "bob=bob:pw")
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
