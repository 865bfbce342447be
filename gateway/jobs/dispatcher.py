"""The dispatcher: hands PENDING messages to the carrier, within throughput limits, and expires
the ones whose validity runs out (also while `[carrier] dispatch` is off: a pause holds messages,
it does not stretch their validity)."""

import asyncio
import logging
from collections import defaultdict

from gateway.carriers.base import CarrierConnector, OutboundSms
from gateway.clock import Clock
from gateway.config import CarrierSettings
from gateway.encoding import segment
from gateway.services.delivery import DeliveryService
from gateway.services.throttle import TokenBucket
from gateway.store.base import Message, MessageStore

log = logging.getLogger(__name__)

_EXPIRY_BATCH = 500


class Dispatcher:
    def __init__(
        self,
        store: MessageStore,
        connector: CarrierConnector,
        delivery: DeliveryService,
        settings: CarrierSettings,
        clock: Clock,
        messages_queued: asyncio.Event,
    ) -> None:
        self._store = store
        self._connector = connector
        self._delivery = delivery
        self._settings = settings
        self._clock = clock
        self._messages_queued = messages_queued
        self._carrier_bucket = TokenBucket(settings.max_messages_per_s)
        self._account_buckets: defaultdict[int, TokenBucket] = defaultdict(
            lambda: TokenBucket(settings.account_max_messages_per_s)
        )
        self._in_flight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            self._messages_queued.clear()
            self._slot_freed.clear()
            wake_in = self._settings.poll_interval_s
            try:
                await self._expire()
                if self._settings.dispatch:
                    wake_in = min(wake_in, await self._dispatch())
            except Exception:
                # The store may fail for a while: messages stay PENDING and go at the next poll.
                log.exception("dispatcher could not read the queue")
            await self._wait(wake_in)

    def stop(self) -> None:
        self._stopping.set()

    async def wait_stopped(self) -> None:
        """Let submits in flight finish and be recorded: each is sent exactly once."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch(self) -> float:
        """Start what the limits allow; answers how soon a token frees up (or the poll time)."""
        free = self._settings.max_concurrent_submits - len(self._in_flight)
        if free <= 0 or not self._carrier_bucket.has_token():
            return self._carrier_bucket.seconds_to_token() or self._settings.poll_interval_s
        held_back = frozenset(
            account for account, bucket in self._account_buckets.items() if not bucket.has_token()
        )
        pending = await self._store.pending_messages(
            free, frozenset(self._in_flight), held_back, self._clock.now()
        )
        wait_s = min(
            [self._settings.poll_interval_s]
            + [self._account_buckets[account].seconds_to_token() for account in held_back]
        )
        for message in pending:
            account = self._account_buckets[message.account_id]
            if not self._carrier_bucket.has_token():
                return self._carrier_bucket.seconds_to_token()
            if not account.has_token():
                wait_s = min(wait_s, account.seconds_to_token())
                continue  # queued, not refused: it goes when the account's limit allows
            self._carrier_bucket.take()
            account.take()
            self._in_flight.add(message.row_id)
            task = asyncio.create_task(self._submit(message), name=f"submit-{message.hash}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return wait_s

    async def _submit(self, message: Message) -> None:
        try:
            sms = OutboundSms(
                hash=message.hash,
                sender=message.sender,
                recipient=message.recipient,
                encoding=message.encoding,
                parts=segment(message.text, message.encoding).parts,
                flash=bool((message.options or {}).get("flash_message")),
            )
            result = await self._connector.submit(sms)
            # Recorded at once, before any receipt for it can be: a receipt is applied after.
            await self._delivery.submitted(message, result)
        except Exception:
            log.exception("submit of %s failed; it stays PENDING", message.hash)
            await asyncio.sleep(self._settings.poll_interval_s)
        finally:
            self._in_flight.discard(message.row_id)
            self._slot_freed.set()

    async def _expire(self) -> None:
        expired = await self._store.expired_undelivered(self._clock.now(), _EXPIRY_BATCH)
        if expired:
            await self._delivery.expire(expired, self._clock.now())

    async def _wait(self, timeout_s: float) -> None:
        waiters = [asyncio.create_task(self._stopping.wait())]
        if self._settings.dispatch:
            # Paused, new messages have nothing to wake it for: expiry keeps to the poll.
            waiters += [
                asyncio.create_task(self._messages_queued.wait()),
                asyncio.create_task(self._slot_freed.wait()),
            ]
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()
