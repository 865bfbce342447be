"""`[webhooks] deny_private_networks`: internal endpoints refused when given and when sent to."""

import asyncio
from typing import Any

import pytest

from gateway.app import SERVICES
from gateway.config import Settings
from gateway.services.webhooks import new_event
from gateway.store.base import WebhookTarget
from tests.helpers import Rpc, RpcError, WebhookReceiver

INTERNAL = "http://127.0.0.1:9/hook"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    webhooks = settings.webhooks.model_copy(update={"deny_private_networks": True})
    return settings.model_copy(update={"webhooks": webhooks})


@pytest.mark.parametrize(
    ("method", "params", "message"),
    [
        ("webhooks.subscribe", ("sms.mo", INTERNAL, None), "FEATURE_NOT_ALLOWED [endpoint]"),
        (
            "sms.export_async",
            (None, {"endpoint": INTERNAL}),
            "FEATURE_NOT_ALLOWED [webhook.endpoint]",
        ),
        (
            "sms.send",
            ("SMS", "+33612345678", "x", {"webhook": {"endpoint": "http://10.1.2.3/x"}}),
            "FEATURE_NOT_ALLOWED [options.webhook.endpoint]",
        ),
        (
            "sms.send",
            ("SMS", "+33612345678", "x", {"push_dlr_url": "http://[::1]:8080/dlr"}),
            "FEATURE_NOT_ALLOWED [options.push_dlr_url]",
        ),
        (
            "sms.send_batch",
            ("SMS", ["+33612345678"], "x", {"webhook": {"endpoint": "http://169.254.169.254/"}}),
            "FEATURE_NOT_ALLOWED [options.webhook.endpoint]",
        ),
    ],
)
async def test_internal_endpoints_are_refused_when_given(
    rpc: Rpc, client: Any, method: str, params: Any, message: str
) -> None:
    with pytest.raises(RpcError) as error:
        await rpc(method, *params)
    assert (error.value.code, error.value.message) == (100, message)
    store = client.app[SERVICES].store
    for table in ("messages", "jobs", "webhook_subscriptions"):
        assert (await store._read(f"SELECT COUNT(*) FROM {table}", ()))[0][0] == 0


async def test_an_internal_endpoint_is_refused_again_at_send_time(
    client: Any, api_key: str, receiver: WebhookReceiver, clock: Any
) -> None:
    services = client.app[SERVICES]
    account = (await services.accounts.list())[0]
    # Queued while it passed (say, before the policy was on): never POSTed now.
    event = new_event(
        account.id, WebhookTarget(receiver.url), "sms.mo", {}, hook_hash=None, now=clock.now()
    )
    await services.store.enqueue_events([event])
    services.events_queued.set()
    for _ in range(200):
        attempts = await services.store.delivery_attempts(event.event_id)
        if attempts:
            break
        await asyncio.sleep(0.01)
    assert [a.error for a in attempts] == ["refused: the endpoint resolves to a private network"]
    rows = await services.store._read(
        "SELECT status FROM webhook_outbox WHERE event_id = ?", (event.event_id,)
    )
    assert rows[0][0] == "FAILED" and receiver.hits == 0
