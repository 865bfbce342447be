"""The services the RPC layer and the CLI call, built once from settings and a store."""

import asyncio
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.config import Settings
from gateway.metrics import Metrics
from gateway.services.accounts import AccountService
from gateway.services.delivery import DeliveryService
from gateway.services.endpoints import EndpointPolicy
from gateway.services.jobs import JobService
from gateway.services.messaging import MessagingService
from gateway.services.numbers import NumberService
from gateway.services.pricing import PriceList
from gateway.services.search import SearchService
from gateway.services.subscriptions import SubscriptionService
from gateway.store.base import Store


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    accounts: AccountService
    messaging: MessagingService
    search: SearchService
    jobs: JobService
    subscriptions: SubscriptionService
    delivery: DeliveryService
    numbers: NumberService
    # Set whenever webhook events are committed to the outbox.
    events_queued: asyncio.Event
    endpoints: EndpointPolicy
    metrics: Metrics
    # Set whenever new outbound messages are committed.
    messages_queued: asyncio.Event


def build_services(
    settings: Settings, store: Store, clock: Clock, metrics: Metrics | None = None
) -> Services:
    metrics = metrics or Metrics()
    search = SearchService(store, settings.search, clock)
    endpoints = EndpointPolicy(settings.webhooks.deny_private_networks)
    subscriptions = SubscriptionService(store, clock, endpoints)
    events_queued, messages_queued = asyncio.Event(), asyncio.Event()
    prices = PriceList(settings.pricing)
    return Services(
        store=store,
        accounts=AccountService(store, settings.auth, clock),
        messaging=MessagingService(
            store, settings.messaging, prices, clock, messages_queued, endpoints
        ),
        search=search,
        jobs=JobService(store, search, subscriptions, clock, events_queued, endpoints),
        subscriptions=subscriptions,
        delivery=DeliveryService(
            store, subscriptions, prices.currency, clock, events_queued, metrics
        ),
        numbers=NumberService(
            store,
            clock,
            frozenset({settings.messaging.default_sender, settings.messaging.stop_number}),
        ),
        events_queued=events_queued,
        endpoints=endpoints,
        metrics=metrics,
        messages_queued=messages_queued,
    )
