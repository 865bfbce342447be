"""SIGTERM in the middle of a send load: a real gateway process finishes what it answered,
answers nothing with an HTTP error, and exits 0 within its grace period."""

import asyncio
import json
import signal
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from gateway.config import load_settings
from tests.helpers import (
    basic_auth,
    create_account,
    free_port,
    gateway_config,
    start_gateway,
)

CLIENTS = 16
ANSWERED_BEFORE_SIGNAL = 300


@dataclass
class Outcome:
    text: str
    after_signal: bool  # the request was started after SIGTERM was sent
    status: int | None = None  # None: a connection error, no answer
    body: Any = None


async def test_sigterm_mid_load_finishes_answered_sends_and_exits_0(tmp_path: Path) -> None:
    config = gateway_config(tmp_path, {})
    grace_s = load_settings(config).server.shutdown_timeout_s
    db, port, log = tmp_path / "shutdown.db", free_port(), tmp_path / "gateway.log"
    await asyncio.to_thread(create_account, config, db, "term", "pw")
    server = await asyncio.to_thread(start_gateway, config, db, port, tmp_path, log)
    url = f"http://127.0.0.1:{port}/json-rpc/v1.1/"
    headers = {"Authorization": basic_auth("term", "pw")}
    outcomes: list[Outcome] = []
    signalled = False
    enough = asyncio.Event()

    async def client(number: int) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            for i in range(1000):  # bounded; the signal comes long before the end
                outcome = Outcome(f"c{number} m{i}", after_signal=signalled)
                outcomes.append(outcome)
                call = {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "sms.send",
                    "params": ["SMS", "+33612345678", outcome.text, None],
                }
                try:
                    async with session.post(url, json=call, headers=headers) as response:
                        outcome.status = response.status
                        outcome.body = json.loads(await response.read())
                except aiohttp.ClientError:
                    return  # the gateway stopped taking connections
                if sum(o.status == 200 for o in outcomes) >= ANSWERED_BEFORE_SIGNAL:
                    enough.set()

    load = [asyncio.create_task(client(number)) for number in range(CLIENTS)]
    try:
        await asyncio.wait_for(enough.wait(), timeout=60)
        server.send_signal(signal.SIGTERM)
        signalled = True
        # Within the grace period for requests in flight, cleanup included.
        exit_code = await asyncio.to_thread(server.wait, grace_s)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"still running {grace_s:g} s after SIGTERM") from None
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        await asyncio.gather(*load)
    assert exit_code == 0

    # Every request got a JSON-RPC result or no answer at all (a connection error): never an
    # HTTP error, never an INTERNAL_ERROR. Some were sent after the signal.
    answered = [o for o in outcomes if o.status is not None]
    bad = [(o.status, o.body) for o in answered if o.status != 200 or "result" not in o.body]
    assert not bad, bad[:3]
    assert any(o.after_signal for o in outcomes)

    # Every answered send is in the database exactly once, as sent; no send is there twice.
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT hash, text FROM messages").fetchall()
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    assert integrity == "ok"
    texts = [text for _, text in rows]
    assert len(texts) == len(set(texts))
    stored = dict(rows)
    for outcome in answered:
        assert stored.get(outcome.body["result"]) == outcome.text
    lines = log.read_text()
    assert "shutting down" in lines and lines.rstrip().endswith("stopped")
    assert "Traceback" not in lines and " ERROR " not in lines
