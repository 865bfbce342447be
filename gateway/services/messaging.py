"""Sending, fetching and pricing SMS: the domain rules between the RPC layer and the store."""

import asyncio
import json
import re
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from gateway.clock import Clock
from gateway.config import MessagingSettings
from gateway.encoding import (
    GSM_BASIC_CHARSET,
    GSM_EXTENDED_CHARSET,
    GSM_TRANSLITERATION,
    Segmentation,
    segment,
)
from gateway.errors import (
    INVALID_PARAMS_CODE,
    FeatureNotAllowed,
    NotFound,
    PropertyValueError,
    RoutingError,
)
from gateway.services.endpoints import EndpointPolicy
from gateway.services.numbering import country_of, is_e164
from gateway.services.pricing import PriceList
from gateway.store.base import (
    IdempotencyKey,
    Message,
    MessageStore,
    Nature,
    NewMessage,
    NumberStore,
    StatusChange,
)

# API.md `sms_sender`: 1 to 11 of [A-Za-z0-9 _-] with at least one letter.
ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 _-]{1,11}")
STOP_PLACEHOLDER = "%STOPNUM%"
# API.md: `SMS` is always an allowed sender.
ALWAYS_ALLOWED_SENDER = "SMS"


@dataclass(frozen=True, slots=True)
class SendOptions:
    """The validated `SMS.Options` fields the domain acts on, plus the options as given."""

    force_encoding: str | None = None
    nature: Nature = "ALERTING"
    user_data: str = ""
    idempotency_key: str | None = None
    validity_s: int | None = None
    # Endpoints the message's status events go to, by the property that gave them.
    endpoints: tuple[tuple[str, str], ...] = ()
    as_given: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    nb_sms: int
    encoding: str
    cost: Decimal | None
    currency: str
    unit_cost: Decimal | None
    country: str | None


@dataclass(frozen=True, slots=True)
class CharsetMapping:
    gsm: str
    gsm_extended: str
    mapping: dict[str, str]


@dataclass(frozen=True, slots=True)
class BatchSent:
    to: str
    hash: str
    parts: int


@dataclass(frozen=True, slots=True)
class BatchFailed:
    to: str
    code: int
    message: str


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    sent: list[BatchSent]
    failed: list[BatchFailed]
    parts: int


def _outcome_to_json(outcome: BatchOutcome) -> str:
    return json.dumps(asdict(outcome), separators=(",", ":"))


def _outcome_from_json(text: str) -> BatchOutcome:
    data = json.loads(text)
    return BatchOutcome(
        [BatchSent(**item) for item in data["sent"]],
        [BatchFailed(**item) for item in data["failed"]],
        data["parts"],
    )


class MessagingStore(MessageStore, NumberStore, Protocol):
    pass


# Approved senders change from the command line (another process): re-read them this often.
_APPROVED_SENDERS_TTL_S = 5.0


class MessagingService:
    def __init__(
        self,
        store: MessagingStore,
        settings: MessagingSettings,
        prices: PriceList,
        clock: Clock,
        messages_queued: asyncio.Event,
        endpoints: EndpointPolicy,
    ) -> None:
        self._endpoints = endpoints
        self._store = store
        self._settings = settings
        self._prices = prices
        self._clock = clock
        # Set after messages are committed, so the dispatcher hands them on at once.
        self._messages_queued = messages_queued
        self._approved: dict[int, tuple[frozenset[str], float]] = {}

    def _segment(
        self, body: str, force_encoding: str | None = None, prop: str = "body"
    ) -> Segmentation:
        """The body with the STOP number in, as it will be sent."""
        segmentation = segment(
            body.replace(STOP_PLACEHOLDER, self._settings.stop_number), force_encoding
        )
        if not segmentation.text:
            # Only characters that GSM drops (a zero-width space, a soft hyphen): an empty SMS
            # would still be sent and billed.
            raise PropertyValueError(prop, "nothing is left once transliterated to GSM")
        return segmentation

    def _idempotency(self, options: SendOptions, now: datetime) -> IdempotencyKey | None:
        """The call's key with the start of its window (None without a key)."""
        if options.idempotency_key is None:
            return None
        window = timedelta(seconds=self._settings.idempotency_window_s)
        return IdempotencyKey(options.idempotency_key, now - window)

    async def _check_sender(self, account_id: int, sender: str) -> str:
        """The sender as sent; the RPC layer has already checked its shape."""
        if sender == "":
            return self._settings.default_sender
        if sender in (self._settings.default_sender, ALWAYS_ALLOWED_SENDER):
            return sender
        if ALPHANUMERIC_SENDER.fullmatch(sender):
            approved = await self._approved_senders(account_id)
            if approved and sender not in approved:
                raise FeatureNotAllowed("from", "not an approved sender of this account")
            return sender
        owned = await self._store.number(sender)
        if owned is None or owned.account_id != account_id or not owned.sms_enabled:
            raise FeatureNotAllowed("from", "not an SMS-enabled number of this account")
        return sender

    async def _check_endpoints(self, options: SendOptions) -> None:
        for prop, endpoint in options.endpoints:
            await self._endpoints.check(endpoint, prop)

    async def _approved_senders(self, account_id: int) -> frozenset[str]:
        cached = self._approved.get(account_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        approved = await self._store.approved_senders(account_id)
        self._approved[account_id] = (approved, time.monotonic() + _APPROVED_SENDERS_TTL_S)
        return approved

    def _price(self, to: str, parts: int) -> tuple[str | None, Decimal, Decimal]:
        country = country_of(to)
        unit = self._prices.unit_price(to, country)
        if unit is None:
            raise RoutingError("to", "no route or price for this destination")
        # A non-geographic number (+800, +882, ...) has phonenumbers' region "001", which is no
        # ISO 3166 code: its country is null (it can only be priced by prefix).
        iso_country = country if country.isalpha() else None
        return iso_country, unit, self._prices.total(unit, parts)

    async def send(
        self, account_id: int, sender: str, to: str, body: str, options: SendOptions
    ) -> str:
        """Store a new outbound SMS, queued for the carrier, and answer its hash once committed."""
        now = self._clock.now()
        idempotency = self._idempotency(options, now)
        if idempotency is not None:
            # A repeat answers the first call's hash whatever has changed since (an approved
            # sender withdrawn, say); concurrent first calls are settled in the writer.
            earlier = await self._store.hash_for_key(account_id, idempotency)
            if earlier is not None:
                return earlier
        sent_from = await self._check_sender(account_id, sender)
        await self._check_endpoints(options)
        segmentation = self._segment(body, options.force_encoding)
        message = self._outbound(account_id, sent_from, to, segmentation, options, now)
        message_hash = await self._store.insert_message(message, idempotency)
        self._messages_queued.set()
        return message_hash

    async def send_batch(
        self, account_id: int, sender: str, recipients: list[str], body: str, options: SendOptions
    ) -> BatchOutcome:
        """One text to many recipients, each accepted or refused on its own; every accepted
        message is committed (in one group commit) before the answer."""
        most = self._settings.max_batch_recipients
        if len(recipients) > most:
            raise PropertyValueError("to_list", f"at most {most} recipients")
        now = self._clock.now()
        idempotency = self._idempotency(options, now)
        if idempotency is not None:
            earlier = await self._store.batch_answer(account_id, idempotency)
            if earlier is not None:
                return _outcome_from_json(earlier)
        sent_from = await self._check_sender(account_id, sender)
        await self._check_endpoints(options)
        segmentation = self._segment(body, options.force_encoding)
        accepted: list[tuple[str, NewMessage]] = []
        failed: list[BatchFailed] = []
        for to in dict.fromkeys(recipients):  # a recipient given twice is sent once
            if not is_e164(to):
                failed.append(BatchFailed(to, INVALID_PARAMS_CODE, "INVALID_PARAM_FORMAT [to]"))
                continue
            try:
                message = self._outbound(account_id, sent_from, to, segmentation, options, now)
            except RoutingError as exc:
                failed.append(BatchFailed(to, exc.code, exc.message))
                continue
            accepted.append((to, message))

        def outcome_of(hashes: list[str]) -> BatchOutcome:
            return BatchOutcome(
                [BatchSent(to, h, m.parts) for (to, m), h in zip(accepted, hashes, strict=True)],
                failed,
                sum(m.parts for _, m in accepted),
            )

        messages = [message for _, message in accepted]
        if idempotency is None:
            outcome = outcome_of(
                list(await asyncio.gather(*(self._store.insert_message(m, None) for m in messages)))
            )
        else:
            # The messages and the kept answer commit together: a concurrent call with the
            # same key, or a retry after a crash, gets this answer and sends nothing.
            answer = await self._store.insert_batch_once(
                account_id,
                idempotency,
                messages,
                lambda hashes: _outcome_to_json(outcome_of(hashes)),
                now,
            )
            outcome = _outcome_from_json(answer)
        if accepted:
            self._messages_queued.set()
        return outcome

    def _outbound(
        self,
        account_id: int,
        sent_from: str,
        to: str,
        segmentation: Segmentation,
        options: SendOptions,
        now: datetime,
    ) -> NewMessage:
        country, _, cost = self._price(to, segmentation.part_count)
        validity_s = min(options.validity_s or self._settings.validity_s, self._settings.validity_s)
        return NewMessage(
            account_id=account_id,
            direction="OUT",
            sender=sent_from,
            recipient=to,
            text=segmentation.text,
            options=options.as_given,
            encoding=segmentation.encoding,
            parts=segmentation.part_count,
            nature=options.nature,
            user_data=options.user_data,
            status="PENDING",
            cost=cost,
            currency=self._prices.currency,
            country=country,
            created_at=now,
            status_history=(
                StatusChange("", "CREATED", now),
                StatusChange("CREATED", "PENDING", now),
            ),
            expires_at=now + timedelta(seconds=validity_s),
        )

    async def get(self, account_id: int, message_hash: str) -> Message:
        message = await self._store.get_message(account_id, message_hash)
        if message is None:
            raise NotFound("id")
        return message

    def quote(self, to: str, text: str, force_encoding: str | None) -> Quote:
        segmentation = self._segment(text, force_encoding, prop="text")
        country, unit, cost = self._price(to, segmentation.part_count)
        return Quote(
            segmentation.part_count,
            segmentation.encoding,
            cost,
            self._prices.currency,
            unit,
            country,
        )

    def count_for_body(self, body: str) -> Quote:
        segmentation = self._segment(body)
        return Quote(
            segmentation.part_count, segmentation.encoding, None, self._prices.currency, None, None
        )

    @staticmethod
    def charset_mapping() -> CharsetMapping:
        return CharsetMapping(GSM_BASIC_CHARSET, GSM_EXTENDED_CHARSET, dict(GSM_TRANSLITERATION))
