"""The services the RPC layer and the CLI call, built once from settings and a store."""

import asyncio
from dataclasses import dataclass

from gateway.clock import Clock
from gateway.config import Settings
from gateway.services.accounts import AccountService
from gateway.services.jobs import JobService
from gateway.services.messaging import MessagingService
from gateway.services.pricing import PriceList
from gateway.services.search import SearchService
from gateway.store.base import Store


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    accounts: AccountService
    messaging: MessagingService
    search: SearchService
    jobs: JobService
    # Set whenever webhook events are committed to the outbox.
    events_queued: asyncio.Event


def build_services(settings: Settings, store: Store, clock: Clock) -> Services:
    search = SearchService(store, settings.search, clock)
    events_queued = asyncio.Event()
    return Services(
        store=store,
        accounts=AccountService(store, settings.auth, clock),
        messaging=MessagingService(store, settings.messaging, PriceList(settings.pricing), clock),
        search=search,
        jobs=JobService(store, search, clock, events_queued),
        events_queued=events_queued,
    )
