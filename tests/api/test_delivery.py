"""Delivery through the simulator carrier: statuses, receipts, inbound SMS and their webhooks."""

import asyncio
import base64
from typing import Any

import pytest

from gateway.app import SERVICES, create_app
from gateway.carriers.base import DeliveryReceipt
from gateway.config import Settings
from gateway.store.base import OutboxEvent, WebhookTarget
from tests.helpers import (
    LOGIN,
    PASSWORD,
    FakeClock,
    Rpc,
    RpcError,
    WebhookReceiver,
    basic_auth,
)

MO_SECRET = "mo-secret"
INBOUND_NUMBER = "+33756000000"
SECRET = "whsec_" + base64.b64encode(b"delivery key").decode()
DELIVERED = "+33612345678"
LIVE = ("CREATED", "PENDING", "SENT", "REMOTE_QUEUED")


def _delivering(settings: Settings) -> Settings:
    carrier = settings.carrier.model_copy(
        update={
            "dispatch": True,
            "poll_interval_s": 0.05,
            "simulator": settings.carrier.simulator.model_copy(
                update={
                    "remote_queued_delay_s": 0,
                    "final_receipt_delay_s": 0,
                    "mo_secret": MO_SECRET,
                }
            ),
        }
    )
    return settings.model_copy(update={"carrier": carrier})


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared test settings, with the dispatcher on and a carrier that answers at once."""
    return _delivering(settings)


async def _until(rpc: Rpc, sms_hash: str, done: Any, timeout_s: float = 10) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        sms = await rpc("sms.get", sms_hash)
        if done(sms):
            return sms
        assert asyncio.get_running_loop().time() < deadline, sms
        await asyncio.sleep(0.01)


def _final(sms: Any) -> bool:
    return sms["status"] not in LIVE


async def test_delivered_message_has_full_history_and_ordered_signed_events(
    rpc: Rpc, receiver: WebhookReceiver
) -> None:
    options = {"webhook": {"endpoint": receiver.url, "options": {"hmac_secret": SECRET}}}
    sms_hash = await rpc("sms.send", "SMS", DELIVERED, "hello", options)
    sms = await _until(rpc, sms_hash, _final)
    assert sms["status"] == "RECEIVED" and sms["status_error"] == ""
    steps = [(h["old_status"], h["new_status"]) for h in sms["status_history"]]
    assert steps == [
        ("", "CREATED"),
        ("CREATED", "PENDING"),
        ("PENDING", "SENT"),
        ("SENT", "REMOTE_QUEUED"),
        ("REMOTE_QUEUED", "RECEIVED"),
    ]
    assert sms["date_sent"] != "0000-00-00 00:00:00" != sms["date_received"]
    events = [await receiver.next_event() for _ in range(3)]
    assert [e.json["data"]["status"] for e in events] == ["SENT", "REMOTE_QUEUED", "RECEIVED"]
    for event in events:
        assert event.json["type"] == "sms.mt.status_update" and event.json["hook_hash"] is None
        assert event.json["data"]["hash"] == sms_hash
        assert event.callr_signature_valid(SECRET) and event.standard_signature_valid(SECRET)
    assert len({e.json["event_id"] for e in events}) == 3


@pytest.mark.parametrize(
    ("number", "status", "error"),
    [
        ("+33612340001", "FAILED", "rejected by the destination network"),
        ("+33612340002", "EXPIRED", "not delivered within the carrier's validity period"),
        ("+33612340003", "ERROR", "refused by the carrier: destination barred"),
    ],
)
async def test_reserved_numbers_end_as_documented(
    rpc: Rpc, api_key: str, number: str, status: str, error: str
) -> None:
    sms = await _until(rpc, await rpc("sms.send", "SMS", number, "x", None), _final)
    assert (sms["status"], sms["status_error"]) == (status, error)
    assert sms["date_received"] == "0000-00-00 00:00:00"


async def test_silent_number_expires_when_its_validity_runs_out(
    rpc: Rpc, api_key: str, clock: FakeClock
) -> None:
    sms_hash = await rpc("sms.send", "SMS", "+33612340004", "x", {"validity_s": 600})
    sent = await _until(rpc, sms_hash, lambda s: s["status"] == "SENT")
    await asyncio.sleep(0.2)
    assert (await rpc("sms.get", sms_hash))["status"] == "SENT"  # no receipt ever comes
    clock.advance(seconds=601)
    expired = await _until(rpc, sms_hash, _final)
    assert (expired["status"], expired["status_error"]) == ("EXPIRED", "validity ran out")
    assert [h["new_status"] for h in expired["status_history"]][-2:] == ["SENT", "EXPIRED"]
    assert sent["date_sent"] == expired["date_sent"]


async def test_a_duplicate_or_late_receipt_changes_nothing(
    rpc: Rpc, client: Any, receiver: WebhookReceiver, clock: FakeClock
) -> None:
    options = {"webhook": {"endpoint": receiver.url}}
    sms_hash = await rpc("sms.send", "SMS", DELIVERED, "x", options)
    delivered = await _until(rpc, sms_hash, _final)
    for _ in range(3):
        await receiver.next_event()
    delivery = client.app[SERVICES].delivery
    now = clock.now()
    for status in ("RECEIVED", "REMOTE_QUEUED", "FAILED"):
        await delivery.receipt(DeliveryReceipt(f"sim-{sms_hash}", status, now))
    assert await rpc("sms.get", sms_hash) == delivered
    await asyncio.sleep(0.2)
    assert receiver.events.empty()


async def test_options_validity_is_bounded(rpc: Rpc, api_key: str) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.send", "SMS", DELIVERED, "x", {"validity_s": 10})
    assert error.value.message == "PROPERTY_VALUE_ERROR [options.validity_s]"


async def test_inbound_sms_is_stored_and_forwarded(
    rpc: Rpc, client: Any, receiver: WebhookReceiver
) -> None:
    await rpc("numbers.create", INBOUND_NUMBER, None)
    subscription = await rpc("webhooks.subscribe", "sms.mo", receiver.url, {"hmac_secret": SECRET})
    body = {"from": "+447400123456", "to": INBOUND_NUMBER, "text": "STOP"}
    auth = {"Authorization": f"Bearer {MO_SECRET}"}
    async with client.post("/carrier/simulator/mo", json=body, headers=auth) as response:
        assert response.status == 202
        sms_hash = (await response.json())["hash"]
    sms = await rpc("sms.get", sms_hash)
    assert (sms["type"], sms["status"], sms["from"], sms["to"]) == (
        "IN",
        "RECEIVED",
        "+447400123456",
        INBOUND_NUMBER,
    )
    assert [(h["old_status"], h["new_status"]) for h in sms["status_history"]] == [("", "RECEIVED")]
    assert sms["date_received"] == sms["date_creation"] != "0000-00-00 00:00:00"
    event = await receiver.next_event()
    assert event.json["type"] == "sms.mo" and event.json["hook_hash"] == subscription["hash"]
    assert event.json["data"]["hash"] == sms_hash and event.json["data"]["text"] == "STOP"
    assert event.standard_signature_valid(SECRET)
    assert [
        s["hash"]
        for s in await rpc("sms.get_list", "IN", sms["date_creation"], sms["date_creation"])
    ] == [sms_hash]


async def test_inbound_route_refuses_without_secret_or_owner(rpc: Rpc, client: Any) -> None:
    await rpc("numbers.create", INBOUND_NUMBER, {"sms_enabled": False})
    body = {"from": "+447400123456", "to": INBOUND_NUMBER, "text": "hi"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        async with client.post("/carrier/simulator/mo", json=body, headers=headers) as response:
            assert response.status == 401
    auth = {"Authorization": f"Bearer {MO_SECRET}"}
    unowned = {**body, "to": "+33700000099"}
    for refused in (unowned, body):  # nobody's number; a number with SMS disabled
        async with client.post("/carrier/simulator/mo", json=refused, headers=auth) as response:
            assert response.status == 404
    await rpc("numbers.control_sms", INBOUND_NUMBER, "enable")
    async with client.post("/carrier/simulator/mo", json=body, headers=auth) as response:
        assert response.status == 202
    async with client.post("/carrier/simulator/mo", json={"to": "x"}, headers=auth) as response:
        assert response.status == 400
    # Hostile bodies to an owned number are refused as bad requests, not server errors.
    for raw in (b"[" * 100_000, b'{"from": "+447400123456", "to": "%s", "text": "a\\ud800"}'):
        refused_body = raw.replace(b"%s", INBOUND_NUMBER.encode())
        async with client.post(
            "/carrier/simulator/mo", data=refused_body, headers=auth
        ) as response:
            assert response.status == 400
    # A secret with bytes that are not UTF-8, as sent on the wire, is a wrong secret.
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(
        b"POST /carrier/simulator/mo HTTP/1.1\r\nHost: gateway\r\n"
        b"Authorization: Bearer \xff\xfe\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}"
    )
    answer = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 401 ")


async def test_inbound_route_is_off_without_a_secret(
    aiohttp_client: Any, settings: Settings
) -> None:
    simulator = settings.carrier.simulator.model_copy(update={"mo_secret": ""})
    plain = settings.model_copy(
        update={"carrier": settings.carrier.model_copy(update={"simulator": simulator})}
    )
    client = await aiohttp_client(create_app(plain))
    async with client.post("/carrier/simulator/mo", json={}) as response:
        assert response.status in (404, 405)


async def test_subscriptions_get_only_their_accounts_events(
    rpc: Rpc, client: Any, receiver: WebhookReceiver
) -> None:
    mine = await rpc("webhooks.subscribe", "sms.mt.status_update", receiver.url, None)
    assert mine["type"] == "sms.mt.status_update" and mine["options"]["hmac_secret_set"] is False
    await client.app[SERVICES].accounts.create("bob", "pw")
    as_bob = basic_auth("bob", "pw")
    bobs = await rpc("sms.send", "SMS", DELIVERED, "bob", None, auth=as_bob)
    for _ in range(500):
        if (await rpc("sms.get", bobs, auth=as_bob))["status"] == "RECEIVED":
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)  # time for any (wrong) delivery to arrive
    assert receiver.events.empty()
    alices = await rpc("sms.send", "SMS", DELIVERED, "alice", None)
    events = [await receiver.next_event() for _ in range(3)]
    assert {e.json["data"]["hash"] for e in events} == {alices}
    assert {e.json["hook_hash"] for e in events} == {mine["hash"]}


async def test_webhook_subscription_methods(
    rpc: Rpc, api_key: str, receiver: WebhookReceiver
) -> None:
    assert await rpc("webhooks.get_event_types") == [
        "sms.mt.status_update",
        "sms.mo",
        "job.status_update",
    ]
    first = await rpc("webhooks.subscribe", "sms.mo", receiver.url, None)
    second = await rpc(
        "webhooks.subscribe",
        "job.status_update",
        receiver.url,
        {"hmac_secret": "k", "hmac_algo": "SHA1"},
    )
    assert second["options"] == {"hmac_algo": "SHA1", "hmac_secret_set": True}
    assert [w["hash"] for w in await rpc("webhooks.get_list")] == [first["hash"], second["hash"]]
    assert await rpc("webhooks.unsubscribe", first["hash"]) is True
    assert [w["hash"] for w in await rpc("webhooks.get_list")] == [second["hash"]]
    for params, message in (
        (("webhooks.unsubscribe", first["hash"]), "PROPERTY_VALUE_ERROR [hash]"),
        (("webhooks.subscribe", "sms.other", receiver.url, None), "PROPERTY_VALUE_ERROR [type]"),
        (("webhooks.subscribe", "sms.mo", "ftp://x", None), "INVALID_PARAM_FORMAT [endpoint]"),
    ):
        with pytest.raises(RpcError) as error:
            await rpc(*params)
        assert error.value.message == message
    # A job's end goes to the job.status_update subscription too, with its hook_hash.
    job = await rpc("sms.export_async", None, None)
    event = await receiver.next_event()
    assert event.json["data"]["hash"] == job and event.json["hook_hash"] == second["hash"]


async def test_push_dlr_url_gets_events_with_its_credentials(
    rpc: Rpc, api_key: str, receiver: WebhookReceiver
) -> None:
    options = {
        "push_dlr_enabled": True,
        "push_dlr_url": receiver.url,
        "push_dlr_url_auth": "dlr:s3cret",
    }
    sms_hash = await rpc("sms.send", "SMS", DELIVERED, "x", options)
    event = await receiver.next_event()
    assert event.json["data"]["hash"] == sms_hash
    assert event.headers["Authorization"] == basic_auth("dlr", "s3cret")


AUTH = {"Authorization": basic_auth(LOGIN, PASSWORD)}


async def _paused_gateway(aiohttp_client: Any, settings: Settings, clock: FakeClock) -> Any:
    """A gateway on the shared database with `[carrier] dispatch = false`, and alice."""
    held = settings.model_copy(
        update={"carrier": settings.carrier.model_copy(update={"dispatch": False})}
    )
    client = await aiohttp_client(create_app(held, clock=clock))
    await client.app[SERVICES].accounts.create(LOGIN, PASSWORD)
    return client


async def test_pending_messages_are_sent_exactly_once_after_a_restart(
    aiohttp_client: Any, settings: Settings, clock: FakeClock
) -> None:
    first = await _paused_gateway(aiohttp_client, settings, clock)
    calls = [
        {"jsonrpc": "2.0", "id": i, "method": "sms.send", "params": ["SMS", DELIVERED, f"m{i}"]}
        for i in range(50)
    ]
    async with first.post("/json-rpc/v1.1/", json=calls, headers=AUTH) as response:
        hashes = [answer["result"] for answer in await response.json()]
    await first.close()

    second = await aiohttp_client(create_app(settings, clock=clock))

    async def get(sms_hash: str) -> Any:
        call = {"jsonrpc": "2.0", "id": 1, "method": "sms.get", "params": [sms_hash]}
        async with second.post("/json-rpc/v1.1/", json=call, headers=AUTH) as response:
            return (await response.json())["result"]

    for sms_hash in hashes:
        for _ in range(500):
            sms = await get(sms_hash)
            if sms["status"] == "RECEIVED":
                break
            await asyncio.sleep(0.01)
        steps = [h["new_status"] for h in sms["status_history"]]
        assert steps == ["CREATED", "PENDING", "SENT", "REMOTE_QUEUED", "RECEIVED"], sms


async def test_receipts_owed_at_a_restart_come_after_it(
    aiohttp_client: Any, settings: Settings, clock: FakeClock
) -> None:
    simulator = settings.carrier.simulator.model_copy(update={"final_receipt_delay_s": 60})
    slow = settings.model_copy(
        update={"carrier": settings.carrier.model_copy(update={"simulator": simulator})}
    )
    first = await aiohttp_client(create_app(slow, clock=clock))
    await first.app[SERVICES].accounts.create(LOGIN, PASSWORD)

    async def call(client: Any, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        async with client.post("/json-rpc/v1.1/", json=body, headers=AUTH) as response:
            return (await response.json())["result"]

    sent = [await call(first, "sms.send", "SMS", to, "hi") for to in (DELIVERED, "+33612340001")]
    for _ in range(500):
        statuses = [(await call(first, "sms.get", h))["status"] for h in sent]
        if statuses == ["REMOTE_QUEUED", "REMOTE_QUEUED"]:
            break
        await asyncio.sleep(0.01)
    assert statuses == ["REMOTE_QUEUED", "REMOTE_QUEUED"]
    await first.close()  # the final receipts were still a minute away

    second = await aiohttp_client(create_app(settings, clock=clock))
    for _ in range(500):
        statuses = [(await call(second, "sms.get", h))["status"] for h in sent]
        if statuses == ["RECEIVED", "FAILED"]:
            break
        await asyncio.sleep(0.01)
    assert statuses == ["RECEIVED", "FAILED"]
    history = (await call(second, "sms.get", sent[0]))["status_history"]
    assert [step["new_status"] for step in history] == [
        "CREATED",
        "PENDING",
        "SENT",
        "REMOTE_QUEUED",
        "RECEIVED",
    ]


async def test_messages_that_expired_while_held_are_never_sent(
    aiohttp_client: Any, settings: Settings, clock: FakeClock
) -> None:
    first = await _paused_gateway(aiohttp_client, settings, clock)
    # More than one expiry pass takes (500): the dispatcher sees expired ones still PENDING.
    recipients = [f"+336123{n:05d}" for n in range(600)]
    for start in range(0, 600, 100):
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "sms.send_batch",
            "params": ["SMS", recipients[start : start + 100], "hi", {"validity_s": 60}],
        }
        async with first.post("/json-rpc/v1.1/", json=call, headers=AUTH) as response:
            assert len((await response.json())["result"]["sent"]) == 100
    await first.close()
    clock.advance(seconds=120)

    second = await aiohttp_client(create_app(settings, clock=clock))
    store = second.app[SERVICES].store
    for _ in range(500):
        rows = await store._read("SELECT status, COUNT(*) FROM messages GROUP BY status", ())
        if dict(rows) == {"EXPIRED": 600}:
            break
        await asyncio.sleep(0.01)
    assert dict(rows) == {"EXPIRED": 600}
    sent = await store._read(
        "SELECT COUNT(*) FROM messages WHERE status_history LIKE ?", ('%"SENT"%',)
    )
    assert sent[0][0] == 0


async def test_validity_runs_out_while_dispatch_is_paused(
    aiohttp_client: Any, settings: Settings, clock: FakeClock
) -> None:
    client = await _paused_gateway(aiohttp_client, settings, clock)

    async def call(method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
        async with client.post("/json-rpc/v1.1/", json=body, headers=AUTH) as response:
            return (await response.json())["result"]

    short = await call("sms.send", "SMS", DELIVERED, "soon stale", {"validity_s": 60})
    lasting = await call("sms.send", "SMS", DELIVERED, "still good", None)
    clock.advance(seconds=120)
    for _ in range(500):
        if (await call("sms.get", short))["status"] == "EXPIRED":
            break
        await asyncio.sleep(0.01)
    assert (await call("sms.get", short))["status"] == "EXPIRED"
    assert (await call("sms.get", lasting))["status"] == "PENDING"  # held, not sent


async def test_account_throughput_limit_queues_rather_than_refuses(
    aiohttp_client: Any, settings: Settings, clock: FakeClock
) -> None:
    limited = settings.model_copy(
        update={"carrier": settings.carrier.model_copy(update={"account_max_messages_per_s": 20})}
    )
    client = await aiohttp_client(create_app(limited, clock=clock))
    await client.app[SERVICES].accounts.create(LOGIN, PASSWORD)
    calls = [
        {"jsonrpc": "2.0", "id": i, "method": "sms.send", "params": ["SMS", DELIVERED, f"m{i}"]}
        for i in range(40)
    ]
    async with client.post("/json-rpc/v1.1/", json=calls, headers=AUTH) as response:
        assert all("result" in answer for answer in await response.json())
    store = client.app[SERVICES].store
    counts: list[int] = []
    for _ in range(400):
        rows = await store._read("SELECT COUNT(*) FROM messages WHERE status = 'PENDING'", ())
        counts.append(rows[0][0])
        if counts[-1] == 0:
            break
        await asyncio.sleep(0.02)
    assert counts[-1] == 0  # every message went, none was refused
    assert max(counts[1:] or [0]) > 0  # some waited their turn behind the limit
    rows = await store._read("SELECT COUNT(*) FROM messages WHERE status = 'ERROR'", ())
    assert rows[0][0] == 0


@pytest.mark.parametrize(
    ("target", "error"),
    [
        (WebhookTarget("http://a..b/hook"), "UnicodeError: "),  # a host IDNA cannot encode
        (WebhookTarget("http://127.0.0.1:9/hook", "whsec_a"), "Error: "),  # no base64 key
    ],
)
async def test_an_event_that_cannot_be_sent_fails_its_attempts_on_schedule(
    client: Any,
    api_key: str,
    clock: FakeClock,
    settings: Settings,
    target: WebhookTarget,
    error: str,
) -> None:
    """Targets are checked on the way in; one stored otherwise (an older row) must fail its
    attempts on the retry schedule like an endpoint that does not answer, not be taken up
    again at once for ever without a recorded attempt."""
    store = client.app[SERVICES].store
    account = await client.app[SERVICES].accounts.by_login(LOGIN)
    event = OutboxEvent(
        event_id="unsendable-1",
        account_id=account.id,
        target=target,
        body=b"{}",
        created_at=clock.now(),
    )
    await store.enqueue_events([event])
    for _ in range(200):
        attempts = await store.delivery_attempts(event.event_id)
        if len(attempts) == 6:
            break
        await asyncio.sleep(0.05)
    # The first try and the five immediate retries of the test schedule, each recorded...
    assert len(attempts) == 6
    assert all(a.error and a.error.startswith(error) for a in attempts), attempts[0].error
    # ...then the next one waits retry_every_s, as for any endpoint that does not answer.
    rows = await store._read(
        "SELECT status, next_attempt_at_ms FROM webhook_outbox WHERE event_id = ?",
        (event.event_id,),
    )
    assert rows[0][0] == "PENDING"
    least_wait_s = settings.webhooks.retry_every_s * (1 - settings.webhooks.jitter)
    assert rows[0][1] >= (clock.now().timestamp() + least_wait_s) * 1000
