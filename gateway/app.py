"""Composition root: builds the aiohttp application; every resource opens in a cleanup_ctx entry."""

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.carriers.simulator import SimulatorConnector
from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.connections import ConnectionCap
from gateway.jobs.csv_export import ExportContext
from gateway.jobs.dispatcher import Dispatcher
from gateway.jobs.runner import JobRunner
from gateway.jobs.webhook_delivery import WebhookSender
from gateway.logs import REQUEST_ID
from gateway.metrics import Metrics
from gateway.rpc.downloads import ExportDownloads
from gateway.rpc.endpoint import RpcEndpoint
from gateway.services.container import Services, build_services
from gateway.store.sqlite import SqliteStore

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
SERVICES = web.AppKey("services", Services)
ENDPOINT = web.AppKey("endpoint", RpcEndpoint)
DOWNLOADS = web.AppKey("downloads", ExportDownloads)
HTTP_SESSION = web.AppKey("http_session", aiohttp.ClientSession)
CONNECTOR = web.AppKey("connector", SimulatorConnector)
BACKGROUND = web.AppKey("background", dict[str, "asyncio.Task[None]"])
METRICS = web.AppKey("metrics", Metrics)


def open_store(settings: Settings, metrics: Metrics | None = None) -> SqliteStore:
    return SqliteStore(
        settings.store.path,
        durability=settings.store.durability,
        reader_connections=settings.store.reader_connections,
        max_write_batch=settings.store.max_write_batch,
        observe_write_batch=metrics.write_batch_size.observe if metrics else None,
    )


async def _services(app: web.Application) -> AsyncIterator[None]:
    metrics = app[METRICS]
    store = open_store(app[SETTINGS], metrics)
    await store.open()
    services = build_services(app[SETTINGS], store, app[CLOCK], metrics)
    await services.subscriptions.load_all()
    app[SERVICES] = services
    yield
    await store.close()


async def _handle_rpc(request: web.Request) -> web.StreamResponse:
    endpoint: RpcEndpoint = request.app[ENDPOINT]
    return await endpoint.handle(request)


async def _healthz(request: web.Request) -> web.Response:
    try:
        await request.app[SERVICES].store.ping()
    except Exception:
        return web.json_response({"status": "unavailable"}, status=503)
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    """Prometheus text format: call counts and latencies, status changes, webhook attempts,
    write batch sizes, queue depths (counted now)."""
    services = request.app[SERVICES]
    for queue, depth in (await services.store.queue_depths()).items():
        services.metrics.queue_depth.labels(queue).set(depth)
    return web.Response(
        body=generate_latest(services.metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )


async def _readyz(request: web.Request) -> web.Response:
    """Ready when the store takes writes and every background task is running."""
    problems = [f"{name} stopped" for name, task in request.app[BACKGROUND].items() if task.done()]
    try:
        await request.app[SERVICES].store.probe_write(int(time.time() * 1000))
    except Exception:
        problems.append("the store does not take writes")
    if problems:
        return web.json_response({"status": "unavailable", "problems": problems}, status=503)
    return web.json_response({"status": "ready"})


class BackgroundRunner(Protocol):
    async def run(self) -> None: ...

    def stop(self) -> None: ...

    async def wait_stopped(self) -> None: ...


@asynccontextmanager
async def _running(
    app: web.Application, name: str, runner: BackgroundRunner
) -> AsyncIterator[None]:
    """Run a background loop while the app serves (watched by /readyz); on exit, stop it,
    then wait for the work it had in hand."""
    task = asyncio.create_task(runner.run(), name=name)
    app[BACKGROUND][name] = task
    try:
        yield
    finally:
        runner.stop()
        await task
        await runner.wait_stopped()


async def _endpoint(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS].server
    app[ENDPOINT] = RpcEndpoint(
        app[SERVICES],
        max_request_bytes=settings.max_request_bytes,
        max_batch_size=settings.max_batch_size,
        body_read_timeout_s=settings.body_read_timeout_s,
        account_requests_per_s=settings.account_requests_per_s,
    )
    app[DOWNLOADS] = ExportDownloads(app[SERVICES])
    yield


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    # One outbound session for every webhook; timeouts are set per request.
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=app[SETTINGS].webhooks.max_concurrent),
        headers={"User-Agent": "sms-gateway webhooks"},
    ) as session:
        app[HTTP_SESSION] = session
        yield


async def _webhook_sender(app: web.Application) -> AsyncIterator[None]:
    services = app[SERVICES]
    sender = WebhookSender(
        services.store,
        app[HTTP_SESSION],
        app[SETTINGS].webhooks,
        app[CLOCK],
        services.events_queued,
        services.endpoints,
        services.metrics,
    )
    async with _running(app, "webhook sender", sender):
        yield


async def _job_runner(app: web.Application) -> AsyncIterator[None]:
    settings, services = app[SETTINGS], app[SERVICES]
    context = ExportContext(
        services.store, settings.exports, settings.server.public_url, app[CLOCK]
    )
    runner = JobRunner(services.jobs, context)
    async with _running(app, "job runner", runner):
        yield


async def _carrier(app: web.Application) -> AsyncIterator[None]:
    """The carrier connector and the dispatcher that feeds it."""
    settings, services = app[SETTINGS].carrier, app[SERVICES]
    connector = SimulatorConnector(
        settings.simulator,
        app[CLOCK],
        body_read_timeout_s=app[SETTINGS].server.body_read_timeout_s,
    )
    await connector.start(services.delivery)
    app[CONNECTOR] = connector
    dispatcher = Dispatcher(
        services.store, connector, services.delivery, settings, app[CLOCK], services.messages_queued
    )
    async with _running(app, "dispatcher", dispatcher):
        yield
    await connector.close()


async def _simulator_mo(request: web.Request) -> web.StreamResponse:
    return await request.app[CONNECTOR].handle_mo(request)


async def _download_export(request: web.Request) -> web.StreamResponse:
    return await request.app[DOWNLOADS].handle(request)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# Request ids: a random prefix per process and a counter, unique without a urandom call
# (uuid4 costs a system call on every request).
_REQUEST_ID_PREFIX = secrets.token_hex(6)
_request_numbers = itertools.count(1)


@web.middleware
async def _request_id(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Each request gets an id (the client's X-Request-Id if sane): in logs and the answer."""
    given = request.headers.get("X-Request-Id", "")
    if _REQUEST_ID.fullmatch(given):
        request_id = given
    else:
        request_id = f"{_REQUEST_ID_PREFIX}{next(_request_numbers):020x}"
    REQUEST_ID.set(request_id)
    try:
        response = await handler(request)
    except web.HTTPException as refusal:
        refusal.headers["X-Request-Id"] = request_id
        raise
    response.headers["X-Request-Id"] = request_id
    return response


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    app = web.Application(
        client_max_size=settings.server.max_request_bytes, middlewares=[_request_id]
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app[BACKGROUND] = {}
    metrics = app[METRICS] = Metrics()
    connections = ConnectionCap(
        settings.server.max_connections_per_address, metrics.connections_refused.inc
    )
    metrics.open_connections.set_function(lambda: connections.open_connections)
    connections.install(app)
    # Opened in order, closed in reverse: the runners stop before the store closes.
    app.cleanup_ctx.extend(
        [_services, _endpoint, _http_session, _webhook_sender, _job_runner, _carrier]
    )
    for path in ("/json-rpc/v1.1/", "/json-rpc/v1.1"):
        app.router.add_post(path, _handle_rpc)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/exports/{job_hash:[A-Z0-9]{8}}.csv", _download_export)
    if settings.carrier.simulator.mo_secret:
        app.router.add_post("/carrier/simulator/mo", _simulator_mo)
    return app
