"""The store's ports: the records it keeps and the Protocols the services call."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, Protocol

Direction = Literal["OUT", "IN"]
Encoding = Literal["GSM", "UNICODE"]
Nature = Literal["ALERTING", "MARKETING"]


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
    direction: Direction
    sender: str
    recipient: str
    text: str
    options: dict[str, Any] | None
    encoding: Encoding
    parts: int
    nature: Nature
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

    row_id: int  # the store's own order of arrival; breaks ties in every sort
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


class SortField(StrEnum):
    """What `Search.Options.sort` may order by (wire names)."""

    DATE_CREATION = "date_creation"
    DATE_UPDATE = "date_update"
    STATUS = "status"
    PARTS = "parts"


@dataclass(frozen=True, slots=True)
class SortOrder:
    field: SortField = SortField.DATE_CREATION
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where a keyset page starts: after the row with this sort value and row id."""

    value: int | str
    row_id: int


@dataclass(frozen=True, slots=True)
class SearchCriteria:
    """Message filters, combined with AND; `created_from` is already clamped to the window."""

    created_from: datetime
    created_to: datetime | None = None
    direction: str | None = None
    hash: str | None = None
    sender: str | None = None
    recipient: str | None = None
    text: str | None = None
    nature: str | None = None
    statuses: tuple[str, ...] = ()
    user_data: str | None = None

    @property
    def only_dates(self) -> bool:
        """True when nothing but the date range filters (the cheap-count case)."""
        return not (
            self.direction
            or self.hash
            or self.sender
            or self.recipient
            or self.text
            or self.nature
            or self.statuses
            or self.user_data is not None
        )


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

    async def search_messages(
        self,
        account_id: int,
        criteria: SearchCriteria,
        order: SortOrder,
        *,
        after: Keyset | None,
        offset: int,
        limit: int,
        few_matches: bool = False,
    ) -> list[Message]:
        """One page of matches in `order`, ties broken by row id in the same direction.

        `few_matches` says the filters match few rows (the total is known to be small), which
        lets the store look them up through the filter's index and sort them.
        """
        ...

    async def count_messages(self, account_id: int, criteria: SearchCriteria) -> int: ...


class Store(AccountStore, MessageStore, Protocol):
    async def ping(self) -> None:
        """Raise when the database cannot be read."""
        ...
