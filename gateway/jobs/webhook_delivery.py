"""Delivers outbox events: signed POSTs with a timeout, retries with backoff, every attempt kept."""

import asyncio
import logging
import random
import time
from collections import Counter
from datetime import datetime, timedelta

import aiohttp

from gateway.clock import Clock
from gateway.config import WebhookSettings
from gateway.jobs.signing import webhook_headers
from gateway.metrics import Metrics
from gateway.services.endpoints import EndpointPolicy
from gateway.store.base import DeliveryAttempt, OutboxStore, PendingDelivery

log = logging.getLogger(__name__)


def next_retry_at(
    settings: WebhookSettings,
    created_at: datetime,
    now: datetime,
    attempts_made: int,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after `attempts_made` failed attempts, or None to give up.

    The schedule's delays in order, then every `retry_every_s`, each spread by the jitter;
    no retry falls later than `give_up_after_s` after the event.
    """
    schedule = settings.retry_schedule_s
    delay = (
        schedule[attempts_made - 1] if attempts_made <= len(schedule) else settings.retry_every_s
    )
    delay *= 1 + (rng or random).uniform(-settings.jitter, settings.jitter)
    retry_at = now + timedelta(seconds=delay)
    if (retry_at - created_at).total_seconds() > settings.give_up_after_s:
        return None
    return retry_at


class WebhookSender:
    """One task that claims due events; each POST runs in its own task.

    Slots are bounded in all and per endpoint, so a receiver that hangs, resets connections or
    answers slowly holds at most its own few slots and never delays other receivers or the API.
    """

    def __init__(
        self,
        store: OutboxStore,
        session: aiohttp.ClientSession,
        settings: WebhookSettings,
        clock: Clock,
        events_queued: asyncio.Event,
        endpoints: EndpointPolicy,
        metrics: Metrics,
    ) -> None:
        self._endpoints = endpoints
        self._metrics = metrics
        self._store = store
        self._session = session
        self._settings = settings
        self._clock = clock
        self._events_queued = events_queued
        self._in_flight: dict[int, str] = {}  # outbox id -> endpoint
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._slot_freed = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            self._events_queued.clear()
            self._slot_freed.clear()
            try:
                started = self._start_due(await self._due())
                wake_in = await self._seconds_until_next_due()
                if not started and wake_in == 0:
                    # Everything due waits for a busy endpoint or an earlier event: a freed
                    # slot or a new event wakes the sender, not a spin on the outbox.
                    wake_in = self._settings.poll_interval_s
            except Exception:
                log.exception("webhook sender could not read the outbox")
                wake_in = self._settings.poll_interval_s
            await self._wait(wake_in)

    def stop(self) -> None:
        """Start nothing more; POSTs in flight are abandoned and retried after a restart."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()

    async def wait_stopped(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _due(self) -> list[PendingDelivery]:
        free = self._settings.max_concurrent - len(self._in_flight)
        if free <= 0:
            return []
        return await self._store.due_deliveries(
            self._clock.now(), free, frozenset(self._in_flight), self._saturated_endpoints()
        )

    def _saturated_endpoints(self) -> frozenset[str]:
        per_endpoint = Counter(self._in_flight.values())
        limit = self._settings.max_concurrent_per_endpoint
        return frozenset(endpoint for endpoint, count in per_endpoint.items() if count >= limit)

    def _start_due(self, due: list[PendingDelivery]) -> int:
        """Start the deliveries that have a free slot; answers how many started."""
        started = 0
        per_endpoint = Counter(self._in_flight.values())
        for delivery in due:
            endpoint = delivery.target.endpoint
            if per_endpoint[endpoint] >= self._settings.max_concurrent_per_endpoint:
                continue
            per_endpoint[endpoint] += 1
            self._in_flight[delivery.outbox_id] = endpoint
            task = asyncio.create_task(self._deliver(delivery), name=f"webhook-{delivery.event_id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            started += 1
        return started

    async def _seconds_until_next_due(self) -> float:
        next_at = await self._store.next_delivery_at()
        if next_at is None:
            return self._settings.poll_interval_s
        delay = (next_at - self._clock.now()).total_seconds()
        return min(max(delay, 0.0), self._settings.poll_interval_s)

    async def _wait(self, timeout_s: float) -> None:
        waiters = [
            asyncio.create_task(self._events_queued.wait()),
            asyncio.create_task(self._slot_freed.wait()),
            asyncio.create_task(self._stopping.wait()),
        ]
        await asyncio.wait(waiters, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            waiter.cancel()

    async def _deliver(self, delivery: PendingDelivery) -> None:
        try:
            attempt = await self._post(delivery)
            self._metrics.webhook_attempts.labels(
                "delivered" if attempt.delivered else "failed"
            ).inc()
            await self._store.record_attempt(attempt)
        except asyncio.CancelledError:
            raise
        except Exception:
            # Not recorded: the event stays due and is tried again.
            log.exception("could not record a webhook attempt for %s", delivery.event_id)
        finally:
            self._in_flight.pop(delivery.outbox_id, None)
            self._slot_freed.set()

    async def _post(self, delivery: PendingDelivery) -> DeliveryAttempt:
        target = delivery.target
        attempt_number = delivery.attempts + 1
        started_at = self._clock.now()
        status_code: int | None = None
        error: str | None = None
        started = time.perf_counter()
        if not await self._endpoints.allowed(target.endpoint):
            # Checked again at send time: a name may resolve elsewhere now. Never retried.
            return DeliveryAttempt(
                outbox_id=delivery.outbox_id,
                attempt=attempt_number,
                at=started_at,
                status_code=None,
                error="refused: the endpoint resolves to a private network",
                duration_ms=0,
                delivered=False,
                next_attempt_at=None,
            )
        try:
            headers = webhook_headers(
                delivery.event_id,
                delivery.body,
                int(started_at.timestamp()),
                target.hmac_secret,
                target.hmac_algo,
            )
            async with self._session.post(
                target.endpoint,
                data=delivery.body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._settings.timeout_s),
                allow_redirects=False,
            ) as response:
                status_code = response.status
        except TimeoutError:
            error = f"no answer within {self._settings.timeout_s:g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
        except Exception as exc:
            # Whatever else stops this attempt (a URL aiohttp cannot address, a secret that
            # cannot sign) fails it like any other, so the event follows the retry schedule
            # and ends, instead of being taken up again at once for ever.
            log.exception("webhook attempt for %s failed", delivery.event_id)
            error = f"{type(exc).__name__}: {exc}"[:500]
        duration_ms = int((time.perf_counter() - started) * 1000)
        delivered = status_code is not None and 200 <= status_code < 300
        if status_code is not None and not delivered:
            error = f"HTTP {status_code}"
        return DeliveryAttempt(
            outbox_id=delivery.outbox_id,
            attempt=attempt_number,
            at=started_at,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            delivered=delivered,
            next_attempt_at=None
            if delivered
            else next_retry_at(
                self._settings, delivery.created_at, self._clock.now(), attempt_number
            ),
        )
