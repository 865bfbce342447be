"""Constants and small helpers the tests share."""

import asyncio
import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from jsonschema import Draft202012Validator
from standardwebhooks import Webhook as StandardWebhook

REPO_ROOT = Path(__file__).resolve().parent.parent
RPC_PATH = "/json-rpc/v1.1/"
LOGIN, PASSWORD = "alice", "correct horse"

Rpc = Callable[..., Awaitable[Any]]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def basic_auth(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.code: int = error["code"]
        self.message: str = error["message"]
        self.data: Any = error.get("data")


class FakeClock:
    """A clock the test moves by hand. It starts at the real time (to the second), because
    receivers check webhook timestamps against their own clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


_WEBHOOK_SCHEMA = json.loads((REPO_ROOT / "schema" / "webhook-event.schema.json").read_text())


class ReceivedEvent:
    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body
        self.json: Any = json.loads(body)
        # Every webhook body a test receives must match the published schema.
        Draft202012Validator(_WEBHOOK_SCHEMA).validate(self.json)

    def callr_signature_valid(self, secret: str, algorithm: str = "sha256") -> bool:
        """Checked the way a receiver does: HMAC over the raw body bytes."""
        expected = base64.b64encode(
            hmac.new(secret.encode(), self.body, getattr(hashlib, algorithm)).digest()
        ).decode()
        return hmac.compare_digest(expected, self.headers.get("X-CALLR-HmacSignature", ""))

    def standard_signature_valid(self, secret: str) -> bool:
        """Checked by the Standard Webhooks reference library itself."""
        try:
            StandardWebhook(secret).verify(self.body, self.headers)
        except Exception:
            return False
        return True


class WebhookReceiver:
    """Answers each POST with the next planned behaviour (a status, or "hang"), then 200."""

    def __init__(self) -> None:
        self.url = ""
        self.events: asyncio.Queue[ReceivedEvent] = asyncio.Queue()
        self.plan: list[int | str] = []
        self.hits = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        body = await request.read()
        step = self.plan.pop(0) if self.plan else 200
        if step == "hang":
            await asyncio.sleep(3600)
        self.events.put_nowait(ReceivedEvent(dict(request.headers), body))
        return web.Response(status=int(step), text="ok")

    async def next_event(self, timeout_s: float = 10) -> ReceivedEvent:
        return await asyncio.wait_for(self.events.get(), timeout_s)


class ResultContract:
    """Validates a method's result against its schema in schema/openrpc.json."""

    def __init__(self) -> None:
        document = json.loads((REPO_ROOT / "schema" / "openrpc.json").read_text())
        self._validators = {
            method["name"]: Draft202012Validator(
                {**method["result"]["schema"], "components": document["components"]}
            )
            for method in document["methods"]
        }

    def check(self, method: str, result: Any) -> None:
        self._validators[method].validate(result)


RESULT_CONTRACT = ResultContract()
