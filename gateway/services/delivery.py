"""Delivery: carrier results, receipts and inbound SMS turned into statuses and webhook events."""

import asyncio
import logging
from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

from gateway.carriers.base import DeliveryReceipt, InboundSms, SubmitResult
from gateway.clock import Clock
from gateway.encoding import segment
from gateway.metrics import Metrics
from gateway.services.numbering import NotE164, country_of
from gateway.services.subscriptions import SubscriptionService
from gateway.services.webhooks import new_event
from gateway.services.wire import SmsResult
from gateway.store.base import (
    Message,
    NewMessage,
    OutboxEvent,
    StatusChange,
    StatusTransition,
    Store,
    WebhookTarget,
)

log = logging.getLogger(__name__)

_EXPIRY_CHUNK = 50


def _push_dlr_target(options: dict[str, object]) -> WebhookTarget | None:
    """The legacy push_dlr_url, with push_dlr_url_auth (`login:password`) as Basic auth."""
    url = options.get("push_dlr_url")
    if not isinstance(url, str) or options.get("push_dlr_enabled") is False:
        return None
    auth = options.get("push_dlr_url_auth")
    if isinstance(auth, str) and ":" in auth:
        login, password = auth.split(":", 1)
        parts = urlsplit(url)
        netloc = f"{quote(login, safe='')}:{quote(password, safe='')}@{parts.netloc}"
        url = urlunsplit(parts._replace(netloc=netloc))
    return WebhookTarget(url)


def _message_webhook(options: dict[str, object]) -> WebhookTarget | None:
    webhook = options.get("webhook")
    if not isinstance(webhook, dict) or not isinstance(webhook.get("endpoint"), str):
        return None
    signing = webhook.get("options") or {}
    assert isinstance(signing, dict)
    return WebhookTarget(
        webhook["endpoint"], signing.get("hmac_secret"), signing.get("hmac_algo") or "SHA256"
    )


class DeliveryService:
    """Implements the carriers' CarrierEvents, and records what the dispatcher submits."""

    def __init__(
        self,
        store: Store,
        subscriptions: SubscriptionService,
        currency: str,
        clock: Clock,
        events_queued: asyncio.Event,
        metrics: Metrics,
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._subscriptions = subscriptions
        self._currency = currency
        self._clock = clock
        self._events_queued = events_queued

    def status_events(self, message: Message) -> list[OutboxEvent]:
        """`sms.mt.status_update` to the message's webhook, its push_dlr_url and the account's
        subscriptions; one message's events reach each endpoint in order."""
        targets: list[tuple[WebhookTarget, str | None]] = []
        options = message.options or {}
        for own in (_message_webhook(options), _push_dlr_target(options)):
            if own is not None and all(own.endpoint != t.endpoint for t, _ in targets):
                targets.append((own, None))
        for subscription in self._subscriptions.targets(message.account_id, "sms.mt.status_update"):
            targets.append((subscription.target, subscription.hash))
        return self._events(message, "sms.mt.status_update", targets)

    def _events(
        self, message: Message, event_type: str, targets: list[tuple[WebhookTarget, str | None]]
    ) -> list[OutboxEvent]:
        if not targets:
            return []
        data = SmsResult.wire(message)
        now = self._clock.now()
        return [
            new_event(
                message.account_id,
                target,
                event_type,
                data,
                hook_hash=hook_hash,
                now=now,
                ordering_key=message.hash,
            )
            for target, hook_hash in targets
        ]

    async def submitted(self, message: Message, result: SubmitResult) -> None:
        """Record a submit: SENT with the carrier's reference, or ERROR with its reason."""
        now = self._clock.now()
        if result.carrier_ref is not None:
            transition = StatusTransition(
                "SENT", now, row_id=message.row_id, set_carrier_ref=result.carrier_ref
            )
        else:
            transition = StatusTransition(
                "ERROR", now, row_id=message.row_id, error=result.error or "refused"
            )
        await self._apply(transition)

    async def receipt(self, receipt: DeliveryReceipt) -> None:
        await self._apply(
            StatusTransition(
                receipt.status, receipt.at, carrier_ref=receipt.carrier_ref, error=receipt.error
            )
        )

    async def awaiting_receipts(self, carrier_ref_prefix: str) -> list[tuple[str, str]]:
        return await self._store.awaiting_receipts(carrier_ref_prefix)

    async def expire(self, row_ids: list[int], now: datetime) -> None:
        # A chunk at a time, together: the writer commits each in one round, and a send that
        # arrives meanwhile shares a round of at most this many.
        for start in range(0, len(row_ids), _EXPIRY_CHUNK):
            await asyncio.gather(
                *(
                    self._apply(
                        StatusTransition("EXPIRED", now, row_id=row_id, error="validity ran out")
                    )
                    for row_id in row_ids[start : start + _EXPIRY_CHUNK]
                )
            )

    async def _apply(self, transition: StatusTransition) -> None:
        moved = await self._store.apply_transition(transition, self.status_events)
        if moved is not None:
            self._metrics.status_changes.labels(moved.status).inc()
            self._events_queued.set()

    async def inbound(self, sms: InboundSms) -> str | None:
        """Store an inbound SMS for the owner of the destination number (if it takes SMS);
        `sms.mo` events to its subscriptions."""
        owned = await self._store.number(sms.recipient)
        if owned is None or not owned.sms_enabled:
            return None
        account_id = owned.account_id
        segmentation = segment(sms.text)
        try:
            country: str | None = country_of(sms.sender)
        except NotE164:
            country = None
        message = NewMessage(
            account_id=account_id,
            direction="IN",
            sender=sms.sender,
            recipient=sms.recipient,
            text=sms.text,
            options=None,
            encoding=segmentation.encoding,
            parts=segmentation.part_count,
            nature="ALERTING",
            user_data="",
            status="RECEIVED",
            cost=None,
            currency=self._currency,
            country=country,
            created_at=sms.at,
            status_history=(StatusChange("", "RECEIVED", sms.at),),
            expires_at=None,
        )
        sms_hash = await self._store.insert_inbound(message, self._mo_events)
        self._events_queued.set()
        return sms_hash

    def _mo_events(self, message: Message) -> list[OutboxEvent]:
        targets: list[tuple[WebhookTarget, str | None]] = [
            (s.target, s.hash) for s in self._subscriptions.targets(message.account_id, "sms.mo")
        ]
        return self._events(message, "sms.mo", targets)
