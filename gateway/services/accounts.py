"""Accounts: creation, listing, and authentication with a short-lived verified-credential cache."""

import asyncio
import base64
import binascii
import hashlib
import re
import time
from collections import OrderedDict, deque
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.config import AuthSettings
from gateway.errors import NotFound, PropertyValueError
from gateway.services.credentials import (
    API_KEY_HEX_LENGTH,
    api_key_digest,
    hash_password,
    new_api_key,
    verify_password,
)
from gateway.store.base import Account, AccountStore

LOGIN_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_API_KEY_PATTERN = re.compile(rf"[0-9a-fA-F]{{{API_KEY_HEX_LENGTH}}}")


@dataclass(frozen=True, slots=True)
class NewAccount:
    account: Account
    api_key: str


class CredentialCache:
    """Verified credentials by a digest of the header value, for a short while (LRU-bounded).

    CALLR's SDKs send Basic on every call; without this every call would pay scrypt.
    """

    def __init__(self, *, ttl_s: float, size: int) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._entries: OrderedDict[bytes, tuple[Account, float]] = OrderedDict()

    def get(self, key: bytes) -> Account | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        account, expires_at = entry
        if expires_at < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return account

    def put(self, key: bytes, account: Account) -> None:
        if self._size == 0 or self._ttl_s == 0:
            return
        self._entries[key] = (account, time.monotonic() + self._ttl_s)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)


_FAILED_LOGINS_SWEEP_SIZE = 10_000


class FailedLogins:
    """Recent failed authentications by login and by client address: past a threshold, that
    login or address is refused for the rest of the window without checking anything."""

    def __init__(self, *, max_failures: int, window_s: float) -> None:
        self._max = max_failures
        self._window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._swept_at_size = _FAILED_LOGINS_SWEEP_SIZE

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        horizon = time.monotonic() - self._window_s
        while failures and failures[0] < horizon:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def blocked_for(self, *keys: str) -> float:
        """Seconds until every key may try again (0: none is blocked)."""
        waits = [
            recent[0] + self._window_s - time.monotonic()
            for recent in (self._recent(key) for key in keys)
            if len(recent) >= self._max
        ]
        return max(waits, default=0.0)

    def record(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
        if len(self._failures) > self._swept_at_size:
            self._sweep()

    def _sweep(self) -> None:
        """Forget keys with no failure left in the window: failures from ever new addresses
        would otherwise be kept for ever. Amortized: it runs when the table has doubled."""
        for key in list(self._failures):
            self._recent(key)
        self._swept_at_size = max(_FAILED_LOGINS_SWEEP_SIZE, 2 * len(self._failures))

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


class LoginThrottled(Exception):
    """Too many failed logins from this login or address; try again after `retry_after_s`."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__("too many failed logins")
        self.retry_after_s = retry_after_s


class AccountService:
    def __init__(self, store: AccountStore, settings: AuthSettings, clock: Clock) -> None:
        self._store = store
        self._settings = settings
        self._clock = clock
        self._cache = CredentialCache(
            ttl_s=settings.credential_cache_ttl_s, size=settings.credential_cache_size
        )
        # Concurrent first calls with the same credential share one scrypt run.
        self._in_flight: dict[bytes, asyncio.Future[Account | None]] = {}
        self._failed = FailedLogins(
            max_failures=settings.max_failed_logins, window_s=settings.failed_login_window_s
        )
        # Unknown logins are checked against this, so they cost as much as a wrong password.
        self._decoy_hash = hash_password("decoy", n=settings.scrypt_n)

    async def create(self, login: str, password: str) -> NewAccount:
        """Create an account with its first API key; the key is shown here only."""
        if not LOGIN_PATTERN.fullmatch(login):
            raise PropertyValueError("login", "1 to 64 characters of [A-Za-z0-9_.@-]")
        if not password:
            raise PropertyValueError("password", "must not be empty")
        password_hash = await asyncio.to_thread(hash_password, password, n=self._settings.scrypt_n)
        token = new_api_key()
        account = await self._store.create_account(
            login, password_hash, api_key_digest(token), self._clock.now()
        )
        return NewAccount(account, token)

    async def list(self) -> list[Account]:
        return await self._store.list_accounts()

    async def by_login(self, login: str) -> Account:
        credentials = await self._store.credentials_for_login(login)
        if credentials is None:
            raise NotFound("login")
        return credentials.account

    async def authenticate_basic(self, token: str, address: str) -> Account | None:
        """A Basic credential, base64(`login:password`); cached by a digest of the token.

        Raises LoginThrottled while the login or the client address has failed too often.
        """
        if not token.isascii():
            # Base64 is ASCII; other bytes in the header arrive as surrogate escapes.
            return self._failure(f"address:{address}")
        key = hashlib.sha256(b"basic\0" + token.encode()).digest()
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return self._failure(f"address:{address}")
        login, colon, password = decoded.partition(":")
        if not colon or not login:
            return self._failure(f"address:{address}")
        keys = (f"login:{login}", f"address:{address}")
        retry_after_s = self._failed.blocked_for(*keys)
        if retry_after_s:
            raise LoginThrottled(retry_after_s)
        pending = self._in_flight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Account | None] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            account = await self._verify_password(login, password)
            future.set_result(account)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here: waiters, if any, re-raise it themselves
            raise
        finally:
            del self._in_flight[key]
        if account is None:
            return self._failure(*keys)
        self._cache.put(key, account)
        self._failed.clear(f"login:{login}")
        return account

    def _failure(self, *keys: str) -> Account | None:
        """Record a failed authentication; answers None, the failed result."""
        self._failed.record(*keys)
        return None

    async def _verify_password(self, login: str, password: str) -> Account | None:
        credentials = await self._store.credentials_for_login(login)
        encoded = credentials.password_hash if credentials else self._decoy_hash
        valid = await asyncio.to_thread(verify_password, password, encoded)
        return credentials.account if credentials is not None and valid else None

    async def authenticate_api_key(self, token: str, address: str) -> Account | None:
        if _API_KEY_PATTERN.fullmatch(token):
            digest = api_key_digest(token.lower())
            cached = self._cache.get(digest)
            if cached is not None:
                return cached
        retry_after_s = self._failed.blocked_for(f"address:{address}")
        if retry_after_s:
            raise LoginThrottled(retry_after_s)
        if not _API_KEY_PATTERN.fullmatch(token):
            return self._failure(f"address:{address}")
        account = await self._store.account_for_api_key(digest)
        if account is None:
            return self._failure(f"address:{address}")
        self._cache.put(digest, account)
        return account
