"""The store's ports: the records it keeps and the Protocols the services call."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    login: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AccountCredentials:
    account: Account
    password_hash: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    old_status: str
    new_status: str
    at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message the services have validated, priced and segmented, ready to be stored."""

    account_id: int
    direction: str
    sender: str
    recipient: str
    text: str
    options: dict[str, Any] | None
    encoding: str
    parts: int
    nature: str
    user_data: str
    status: str
    cost: Decimal | None
    currency: str
    country: str | None
    created_at: datetime
    status_history: tuple[StatusChange, ...]


@dataclass(frozen=True, slots=True)
class Message(NewMessage):
    """A stored message: what was accepted, plus its identity and how far it has got."""

    hash: str
    status_error: str
    updated_at: datetime
    sent_at: datetime | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """Deduplicates sends: the same key within the window returns the first message's hash."""

    key: str
    not_before: datetime


class AccountStore(Protocol):
    async def create_account(
        self, login: str, password_hash: str, api_key_sha256: bytes, now: datetime
    ) -> Account: ...

    async def list_accounts(self) -> list[Account]: ...

    async def credentials_for_login(self, login: str) -> AccountCredentials | None: ...

    async def account_for_api_key(self, token_sha256: bytes) -> Account | None: ...


class MessageStore(Protocol):
    async def insert_message(self, message: NewMessage, idempotency: IdempotencyKey | None) -> str:
        """Commit the message and answer its new hash (or the earlier hash for a known key)."""
        ...

    async def get_message(self, account_id: int, message_hash: str) -> Message | None: ...


class Store(AccountStore, MessageStore, Protocol):
    async def ping(self) -> None:
        """Raise when the database cannot be read."""
        ...
