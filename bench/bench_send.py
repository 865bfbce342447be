"""sms.send and sms.get throughput next to a bare aiohttp JSON echo, measured in one run.

Usage: .venv/bin/python bench/bench_send.py [--rounds 3] [--duration-s 5] [--connections 32]

Both servers run as their own processes on 127.0.0.1; wrk (one thread, keep-alive
connections) is the load. Scenarios run interleaved, round after round, so that a noisy
neighbour slows every scenario alike; each figure is the median over the rounds, and each
ratio is the median of the per-round ratios to that round's echo. Prints a Markdown table.
"""

import argparse
import base64
import json
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    RPC_PATH,
    LoadResult,
    create_account,
    free_port,
    gateway,
    process,
    rpc_call,
    run_wrk,
)

LOGIN, PASSWORD = "bench", "bench-password"
TEXT = "Your verification code is 481516. It expires in 10 minutes."
BATCH = 100


def _send(call_id: int, to: str) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": call_id,
        "method": "sms.send",
        "params": ["SMS", to, TEXT, None],
    }


def _count(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        count: int = connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration-s", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    load = {"connections": args.connections, "duration_s": args.duration_s}
    basic = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    recipients = [f"+336{12000000 + i:08d}" for i in range(1000)]
    sends = [json.dumps(_send(i, to)) for i, to in enumerate(recipients)]
    batches = [
        json.dumps([_send(j, recipients[(i * BATCH + j) % 1000]) for j in range(BATCH)])
        for i in range(10)
    ]
    send_batches = [
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "sms.send_batch",
                "params": ["SMS", recipients[i * BATCH : (i + 1) * BATCH], TEXT, None],
            }
        )
        for i in range(10)
    ]
    echo_port = free_port()
    echo_url = f"http://127.0.0.1:{echo_port}/"
    echo_server = [sys.executable, str(Path(__file__).parent / "echo_server.py"), str(echo_port)]
    results: dict[str, list[LoadResult]] = {}
    answered = committed = 0

    with (
        tempfile.TemporaryDirectory() as workdir,
        process(echo_server, echo_url),
        # The carrier is paused: this measures the API and the store, not delivery
        # (bench_delivery.py measures that).
        gateway(Path(workdir), settings={"dispatch = true": "dispatch = false"}) as server,
    ):
        url, db = server.url, server.db
        create_account(db, LOGIN, PASSWORD)
        hashes = []
        for body in sends[:200]:
            answer = rpc_call(url, json.loads(body), basic)
            assert isinstance(answer, dict) and len(answer["result"]) == 8, answer
            hashes.append(answer["result"])
        gets = [
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": [h]})
            for h in hashes
        ]
        scenarios: dict[str, tuple[Callable[[], LoadResult], int]] = {
            "bare aiohttp JSON echo": (lambda: run_wrk(echo_url, sends[:1], **load), 1),
            "sms.get": (lambda: run_wrk(url + RPC_PATH, gets, authorization=basic, **load), 1),
            "sms.send": (lambda: run_wrk(url + RPC_PATH, sends, authorization=basic, **load), 1),
            f"sms.send, JSON-RPC batches of {BATCH}": (
                lambda: run_wrk(url + RPC_PATH, batches, authorization=basic, **load),
                BATCH,
            ),
            f"sms.send_batch, {BATCH} recipients": (
                lambda: run_wrk(url + RPC_PATH, send_batches, authorization=basic, **load),
                BATCH,
            ),
        }
        for _ in range(args.rounds):
            for name, (run, per_request) in scenarios.items():
                before = _count(db)
                result = run()
                if name.startswith("sms.send"):  # every send scenario, batches included
                    answered += result.requests * per_request
                    committed += _count(db) - before
                results.setdefault(name, []).append(result)

    echo_runs = results["bare aiohttp JSON echo"]
    print(
        f"\n{args.connections} keep-alive connections, wrk -t1, {args.rounds} interleaved rounds "
        f"of {args.duration_s} s, medians\n"
    )
    print("| scenario | requests/s | messages/s | p50 ms | p99 ms | vs echo (req/s) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (_, per_request) in scenarios.items():
        runs = results[name]
        rps = statistics.median(r.rps for r in runs)
        ratio = statistics.median(r.rps / e.rps for r, e in zip(runs, echo_runs, strict=True))
        print(
            f"| {name} | {rps:,.0f} | {rps * per_request:,.0f} "
            f"| {statistics.median(r.p50_ms for r in runs):.2f} "
            f"| {statistics.median(r.p99_ms for r in runs):.2f} | {ratio:.0%} |"
        )
    errors = sum(r.errors for runs in results.values() for r in runs)
    print(
        f"\nsends answered: {answered:,}; rows committed meanwhile: {committed:,} "
        "(a send still in flight when wrk stops may commit unanswered); "
        f"socket/HTTP errors: {errors}"
    )


if __name__ == "__main__":
    main()
