"""The fixture format: JSON Lines of recorded exchanges, checked and parsed into dataclasses."""

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.replay.matching import PatternError, check, references

DEFAULT_PROFILE = "default"
DEFAULT_CONTENT_TYPE = "application/json"
_EXCHANGE_KEYS = frozenset({"name", "auth", "request", "status", "response", "response_headers"})
_CALL_KEYS = frozenset({"method", "params", "id", "content_type"})
_BODY_FORMS = ("method", "json", "text", "base64")
# Matching, substitution and sending recurse once per level, and deeper than Python's stack
# allows would crash a replay half-way; no API document comes close (deeper bodies go as text).
MAX_NESTING = 100
_HEADER_BREAKS = ("\r", "\n")


class FixtureError(Exception):
    """A fixture that does not follow the format; the message starts with file:line."""


@dataclass(frozen=True, slots=True)
class Call:
    """One JSON-RPC call; the runner adds `jsonrpc` and, when `id` is None, a fresh id."""

    method: str
    params: Any
    has_params: bool
    id: str | int | None


@dataclass(frozen=True, slots=True)
class JsonDocument:
    """Any JSON document sent as it is: batches, notifications, malformed request objects."""

    document: Any


@dataclass(frozen=True, slots=True)
class RawBody:
    """Bytes sent as they are: invalid JSON, invalid UTF-8."""

    body: bytes


Request = Call | JsonDocument | RawBody


@dataclass(frozen=True, slots=True)
class HeaderAuth:
    """An Authorization header sent verbatim, for fixtures about bad credentials."""

    value: str


# A profile name, a verbatim header, or None for no Authorization header at all.
Auth = str | HeaderAuth | None


@dataclass(frozen=True, slots=True)
class Exchange:
    source: str  # "path:line", for messages
    name: str
    auth: Auth
    request: Request
    content_type: str | None  # None sends no Content-Type header
    status: int
    response: Any  # the expected body, with matchers; meaningful when has_response
    has_response: bool
    response_headers: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FixtureFile:
    path: str
    exchanges: tuple[Exchange, ...]

    def profiles(self) -> set[str]:
        return {e.auth for e in self.exchanges if isinstance(e.auth, str)}


def load(path: str | os.PathLike[str]) -> FixtureFile:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixtureError(f"{os.fspath(path)}: cannot read: {exc}") from None
    return parse(text, os.fspath(path))


def parse(text: str, path: str) -> FixtureFile:
    """Every exchange of one file; captures are per file, so references are checked here."""
    exchanges: list[Exchange] = []
    captured: set[str] = set()
    # Only "\n" ends a line: str.splitlines would also cut at U+2028 inside a JSON string.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        source = f"{path}:{number}"
        try:
            exchange, captures = _exchange(_document(line, source), source, captured)
        except PatternError as exc:
            raise FixtureError(f"{source}: {exc}") from None
        exchanges.append(exchange)
        captured |= captures
    return FixtureFile(path, tuple(exchanges))


def _document(line: str, source: str) -> Any:
    too_deep = FixtureError(
        f"{source}: nested deeper than {MAX_NESTING} levels (send such a body as text)"
    )
    try:
        document = json.loads(line)
    except json.JSONDecodeError as exc:
        raise FixtureError(f"{source}: not JSON: {exc.msg} at column {exc.colno}") from None
    except RecursionError:  # deeper than the parser's own stack, so far past the limit
        raise too_deep from None
    if nesting(document) > MAX_NESTING:
        raise too_deep
    return document


def nesting(value: Any) -> int:
    """How many arrays and objects deep a JSON value goes, counted without recursing."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth + 1)
            pending.extend((child, depth + 1) for child in item)
    return deepest


def _exchange(line: Any, source: str, captured: set[str]) -> tuple[Exchange, set[str]]:
    if not isinstance(line, dict):
        raise PatternError("an exchange is a JSON object")
    unknown = sorted(line.keys() - _EXCHANGE_KEYS)
    if unknown:
        raise PatternError(
            f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_EXCHANGE_KEYS))})"
        )
    if "request" not in line:
        raise PatternError("an exchange needs a request")
    request, content_type, request_refs = _request(line["request"])
    status = line.get("status", 200)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise PatternError("status must be an HTTP status code such as 200")
    has_response = "response" in line
    if status == 200 and not has_response:
        raise PatternError("an exchange expecting HTTP 200 needs a response")
    if status == 204 and has_response:
        raise PatternError("HTTP 204 has no body: leave response out")
    captures, refs = check(line.get("response"), "response")
    headers = line.get("response_headers", {})
    if not isinstance(headers, dict):
        raise PatternError("response_headers must be an object of header name to expected value")
    for header, expected in headers.items():
        header_captures, header_refs = check(expected, f"response_headers[{json.dumps(header)}]")
        captures |= header_captures
        refs |= header_refs
    missing = sorted((request_refs | refs) - captured)
    if missing:
        raise PatternError(f"${missing[0]} is not captured by an earlier exchange of this file")
    name = line.get("name", request.method if isinstance(request, Call) else "raw request")
    if not isinstance(name, str):
        raise PatternError("name must be a string")
    exchange = Exchange(
        source=source,
        name=name,
        auth=_auth(line.get("auth", DEFAULT_PROFILE)),
        request=request,
        content_type=content_type,
        status=status,
        response=line.get("response"),
        has_response=has_response,
        response_headers=headers,
    )
    return exchange, captures


def _auth(value: Any) -> Auth:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and value.keys() == {"header"} and isinstance(value["header"], str):
        _check_header(value["header"], "auth.header")
        return HeaderAuth(value["header"])
    raise PatternError('auth must be a profile name, null, or {"header": "..."}')


def _check_header(value: str, key: str) -> None:
    # A line break would end the header line: HTTP cannot send it, and aiohttp refuses to.
    if any(line_break in value for line_break in _HEADER_BREAKS):
        raise PatternError(f"{key} must not contain a line break (CR or LF)")


def _request(value: Any) -> tuple[Request, str | None, set[str]]:
    if not isinstance(value, dict):
        raise PatternError("request must be an object")
    forms = [form for form in _BODY_FORMS if form in value]
    if len(forms) != 1:
        raise PatternError(f"request needs exactly one of {', '.join(_BODY_FORMS)}")
    form = forms[0]
    allowed = _CALL_KEYS if form == "method" else {form, "content_type"}
    unknown = sorted(value.keys() - allowed)
    if unknown:
        raise PatternError(f"unknown key {unknown[0]!r} in a {form!r} request")
    content_type = value.get("content_type", DEFAULT_CONTENT_TYPE)
    if content_type is not None and not isinstance(content_type, str):
        raise PatternError("content_type must be a string, or null to send none")
    if content_type is not None:
        _check_header(content_type, "request.content_type")
    body = value[form]
    refs: set[str] = set()
    request: Request
    if form == "method":
        request_id = value.get("id")
        if not isinstance(body, str):
            raise PatternError("request.method must be a string (use json for other documents)")
        if isinstance(request_id, bool) or not isinstance(request_id, str | int | None):
            raise PatternError("request.id must be a string or an integer")
        params = value.get("params")
        if "params" in value and not isinstance(params, list | dict):
            raise PatternError("request.params must be an array or an object")
        refs = references(params, "request.params")
        request = Call(body, params, "params" in value, request_id)
    elif form == "json":
        refs = references(body, "request.json")
        request = JsonDocument(body)
    elif form == "text":
        if not isinstance(body, str):
            raise PatternError("request.text must be a string")
        request = RawBody(body.encode("utf-8", "surrogatepass"))
    else:
        try:
            request = RawBody(base64.b64decode(body, validate=True))
        except (TypeError, ValueError):  # binascii.Error, or non-ASCII text
            raise PatternError("request.base64 must be base64 text") from None
    return request, content_type, refs
