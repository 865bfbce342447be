"""Constants and small helpers the tests share."""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
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


CLI = [sys.executable, "-m", "gateway"]


def gateway_config(folder: Path, replacements: dict[str, str]) -> Path:
    """The shipped config.toml with some lines replaced ({"old line": "new line"}), in `folder`."""
    text = (REPO_ROOT / "config.toml").read_text()
    for old, new in replacements.items():
        assert old in text, f"config.toml has no {old!r}"
        text = text.replace(old, new)
    config = folder / "config.toml"
    config.write_text(text)
    return config


def create_account(config: Path, db: Path, login: str, password: str) -> None:
    """`sms-gateway accounts create`, as an operator runs it."""
    where = ["--config", str(config), "--db", str(db)]
    subprocess.run(
        [*CLI, "accounts", "create", login, "--password", password, *where],
        capture_output=True,
        check=True,
        timeout=60,
    )


def start_gateway(
    config: Path, db: Path, port: int, cwd: Path, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A real `sms-gateway serve` process, once it accepts connections; its log goes to `log`."""
    with open(log or os.devnull, "wb") as log_file:
        server = subprocess.Popen(
            [*CLI, "serve", "--config", str(config), "--db", str(db), "--port", str(port)],
            stdout=log_file,
            stderr=log_file,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.05)
    server.kill()
    server.wait()
    raise AssertionError("the gateway did not start")


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
        self.hanging = 0  # POSTs held open right now
        self.most_hanging = 0  # the most ever held open at once

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        body = await request.read()
        step = self.plan.pop(0) if self.plan else 200
        if step == "hang":
            self.hanging += 1
            self.most_hanging = max(self.most_hanging, self.hanging)
            try:
                await asyncio.sleep(3600)
            finally:
                self.hanging -= 1
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
