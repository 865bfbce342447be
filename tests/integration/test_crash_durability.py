"""A real gateway process killed with SIGKILL in the middle of a send load loses no answered
send, in both durability modes."""

import asyncio
import json
import signal
import sqlite3
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.helpers import CLI, REPO_ROOT, basic_auth, free_port, start_gateway


def _config(tmp_path: Path, durability: str) -> Path:
    text = (REPO_ROOT / "config.toml").read_text()
    text = text.replace('durability = "NORMAL"', f'durability = "{durability}"')
    config = tmp_path / "config.toml"
    config.write_text(text)
    return config


@pytest.mark.parametrize("durability", ["NORMAL", "FULL"])
async def test_sigkill_mid_load_loses_no_answered_send(tmp_path: Path, durability: str) -> None:
    config, db, port = _config(tmp_path, durability), tmp_path / "crash.db", free_port()
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
    server = await asyncio.to_thread(start_gateway, config, db, port, tmp_path)
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
    restarted = await asyncio.to_thread(start_gateway, config, db, free_port(), tmp_path)
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


async def test_messages_pending_at_a_kill_are_sent_exactly_once_after_restart(
    tmp_path: Path,
) -> None:
    held = _config(tmp_path, "NORMAL")
    text = held.read_text()
    held.write_text(text.replace("dispatch = true", "dispatch = false"))
    instant = tmp_path / "instant.toml"
    instant.write_text(
        text.replace("remote_queued_delay_s = 0.5", "remote_queued_delay_s = 0")
        .replace("final_receipt_delay_s = 2.0", "final_receipt_delay_s = 0")
        .replace("poll_interval_s = 1.0", "poll_interval_s = 0.05")
    )
    db = tmp_path / "pending.db"
    await asyncio.to_thread(
        subprocess.run,
        [
            *CLI,
            "accounts",
            "create",
            "k",
            "--password",
            "pw",
            "--config",
            str(held),
            "--db",
            str(db),
        ],
        capture_output=True,
        check=True,
    )
    port = free_port()
    server = await asyncio.to_thread(start_gateway, held, db, port, tmp_path)
    url = f"http://127.0.0.1:{port}/json-rpc/v1.1/"
    headers = {"Authorization": basic_auth("k", "pw")}
    calls = [
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "sms.send",
            "params": ["SMS", "+33612345678", f"p{i}"],
        }
        for i in range(100)
    ]
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, json=calls, headers=headers) as response,
    ):
        hashes = [answer["result"] for answer in await response.json()]
    server.send_signal(signal.SIGKILL)  # every message is PENDING at the kill
    await asyncio.to_thread(server.wait, 10)

    restarted = await asyncio.to_thread(start_gateway, instant, db, free_port(), tmp_path)
    try:
        for _ in range(500):
            with sqlite3.connect(db) as connection:
                done = connection.execute(
                    "SELECT COUNT(*) FROM messages WHERE status = 'RECEIVED'"
                ).fetchone()[0]
            if done == len(hashes):
                break
            await asyncio.sleep(0.05)
        with sqlite3.connect(db) as connection:
            histories = dict(connection.execute("SELECT hash, status_history FROM messages"))
    finally:
        restarted.send_signal(signal.SIGTERM)
        await asyncio.to_thread(restarted.wait, 30)
    assert set(histories) == set(hashes)
    for history in histories.values():
        steps = [step["new_status"] for step in json.loads(history)]
        assert steps == ["CREATED", "PENDING", "SENT", "REMOTE_QUEUED", "RECEIVED"]
