"""CSV export of 1,000,000 messages and webhook delivery rate, against a real gateway process.

Usage: .venv/bin/python bench/bench_export.py [--db PATH] [--rows 1000000] [--webhooks 1000]

Uses the store of bench_search.py (built at --db when missing). Reports the export's wall time
and rows per second, the server's peak RSS growth, the export process's peak RSS, sms.get
latency while the export runs next to idle, and how fast 1,000 queued webhook events reach a
receiver on 127.0.0.1.
"""

import argparse
import asyncio
import base64
import contextlib
import json
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_search import BIG, build_store
from harness import RPC_PATH, Gateway, gateway, process_status_kib, serve_on_loopback


class Api:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url + RPC_PATH
        token = base64.b64encode(f"{BIG[0]}:{BIG[1]}".encode()).decode()
        self._headers = {"Authorization": f"Basic {token}"}

    async def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        async with self._session.post(self._url, json=body, headers=self._headers) as response:
            answer = await response.json()
        if "result" not in answer:
            raise RuntimeError(answer)
        return answer["result"]


async def _get_latencies(
    api: Api, hashes: list[str], stop: asyncio.Event, at_most: int
) -> list[float]:
    latencies: list[float] = []
    while not stop.is_set() and len(latencies) < at_most:
        started = time.perf_counter()
        await api.call("sms.get", hashes[len(latencies) % len(hashes)])
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _children_peak_rss_kib(pid: int) -> int:
    """The largest peak RSS among the process's live children (the export process)."""
    peak = 0
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        with contextlib.suppress(OSError, RuntimeError):  # it ended meanwhile
            peak = max(peak, process_status_kib(int(child), "VmHWM"))
    return peak


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def measure_export(server: Gateway) -> dict[str, Any]:
    with sqlite3.connect(server.db) as connection:
        hashes = [
            row[0]
            for row in connection.execute(
                "SELECT hash FROM messages WHERE account_id = 1 LIMIT 500"
            )
        ]
    async with aiohttp.ClientSession() as session:
        api = Api(session, server.url)
        idle = await _get_latencies(api, hashes, asyncio.Event(), 1000)
        rss_before = process_status_kib(server.pid, "VmRSS")
        started = time.perf_counter()
        job = await api.call("sms.export_async", None, None)
        stop = asyncio.Event()
        during_task = asyncio.create_task(_get_latencies(api, hashes, stop, 10**9))
        exporter_peak_kib = 0
        while True:
            exporter_peak_kib = max(exporter_peak_kib, _children_peak_rss_kib(server.pid))
            state = await api.call("jobs.get", job)
            if state["status"] in ("DONE", "ERROR", "CANCELED"):
                break
            await asyncio.sleep(0.05)
        wall_s = time.perf_counter() - started
        stop.set()
        during = await during_task
    if state["status"] != "DONE":
        raise RuntimeError(state)
    rows = state["result"]["rows"]
    return {
        "rows": rows,
        "bytes": state["result"]["bytes"],
        "wall_s": wall_s,
        "rows_per_s": rows / wall_s,
        "rss_growth_mib": (process_status_kib(server.pid, "VmHWM") - rss_before) / 1024,
        "exporter_peak_mib": exporter_peak_kib / 1024,
        "get_p50_idle": statistics.median(idle),
        "get_p99_idle": _p(idle, 0.99),
        "get_p50_during": statistics.median(during),
        "get_p99_during": _p(during, 0.99),
        "gets_during": len(during),
    }


def queue_events(db: Path, count: int, endpoint: str) -> None:
    """Put `count` due events straight into the outbox, as a burst of finished jobs would."""
    now_ms = int(time.time() * 1000)
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO webhook_outbox (event_id, account_id, endpoint, hmac_secret, hmac_algo, "
            "body, status, next_attempt_at_ms, created_at_ms) "
            "VALUES (?, 1, ?, 'bench-secret', 'SHA256', ?, 'PENDING', ?, ?)",
            [
                (
                    event_id,
                    endpoint,
                    json.dumps(
                        {"type": "job.status_update", "event_id": event_id, "data": {}}
                    ).encode(),
                    now_ms,
                    now_ms,
                )
                for event_id in (secrets.token_hex(16) for _ in range(count))
            ],
        )


async def measure_webhooks(workdir: Path, db: Path, count: int) -> dict[str, float]:
    received: set[str] = set()
    all_in = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        received.add(request.headers["X-CALLR-EventId"])
        if len(received) >= count:
            all_in.set()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner, base_url = await serve_on_loopback(app)
    try:
        queue_events(db, count, f"{base_url}/hook")
        started = time.perf_counter()
        with gateway(workdir, db=db):
            await asyncio.wait_for(all_in.wait(), timeout=300)
            elapsed = time.perf_counter() - started
    finally:
        await runner.cleanup()
    return {"webhooks": count, "seconds": elapsed, "per_s": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, help="reuse (or build) the store at this path")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--webhooks", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        db = args.db or workdir / "export.db"
        if not db.exists():
            build_store(db, args.rows)
        with gateway(workdir, db=db) as server:
            export = asyncio.run(measure_export(server))
        # The deliveries go to a copy, so the reusable store stays as it was.
        copy = workdir / "webhooks.db"
        with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        hooks = asyncio.run(measure_webhooks(workdir, copy, args.webhooks))

    print("\n| export of the 1M-message account | figure |")
    print("| --- | ---: |")
    print(f"| rows | {export['rows']:,} |")
    print(f"| CSV size | {export['bytes'] / 2**20:,.0f} MiB |")
    print(f"| wall time (sms.export_async to DONE) | {export['wall_s']:.1f} s |")
    print(f"| rows per second | {export['rows_per_s']:,.0f} |")
    print(f"| server peak RSS growth | {export['rss_growth_mib']:.0f} MiB |")
    print(f"| export process peak RSS | {export['exporter_peak_mib']:.0f} MiB |")
    idle = f"{export['get_p50_idle']:.2f} / {export['get_p99_idle']:.2f}"
    print(f"| sms.get p50 / p99, idle | {idle} ms |")
    print(
        f"| sms.get p50 / p99, during the export ({export['gets_during']:,} calls) "
        f"| {export['get_p50_during']:.2f} / {export['get_p99_during']:.2f} ms |"
    )
    print(f"| p99 during / idle | {export['get_p99_during'] / export['get_p99_idle']:.1f}x |")
    print(
        f"\n{hooks['webhooks']:,} queued webhooks delivered (signed, to 127.0.0.1) in "
        f"{hooks['seconds']:.2f} s, including the gateway's start: {hooks['per_s']:,.0f}/s"
    )


if __name__ == "__main__":
    main()
