"""Composition root: builds the aiohttp application; every resource opens in a cleanup_ctx entry."""

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.rpc.endpoint import RpcEndpoint
from gateway.services.container import Services, build_services
from gateway.store.sqlite import SqliteStore

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
SERVICES = web.AppKey("services", Services)
ENDPOINT = web.AppKey("endpoint", RpcEndpoint)


def open_store(settings: Settings) -> SqliteStore:
    return SqliteStore(
        settings.store.path,
        durability=settings.store.durability,
        reader_connections=settings.store.reader_connections,
        max_write_batch=settings.store.max_write_batch,
    )


async def _services(app: web.Application) -> AsyncIterator[None]:
    store = open_store(app[SETTINGS])
    await store.open()
    app[SERVICES] = build_services(app[SETTINGS], store, app[CLOCK])
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


async def _endpoint(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS].server
    app[ENDPOINT] = RpcEndpoint(
        app[SERVICES],
        max_request_bytes=settings.max_request_bytes,
        max_batch_size=settings.max_batch_size,
    )
    yield


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    app = web.Application(client_max_size=settings.server.max_request_bytes)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app.cleanup_ctx.extend([_services, _endpoint])  # opened in order, closed in reverse
    for path in ("/json-rpc/v1.1/", "/json-rpc/v1.1"):
        app.router.add_post(path, _handle_rpc)
    app.router.add_get("/healthz", _healthz)
    return app
