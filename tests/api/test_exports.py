"""sms.export_async, jobs.get/cancel, CSV downloads and signed job webhooks, end to end."""

import asyncio
import base64
import csv
import hashlib
import io
from datetime import timedelta
from typing import Any

import pytest

from gateway.app import SERVICES, create_app
from tests.helpers import LOGIN, PASSWORD, FakeClock, Rpc, RpcError, WebhookReceiver, basic_auth

RECIPIENTS = ["+33612345678", "+447400123456", "+12025550123"]
SECRET = "whsec_" + base64.b64encode(b"receiver shared key").decode()


async def _send_many(post: Any, count: int, tag: str = "m") -> None:
    for start in range(0, count, 100):
        calls = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "sms.send",
                "params": ["SMS", RECIPIENTS[i % 3], f'{tag} {i}, "quoted"\nline', None],
            }
            for i in range(start, min(count, start + 100))
        ]
        status, answers = await post(calls)
        assert status == 200 and all("result" in answer for answer in answers)


async def _wait_for_status(rpc: Rpc, job: str, statuses: set[str], timeout_s: float = 20) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        state = await rpc("jobs.get", job)
        if state["status"] in statuses:
            return state
        assert asyncio.get_running_loop().time() < deadline, state
        await asyncio.sleep(0.02)


async def _download(client: Any, job: str, auth: str | None) -> tuple[int, bytes]:
    headers = {"Authorization": auth} if auth else {}
    async with client.get(f"/exports/{job}.csv", headers=headers) as response:
        return response.status, await response.read()


async def test_export_posts_signed_webhook_and_csv_matches_search(
    rpc: Rpc, post: Any, client: Any, receiver: WebhookReceiver
) -> None:
    await _send_many(post, 250)
    filters = {"to": RECIPIENTS[1]}
    webhook = {"endpoint": receiver.url, "options": {"hmac_secret": SECRET}}
    job = await rpc("sms.export_async", filters, webhook)
    assert len(job) == 8

    event = await receiver.next_event()
    assert event.json["type"] == "job.status_update" and event.json["hook_hash"] is None
    assert event.json["data"]["hash"] == job and event.json["data"]["status"] == "DONE"
    assert event.headers["X-CALLR-EventId"] == event.json["event_id"]
    assert event.callr_signature_valid(SECRET)
    assert event.standard_signature_valid(SECRET)
    assert event.json["event_at"].endswith("Z") and "." in event.json["event_at"]

    state = await rpc("jobs.get", job)
    assert state == event.json["data"] or state["status"] == "DONE"
    result = state["result"]
    assert result["url"].endswith(f"/exports/{job}.csv")
    status, body = await _download(client, job, basic_auth(LOGIN, PASSWORD))
    assert status == 200
    assert (len(body), hashlib.sha256(body).hexdigest()) == (result["bytes"], result["sha256"])
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    assert rows[0][:4] == ["hash", "type", "from", "to"] and rows[0][-1] == "date_received"
    total = (await rpc("sms.search", filters, {"limit": 1}))["total"]
    assert len(rows) - 1 == result["rows"] == total == state["progress"]["done"] == 83
    found = await rpc("sms.search", filters, {"limit": 500})
    assert [row[0] for row in rows[1:]] == [sms["hash"] for sms in found["data"]]
    assert rows[1][4] == found["data"][0]["text"]  # commas, quotes and line breaks survive
    assert rows[1][13] == found["data"][0]["date_creation"]
    assert rows[1][16] == "0000-00-00 00:00:00"


async def test_failing_receiver_gets_the_same_event_until_it_answers_2xx(
    rpc: Rpc, client: Any, receiver: WebhookReceiver
) -> None:
    receiver.plan = [500, 503]
    job = await rpc("sms.export_async", None, {"endpoint": receiver.url})
    first = await receiver.next_event()
    second = await receiver.next_event()
    third = await receiver.next_event()
    event_ids = {e.json["event_id"] for e in (first, second, third)}
    assert len(event_ids) == 1 and first.json["data"]["hash"] == job
    assert first.body == second.body == third.body
    assert "X-CALLR-HmacSignature" not in first.headers  # no secret, no signature
    store = client.app[SERVICES].store
    for _ in range(200):  # the third attempt is recorded just after its answer
        attempts = await store.delivery_attempts(first.json["event_id"])
        if len(attempts) == 3:
            break
        await asyncio.sleep(0.02)
    assert [a.status_code for a in attempts] == [500, 503, 200]
    assert [a.error for a in attempts] == ["HTTP 500", "HTTP 503", None]
    assert all(a.duration_ms >= 0 for a in attempts)


async def test_plain_secret_signs_with_its_utf8_bytes(rpc: Rpc, receiver: WebhookReceiver) -> None:
    import hmac

    await rpc(
        "sms.export_async",
        None,
        {"endpoint": receiver.url, "options": {"hmac_secret": "s3", "hmac_algo": "SHA512"}},
    )
    event = await receiver.next_event()
    assert event.callr_signature_valid("s3", "sha512")
    signed = (
        f"{event.headers['webhook-id']}.{event.headers['webhook-timestamp']}.".encode() + event.body
    )
    expected = "v1," + base64.b64encode(hmac.new(b"s3", signed, hashlib.sha256).digest()).decode()
    assert event.headers["webhook-signature"] == expected


async def test_other_accounts_cannot_see_or_download(
    rpc: Rpc, client: Any, receiver: WebhookReceiver
) -> None:
    job = await rpc("sms.export_async", None, {"endpoint": receiver.url})
    await receiver.next_event()
    await client.app[SERVICES].accounts.create("mallory", "pw")
    as_mallory = basic_auth("mallory", "pw")
    assert (await _download(client, job, as_mallory))[0] == 404
    assert (await _download(client, "ZZZZZZZZ", as_mallory))[0] == 404
    assert (await _download(client, job, None))[0] == 401
    assert (await _download(client, job, basic_auth(LOGIN, "wrong")))[0] == 401
    for method in ("jobs.get", "jobs.cancel"):
        with pytest.raises(RpcError) as foreign:
            await rpc(method, job, auth=as_mallory)
        with pytest.raises(RpcError) as unknown:
            await rpc(method, "ZZZZZZZZ", auth=as_mallory)
        assert foreign.value.message == unknown.value.message == "PROPERTY_VALUE_ERROR [id]"
        assert foreign.value.data == unknown.value.data


async def test_expired_export_is_gone(
    rpc: Rpc, client: Any, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    job = await rpc("sms.export_async", None, {"endpoint": receiver.url})
    await receiver.next_event()
    state = await rpc("jobs.get", job)
    expires = clock.now() + timedelta(days=7)
    assert state["result"]["expires_at"] == expires.strftime("%Y-%m-%d %H:%M:%S")
    path = await client.app[SERVICES].jobs.export_file(1, job)
    assert path.exists()
    clock.advance(days=7, seconds=1)
    assert (await _download(client, job, basic_auth(LOGIN, PASSWORD)))[0] == 404
    for _ in range(200):  # the runner deletes the file at its next poll
        if not path.exists():
            break
        await asyncio.sleep(0.02)
    assert not path.exists()


async def test_cancel_stops_a_running_export(
    aiohttp_client: Any, settings: Any, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    client = await _slow_exporter(aiohttp_client, settings, clock, messages=3000)
    job = await _call(client, "sms.export_async", None, {"endpoint": receiver.url})
    state = await _until_running(client, job)
    assert 0 < state["progress"]["done"] < state["progress"]["total"] == 3000
    assert await _call(client, "jobs.cancel", job) is True
    assert await _call(client, "jobs.cancel", job) is True  # canceling again is harmless
    event = await receiver.next_event()
    assert event.json["data"]["status"] == "CANCELED" and event.json["data"]["result"] is None
    final = await _call(client, "jobs.get", job)
    assert final["status"] == "CANCELED"
    for _ in range(100):  # the runner notices at its next page and removes its partial file
        if not list(settings.exports.directory.glob(f"{job}.csv*")):
            break
        await asyncio.sleep(0.02)
    assert not list(settings.exports.directory.glob(f"{job}.csv*"))
    assert final["progress"]["done"] < 3000


async def test_cancel_of_a_done_job_is_refused(rpc: Rpc, receiver: WebhookReceiver) -> None:
    job = await rpc("sms.export_async", None, {"endpoint": receiver.url})
    await receiver.next_event()
    with pytest.raises(RpcError) as error:
        await rpc("jobs.cancel", job)
    assert error.value.message == "PROPERTY_VALUE_ERROR [id]"


async def test_export_params_are_validated(rpc: Rpc, api_key: str) -> None:
    cases = [
        (({"status": "LOST"}, None), "PROPERTY_VALUE_ERROR [filters.status]"),
        ((None, {"endpoint": "not a url"}), "INVALID_PARAM_FORMAT [webhook.endpoint]"),
        ((None, {"options": {}}), "MISSING_PROPERTY [webhook.endpoint]"),
        (
            (None, {"endpoint": "http://x.test/", "options": {"hmac_algo": "CRC"}}),
            "PROPERTY_VALUE_ERROR [webhook.options.hmac_algo]",
        ),
    ]
    for params, message in cases:
        with pytest.raises(RpcError) as error:
            await rpc("sms.export_async", *params)
        assert error.value.message == message


async def _slow_exporter(
    aiohttp_client: Any, settings: Any, clock: FakeClock, messages: int
) -> Any:
    """An app whose exports read 100 rows a page, with `messages` messages of alice."""
    slow = settings.model_copy(
        update={"exports": settings.exports.model_copy(update={"page_rows": 100})}
    )
    client = await aiohttp_client(create_app(slow, clock=clock))
    if not await client.app[SERVICES].accounts.list():
        await client.app[SERVICES].accounts.create(LOGIN, PASSWORD)
    for start in range(0, messages, 100):
        calls = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "sms.send",
                "params": ["SMS", RECIPIENTS[0], f"r{i}"],
            }
            for i in range(start, start + 100)
        ]
        async with client.post("/json-rpc/v1.1/", json=calls, headers=_AUTH) as response:
            assert response.status == 200
    return client


_AUTH = {"Authorization": basic_auth(LOGIN, PASSWORD)}


async def _call(client: Any, method: str, *params: Any) -> Any:
    call = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    async with client.post("/json-rpc/v1.1/", json=call, headers=_AUTH) as response:
        return (await response.json())["result"]


async def _until_running(client: Any, job: str) -> Any:
    for _ in range(1000):
        state = await _call(client, "jobs.get", job)
        if state["status"] == "RUNNING" and state["progress"]["done"] > 0:
            return state
        await asyncio.sleep(0.002)
    raise AssertionError(f"the export never ran: {state}")


async def test_jobs_and_deliveries_survive_a_restart(
    aiohttp_client: Any, settings: Any, clock: FakeClock, receiver: WebhookReceiver
) -> None:
    slow = settings.model_copy(
        update={"exports": settings.exports.model_copy(update={"page_rows": 100})}
    )
    first = await _slow_exporter(aiohttp_client, settings, clock, messages=3000)
    receiver.plan = ["hang"]  # the first delivery attempt never gets an answer
    job = await _call(first, "sms.export_async", None, {"endpoint": receiver.url})
    state = await _until_running(first, job)
    assert state["progress"]["done"] < 3000
    await first.close()  # stops mid-export: the job is left RUNNING in the store

    second = await aiohttp_client(create_app(slow, clock=clock))
    event = await receiver.next_event(timeout_s=30)
    assert event.json["data"]["hash"] == job and event.json["data"]["status"] == "DONE"
    assert event.json["data"]["result"]["rows"] == 3000
    done = await _call(second, "jobs.get", job)
    assert done["status"] == "DONE"
    await second.close()

    # A delivery left pending (its receiver hung) is delivered after the next start.
    receiver.plan = ["hang"]
    third = await aiohttp_client(create_app(slow, clock=clock))
    job2 = await _call(third, "sms.export_async", None, {"endpoint": receiver.url})
    for _ in range(500):
        if receiver.hits >= 3:  # hang, then the export's own POST arrived and hangs
            break
        await asyncio.sleep(0.01)
    await third.close()
    await aiohttp_client(create_app(slow, clock=clock))
    redelivered = await receiver.next_event(timeout_s=30)
    assert redelivered.json["data"]["hash"] == job2


async def test_hanging_receiver_does_not_hold_up_others_or_the_api(
    rpc: Rpc, settings: Any, receiver: WebhookReceiver, aiohttp_server: Any
) -> None:
    stuck = WebhookReceiver()
    stuck.plan = ["hang"] * 100
    stuck_server = await aiohttp_server(stuck.app())
    stuck_url = str(stuck_server.make_url("/hook"))
    for _ in range(settings.webhooks.max_concurrent_per_endpoint + 8):
        await rpc("sms.export_async", None, {"endpoint": stuck_url})
    job = await rpc("sms.export_async", None, {"endpoint": receiver.url})
    event = await receiver.next_event(timeout_s=20)  # behind the 40 other exports
    assert event.json["data"]["hash"] == job
    started = asyncio.get_running_loop().time()
    await rpc("sms.get_quote", RECIPIENTS[0], "hi", None)
    assert asyncio.get_running_loop().time() - started < 2
    # Its slots are all it ever held at once (hung POSTs time out and are retried meanwhile).
    assert 0 < stuck.most_hanging <= settings.webhooks.max_concurrent_per_endpoint
