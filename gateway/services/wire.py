"""The API objects as JSON (SMS, SMS.Quote, Search.Results, Job, ...), built from the records."""

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.services.messaging import BatchOutcome, CharsetMapping, Quote
from gateway.services.numbers import NumberPage
from gateway.services.search import SearchPage
from gateway.store.base import Job, Message, OwnedNumber, Subscription

UNSET_DATETIME = "0000-00-00 00:00:00"


def wire_datetime(moment: datetime | None) -> str:
    """API.md `datetime`: `YYYY-MM-DD HH:MM:SS` in UTC, or the all-zero unset date."""
    # isoformat is C code; strftime costs several times more, a page holds hundreds of dates.
    return moment.isoformat(" ", "seconds")[:19] if moment is not None else UNSET_DATETIME


def _decimal(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def wire_datetime_ms(moment: datetime) -> str:
    return moment.isoformat(" ", "milliseconds")[:23]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class StatusHistoryEntry(_Result):
    old_status: str
    new_status: str
    updated_at: str = Field(description="UTC, with milliseconds")


class SmsResult(_Result):
    hash: str
    type: Literal["OUT", "IN"]
    sender: str = Field(alias="from")
    to: str
    text: str
    options: dict[str, Any] | None
    encoding: Literal["GSM", "UNICODE"]
    parts: int
    nature: Literal["ALERTING", "MARKETING"]
    user_data: str
    status: str
    status_error: str
    cost: str | None
    currency: str
    date_creation: str
    date_update: str
    date_sent: str
    date_received: str
    status_history: list[StatusHistoryEntry]

    @staticmethod
    def wire(message: Message) -> dict[str, Any]:
        """The JSON object this model describes, built directly: a message is read far more
        often than it is written, and a model instance per read costs several times more."""
        return {
            "hash": message.hash,
            "type": message.direction,
            "from": message.sender,
            "to": message.recipient,
            "text": message.text,
            "options": message.options,
            "encoding": message.encoding,
            "parts": message.parts,
            "nature": message.nature,
            "user_data": message.user_data,
            "status": message.status,
            "status_error": message.status_error,
            "cost": _decimal(message.cost),
            "currency": message.currency,
            "date_creation": wire_datetime(message.created_at),
            "date_update": wire_datetime(message.updated_at),
            "date_sent": wire_datetime(message.sent_at),
            "date_received": wire_datetime(message.received_at),
            "status_history": [
                {
                    "old_status": change.old_status,
                    "new_status": change.new_status,
                    "updated_at": wire_datetime_ms(change.at),
                }
                for change in message.status_history
            ],
        }


class QuoteResult(_Result):
    nb_sms: int
    encoding: Literal["GSM", "UNICODE"]
    cost: str | None
    currency: str
    unit_cost: str | None
    country: str | None

    @classmethod
    def of(cls, quote: Quote) -> "QuoteResult":
        return cls(
            nb_sms=quote.nb_sms,
            encoding=quote.encoding,
            cost=_decimal(quote.cost),
            currency=quote.currency,
            unit_cost=_decimal(quote.unit_cost),
            country=quote.country,
        )


class CharsetMappingResult(_Result):
    gsm: str
    gsm_extended: str
    mapping: dict[str, str]

    @classmethod
    def of(cls, charset: CharsetMapping) -> "CharsetMappingResult":
        return cls(gsm=charset.gsm, gsm_extended=charset.gsm_extended, mapping=charset.mapping)


class SearchResults(_Result):
    total: int = Field(description="exact number of matches")
    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None = Field(description="pass as options.cursor for the next page")
    data: list[SmsResult]

    @staticmethod
    def wire(page: SearchPage) -> dict[str, Any]:
        return {
            "total": page.total,
            "offset": page.offset,
            "limit": page.limit,
            "has_more": page.has_more,
            "next_cursor": page.next_cursor,
            "data": [SmsResult.wire(message) for message in page.messages],
        }


class JobProgress(_Result):
    done: int
    total: int


class ExportResult(_Result):
    url: str = Field(description="absolute download URL of the CSV file")
    rows: int
    bytes: int
    sha256: str
    expires_at: str


class JobResult(_Result):
    hash: str
    type: Literal["sms.export"]
    status: Literal["PENDING", "RUNNING", "DONE", "ERROR", "CANCELED"]
    progress: JobProgress
    result: ExportResult | None
    error: str | None
    date_creation: str
    date_update: str

    @classmethod
    def of(cls, job: Job) -> "JobResult":
        return cls(
            hash=job.hash,
            type=job.type,
            status=job.status,
            progress=JobProgress(done=job.progress_done, total=job.progress_total),
            result=ExportResult.model_validate(job.result) if job.result is not None else None,
            error=job.error,
            date_creation=wire_datetime(job.created_at),
            date_update=wire_datetime(job.updated_at),
        )


class WebhookOptionsResult(_Result):
    hmac_algo: str
    hmac_secret_set: bool = Field(description="the secret itself is never shown again")


class WebhookResult(_Result):
    hash: str
    type: str
    endpoint: str
    options: WebhookOptionsResult
    date_creation: str

    @classmethod
    def of(cls, subscription: Subscription) -> "WebhookResult":
        target = subscription.target
        return cls(
            hash=subscription.hash,
            type=subscription.type,
            endpoint=target.endpoint,
            options=WebhookOptionsResult(
                hmac_algo=target.hmac_algo, hmac_secret_set=bool(target.hmac_secret)
            ),
            date_creation=wire_datetime(subscription.created_at),
        )


class NumberResult(_Result):
    number: str
    sms_enabled: bool
    label: str
    date_creation: str
    date_update: str

    @classmethod
    def of(cls, owned: OwnedNumber) -> "NumberResult":
        return cls(
            number=owned.number,
            sms_enabled=owned.sms_enabled,
            label=owned.label,
            date_creation=wire_datetime(owned.created_at),
            date_update=wire_datetime(owned.updated_at),
        )


class NumberSearchResults(_Result):
    total: int
    offset: int
    limit: int
    has_more: bool
    next_cursor: str | None
    data: list[NumberResult]

    @classmethod
    def of(cls, page: NumberPage) -> "NumberSearchResults":
        return cls(
            total=page.total,
            offset=page.offset,
            limit=page.limit,
            has_more=page.has_more,
            next_cursor=page.next_cursor,
            data=[NumberResult.of(owned) for owned in page.numbers],
        )


class BatchSentResult(_Result):
    to: str
    hash: str
    parts: int


class BatchFailedResult(_Result):
    to: str
    code: int
    message: str


class SendBatchResult(_Result):
    sent: list[BatchSentResult]
    failed: list[BatchFailedResult]
    parts: int = Field(description="parts of every message sent")

    @classmethod
    def of(cls, outcome: BatchOutcome) -> "SendBatchResult":
        return cls(
            sent=[BatchSentResult(to=s.to, hash=s.hash, parts=s.parts) for s in outcome.sent],
            failed=[
                BatchFailedResult(to=f.to, code=f.code, message=f.message) for f in outcome.failed
            ],
            parts=outcome.parts,
        )


class WebhookEvent(_Result):
    """The body of every webhook the gateway POSTs."""

    type: Literal["job.status_update", "sms.mt.status_update", "sms.mo"]
    event_id: str
    event_at: str = Field(description="ISO 8601 in UTC with milliseconds")
    hook_hash: str | None = Field(
        description="the subscription's hash; null for a webhook given with the call itself"
    )
    data: JobResult | SmsResult
