"""The JSON-RPC 2.0 endpoint: limits, authentication, batches, dispatch via jsonrpcserver."""

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from jsonrpcserver import Error, Success
from jsonrpcserver.async_dispatcher import dispatch_to_response_pure
from jsonrpcserver.codes import ERROR_INVALID_REQUEST, ERROR_PARSE_ERROR
from jsonrpcserver.methods import Methods
from jsonrpcserver.response import to_serializable
from jsonrpcserver.result import Result
from pydantic import ValidationError

from gateway.errors import GatewayError, PropertyValueError
from gateway.rpc.auth import authenticate
from gateway.rpc.methods import METHODS, RpcMethod
from gateway.rpc.validation import gateway_error
from gateway.services.container import Services
from gateway.store.base import Account

log = logging.getLogger(__name__)

JSON_CONTENT_TYPES = frozenset({"application/json", "application/json-rpc"})
_REQUEST_MEMBERS = frozenset({"jsonrpc", "method", "params", "id"})
_UNAUTHORIZED_BODY = json.dumps({"error": "authentication required"}).encode()


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


def _as_is(document: Any) -> Any:
    return document


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
        try:
            params = spec.model.model_validate(_named(spec, args, kwargs))
            return Success(await spec.handler(context.services, context.account, params))
        except ValidationError as exc:
            return _error(gateway_error(exc))
        except GatewayError as exc:
            if exc.code == -32603:
                return _incident(spec.name)
            return _error(exc)
        except Exception:
            return _incident(spec.name)

    return call


DISPATCH_TABLE: Methods = {name: _bind(spec) for name, spec in METHODS.items()}
PUBLIC_METHODS = frozenset(name for name, spec in METHODS.items() if spec.public)


async def _dispatch_one(entry: Any, context: CallContext) -> Any:
    response = await dispatch_to_response_pure(
        deserializer=_as_is,
        validator=_check_request,
        methods=DISPATCH_TABLE,
        context=context,
        post_process=_serializable,
        request=entry,
    )
    return response


def _serializable(response: Any) -> Any:
    return to_serializable(response)


def _protocol_error(code: int, message: str, data: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "error": {"code": code, "message": message, "data": data}, "id": None}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)


class RpcEndpoint:
    """`POST /json-rpc/v1.1/`: every JSON-RPC answer is HTTP 200; auth failures are HTTP 401."""

    def __init__(self, services: Services, *, max_request_bytes: int, max_batch_size: int) -> None:
        self._services = services
        self._max_request_bytes = max_request_bytes
        self._max_batch_size = max_batch_size

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > self._max_request_bytes:
            raise web.HTTPRequestEntityTooLarge(
                max_size=self._max_request_bytes, actual_size=request.content_length
            )
        content_type = request.content_type
        if request.headers.get("Content-Type") and content_type not in JSON_CONTENT_TYPES:
            return self._answer(
                _protocol_error(
                    ERROR_INVALID_REQUEST, "Invalid request", "unsupported Content-Type"
                ),
                content_type,
            )
        raw = await request.read()
        try:
            document = _parse(raw)
        except (ValueError, RecursionError):
            return self._answer(
                _protocol_error(ERROR_PARSE_ERROR, "Parse error", "the body is not valid JSON"),
                content_type,
            )
        entries = document if isinstance(document, list) else [document]
        if isinstance(document, list) and not 0 < len(document) <= self._max_batch_size:
            reason = "empty batch" if not document else f"at most {self._max_batch_size} calls"
            return self._answer(
                _protocol_error(ERROR_INVALID_REQUEST, "Invalid request", reason), content_type
            )
        account = None
        if any(not _is_public_call(entry) for entry in entries):
            account = await authenticate(
                request.headers.get("Authorization"), self._services.accounts
            )
            if account is None:
                return web.Response(
                    status=401,
                    body=_UNAUTHORIZED_BODY,
                    content_type="application/json",
                    headers={"WWW-Authenticate": 'Basic realm="sms-gateway"'},
                )
        context = CallContext(self._services, account)
        if not isinstance(document, list):
            return self._answer(await _dispatch_one(document, context), content_type)
        answers = await asyncio.gather(*(_dispatch_one(entry, context) for entry in document))
        return self._answer([answer for answer in answers if answer is not None], content_type)

    @staticmethod
    def _answer(payload: Any, content_type: str) -> web.Response:
        if payload is None or payload == []:
            # Only notifications: JSON-RPC 2.0 says nothing is returned.
            return web.Response(status=204)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        answer_type = content_type if content_type in JSON_CONTENT_TYPES else "application/json"
        return web.Response(body=body, content_type=answer_type, charset="utf-8")


def _is_public_call(entry: Any) -> bool:
    return isinstance(entry, dict) and entry.get("method") in PUBLIC_METHODS
