"""The store's ports: the records it keeps and the Protocols the services call."""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
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
    # When an undelivered message is given up as EXPIRED (None: never).
    expires_at: datetime | None


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
        # `is not None`: an empty string is a filter too (`from: ""` matches no stored sender).
        return self.statuses == () and all(
            value is None
            for value in (
                self.direction,
                self.hash,
                self.sender,
                self.recipient,
                self.text,
                self.nature,
                self.user_data,
            )
        )


@dataclass(frozen=True, slots=True)
class ExportFile:
    rows: int
    bytes: int
    sha256: str


# API.md export columns: the `SMS` fields in order, without options and status_history.
EXPORT_HEADER = (
    "hash",
    "type",
    "from",
    "to",
    "text",
    "encoding",
    "parts",
    "nature",
    "user_data",
    "status",
    "status_error",
    "cost",
    "currency",
    "date_creation",
    "date_update",
    "date_sent",
    "date_received",
)

JobStatus = Literal["PENDING", "RUNNING", "DONE", "ERROR", "CANCELED"]
FINISHED_JOB_STATUSES = frozenset({"DONE", "ERROR", "CANCELED"})


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where an event goes and how it is signed (API.md `Webhook`)."""

    endpoint: str
    hmac_secret: str | None = None
    hmac_algo: str = "SHA256"


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A webhook event to deliver: the exact body, its target and its stable id."""

    event_id: str
    account_id: int
    target: WebhookTarget
    body: bytes
    created_at: datetime
    # Events with the same key reach one endpoint in the order they were queued.
    ordering_key: str | None = None


@dataclass(frozen=True, slots=True)
class PendingDelivery:
    outbox_id: int
    event_id: str
    target: WebhookTarget
    body: bytes
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """One POST of an event; `next_attempt_at` None means no retry (delivered or given up)."""

    outbox_id: int
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered: bool
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewJob:
    account_id: int
    type: str
    params: dict[str, Any]
    webhook: WebhookTarget | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Job(NewJob):
    row_id: int
    hash: str
    status: JobStatus
    progress_done: int
    progress_total: int
    result: dict[str, Any] | None
    error: str | None
    file_path: str | None
    expires_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """How a job ends; the event (if any) is committed in the same transaction."""

    status: JobStatus
    at: datetime
    result: dict[str, Any] | None = None
    error: str | None = None
    file_path: str | None = None
    expires_at: datetime | None = None


# Statuses move forward only: a transition to a rank not above the current one is ignored.
STATUS_RANKS = {
    "CREATED": 0,
    "PENDING": 1,
    "SENT": 2,
    "REMOTE_QUEUED": 3,
    "RECEIVED": 4,
    "FAILED": 4,
    "EXPIRED": 4,
    "ERROR": 4,
}


@dataclass(frozen=True, slots=True)
class StatusTransition:
    """A message's move to a new status, found by its row id or by its carrier reference."""

    new_status: str
    at: datetime
    row_id: int | None = None
    carrier_ref: str | None = None
    error: str = ""
    set_carrier_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    """An account's webhook for one event type (`webhooks.subscribe`)."""

    hash: str
    account_id: int
    type: str
    target: WebhookTarget
    created_at: datetime


class MessageEvents(Protocol):
    def __call__(self, message: Message) -> list[OutboxEvent]:
        """The events announcing the message's new state, built inside its transaction."""
        ...


@dataclass(frozen=True, slots=True)
class OwnedNumber:
    """An E.164 number or a shortcode registered to one account."""

    row_id: int
    number: str
    account_id: int
    sms_enabled: bool
    label: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class NumberFilters:
    sms_enabled: bool | None = None
    prefix: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


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

    async def hash_for_key(self, account_id: int, idempotency: IdempotencyKey) -> str | None:
        """The hash of the message sent with this key within its window, if any."""
        ...

    async def batch_answer(self, account_id: int, idempotency: IdempotencyKey) -> str | None:
        """The answer kept for an sms.send_batch sent with this key within its window, if any."""
        ...

    async def insert_batch_once(
        self,
        account_id: int,
        idempotency: IdempotencyKey,
        messages: Sequence[NewMessage],
        answer_of: Callable[[list[str]], str],
        now: datetime,
    ) -> str:
        """The answer kept for the key within its window; else, in one transaction, commit the
        messages and keep and return `answer_of(their hashes)`. Concurrent calls with one key
        send once."""
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

    async def insert_inbound(self, message: NewMessage, events: MessageEvents) -> str:
        """Commit a received SMS with the events announcing it; answers its hash."""
        ...

    async def pending_messages(
        self,
        limit: int,
        exclude: frozenset[int],
        exclude_accounts: frozenset[int],
        now: datetime,
    ) -> list[Message]:
        """Outbound messages waiting for the carrier, oldest first, but those already in hand,
        those of accounts held back by their throughput limit and those expired by `now`."""
        ...

    async def apply_transition(
        self, transition: StatusTransition, events: MessageEvents
    ) -> Message | None:
        """Move a message forward and queue its events in one transaction; None when the
        message is unknown or already at or past that status (a late or repeated report)."""
        ...

    async def expired_undelivered(self, now: datetime, limit: int) -> list[int]:
        """Row ids of undelivered messages whose validity has run out."""
        ...

    async def awaiting_receipts(self, carrier_ref_prefix: str) -> list[tuple[str, str]]:
        """(carrier_ref, recipient) of the messages a carrier accepted (its references start
        with the prefix) and has not reported a final status for, oldest first."""
        ...

    async def export_csv(
        self,
        account_id: int,
        criteria: SearchCriteria,
        part_path: Path,
        page_rows: int,
        progress: Callable[[int], Awaitable[None]],
    ) -> "ExportFile":
        """Write the matches, in date_creation order, as CSV (EXPORT_HEADER) to `part_path`
        and fsync it; `progress` hears the rows written so far after every page. Cancelling
        the call (or raising from `progress`) stops the export."""
        ...


class JobStore(Protocol):
    async def insert_job(self, job: NewJob) -> str: ...

    async def get_job(self, account_id: int, job_hash: str) -> Job | None: ...

    async def claim_next_job(self, now: datetime) -> Job | None:
        """Move the oldest PENDING job to RUNNING and answer it."""
        ...

    async def requeue_running_jobs(self, now: datetime) -> int:
        """Put back every job left RUNNING by a stopped process; answers how many."""
        ...

    async def job_status(self, row_id: int) -> JobStatus | None: ...

    async def update_job_progress(
        self, row_id: int, done: int, total: int, now: datetime
    ) -> None: ...

    async def finish_job(
        self, row_id: int, outcome: JobOutcome, event_for: "EventFactory | None"
    ) -> Job | None:
        """End a PENDING or RUNNING job; None if it had already ended (e.g. canceled)."""
        ...

    async def expired_export_files(self, now: datetime) -> list[tuple[int, str]]: ...

    async def forget_export_file(self, row_id: int) -> None: ...


class EventFactory(Protocol):
    def __call__(self, job: Job) -> list[OutboxEvent]:
        """The events announcing the job's new state, built inside the finishing transaction
        (on the store's writer thread: it only reads)."""
        ...


class OutboxStore(Protocol):
    async def enqueue_events(self, events: Sequence[OutboxEvent]) -> None: ...

    async def due_deliveries(
        self,
        now: datetime,
        limit: int,
        exclude: frozenset[int],
        exclude_endpoints: frozenset[str],
    ) -> list[PendingDelivery]:
        """Events due now, oldest first, but those in flight and those to busy endpoints."""
        ...

    async def next_delivery_at(self) -> datetime | None: ...

    async def record_attempt(self, attempt: DeliveryAttempt) -> None: ...

    async def delivery_attempts(self, event_id: str) -> list[DeliveryAttempt]: ...


class SubscriptionStore(Protocol):
    async def insert_subscription(
        self, account_id: int, event_type: str, target: WebhookTarget, now: datetime
    ) -> Subscription: ...

    async def delete_subscription(self, account_id: int, subscription_hash: str) -> bool: ...

    async def all_subscriptions(self) -> list[Subscription]: ...


class NumberStore(Protocol):
    async def insert_number(
        self, account_id: int, number: str, sms_enabled: bool, label: str, now: datetime
    ) -> OwnedNumber | None:
        """None when the number is registered already (to any account)."""
        ...

    async def number(self, number: str) -> OwnedNumber | None:
        """The registration of a number, whatever its account."""
        ...

    async def delete_number(self, account_id: int, number: str) -> bool: ...

    async def set_number_sms(
        self, account_id: int, number: str, enabled: bool, now: datetime
    ) -> bool: ...

    async def count_numbers(self, account_id: int, filters: NumberFilters) -> int: ...

    async def search_numbers(
        self,
        account_id: int,
        filters: NumberFilters,
        *,
        by_number: bool,
        descending: bool,
        after: Keyset | None,
        offset: int,
        limit: int,
    ) -> list[OwnedNumber]: ...

    async def approved_senders(self, account_id: int) -> frozenset[str]: ...

    async def approve_sender(self, account_id: int, sender: str, approved: bool) -> None: ...


class Store(
    AccountStore, MessageStore, JobStore, OutboxStore, SubscriptionStore, NumberStore, Protocol
):
    async def ping(self) -> None:
        """Raise when the database cannot be read."""
        ...

    async def probe_write(self, now_ms: int) -> None:
        """Raise when the database does not take writes."""
        ...

    async def queue_depths(self) -> dict[str, int]:
        """Messages to dispatch, webhook events to deliver, jobs to run."""
        ...
