"""Constants and small helpers the tests share."""

import base64
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
RPC_PATH = "/json-rpc/v1.1/"
LOGIN, PASSWORD = "alice", "correct horse"

Rpc = Callable[..., Awaitable[Any]]


def basic_auth(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


class RpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error["message"])
        self.code: int = error["code"]
        self.message: str = error["message"]
        self.data: Any = error.get("data")


class FakeClock:
    """A clock the test moves by hand; it starts at a fixed instant."""

    def __init__(self, start: datetime = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)
