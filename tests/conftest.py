"""Shared fixtures: a real app on a real SQLite file, served on 127.0.0.1."""

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.app import SERVICES, create_app
from gateway.config import Settings, load_settings
from tests.helpers import (
    LOGIN,
    PASSWORD,
    REPO_ROOT,
    RESULT_CONTRACT,
    RPC_PATH,
    FakeClock,
    Rpc,
    RpcError,
    WebhookReceiver,
    basic_auth,
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The shipped config.toml, on a fresh database, with a cheaper scrypt to keep tests quick.
    # Background loops poll often and retries come at once, so tests wait milliseconds.
    return load_settings(
        REPO_ROOT / "config.toml",
        {
            "store": {"path": tmp_path / "gateway.db"},
            "auth": {"scrypt_n": 1024},
            "exports": {"directory": tmp_path / "exports", "poll_interval_s": 0.05},
            "webhooks": {
                "poll_interval_s": 0.05,
                "retry_schedule_s": (0, 0, 0, 0, 0),
                "timeout_s": 2.0,
            },
            # Messages stay PENDING unless a test turns delivery on (tests/api/test_delivery.py).
            "carrier": {"dispatch": False},
        },
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(aiohttp_client: Any, app: web.Application) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await aiohttp_client(app)
    return client


@pytest.fixture
async def api_key(client: TestClient[Any, Any]) -> str:
    created = await client.app[SERVICES].accounts.create(LOGIN, PASSWORD)
    return created.api_key


@pytest.fixture
async def post(client: TestClient[Any, Any], api_key: str) -> Callable[..., Awaitable[Any]]:
    """POST a raw JSON-RPC document as alice; answers (status, parsed body or None)."""

    async def post(document: Any, *, auth: str | None = None) -> tuple[int, Any]:
        headers = {
            "Authorization": auth or basic_auth(LOGIN, PASSWORD),
            "Content-Type": "application/json",
        }
        raw = document if isinstance(document, str | bytes) else json.dumps(document)
        async with client.post(RPC_PATH, headers=headers, data=raw) as response:
            text = await response.text()
            return response.status, (await response.json() if text else None)

    return post


@pytest.fixture
async def rpc(post: Callable[..., Awaitable[Any]]) -> Rpc:
    """Call one method with positional params as alice; answers the result or raises RpcError."""

    async def call(method: str, *params: Any, auth: str | None = None) -> Any:
        status, body = await post(
            {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, auth=auth
        )
        assert status == 200, body
        if "error" in body:
            raise RpcError(body["error"])
        # The contract test: every result the suite receives matches the published schema.
        RESULT_CONTRACT.check(method, body["result"])
        return body["result"]

    return call


@pytest.fixture
async def receiver(aiohttp_server: Any) -> WebhookReceiver:
    """A real webhook receiver on 127.0.0.1 that records every POST it gets."""
    receiver = WebhookReceiver()
    server = await aiohttp_server(receiver.app())
    receiver.url = str(server.make_url("/hook"))
    return receiver
