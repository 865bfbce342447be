"""Delivery end to end: sms.send to RECEIVED with status webhooks, and the throughput limit.

Usage: .venv/bin/python bench/bench_delivery.py [--messages 10000] [--limit-s 30]

A gateway process with the simulator carrier answering at once; an account webhook to a
receiver on 127.0.0.1. Reports, in one run, the sms.send rate (32 concurrent callers), the rate
from the first send until the last message is RECEIVED with its RECEIVED event delivered, and
how closely a 100 messages/s per-account limit holds over --limit-s seconds.
"""

import argparse
import asyncio
import base64
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import RPC_PATH, create_account, gateway, serve_on_loopback

LOGIN, PASSWORD = "bench", "bench-password"
INSTANT_CARRIER = {
    "remote_queued_delay_s = 0.5": "remote_queued_delay_s = 0",
    "final_receipt_delay_s = 2.0": "final_receipt_delay_s = 0",
}
CONCURRENCY = 32


class Receiver:
    """Counts the RECEIVED status events it gets."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.received: set[str] = set()
        self.events = 0
        self.all_in = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        event = await request.json()
        self.events += 1
        if event["data"]["status"] == "RECEIVED":
            self.received.add(event["data"]["hash"])
            if len(self.received) >= self.expected:
                self.all_in.set()
        return web.Response(text="ok")

    async def start(self) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner, base_url = await serve_on_loopback(app)
        return runner, f"{base_url}/hook"


async def _call(session: aiohttp.ClientSession, url: str, method: str, *params: Any) -> Any:
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    async with session.post(
        url + RPC_PATH, json=body, headers={"Authorization": f"Basic {token}"}
    ) as response:
        answer = await response.json()
    if "result" not in answer:
        raise RuntimeError(answer)
    return answer["result"]


async def _send_all(session: aiohttp.ClientSession, url: str, count: int) -> None:
    queue = iter(range(count))

    async def caller() -> None:
        for index in queue:
            # Ends in 7: never one of the simulator's reserved test numbers (0001 to 0004).
            await _call(session, url, "sms.send", "SMS", f"+336{2000000 + index:07d}7", "hi")

    await asyncio.gather(*(caller() for _ in range(CONCURRENCY)))


async def pipeline(workdir: Path, messages: int) -> dict[str, float]:
    receiver = Receiver(messages)
    runner, hook_url = await receiver.start()
    try:
        with gateway(workdir, settings=INSTANT_CARRIER) as server:
            create_account(server.db, LOGIN, PASSWORD)
            async with aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=CONCURRENCY)
            ) as session:
                await _call(
                    session,
                    server.url,
                    "webhooks.subscribe",
                    "sms.mt.status_update",
                    hook_url,
                    None,
                )
                started = time.perf_counter()
                await _send_all(session, server.url, messages)
                sent_s = time.perf_counter() - started
                await asyncio.wait_for(receiver.all_in.wait(), timeout=600)
                delivered_s = time.perf_counter() - started
    finally:
        await runner.cleanup()
    return {
        "messages": messages,
        "send_rate": messages / sent_s,
        "pipeline_rate": messages / delivered_s,
        "events": receiver.events,
    }


async def throttle(workdir: Path, window_s: int, rate: int) -> dict[str, float]:
    limits = {
        **INSTANT_CARRIER,
        "account_max_messages_per_s = 0": f"account_max_messages_per_s = {rate}",
    }
    with gateway(workdir, settings=limits) as server:
        create_account(server.db, LOGIN, PASSWORD)
        async with aiohttp.ClientSession() as session:
            await _send_all(session, server.url, rate * (window_s + 10))

        def handed_on() -> int:
            with sqlite3.connect(server.db) as connection:
                count: int = connection.execute(
                    "SELECT COUNT(*) FROM messages WHERE status <> 'PENDING'"
                ).fetchone()[0]
                return count

        await asyncio.sleep(2)  # past the start, in the steady state
        first, started = handed_on(), time.perf_counter()
        await asyncio.sleep(window_s)
        last, elapsed = handed_on(), time.perf_counter() - started
    measured = (last - first) / elapsed
    return {"limit": rate, "measured": measured, "error": abs(measured - rate) / rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--limit-s", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        flow = asyncio.run(pipeline(Path(tmp), args.messages))
    with tempfile.TemporaryDirectory() as tmp:
        limit = asyncio.run(throttle(Path(tmp), args.limit_s, 100))
    print("\n| delivery, simulator answering at once | figure |")
    print("| --- | ---: |")
    print(f"| messages | {flow['messages']:,} |")
    print(f"| `sms.send` rate ({CONCURRENCY} concurrent callers) | {flow['send_rate']:,.0f}/s |")
    print(f"| send to RECEIVED, events delivered | {flow['pipeline_rate']:,.0f}/s |")
    print(f"| pipeline / send | {flow['pipeline_rate'] / flow['send_rate']:.0%} |")
    print(f"| status events delivered | {flow['events']:,} |")
    print(
        f"| per-account limit {limit['limit']:.0f}/s over {args.limit_s} s | "
        f"{limit['measured']:.1f}/s ({limit['error']:.1%} off) |"
    )


if __name__ == "__main__":
    main()
