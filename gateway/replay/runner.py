"""Replay fixture files against a running gateway over HTTP, in order, and report differences."""

import base64
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from multidict import CIMultiDictProxy

from gateway.replay.fixtures import (
    DEFAULT_PROFILE,
    Call,
    Exchange,
    FixtureError,
    FixtureFile,
    HeaderAuth,
    JsonDocument,
    load,
)
from gateway.replay.matching import (
    Captures,
    Difference,
    PatternError,
    match,
    same,
    show,
    substitute,
)

RPC_PATH = "/json-rpc/v1.1/"
DEFAULT_URL = "http://127.0.0.1:8080"
_ENVELOPE = ("jsonrpc", "id")


@dataclass(frozen=True, slots=True)
class Profile:
    """An account the fixtures may act as; only its Basic header ever leaves this object."""

    login: str
    password: str = field(repr=False)

    def authorization(self) -> str:
        token = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        return f"Basic {token}"


@dataclass(frozen=True, slots=True)
class Outcome:
    exchange: Exchange
    differences: tuple[Difference, ...] = ()
    error: str | None = None  # the exchange could not be sent or its request not built

    @property
    def passed(self) -> bool:
        return not self.differences and self.error is None


@dataclass(frozen=True, slots=True)
class ReplayReport:
    files: int
    outcomes: tuple[Outcome, ...]
    not_run: int = 0  # exchanges left after the gateway stopped answering

    @property
    def ok(self) -> bool:
        return self.not_run == 0 and all(outcome.passed for outcome in self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    def render(self, *, verbose: bool = False) -> str:
        """One block per failing exchange (every exchange when verbose), then a summary line."""
        lines: list[str] = []
        for outcome in self.outcomes:
            exchange = outcome.exchange
            if outcome.passed:
                if verbose:
                    lines.append(f"ok   {exchange.source} {exchange.name}")
                continue
            lines.append(f"FAIL {exchange.source} {exchange.name}")
            if outcome.error is not None:
                lines.append(f"  {outcome.error}")
            lines.extend(f"  {difference}" for difference in outcome.differences)
        failed = len(self.failures)
        summary = (
            f"replayed {len(self.outcomes)} exchanges from {self.files} "
            f"file{'' if self.files == 1 else 's'}: "
            f"{len(self.outcomes) - failed} passed, {failed} failed"
        )
        if self.not_run:
            summary += f", {self.not_run} not run"
        lines.append(summary)
        return "\n".join(lines) + "\n"


def check_url(url: str) -> str:
    """`url` if aiohttp can send to it; else ValueError, before any exchange is sent."""
    try:
        parts = urlsplit(url)
        # Reading the port checks it: "http://h:99999" and "http://h:x" raise ValueError.
        sendable = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a URL: {exc}") from None
    if not sendable:
        raise ValueError(f"{url!r} is not an http:// or https:// URL of a host (port 1-65535)")
    return url


def endpoint(url: str) -> str:
    """The RPC endpoint for a base URL; a URL that already has a path is used as it is."""
    return url.rstrip("/") + RPC_PATH if urlsplit(url).path in ("", "/") else url


async def replay(
    fixtures: Sequence[str | os.PathLike[str] | FixtureFile],
    *,
    url: str = DEFAULT_URL,
    profiles: Mapping[str, Profile],
    session: aiohttp.ClientSession | None = None,
    timeout_s: float = 30.0,
) -> ReplayReport:
    """Send every exchange in order and compare each answer with its fixture.

    Fixture-format and profile errors raise FixtureError before anything is sent.
    """
    files = [f if isinstance(f, FixtureFile) else load(f) for f in fixtures]
    _check_profiles(files, profiles)
    limits = aiohttp.ClientTimeout(total=timeout_s)
    if session is None:
        async with aiohttp.ClientSession() as own_session:
            return await _replay(files, _Target(own_session, endpoint(url), profiles, limits))
    return await _replay(files, _Target(session, endpoint(url), profiles, limits))


def _check_profiles(files: Sequence[FixtureFile], profiles: Mapping[str, Profile]) -> None:
    for file in files:
        for exchange in file.exchanges:
            name = exchange.auth
            if isinstance(name, str) and name not in profiles:
                hint = (
                    "give --login and --password"
                    if name == DEFAULT_PROFILE
                    else f"give --profile {name}=LOGIN:PASSWORD"
                )
                raise FixtureError(f"{exchange.source}: no profile {name!r} ({hint})")


@dataclass(frozen=True, slots=True)
class _Target:
    session: aiohttp.ClientSession
    url: str
    profiles: Mapping[str, Profile]
    limits: aiohttp.ClientTimeout


async def _replay(files: Sequence[FixtureFile], target: _Target) -> ReplayReport:
    outcomes: list[Outcome] = []
    total = sum(len(file.exchanges) for file in files)
    for file in files:
        captures: Captures = {}  # per file: every file must also work on its own
        for exchange in file.exchanges:
            try:
                outcome = await _exchange(target, exchange, captures, len(outcomes) + 1)
            except (aiohttp.ClientError, TimeoutError) as exc:
                # The gateway is gone or stuck: the exchanges after this one would say the same.
                error = f"no answer from {target.url}: {type(exc).__name__}: {exc}"
                outcomes.append(Outcome(exchange, error=error))
                return ReplayReport(len(files), tuple(outcomes), total - len(outcomes))
            outcomes.append(outcome)
    return ReplayReport(len(files), tuple(outcomes))


def _authorization(exchange: Exchange, profiles: Mapping[str, Profile]) -> str | None:
    if isinstance(exchange.auth, HeaderAuth):
        return exchange.auth.value
    return None if exchange.auth is None else profiles[exchange.auth].authorization()


def _body(exchange: Exchange, captures: Captures, request_id: int) -> tuple[bytes, Any]:
    """The bytes to send and, for a call, the id its answer must carry.

    json.dumps escapes non-ASCII, so a deliberate lone surrogate goes out as the \\ud800 escape
    the fixture wrote instead of failing to encode.
    """
    request = exchange.request
    if isinstance(request, Call):
        document: dict[str, Any] = {"jsonrpc": "2.0", "method": request.method}
        if request.has_params:
            document["params"] = substitute(request.params, captures, "request.params")
        sent_id = request_id if request.id is None else request.id
        document["id"] = sent_id
        return json.dumps(document).encode(), sent_id
    if isinstance(request, JsonDocument):
        return json.dumps(substitute(request.document, captures, "request.json")).encode(), None
    return request.body, None


async def _exchange(
    target: _Target, exchange: Exchange, captures: Captures, request_id: int
) -> Outcome:
    try:
        body, sent_id = _body(exchange, captures, request_id)
    except PatternError as exc:
        return Outcome(exchange, error=f"not sent: {exc}")
    headers = {}
    authorization = _authorization(exchange, target.profiles)
    if authorization is not None:
        headers["Authorization"] = authorization
    if exchange.content_type is not None:
        headers["Content-Type"] = exchange.content_type
    async with target.session.post(
        target.url,
        data=body,
        headers=headers,
        skip_auto_headers=["Content-Type"],
        allow_redirects=False,
        timeout=target.limits,
    ) as response:
        raw = await response.read()
        differences = compare(exchange, response.status, response.headers, raw, sent_id, captures)
    return Outcome(exchange, tuple(differences))


def decode_body(raw: bytes) -> Any:
    """An answer body as JSON, or as text when it is not JSON."""
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def compare(
    exchange: Exchange,
    status: int,
    headers: CIMultiDictProxy[str] | Mapping[str, str],
    raw: bytes,
    sent_id: Any,
    captures: Captures,
) -> list[Difference]:
    """Every difference between an answer and its fixture; fills `captures`."""
    differences: list[Difference] = []
    if status != exchange.status:
        differences.append(Difference("HTTP status", str(exchange.status), str(status)))
        # Another kind of answer altogether: field by field it would only be noise.
        expected = show(exchange.response) if exchange.has_response else "any body"
        differences.append(Difference("body", expected, show(decode_body(raw)) if raw else "none"))
        return differences
    for name, expected in exchange.response_headers.items():
        value = headers.get(name)
        if value is None:
            differences.append(Difference(f"header {name}", show(expected), "nothing (missing)"))
        else:
            differences.extend(match(expected, value, captures, f"header {name}"))
    if not exchange.has_response:
        if exchange.status == 204 and raw:
            differences.append(Difference("body", "no body", show(decode_body(raw))))
        return differences
    if not raw:
        differences.append(Difference("body", show(exchange.response), "no body"))
        return differences
    actual = decode_body(raw)
    if isinstance(exchange.request, Call) and exchange.status == 200 and isinstance(actual, dict):
        # A call's fixture leaves out the envelope, which is checked here instead.
        if actual.get("jsonrpc") != "2.0":
            differences.append(Difference("$.jsonrpc", '"2.0"', show(actual.get("jsonrpc"))))
        if "id" not in actual or not same(sent_id, actual["id"]):
            differences.append(Difference("$.id", show(sent_id), show(actual.get("id"))))
        actual = {key: value for key, value in actual.items() if key not in _ENVELOPE}
    differences.extend(match(exchange.response, actual, captures))
    return differences


def parse_profile(spec: str) -> tuple[str, Profile]:
    """`NAME=LOGIN:PASSWORD`, as given to --profile; the password may contain ':'."""
    name, equals, credentials = spec.partition("=")
    login, colon, password = credentials.partition(":")
    if not (equals and colon and name and login):
        raise ValueError(f"{spec!r} is not NAME=LOGIN:PASSWORD")
    return name, Profile(login, password)


def profiles_from(
    login: str | None, password: str | None, extra: Sequence[tuple[str, Profile]] = ()
) -> dict[str, Profile]:
    """The default profile (also reachable by its login) and the named ones."""
    profiles: dict[str, Profile] = {}
    if login is not None and password is not None:
        profiles[DEFAULT_PROFILE] = profiles[login] = Profile(login, password)
    profiles.update(extra)
    return profiles
