"""Receivers that accept a webhook and never answer hold their delivery slots until the
webhook timeout, and nothing else: the API keeps answering meanwhile."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gateway.app import SERVICES
from gateway.config import Settings
from tests.helpers import ReceivedEvent, Rpc

HANGING = 100
TIMEOUT_S = 5.0


@pytest.fixture
def settings(settings: Settings) -> Settings:
    webhooks = settings.webhooks.model_copy(update={"timeout_s": TIMEOUT_S})
    return settings.model_copy(update={"webhooks": webhooks})


class HangingReceiver:
    """Takes every event's first POST and never answers it; answers later attempts 200."""

    def __init__(self) -> None:
        self.base_url = ""
        self.open = 0
        self.all_open = asyncio.Event()
        self.posts: Counter[str] = Counter()  # event id -> POSTs received
        self.events: dict[str, ReceivedEvent] = {}
        self._release = asyncio.Event()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook/{number}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        event = ReceivedEvent(dict(request.headers), await request.read())
        event_id = event.json["event_id"]
        self.events[event_id] = event
        self.posts[event_id] += 1
        if self.posts[event_id] == 1:
            self.open += 1
            if self.open == HANGING:
                self.all_open.set()
            try:
                # Until the gateway gives up and drops the connection (which cancels this
                # handler), or the test ends.
                await self._release.wait()
            finally:
                self.open -= 1
        return web.Response(text="ok")

    def endpoint(self, number: int) -> str:
        return f"{self.base_url}/hook/{number}"

    def release(self) -> None:
        self._release.set()


@pytest.fixture
async def hanging_receiver(aiohttp_server: Any) -> AsyncIterator[HangingReceiver]:
    receiver = HangingReceiver()
    server = await aiohttp_server(receiver.app())
    receiver.base_url = str(server.make_url("")).rstrip("/")
    yield receiver
    receiver.release()


async def test_api_answers_while_100_deliveries_hang(
    rpc: Rpc, client: Any, hanging_receiver: HangingReceiver
) -> None:
    receiver = hanging_receiver
    sms_hash = await rpc("sms.send", "SMS", "+33612345678", "read me back", None)
    expected = await rpc("sms.get", sms_hash)
    # One subscriber per endpoint, so that each endpoint has a single delivery in flight
    # ([webhooks] max_concurrent_per_endpoint bounds one receiver's share).
    for number in range(HANGING):
        await rpc("webhooks.subscribe", "job.status_update", receiver.endpoint(number), None)
    job = await rpc("sms.export_async", None, None)  # its end is one event per subscriber
    await asyncio.wait_for(receiver.all_open.wait(), timeout=TIMEOUT_S)

    for round_ in range(10):
        gets = await asyncio.gather(*(rpc("sms.get", sms_hash) for _ in range(5)))
        assert gets == [expected] * 5
        sent = await rpc("sms.send", "SMS", "+33612345678", f"while hanging {round_}", None)
        assert (await rpc("sms.get", sent))["text"] == f"while hanging {round_}"
        assert (await rpc("jobs.get", job))["status"] == "DONE"
        # Answered while every delivery was still hanging at the receiver.
        assert receiver.open == HANGING

    # The timeout ends each hang; the retry is delivered.
    store = client.app[SERVICES].store
    for _ in range(400):  # bounded: the timeout, then a retry at once
        if len(receiver.posts) == HANGING and all(n == 2 for n in receiver.posts.values()):
            break
        await asyncio.sleep(0.05)
    assert sorted(receiver.posts.values()) == [2] * HANGING and receiver.open == 0
    for event_id, event in receiver.events.items():
        assert event.json["type"] == "job.status_update" and event.json["data"]["hash"] == job
        attempts = await store.delivery_attempts(event_id)
        for _ in range(100):  # the delivered attempt is recorded just after its answer
            if len(attempts) == 2:
                break
            await asyncio.sleep(0.05)
            attempts = await store.delivery_attempts(event_id)
        first, second = attempts
        assert first.status_code is None and first.error == f"no answer within {TIMEOUT_S:g} s"
        assert second.status_code == 200
