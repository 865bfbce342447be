"""A real gateway process killed with SIGKILL in the middle of a send load loses no answered
send, in both durability modes."""

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import REPO_ROOT, basic_auth

CLI = [sys.executable, "-m", "gateway"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _config(tmp_path: Path, durability: str) -> Path:
    text = (REPO_ROOT / "config.toml").read_text()
    text = text.replace('durability = "NORMAL"', f'durability = "{durability}"')
    config = tmp_path / "config.toml"
    config.write_text(text)
    return config


def _start(config: Path, db: Path, port: int, cwd: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [*CLI, "serve", "--config", str(config), "--db", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise AssertionError("the gateway did not start")


@pytest.mark.parametrize("durability", ["NORMAL", "FULL"])
async def test_sigkill_mid_load_loses_no_answered_send(tmp_path: Path, durability: str) -> None:
    config, db, port = _config(tmp_path, durability), tmp_path / "crash.db", _free_port()
    created = await asyncio.to_thread(
        subprocess.run,
        [
            *CLI,
            "accounts",
            "create",
            "crash",
            "--password",
            "pw",
            "--config",
            str(config),
            "--db",
            str(db),
        ],
        capture_output=True,
        check=True,
    )
    assert json.loads(created.stdout)["login"] == "crash"
    server = await asyncio.to_thread(_start, config, db, port, tmp_path)
    url = f"http://127.0.0.1:{port}/json-rpc/v1.1/"
    headers = {"Authorization": basic_auth("crash", "pw")}
    answered: list[str] = []
    enough = asyncio.Event()

    async def sender(worker: int) -> None:
        async with aiohttp.ClientSession() as session:
            for i in range(2000):  # bounded; the kill comes long before the end
                call = {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "sms.send",
                    "params": ["SMS", "+33612345678", f"w{worker} m{i}"],
                }
                try:
                    async with session.post(url, json=call, headers=headers) as response:
                        answer = await response.json()
                except (TimeoutError, aiohttp.ClientError):
                    return  # the server is gone
                answered.append(answer["result"])
                if len(answered) >= 300:
                    enough.set()

    load = [asyncio.create_task(sender(worker)) for worker in range(16)]
    await asyncio.wait_for(enough.wait(), timeout=60)
    server.send_signal(signal.SIGKILL)
    await asyncio.to_thread(server.wait, 10)
    await asyncio.gather(*load)
    assert len(answered) >= 300

    # Every answered send is there exactly once, whole, after a restart.
    restarted = await asyncio.to_thread(_start, config, db, _free_port(), tmp_path)
    try:
        with sqlite3.connect(db) as connection:
            rows = connection.execute(
                "SELECT hash, text, status, status_history FROM messages"
            ).fetchall()
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.to_thread(restarted.wait, 30)
    stored = {row[0]: row for row in rows}
    assert len(stored) == len(rows)  # no hash twice
    missing = [h for h in answered if h not in stored]
    assert not missing, f"{len(missing)} answered sends lost"
    assert len(set(answered)) == len(answered)
    for _, text, status, history in rows:
        assert text.startswith("w") and status
        assert [step["new_status"] for step in json.loads(history)][:2] == ["CREATED", "PENDING"]
