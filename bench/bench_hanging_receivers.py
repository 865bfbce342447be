"""sms.get latency idle, and while 100 webhook deliveries hang at a receiver, in one run.

Usage: .venv/bin/python bench/bench_hanging_receivers.py [--rounds 5] [--duration-s 4]
       [--connections 8]

A real `sms-gateway serve` (carrier paused, fresh database) and, in this process, a receiver on
127.0.0.1 that takes every POST and answers none until told to. The account has 100 webhook
subscriptions on job.status_update, each to its own endpoint; an export's end then puts 100
deliveries in flight at once, and they hang. wrk (one thread, keep-alive connections, a second
process) calls sms.get on stored messages. Each round measures idle, then with the 100
deliveries hanging the whole time (checked while wrk runs), then releases them. Figures are
medians over the rounds; the ratio is the median of the per-round ratios. Prints a Markdown
table.
"""

import argparse
import asyncio
import base64
import json
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    RPC_PATH,
    LoadResult,
    create_account,
    gateway,
    rpc_call,
    run_wrk,
    serve_on_loopback,
)

LOGIN, PASSWORD = "bench", "bench-password"
HANGING = 100


class HangingReceiver:
    """Holds every POST open until released, then answers 200."""

    def __init__(self) -> None:
        self.open = 0
        self._release = asyncio.Event()
        self.url = ""

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook/{number}", self._handle)
        runner, self.url = await serve_on_loopback(app)
        return runner

    async def _handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.open += 1
        try:
            await self._release.wait()
        finally:
            self.open -= 1
        return web.Response(text="ok")

    def release(self) -> None:
        self._release.set()

    def hold(self) -> None:
        self._release = asyncio.Event()


async def _until(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _measure(args: argparse.Namespace, workdir: Path) -> dict[str, list[LoadResult]]:
    basic = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    receiver = HangingReceiver()
    receiver_runner = await receiver.start()
    results: dict[str, list[LoadResult]] = {"idle": [], "hanging": []}
    # Hanging deliveries must outlast a measurement; they are released at each round's end.
    settings = {
        "dispatch = true": "dispatch = false",
        "\ntimeout_s = 10.0": "\ntimeout_s = 300.0",
    }
    try:
        with gateway(workdir, settings=settings) as server:
            create_account(server.db, LOGIN, PASSWORD)

            def call(method: str, *params: object) -> object:
                body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
                answer = rpc_call(server.url, body, basic)
                assert isinstance(answer, dict) and "result" in answer, answer
                return answer["result"]

            hashes = [
                await asyncio.to_thread(
                    call, "sms.send", "SMS", f"+336{12000000 + i:08d}", "hi", None
                )
                for i in range(200)
            ]
            for number in range(HANGING):
                endpoint = f"{receiver.url}/hook/{number}"
                await asyncio.to_thread(
                    call, "webhooks.subscribe", "job.status_update", endpoint, None
                )
            gets = [
                json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": [h]})
                for h in hashes
            ]

            async def wrk() -> LoadResult:
                return await asyncio.to_thread(
                    run_wrk,
                    server.url + RPC_PATH,
                    gets,
                    authorization=basic,
                    connections=args.connections,
                    duration_s=args.duration_s,
                )

            for _ in range(args.rounds):
                await _until(lambda: receiver.open == 0, "no delivery in flight")
                results["idle"].append(await wrk())

                receiver.hold()
                await asyncio.to_thread(call, "sms.export_async", None, None)
                await _until(lambda: receiver.open == HANGING, f"{HANGING} hanging deliveries")
                fewest_open = HANGING
                load = asyncio.create_task(wrk())
                while not load.done():
                    fewest_open = min(fewest_open, receiver.open)
                    await asyncio.sleep(0.01)
                if fewest_open != HANGING:
                    raise RuntimeError(f"only {fewest_open} deliveries hung during the load")
                results["hanging"].append(load.result())

                receiver.release()
                await _until(lambda: receiver.open == 0, "the releases")
    finally:
        await receiver_runner.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration-s", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        results = asyncio.run(_measure(args, Path(workdir)))

    idle, hanging = results["idle"], results["hanging"]
    print(
        f"\nsms.get, {args.connections} keep-alive connections, wrk -t1, {args.rounds} "
        f"interleaved rounds of {args.duration_s} s, medians\n"
    )
    print("| sms.get | requests/s | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | ---: |")
    for name, runs in (("idle", idle), (f"{HANGING} deliveries hanging", hanging)):
        print(
            f"| {name} | {statistics.median(r.rps for r in runs):,.0f} "
            f"| {statistics.median(r.p50_ms for r in runs):.2f} "
            f"| {statistics.median(r.p99_ms for r in runs):.2f} |"
        )

    def ratio(field: str) -> float:
        return float(
            statistics.median(
                getattr(h, field) / getattr(i, field) for h, i in zip(hanging, idle, strict=True)
            )
        )

    print(
        f"| hanging / idle | {ratio('rps'):.2f}x | {ratio('p50_ms'):.2f}x "
        f"| {ratio('p99_ms'):.2f}x |"
    )
    print("\n| round | idle req/s | idle p50 / p99 ms | hanging req/s | hanging p50 / p99 ms |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    for number, (i, h) in enumerate(zip(idle, hanging, strict=True), 1):
        print(
            f"| {number} | {i.rps:,.0f} | {i.p50_ms:.2f} / {i.p99_ms:.2f} "
            f"| {h.rps:,.0f} | {h.p50_ms:.2f} / {h.p99_ms:.2f} |"
        )
    errors = sum(r.errors for r in idle + hanging)
    print(f"\nsocket/HTTP errors: {errors}")


if __name__ == "__main__":
    main()
