"""Reads the Authorization header (Basic, Api-Key, Bearer) into an account."""

import math

from aiohttp import web

from gateway.services.accounts import AccountService, LoginThrottled
from gateway.store.base import Account


async def authenticate(
    header: str | None, accounts: AccountService, address: str
) -> Account | None:
    """The account the header proves, or None; the scheme is matched case-insensitively.

    Raises LoginThrottled while the login or the client address has failed too often.
    """
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "basic":
        return await accounts.authenticate_basic(credentials, address)
    if scheme in ("api-key", "bearer"):
        return await accounts.authenticate_api_key(credentials, address)
    return None


async def authenticate_request(
    request: web.Request, accounts: AccountService
) -> Account | web.Response:
    """The request's account, or the HTTP answer that refuses it (401, or 429 when throttled)."""
    try:
        account = await authenticate(
            request.headers.get("Authorization"), accounts, request.remote or "unknown"
        )
    except LoginThrottled as throttled:
        retry_after = str(max(1, math.ceil(throttled.retry_after_s)))
        return web.json_response(
            {"error": "too many failed logins"}, status=429, headers={"Retry-After": retry_after}
        )
    if account is None:
        return web.json_response(
            {"error": "authentication required"},
            status=401,
            headers={"WWW-Authenticate": 'Basic realm="sms-gateway"'},
        )
    return account
