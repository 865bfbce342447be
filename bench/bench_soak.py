"""Soak: mixed load at half the measured sms.send capacity for minutes, against one gateway.

Usage: .venv/bin/python bench/bench_soak.py [--duration-s 300] [--load 0.5] [--plot docs/soak.png]

A real `sms-gateway serve` on a fresh database, its simulator carrier delivering with the shipped
delays, and an account webhook on sms.mt.status_update to a receiver on 127.0.0.1 (in this
process). wrk first measures the sms.send capacity (--capacity-s at 32 connections); once those
messages are delivered, an open-loop generator in a child process calls at fixed times, at
--load times that capacity: mostly sms.send, some sms.get and sms.search (filters, pages of 20
to 100), and one sms.export_async half-way with its webhook to the receiver. Latency counts from
each call's scheduled time, so a stall delays every call due meanwhile instead of hiding them.
The server's RSS and backlogs are sampled every second, also while the bench then waits (at
most 5 minutes) for the status events of every answered send. Prints per-10-s windows and
totals as Markdown tables and the RSS trend, and writes a plot.
"""

import argparse
import asyncio
import base64
import json
import math
import multiprocessing
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Sequence
from contextlib import ExitStack, closing, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    REPO_ROOT,
    RPC_PATH,
    Gateway,
    create_account,
    gateway,
    process_status_kib,
    run_wrk,
    serve_on_loopback,
)

LOGIN, PASSWORD = "bench", "bench-password"
BASIC = "Basic " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
TEXT = "Your verification code is 481516. It expires in 10 minutes."
# Ends in 7: never one of the simulator's reserved test numbers (0001 to 0004), so every
# message is delivered and makes three status events (SENT, REMOTE_QUEUED, RECEIVED).
RECIPIENTS = [f"+3361{i:06d}7" for i in range(10_000)]
USER_DATA = [f"soak-{i}" for i in range(50)]
# Share of the arrivals per method; the one export replaces the call due half-way.
MIX = {"sms.send": 0.87, "sms.get": 0.10, "sms.search": 0.03}
EXPORT = "sms.export_async"
METHODS = (*MIX, EXPORT)
STATUS_EVENTS_PER_MESSAGE = 3
WINDOW_S = 10
REQUEST_TIMEOUT_S = 10.0
# Enough that the client's pool queues calls only when the server stalls (the wait then counts
# in the latency, as it should), and under the server's per-address connection cap.
CLIENT_CONNECTIONS = 128
CAPACITY_CONNECTIONS = 32
SETTLE_TIMEOUT_S = 600  # for the capacity burst to be delivered
DRAIN_TIMEOUT_S = 300  # for the soak's messages to be delivered once the load stops
OUTCOMES = ("ok", "rpc_error", "http_error", "timeout")


class Sample(NamedTuple):
    method: str
    scheduled_s: float  # since the soak's start
    latency_ms: float  # from the scheduled time to the answer
    lag_ms: float  # from the scheduled time to when the client started the call
    outcome: str  # one of OUTCOMES


@dataclass(frozen=True)
class LoadPlan:
    rpc_url: str
    rate: float
    duration_s: int
    hashes: list[str]  # messages that sms.get may read before the soak's own sends answer
    export_webhook: str


@dataclass(frozen=True)
class LoadOutcome:
    samples: list[Sample]
    export_job: str | None


class LoadGenerator:
    """Calls at fixed times, `rate` a second, whatever the answers do (open loop)."""

    def __init__(self, plan: LoadPlan, start_at: float) -> None:
        self.plan = plan
        self.start_at = start_at
        self.rng = random.Random(1)
        self.hashes = deque(plan.hashes, maxlen=1000)
        self.samples: list[Sample] = []
        self.export_job: str | None = None

    def params(self, method: str, slot: int) -> list[Any]:
        if method == "sms.send":
            options = {"user_data": USER_DATA[slot % len(USER_DATA)]}
            return ["SMS", self.rng.choice(RECIPIENTS), TEXT, options]
        if method == "sms.get":
            return [self.hashes[self.rng.randrange(len(self.hashes))]]
        if method == "sms.search":
            kind = slot % 3
            filters: dict[str, Any]
            if kind == 0:
                filters = {"type": "OUT", "to": self.rng.choice(RECIPIENTS)}
                return [filters, {"limit": 20, "sort": "date_creation:desc"}]
            if kind == 1:
                filters = {"user_data": self.rng.choice(USER_DATA), "status": ["RECEIVED"]}
                return [filters, {"limit": 50, "sort": "date_creation:desc"}]
            recent = datetime.now(UTC) - timedelta(seconds=10)
            return [{"date_from": recent.strftime("%Y-%m-%d %H:%M:%S")}, {"limit": 100}]
        return [{"type": "OUT"}, {"endpoint": self.plan.export_webhook}]

    async def call(self, session: aiohttp.ClientSession, slot: int, method: str) -> None:
        scheduled = self.start_at + slot / self.plan.rate
        lag_ms = (time.monotonic() - scheduled) * 1000
        body = {"jsonrpc": "2.0", "id": slot, "method": method, "params": self.params(method, slot)}
        try:
            async with session.post(self.plan.rpc_url, data=json.dumps(body)) as response:
                payload = await response.read()
            if response.status != 200:
                outcome = "http_error"
            else:
                answer = json.loads(payload)
                outcome = "ok" if "result" in answer else "rpc_error"
                if outcome == "ok" and method == "sms.send":
                    self.hashes.append(answer["result"])
                elif outcome == "ok" and method == EXPORT:
                    self.export_job = answer["result"]
        except TimeoutError:  # aiohttp's timeouts are TimeoutErrors too
            outcome = "timeout"
        except (aiohttp.ClientError, ValueError):
            outcome = "http_error"
        latency_ms = (time.monotonic() - scheduled) * 1000
        self.samples.append(Sample(method, slot / self.plan.rate, latency_ms, lag_ms, outcome))

    async def run(self) -> LoadOutcome:
        slots = int(self.plan.rate * self.plan.duration_s)
        methods = self.rng.choices(list(MIX), weights=list(MIX.values()), k=slots)
        methods[slots // 2] = EXPORT
        in_flight: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=CLIENT_CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
            headers={"Authorization": BASIC, "Content-Type": "application/json-rpc"},
        ) as session:
            slot = 0
            while slot < slots:
                # Everything due is sent now, in a burst when the client fell behind.
                now = time.monotonic()
                while slot < slots and self.start_at + slot / self.plan.rate <= now:
                    task = asyncio.create_task(self.call(session, slot, methods[slot]))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                    slot += 1
                next_due = self.start_at + slot / self.plan.rate
                await asyncio.sleep(max(0.0, next_due - time.monotonic()))
            await asyncio.gather(*in_flight)
        return LoadOutcome(self.samples, self.export_job)


def generate_load(plan: LoadPlan, results: Connection) -> None:
    """The child process: sends its start time (the shared monotonic clock), then the samples."""
    start_at = time.monotonic() + 0.5
    results.send(start_at)
    results.send(asyncio.run(LoadGenerator(plan, start_at).run()))
    results.close()


class Receiver:
    """Counts the webhook events it gets, with their arrival times."""

    def __init__(self) -> None:
        self.status_event_times: list[float] = []
        self.received = 0  # RECEIVED status events: messages delivered end to end
        self.received_changed = asyncio.Condition()
        self.job_statuses: list[str] = []  # of the export, from its job.status_update events

    async def status_update(self, request: web.Request) -> web.Response:
        event = await request.json()
        self.status_event_times.append(time.monotonic())
        if event["data"]["status"] == "RECEIVED":
            async with self.received_changed:
                self.received += 1
                self.received_changed.notify_all()
        return web.Response(text="ok")

    def reset(self) -> None:
        self.status_event_times.clear()
        self.received = 0

    async def all_received(self, messages: int) -> None:
        async with self.received_changed:
            await self.received_changed.wait_for(lambda: self.received >= messages)

    async def job_update(self, request: web.Request) -> web.Response:
        event = await request.json()
        self.job_statuses.append(event["data"]["status"])
        return web.Response(text="ok")

    async def start(self) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_post("/status", self.status_update)
        app.router.add_post("/job", self.job_update)
        return await serve_on_loopback(app)


class ServerSample(NamedTuple):
    at_s: float  # since the soak's start
    rss_mib: float
    dispatch_backlog: int  # messages PENDING
    outbox_backlog: int  # webhook deliveries PENDING


_QUEUE_DEPTH = re.compile(r'^gateway_queue_depth\{queue="(\w+)"\} (\S+)$', re.MULTILINE)


async def sample_server(
    session: aiohttp.ClientSession, server: Gateway, start_at: float, into: list[ServerSample]
) -> None:
    """Every second: the server's RSS, and its backlogs from /metrics, until cancelled."""
    tick = 0
    while True:
        await asyncio.sleep(max(0.0, start_at + tick - time.monotonic()))
        async with session.get(server.url + "/metrics") as response:
            depths = {q: int(float(v)) for q, v in _QUEUE_DEPTH.findall(await response.text())}
        into.append(
            ServerSample(
                time.monotonic() - start_at,
                process_status_kib(server.pid, "VmRSS") / 1024,
                depths["dispatch"],
                depths["webhook_outbox"],
            )
        )
        tick += 1


async def rpc(session: aiohttp.ClientSession, server: Gateway, method: str, *params: Any) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    async with session.post(
        server.url + RPC_PATH, json=body, headers={"Authorization": BASIC}
    ) as response:
        answer = await response.json()
    if "result" not in answer:
        raise RuntimeError(answer)
    return answer["result"]


def _undelivered(db: Path) -> int:
    with closing(sqlite3.connect(db)) as connection:
        count: int = connection.execute(
            "SELECT COUNT(*) FROM messages WHERE status IN ('PENDING', 'SENT', 'REMOTE_QUEUED')"
        ).fetchone()[0]
        return count


def _messages(db: Path) -> int:
    with closing(sqlite3.connect(db)) as connection:
        count: int = connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        return count


def _some_hashes(db: Path) -> list[str]:
    with closing(sqlite3.connect(db)) as connection:
        return [row[0] for row in connection.execute("SELECT hash FROM messages LIMIT 1000")]


@dataclass(frozen=True)
class SoakRun:
    capacity_rps: float
    rate: float
    duration_s: int
    start_at: float
    load: LoadOutcome
    server: list[ServerSample]
    receiver: Receiver
    sends_ok: int
    drain_s: float
    export_job: dict[str, Any] | None


async def measure_capacity(server: Gateway, receiver: Receiver, seconds: int) -> float:
    """sms.send calls a second that wrk gets answered, with delivery and webhooks running behind
    them; then waits until every message sent is delivered and its events are received."""
    sends = [
        json.dumps(
            {"jsonrpc": "2.0", "id": i, "method": "sms.send", "params": ["SMS", to, TEXT, None]}
        )
        for i, to in enumerate(RECIPIENTS[:1000])
    ]
    capacity = await asyncio.to_thread(
        run_wrk,
        server.url + RPC_PATH,
        sends,
        authorization=BASIC,
        connections=CAPACITY_CONNECTIONS,
        duration_s=seconds,
    )
    # The soak starts from an idle server, not from this burst's backlog.
    for _ in range(SETTLE_TIMEOUT_S * 2):
        if await asyncio.to_thread(_undelivered, server.db) == 0:
            break
        await asyncio.sleep(0.5)
    messages = await asyncio.to_thread(_messages, server.db)
    await asyncio.wait_for(receiver.all_received(messages), SETTLE_TIMEOUT_S)
    receiver.reset()
    return capacity.rps


async def soak(workdir: Path, duration_s: int, load: float, capacity_s: int) -> SoakRun:
    receiver = Receiver()
    runner, receiver_url = await receiver.start()
    server_samples: list[ServerSample] = []
    stack = ExitStack()
    try:
        server = stack.enter_context(gateway(workdir))
        await asyncio.to_thread(create_account, server.db, LOGIN, PASSWORD)
        async with aiohttp.ClientSession() as session:
            await rpc(
                session,
                server,
                "webhooks.subscribe",
                "sms.mt.status_update",
                receiver_url + "/status",
                None,
            )
            capacity_rps = await measure_capacity(server, receiver, capacity_s)
            plan = LoadPlan(
                rpc_url=server.url + RPC_PATH,
                rate=capacity_rps * load,
                duration_s=duration_s,
                hashes=await asyncio.to_thread(_some_hashes, server.db),
                export_webhook=receiver_url + "/job",
            )
            spawn = multiprocessing.get_context("spawn")
            results, child_end = spawn.Pipe(duplex=False)
            generator = spawn.Process(target=generate_load, args=(plan, child_end))
            generator.start()
            child_end.close()
            start_at: float = await asyncio.to_thread(results.recv)
            sampler = asyncio.create_task(sample_server(session, server, start_at, server_samples))
            outcome: LoadOutcome = await asyncio.to_thread(results.recv)
            await asyncio.to_thread(generator.join)
            sends_ok = sum(
                1 for s in outcome.samples if s.method == "sms.send" and s.outcome == "ok"
            )
            load_stopped = time.monotonic()
            with suppress(TimeoutError):
                await asyncio.wait_for(receiver.all_received(sends_ok), DRAIN_TIMEOUT_S)
            drain_s = time.monotonic() - load_stopped
            sampler.cancel()
            with suppress(asyncio.CancelledError):
                await sampler
            export_job = (
                await rpc(session, server, "jobs.get", outcome.export_job)
                if outcome.export_job
                else None
            )
    finally:
        # Stopping the server waits for it; the receiver keeps answering meanwhile.
        await asyncio.to_thread(stack.close)
        await runner.cleanup()
    return SoakRun(
        capacity_rps=capacity_rps,
        rate=plan.rate,
        duration_s=duration_s,
        start_at=start_at,
        load=outcome,
        server=server_samples,
        receiver=receiver,
        sends_ok=sends_ok,
        drain_s=drain_s,
        export_job=export_job,
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


@dataclass(frozen=True)
class Latency:
    count: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    @classmethod
    def of(cls, latencies_ms: list[float]) -> "Latency | None":
        if not latencies_ms:
            return None
        ordered = sorted(latencies_ms)
        return cls(
            len(ordered),
            _percentile(ordered, 0.5),
            _percentile(ordered, 0.99),
            _percentile(ordered, 0.999),
            ordered[-1],
        )


@dataclass(frozen=True)
class Window:
    start_s: int
    latency: dict[str, Latency | None]  # of the calls scheduled in the window
    answered_per_s: dict[str, float]  # successful answers that arrived in the window
    status_events_per_s: float
    rss_mib: float | None
    dispatch_backlog: int | None
    outbox_backlog: int | None
    errors: int


def windows(run: SoakRun) -> list[Window]:
    # The windows go on past the load, over the drain.
    last_s = max([run.duration_s, *(s.at_s for s in run.server)])
    count = math.ceil(last_s / WINDOW_S)
    scheduled: list[dict[str, list[float]]] = [{m: [] for m in METHODS} for _ in range(count)]
    answered: list[Counter[str]] = [Counter() for _ in range(count)]
    errors = [0] * count
    for sample in run.load.samples:
        index = int(sample.scheduled_s // WINDOW_S)
        scheduled[index][sample.method].append(sample.latency_ms)
        errors[index] += sample.outcome != "ok"
        answered_index = int((sample.scheduled_s + sample.latency_ms / 1000) // WINDOW_S)
        if sample.outcome == "ok" and answered_index < count:
            answered[answered_index][sample.method] += 1
    events = Counter(int((t - run.start_at) // WINDOW_S) for t in run.receiver.status_event_times)
    result = []
    for index in range(count):
        in_window = [s for s in run.server if index * WINDOW_S <= s.at_s < (index + 1) * WINDOW_S]
        result.append(
            Window(
                start_s=index * WINDOW_S,
                latency={m: Latency.of(scheduled[index][m]) for m in METHODS},
                answered_per_s={m: answered[index][m] / WINDOW_S for m in METHODS},
                status_events_per_s=events[index] / WINDOW_S,
                rss_mib=statistics.median(s.rss_mib for s in in_window) if in_window else None,
                dispatch_backlog=max((s.dispatch_backlog for s in in_window), default=None),
                outbox_backlog=max((s.outbox_backlog for s in in_window), default=None),
                errors=errors[index],
            )
        )
    return result


@dataclass(frozen=True)
class RssTrend:
    slope_mib_per_min: float  # least squares over the second half of the soak
    first_mib: float  # median over the first `edge_s`
    last_mib: float  # median over the last `edge_s`
    edge_s: float
    peak_mib: float


def rss_trend(run: SoakRun) -> RssTrend:
    during = [s for s in run.server if s.at_s <= run.duration_s]
    second_half = [s for s in during if s.at_s >= run.duration_s / 2]
    slope_per_s, _ = statistics.linear_regression(
        [s.at_s for s in second_half], [s.rss_mib for s in second_half]
    )
    edge_s = min(60.0, run.duration_s / 4)
    return RssTrend(
        slope_mib_per_min=slope_per_s * 60,
        first_mib=statistics.median(s.rss_mib for s in during if s.at_s < edge_s),
        last_mib=statistics.median(s.rss_mib for s in during if s.at_s > run.duration_s - edge_s),
        edge_s=edge_s,
        peak_mib=max(s.rss_mib for s in run.server),
    )


def _ms(latency: Latency | None) -> str:
    if latency is None:
        return "-"
    return f"{latency.p50_ms:.1f} / {latency.p99_ms:.1f} / {latency.p999_ms:.1f}"


def _opt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def report(run: SoakRun, rows: list[Window], trend: RssTrend) -> None:
    samples = run.load.samples
    print(
        f"\nsms.send capacity (wrk, {CAPACITY_CONNECTIONS} connections): "
        f"{run.capacity_rps:,.0f}/s; soak: {run.rate:,.0f} calls/s for {run.duration_s} s "
        f"({len(samples):,} calls), latency from the scheduled time\n"
    )
    print(
        "| window s | send/s | send p50 / p99 / p999 ms | get/s | get p50 / p99 / p999 ms "
        "| search/s | search p50 / p99 / p999 ms | status events/s | RSS MiB "
        "| backlog dispatch / outbox | errors |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        backlog = f"{_opt(row.dispatch_backlog, ',')} / {_opt(row.outbox_backlog, ',')}"
        print(
            f"| {row.start_s} | {row.answered_per_s['sms.send']:,.0f} "
            f"| {_ms(row.latency['sms.send'])} | {row.answered_per_s['sms.get']:,.0f} "
            f"| {_ms(row.latency['sms.get'])} | {row.answered_per_s['sms.search']:,.1f} "
            f"| {_ms(row.latency['sms.search'])} | {row.status_events_per_s:,.0f} "
            f"| {_opt(row.rss_mib, '.1f')} | {backlog} | {row.errors} |"
        )

    print("\n| method | calls | answered/s | p50 ms | p99 ms | p999 ms | max ms | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for method in METHODS:
        of_method = [s for s in samples if s.method == method]
        latency = Latency.of([s.latency_ms for s in of_method])
        if latency is None:
            continue
        ok = sum(s.outcome == "ok" for s in of_method)
        print(
            f"| `{method}` | {latency.count:,} | {ok / run.duration_s:,.1f} "
            f"| {latency.p50_ms:.1f} | {latency.p99_ms:.1f} | {latency.p999_ms:.1f} "
            f"| {latency.max_ms:.1f} | {latency.count - ok} |"
        )

    outcomes = Counter(s.outcome for s in samples)
    print(
        "\nerrors: "
        + ", ".join(f"{kind} {outcomes[kind]}" for kind in OUTCOMES if kind != "ok")
        + f" (of {len(samples):,} calls)"
    )
    lags = sorted(s.lag_ms for s in samples)
    print(
        f"client lag behind the schedule: p99 {_percentile(lags, 0.99):.1f} ms, "
        f"max {lags[-1]:.1f} ms"
    )
    print(
        f"RSS: {trend.first_mib:.1f} MiB (median of the first {trend.edge_s:.0f} s), "
        f"{trend.last_mib:.1f} MiB (last {trend.edge_s:.0f} s), peak {trend.peak_mib:.1f} MiB; "
        f"slope over the second half {trend.slope_mib_per_min:+.2f} MiB/min"
    )
    events = len(run.receiver.status_event_times)
    print(
        f"status events delivered: {events:,} of {run.sends_ok * STATUS_EVENTS_PER_MESSAGE:,} "
        f"for the {run.sends_ok:,} answered sends; {run.receiver.received:,} RECEIVED, the last "
        f"{run.drain_s:.1f} s after the load stopped"
    )
    if run.export_job is None:
        print("export: not started")
    else:
        job = run.export_job
        rows_exported = f"{job['result']['rows']:,}" if job["result"] else "-"
        print(
            f"export: {job['status']}, {rows_exported} rows; job.status_update events received: "
            + (", ".join(run.receiver.job_statuses) or "none")
        )


def plot(path: Path, run: SoakRun, rows: list[Window]) -> None:
    # A Figure without pyplot draws PNGs with Agg and never looks for a display.
    figure = Figure(figsize=(10, 15), layout="constrained")
    axes = figure.subplots(6, 1, sharex=True)
    starts = [row.start_s + WINDOW_S / 2 for row in rows]
    for ax, method in zip(axes[:3], MIX, strict=True):
        latencies = [row.latency[method] for row in rows]
        for label, width in (("p50", 1.0), ("p99", 1.5), ("p999", 2.0)):
            values = [getattr(lat, f"{label}_ms") if lat else math.nan for lat in latencies]
            ax.plot(starts, values, label=label, linewidth=width)
        ax.set_yscale("log")
        ax.set_ylabel("ms")
        ax.set_title(f"{method} latency per {WINDOW_S} s (from the scheduled time)")
        ax.legend(loc="upper left")
    throughput = axes[3]
    for method in MIX:
        throughput.plot(starts, [row.answered_per_s[method] for row in rows], label=method)
    throughput.plot(
        starts, [row.status_events_per_s for row in rows], label="status webhooks received"
    )
    throughput.set_ylabel("per second")
    throughput.set_title("answers and webhook deliveries")
    throughput.legend(loc="upper left")
    at = [s.at_s for s in run.server]
    axes[4].plot(at, [s.rss_mib for s in run.server])
    axes[4].set_ylabel("MiB")
    axes[4].set_title("server RSS, every second")
    axes[5].plot(at, [s.dispatch_backlog for s in run.server], label="messages PENDING")
    axes[5].plot(at, [s.outbox_backlog for s in run.server], label="webhook deliveries PENDING")
    axes[5].set_ylabel("count")
    axes[5].set_title("backlogs, every second")
    axes[5].legend(loc="upper left")
    axes[5].set_xlabel("seconds since the soak's start")
    for ax in axes:
        ax.axvline(run.duration_s / 2, color="grey", linestyle=":", linewidth=1)
        ax.axvline(run.duration_s, color="grey", linestyle="--", linewidth=1)
        ax.grid(alpha=0.3)
    figure.suptitle(
        f"Soak: {run.rate:,.0f} calls/s for {run.duration_s} s "
        f"(export at the dotted line, load stops at the dashed one)"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration-s", type=int, default=300)
    parser.add_argument("--load", type=float, default=0.5, help="share of the sms.send capacity")
    parser.add_argument("--capacity-s", type=int, default=10)
    parser.add_argument("--plot", type=Path, default=REPO_ROOT / "docs" / "soak.png")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run = asyncio.run(soak(Path(tmp), args.duration_s, args.load, args.capacity_s))
    rows = windows(run)
    report(run, rows, rss_trend(run))
    plot(args.plot, run, rows)
    print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
