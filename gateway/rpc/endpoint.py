"""The JSON-RPC 2.0 endpoint: limits, authentication, batches, dispatch via jsonrpcserver."""

import asyncio
import functools
import json
import logging
import math
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from jsonrpcserver import Error, Success
from jsonrpcserver.async_dispatcher import call
from jsonrpcserver.codes import ERROR_INVALID_REQUEST, ERROR_METHOD_NOT_FOUND, ERROR_PARSE_ERROR
from jsonrpcserver.dispatcher import create_request, to_response
from jsonrpcserver.methods import Methods
from jsonrpcserver.response import to_serializable_one
from jsonrpcserver.result import Result
from jsonrpcserver.sentinels import NOID
from pydantic import ValidationError

from gateway.errors import GatewayError, PropertyValueError, QuotaExceeded
from gateway.rpc.auth import authenticate_request
from gateway.rpc.methods import METHODS, RpcMethod
from gateway.rpc.validation import gateway_error
from gateway.services.container import Services
from gateway.services.throttle import TokenBucket
from gateway.store.base import Account

log = logging.getLogger(__name__)

JSON_CONTENT_TYPES = frozenset({"application/json", "application/json-rpc"})
_REQUEST_MEMBERS = frozenset({"jsonrpc", "method", "params", "id"})


@dataclass(frozen=True, slots=True)
class CallContext:
    services: Services
    account: Account | None


def _check_request(entry: Any) -> Any:
    """A fast JSON-RPC 2.0 request check, instead of jsonrpcserver's jsonschema (~55 µs)."""
    if (
        not isinstance(entry, dict)
        or entry.get("jsonrpc") != "2.0"
        or not isinstance(entry.get("method"), str)
        or not entry.keys() <= _REQUEST_MEMBERS
    ):
        raise ValueError("not a JSON-RPC 2.0 request object")
    if "params" in entry and not isinstance(entry["params"], list | dict):
        raise ValueError("params must be an array or an object")
    if "id" in entry:
        request_id = entry["id"]
        if isinstance(request_id, bool) or not isinstance(request_id, str | int | float | None):
            raise ValueError("id must be a string, a number or null")
    return entry


def _error(exc: GatewayError) -> Result:
    return Error(exc.code, exc.message, exc.data)


def _incident(method: str) -> Result:
    incident = secrets.token_hex(8)
    log.exception("incident %s in %s", incident, method)
    return Error(-32603, "INTERNAL_ERROR", {"incident": incident, "reason": "see the server log"})


def _named(spec: RpcMethod, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Positional or named params as one dict of wire names."""
    if len(args) > len(spec.params):
        raise PropertyValueError("params", f"{spec.name} takes at most {len(spec.params)} params")
    for name in kwargs:
        if name not in spec.params:
            raise PropertyValueError(name, "unknown param")
    return dict(zip(spec.params, args, strict=False)) if args else kwargs


def _bind(spec: RpcMethod) -> Any:
    async def call(context: CallContext, /, *args: Any, **kwargs: Any) -> Result:
        started = time.perf_counter()
        outcome = "ok"
        try:
            params = spec.model.model_validate(_named(spec, args, kwargs))
            return Success(await spec.handler(context.services, context.account, params))
        except ValidationError as exc:
            refusal = gateway_error(exc)
            outcome = str(refusal.code)
            return _error(refusal)
        except GatewayError as exc:
            outcome = str(exc.code)
            if exc.code == -32603:
                return _incident(spec.name)
            return _error(exc)
        except Exception:
            outcome = "-32603"
            return _incident(spec.name)
        finally:
            metrics = context.services.metrics
            metrics.rpc_call_counter(spec.name, outcome).inc()
            metrics.rpc_call_seconds(spec.name).observe(time.perf_counter() - started)

    return call


DISPATCH_TABLE: Methods = {name: _bind(spec) for name, spec in METHODS.items()}
PUBLIC_METHODS = frozenset(name for name, spec in METHODS.items() if spec.public)


UNKNOWN_METHOD_LABEL = "(unknown)"

# Errors never echo input: jsonrpcserver's own answer would put the method name in `data`.
_METHOD_NOT_FOUND = Error(ERROR_METHOD_NOT_FOUND, "Method not found", {"reason": "no such method"})


async def _dispatch_one(entry: Any, context: CallContext) -> Any:
    """One request object through jsonrpcserver's call and response stages; None for a
    notification.

    Its outer pipeline (a task and a gather even for one call, ~60 µs) and its params check
    (inspect.signature().bind, ~25 µs, which cannot fail on `(context, /, *args, **kwargs)`)
    are skipped: the pydantic params models check arguments.
    """
    try:
        _check_request(entry)
    except ValueError as exc:
        return _protocol_error(ERROR_INVALID_REQUEST, "Invalid request", str(exc))
    request = create_request(entry)
    method = DISPATCH_TABLE.get(request.method)
    if method is None:
        # One label for every unknown name: callers must not be able to mint label values.
        context.services.metrics.rpc_call_counter(UNKNOWN_METHOD_LABEL, "-32601").inc()
        result = _METHOD_NOT_FOUND
    else:
        result = await call(request, context, method)
    if request.id is NOID:
        return None
    return to_serializable_one(to_response(request, result))


def _protocol_error(code: int, message: str, data: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": data}, "id": None}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        # 1e999 would go back out as Infinity, which is not JSON.
        raise ValueError("a number beyond the range of a double")
    return number


# One decoder for every request: json.loads with options builds a new one per call.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _parse(raw: bytes) -> Any:
    return _DECODER.decode(raw.decode("utf-8"))


@functools.lru_cache(maxsize=64)
def _media_type(content_type_header: str) -> str:
    """The bare media type of a Content-Type header, e.g. `application/json`."""
    return content_type_header.split(";", 1)[0].strip().lower()


_ANSWER_TYPES = {
    media_type: f"{media_type}; charset=utf-8" for media_type in sorted(JSON_CONTENT_TYPES)
}
_DEFAULT_ANSWER_TYPE = _ANSWER_TYPES["application/json"]


class RpcEndpoint:
    """`POST /json-rpc/v1.1/`: every JSON-RPC answer is HTTP 200; auth failures are HTTP 401."""

    def __init__(
        self,
        services: Services,
        *,
        max_request_bytes: int,
        max_batch_size: int,
        body_read_timeout_s: float,
        account_requests_per_s: float = 0,
    ) -> None:
        self._body_read_timeout_s = body_read_timeout_s
        self._services = services
        self._max_request_bytes = max_request_bytes
        self._max_batch_size = max_batch_size
        self._request_buckets: defaultdict[int, TokenBucket] = defaultdict(
            lambda: TokenBucket(account_requests_per_s)
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > self._max_request_bytes:
            raise web.HTTPRequestEntityTooLarge(
                max_size=self._max_request_bytes, actual_size=request.content_length
            )
        content_type_header = request.headers.get("Content-Type")
        # Answers mirror the request's JSON media type (CALLR's SDKs send application/json-rpc).
        answer_type = _DEFAULT_ANSWER_TYPE
        if content_type_header:
            media_type = _media_type(content_type_header)
            if media_type not in JSON_CONTENT_TYPES:
                reason = "unsupported Content-Type"
                return _answer(_protocol_error(ERROR_INVALID_REQUEST, "Invalid request", reason))
            answer_type = _ANSWER_TYPES[media_type]
        try:
            if request.content.is_eof():
                raw = await request.read()  # the whole body has arrived: nothing to wait for
            else:
                async with asyncio.timeout(self._body_read_timeout_s):
                    raw = await request.read()
        except TimeoutError:
            return web.json_response({"error": "request body not received in time"}, status=408)
        except web.RequestPayloadError:
            # A body that its Content-Encoding does not decode (gzip that is not gzip).
            reason = "the body could not be decoded"
            return _answer(_protocol_error(ERROR_PARSE_ERROR, "Parse error", reason), answer_type)
        try:
            document = _parse(raw)
        except (ValueError, RecursionError):
            reason = "the body is not valid JSON"
            return _answer(_protocol_error(ERROR_PARSE_ERROR, "Parse error", reason), answer_type)
        is_batch = isinstance(document, list)
        if is_batch and not 0 < len(document) <= self._max_batch_size:
            reason = "empty batch" if not document else f"at most {self._max_batch_size} calls"
            return _answer(
                _protocol_error(ERROR_INVALID_REQUEST, "Invalid request", reason), answer_type
            )
        account = None
        if not _only_public_calls(document if is_batch else [document]):
            authenticated = await authenticate_request(request, self._services.accounts)
            if isinstance(authenticated, web.Response):
                self._services.metrics.auth_refusals.labels(str(authenticated.status)).inc()
                return authenticated
            account = authenticated
            wait_s = self._request_buckets[account.id].try_take()
            if wait_s:
                refusal = QuotaExceeded(round(wait_s, 3))
                return _answer(_refuse_all(document, refusal), answer_type)
        context = CallContext(self._services, account)
        if not is_batch:
            return _answer(await _dispatch_one(document, context), answer_type)
        answers = await asyncio.gather(*(_dispatch_one(entry, context) for entry in document))
        return _answer([answer for answer in answers if answer is not None], answer_type)


# One encoder for every answer: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _answer(payload: Any, answer_type: str = _DEFAULT_ANSWER_TYPE) -> web.Response:
    if payload is None or payload == []:
        # Only notifications: JSON-RPC 2.0 says nothing is returned.
        return web.Response(status=204)
    # Input is checked for lone surrogates, so none should reach an answer; if one does, it
    # goes out as its JSON escape rather than failing the whole answer.
    body = _ENCODER.encode(payload).encode("utf-8", "backslashreplace")
    return web.Response(body=body, headers={"Content-Type": answer_type})


def _refuse_all(document: Any, refusal: GatewayError) -> Any:
    """The same error for every call of the request that expects an answer."""
    entries = document if isinstance(document, list) else [document]
    answers = [
        {
            "jsonrpc": "2.0",
            "error": {"code": refusal.code, "message": refusal.message, "data": refusal.data},
            "id": entry.get("id") if isinstance(entry, dict) else None,
        }
        for entry in entries
        if not (isinstance(entry, dict) and "id" not in entry)
    ]
    return answers if isinstance(document, list) else (answers[0] if answers else None)


def _only_public_calls(entries: list[Any]) -> bool:
    return all(isinstance(e, dict) and e.get("method") in PUBLIC_METHODS for e in entries)
