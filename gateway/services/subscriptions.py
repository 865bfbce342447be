"""Account webhooks (`webhooks.*`), kept in memory too: events are built inside transactions."""

from collections import defaultdict

from gateway.clock import Clock
from gateway.errors import NotFound
from gateway.services.endpoints import EndpointPolicy
from gateway.store.base import Subscription, SubscriptionStore, WebhookTarget

EVENT_TYPES = ("sms.mt.status_update", "sms.mo", "job.status_update")


class SubscriptionService:
    """The store holds the subscriptions; the gateway process serves them from a copy loaded at
    start and kept in step, since they change only through this service."""

    def __init__(self, store: SubscriptionStore, clock: Clock, endpoints: EndpointPolicy) -> None:
        self._store = store
        self._clock = clock
        self._endpoints = endpoints
        self._by_account: dict[int, list[Subscription]] = defaultdict(list)

    async def load_all(self) -> None:
        self._by_account.clear()
        for subscription in await self._store.all_subscriptions():
            self._by_account[subscription.account_id].append(subscription)

    def targets(self, account_id: int, event_type: str) -> list[Subscription]:
        """An account's subscriptions to one event type (no I/O: used inside transactions)."""
        return [s for s in self._by_account.get(account_id, []) if s.type == event_type]

    async def subscribe(
        self, account_id: int, event_type: str, target: WebhookTarget
    ) -> Subscription:
        await self._endpoints.check(target.endpoint, "endpoint")
        subscription = await self._store.insert_subscription(
            account_id, event_type, target, self._clock.now()
        )
        self._by_account[account_id].append(subscription)
        return subscription

    async def unsubscribe(self, account_id: int, subscription_hash: str) -> None:
        if not await self._store.delete_subscription(account_id, subscription_hash):
            raise NotFound("hash")
        self._by_account[account_id] = [
            s for s in self._by_account[account_id] if s.hash != subscription_hash
        ]

    def list(self, account_id: int) -> list[Subscription]:
        return list(self._by_account.get(account_id, []))
