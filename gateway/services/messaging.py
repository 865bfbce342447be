"""Sending, fetching and pricing SMS: the domain rules between the RPC layer and the store."""

import asyncio
import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from gateway.clock import Clock
from gateway.config import MessagingSettings
from gateway.encoding import (
    GSM_BASIC_CHARSET,
    GSM_EXTENDED_CHARSET,
    GSM_TRANSLITERATION,
    Segmentation,
    segment,
)
from gateway.errors import FeatureNotAllowed, NotFound, RoutingError
from gateway.services.numbering import country_of
from gateway.services.pricing import PriceList
from gateway.store.base import (
    IdempotencyKey,
    Message,
    MessageStore,
    Nature,
    NewMessage,
    StatusChange,
)

# API.md `sms_sender`: 1 to 11 of [A-Za-z0-9 _-] with at least one letter.
ALPHANUMERIC_SENDER = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 _-]{1,11}")
STOP_PLACEHOLDER = "%STOPNUM%"


@dataclass(frozen=True, slots=True)
class SendOptions:
    """The validated `SMS.Options` fields the domain acts on, plus the options as given."""

    force_encoding: str | None = None
    nature: Nature = "ALERTING"
    user_data: str = ""
    idempotency_key: str | None = None
    validity_s: int | None = None
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


class MessagingService:
    def __init__(
        self,
        store: MessageStore,
        settings: MessagingSettings,
        prices: PriceList,
        clock: Clock,
        messages_queued: asyncio.Event,
    ) -> None:
        self._store = store
        self._settings = settings
        self._prices = prices
        self._clock = clock
        # Set after messages are committed, so the dispatcher hands them on at once.
        self._messages_queued = messages_queued

    def _prepare_text(self, body: str) -> str:
        return body.replace(STOP_PLACEHOLDER, self._settings.stop_number)

    def _check_sender(self, sender: str) -> str:
        """The sender as sent; the RPC layer has already checked its shape."""
        if sender == "":
            return self._settings.default_sender
        if sender == self._settings.default_sender or ALPHANUMERIC_SENDER.fullmatch(sender):
            return sender
        # A number or shortcode must be an SMS-enabled number of the account.
        raise FeatureNotAllowed("from", "not an SMS-enabled number of this account")

    def _price(self, to: str, parts: int) -> tuple[str, Decimal, Decimal]:
        country = country_of(to)
        unit = self._prices.unit_price(to, country)
        if unit is None:
            raise RoutingError("to", "no route or price for this destination")
        return country, unit, self._prices.total(unit, parts)

    async def send(
        self, account_id: int, sender: str, to: str, body: str, options: SendOptions
    ) -> str:
        """Store a new outbound SMS, queued for the carrier, and answer its hash once committed."""
        sent_from = self._check_sender(sender)
        segmentation = segment(self._prepare_text(body), options.force_encoding)
        country, _, cost = self._price(to, segmentation.part_count)
        now = self._clock.now()
        validity_s = min(options.validity_s or self._settings.validity_s, self._settings.validity_s)
        message = NewMessage(
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
        idempotency = None
        if options.idempotency_key is not None:
            window = timedelta(seconds=self._settings.idempotency_window_s)
            idempotency = IdempotencyKey(options.idempotency_key, now - window)
        message_hash = await self._store.insert_message(message, idempotency)
        self._messages_queued.set()
        return message_hash

    async def get(self, account_id: int, message_hash: str) -> Message:
        message = await self._store.get_message(account_id, message_hash)
        if message is None:
            raise NotFound("id")
        return message

    def quote(self, to: str, text: str, force_encoding: str | None) -> Quote:
        segmentation = segment(self._prepare_text(text), force_encoding)
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
        segmentation: Segmentation = segment(self._prepare_text(body))
        return Quote(
            segmentation.part_count, segmentation.encoding, None, self._prices.currency, None, None
        )

    @staticmethod
    def charset_mapping() -> CharsetMapping:
        return CharsetMapping(GSM_BASIC_CHARSET, GSM_EXTENDED_CHARSET, dict(GSM_TRANSLITERATION))
