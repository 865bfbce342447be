"""A recording reverse proxy: forwards calls to a gateway and appends them as fixture lines."""

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.replay.fixtures import DEFAULT_CONTENT_TYPE, MAX_NESTING, nesting
from gateway.replay.matching import (
    CAPTURE,
    HASH,
    LITERAL,
    MATCH,
    REGEX,
    UNSET_DATETIME,
    matches_kind,
)
from gateway.replay.runner import RPC_PATH, decode_body

log = logging.getLogger(__name__)

# A credential that no account has: a recorded 401 keeps its meaning without its secret.
INVALID_AUTHORIZATION = "Basic " + base64.b64encode(b"recorded-invalid:credential").decode()
_HASH_KEYS = frozenset({"hash", "result"})
_FORWARDED_REQUEST_HEADERS = ("Authorization", "Content-Type")
# RFC 9110 7.6.1: hop-by-hop headers are not passed on. aiohttp sets the length itself and has
# already decoded the body, so the upstream's Content-Length and Content-Encoding are wrong too.
_UNFORWARDED_ANSWER_HEADERS = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
    }
)
_RECORDED_ANSWER_HEADERS = ("WWW-Authenticate",)
_CAPTURE_NAME = re.compile(r'"\$capture": ?"(hash|cursor)(\d+)"')
_MAX_BODY_BYTES = 64 * 1024 * 1024  # the gateway, not the proxy, decides what is too large


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


@dataclass(frozen=True, slots=True)
class Draft:
    """A fixture line not yet written; its captures count only once it is in the file."""

    line: dict[str, Any]
    captures: dict[str, str]  # captured value -> capture name


class Recorder:
    """Turns live exchanges into fixture lines, replacing run-dependent values by matchers.

    Hashes and cursors become captures, and a later request or answer holding the same value
    refers to the capture: `sms.get` of a recorded send replays against the new hash.
    """

    def __init__(self, default_login: str | None = None, existing: str = "") -> None:
        self.default_login = default_login
        self.warnings: list[str] = []
        self.count = 0  # lines written
        self.not_recorded = 0  # exchanges forwarded but lost to an error while recording
        self._names: dict[str, str] = {}  # captured value -> capture name
        self._counters = {"hash": 0, "cursor": 0}
        # Appending to a file: continue its numbering so that every capture name stays unique.
        for prefix, number in _CAPTURE_NAME.findall(existing):
            self._counters[prefix] = max(self._counters[prefix], int(number))

    def draft(
        self,
        *,
        authorization: str | None,
        content_type: str | None,
        body: bytes,
        status: int,
        answer: bytes,
        answer_headers: Mapping[str, str],
    ) -> Draft:
        """The fixture line for a request and the gateway's answer, to pass to `written` once
        it is in the file; ValueError when the answer nests too deeply for a fixture."""
        request, document = self._request(body)
        call_id = document["id"] if "method" in request else None
        name = _describe(document, request)
        line: dict[str, Any] = {"name": f"recorded #{self.count + 1}: {name}"}
        auth = self._auth(authorization, status)
        if auth != "":
            line["auth"] = auth
        line["request"] = request
        if status != 200:
            line["status"] = status
        fresh: dict[str, str] = {}
        if answer and status != 204:
            expected = decode_body(answer)
            if call_id is not None and isinstance(expected, dict) and expected.get("id") == call_id:
                expected = {k: v for k, v in expected.items() if k not in ("jsonrpc", "id")}
            elif call_id is not None and status == 200:
                # The answer does not carry the call's id: keep the request as sent to show it.
                request.clear()
                request["json"] = self._request_value(document)
            line["response"] = self._expected(expected, None, fresh)
        if content_type != DEFAULT_CONTENT_TYPE:
            request["content_type"] = content_type
        headers = {h: answer_headers[h] for h in _RECORDED_ANSWER_HEADERS if h in answer_headers}
        if headers:
            line["response_headers"] = {h: _escape(v) for h, v in headers.items()}
        if nesting(line) > MAX_NESTING:
            raise ValueError(f"the answer nests deeper than a fixture may ({MAX_NESTING} levels)")
        return Draft(line, fresh)

    def written(self, draft: Draft) -> None:
        """Later lines may refer to the captures of a line once it is in the file."""
        self.count += 1
        self._names.update(draft.captures)

    def _request(self, body: bytes) -> tuple[dict[str, Any], Any]:
        """The fixture's request, and the JSON document sent (None when it is not JSON)."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(body).decode()}, None
        try:
            document = json.loads(text, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return {"text": text}, None
        # The fixture line adds two levels (the line, its request) around the document.
        if nesting(document) + 2 > MAX_NESTING:
            return {"text": text}, None
        if _is_call(document):
            request: dict[str, Any] = {"method": document["method"]}
            if "params" in document:
                request["params"] = self._request_value(document["params"])
            return request, document
        return {"json": self._request_value(document)}, document

    def _auth(self, authorization: str | None, status: int) -> Any:
        """A profile name, "" for the default profile, None for none; never the secret."""
        if authorization is None:
            return None
        if status == 401:
            return {"header": INVALID_AUTHORIZATION}
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "basic":
            try:
                login = base64.b64decode(credentials.strip(), validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                login = ""
            login = login.partition(":")[0]
            if login and login != self.default_login:
                return login
            if login:
                return ""
        warning = "a non-Basic credential was recorded as the default profile"
        if warning not in self.warnings:
            self.warnings.append(warning)
        return ""

    def _request_value(self, value: Any) -> Any:
        """A request value with captured values as references and "$" strings escaped."""
        if isinstance(value, str):
            return "$" + self._names[value] if value in self._names else _escape(value)
        if isinstance(value, list):
            return [self._request_value(item) for item in value]
        if isinstance(value, dict):
            return {key: self._request_value(item) for key, item in value.items()}
        return value

    def _expected(self, value: Any, key: str | None, fresh: dict[str, str]) -> Any:
        if isinstance(value, str):
            return self._expected_string(value, key, fresh)
        if isinstance(value, list):
            return [self._expected(item, None, fresh) for item in value]
        if isinstance(value, dict):
            if any(k.startswith("$") for k in value):
                return {LITERAL: value}  # keys that would read as matchers: keep it verbatim
            expected = {k: self._expected(item, k, fresh) for k, item in value.items()}
            expected.update(_moving(value))
            return expected
        return value

    def _expected_string(self, value: str, key: str | None, fresh: dict[str, str]) -> Any:
        if value in self._names:
            return "$" + self._names[value]
        if key == "incident":
            return {MATCH: "any"}
        capture = None
        if key in _HASH_KEYS and HASH.fullmatch(value):
            capture = "hash", "hash"
        elif key == "next_cursor":
            capture = "cursor", "any"
        if capture is not None:
            prefix, kind = capture
            if value in fresh:  # the same value twice in one answer: capture it once
                return {MATCH: kind}
            self._counters[prefix] += 1
            fresh[value] = f"{prefix}{self._counters[prefix]}"
            return {CAPTURE: fresh[value], MATCH: kind}
        if value != UNSET_DATETIME and matches_kind("datetime", value):
            return {MATCH: "datetime"}
        return _escape(value)


_SMS_STATUSES = ("CREATED", "PENDING", "SENT", "REMOTE_QUEUED")
_SMS_FINAL_STATUSES = ("RECEIVED", "FAILED", "EXPIRED", "ERROR")
_JOB_STATUSES = ("PENDING", "RUNNING")
_JOB_FINAL_STATUSES = ("DONE", "ERROR", "CANCELED")
# What moves on by itself between recording and replay, and what it may show meanwhile.
_SMS_MOVING = {
    "status_error": {MATCH: "any"},
    "date_update": {MATCH: "datetime"},
    "date_sent": {MATCH: "datetime"},
    "date_received": {MATCH: "datetime"},
    "status_history": {MATCH: "any"},
}
# No matcher says "a number": the counts of a job's progress match anything.
_JOB_MOVING = {"progress": {MATCH: "any"}, "result": {MATCH: "any"}, "error": {MATCH: "any"}}


def _moving(value: dict[str, Any]) -> dict[str, Any]:
    """Matchers for the members of an SMS or an export job that its delivery or run changes.

    A replay runs as fast as the gateway answers, not at the pace of the recorded client: an
    SMS recorded RECEIVED may still be SENT then, a job recorded DONE still PENDING, no result.
    """
    status = value.get("status")  # not always a string: rpc.discover's schemas have one
    if not isinstance(status, str):
        return {}
    if "status_history" in value and status in _SMS_STATUSES + _SMS_FINAL_STATUSES:
        moving = _SMS_MOVING | {"status": _statuses(status, _SMS_STATUSES, _SMS_FINAL_STATUSES)}
    elif "progress" in value and status in _JOB_STATUSES + _JOB_FINAL_STATUSES:
        moving = _JOB_MOVING | {"status": _statuses(status, _JOB_STATUSES, _JOB_FINAL_STATUSES)}
    else:
        return {}
    return {key: matcher for key, matcher in moving.items() if key in value}


def _statuses(recorded: str, on_the_way: tuple[str, ...], final: tuple[str, ...]) -> dict[str, str]:
    """A status on its way may end in any final one; a final one may not be reached yet."""
    possible = on_the_way + (final if recorded in on_the_way else (recorded,))
    return {REGEX: "|".join(possible)}


def _describe(document: Any, request: dict[str, Any]) -> str:
    if "method" in request:
        return str(request["method"])
    if isinstance(document, list):
        return f"batch of {len(document)}"
    if isinstance(document, dict) and isinstance(document.get("method"), str):
        return f"{document['method']} (raw)"
    return "raw body"


def _escape(text: str) -> str:
    return "$" + text if text.startswith("$") else text


def _is_call(document: Any) -> bool:
    """A single call that a fixture can write as {"method", "params"} with an automatic id."""
    if not isinstance(document, dict) or document.get("jsonrpc") != "2.0":
        return False
    if not document.keys() <= {"jsonrpc", "method", "params", "id"}:
        return False
    call_id = document.get("id")
    return (
        isinstance(document.get("method"), str)
        and isinstance(document.get("params", []), list | dict)
        and isinstance(call_id, str | int)
        and not isinstance(call_id, bool)
    )


# Characters that some tools take for line breaks; JSON lets them be escaped in strings.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def dump(line: dict[str, Any]) -> str:
    """One fixture line: readable UTF-8, with nothing an editor would split.

    A lone surrogate (a request or answer may hold the escape "\\ud800") cannot be written as
    UTF-8: it stays the escape it came as.
    """
    text = json.dumps(line, ensure_ascii=False).translate(_LINE_BREAKS)
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found[0]):04x}", text) + "\n"


_SESSION = web.AppKey("session", aiohttp.ClientSession)


def recorder_app(upstream: str, out: Path, recorder: Recorder) -> web.Application:
    """The proxy: every request goes to `upstream`; every POST to the RPC endpoint is appended
    to `out` (a fixture cannot name another path, so other requests are only forwarded)."""
    app = web.Application(client_max_size=_MAX_BODY_BYTES)
    lock = asyncio.Lock()  # one line at a time, in the order the answers came back

    async def session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession() as client:
            app[_SESSION] = client
            yield

    async def record(
        request: web.Request,
        body: bytes,
        status: int,
        answer: bytes,
        answer_headers: Mapping[str, str],
    ) -> None:
        async with lock:
            try:
                draft = recorder.draft(
                    authorization=request.headers.get("Authorization"),
                    content_type=request.headers.get("Content-Type"),
                    body=body,
                    status=status,
                    answer=answer,
                    answer_headers=answer_headers,
                )
                await asyncio.to_thread(_append, out, dump(draft.line))
            except Exception:
                # Whatever goes wrong in recording, the client still gets the gateway's answer.
                recorder.not_recorded += 1
                log.exception("exchange not recorded (the client got the gateway's answer)")
            else:
                recorder.written(draft)

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {
            h: request.headers[h] for h in _FORWARDED_REQUEST_HEADERS if h in request.headers
        }
        try:
            async with request.app[_SESSION].request(
                request.method,
                upstream.rstrip("/") + request.path_qs,
                data=body,
                headers=headers,
                skip_auto_headers=["Content-Type"],
                allow_redirects=False,
            ) as answer:
                answer_body = await answer.read()
                answer_headers = _end_to_end(answer.headers)
                status = answer.status
        except aiohttp.ClientError as exc:
            # Nothing to record: the gateway did not answer, which is not a fixture of it.
            return web.Response(status=502, text=f"upstream {upstream}: {exc}\n")
        # The gateway serves its endpoint with and without the final slash.
        if request.method == "POST" and request.path.rstrip("/") == RPC_PATH.rstrip("/"):
            await record(request, body, status, answer_body, answer_headers)
        return web.Response(status=status, body=answer_body, headers=answer_headers)

    app.cleanup_ctx.append(session)
    app.router.add_route("*", "/{tail:.*}", forward)
    return app


def _end_to_end(headers: CIMultiDictProxy[str]) -> CIMultiDict[str]:
    """The answer's headers that a proxy passes on (a header may come more than once)."""
    return CIMultiDict(
        (name, value)
        for name, value in headers.items()
        if name.lower() not in _UNFORWARDED_ANSWER_HEADERS
    )


def _append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as file:
        file.write(line)
