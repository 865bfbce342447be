"""Numbers of accounts, sender rules, and sms.send_batch, through the real endpoint."""

import asyncio
import base64
import json
from typing import Any

import pytest

from gateway.app import SERVICES
from tests.helpers import Rpc, RpcError, basic_auth

MINE = "+33612000001"
TO = "+33612345678"


async def test_number_lifecycle(rpc: Rpc, api_key: str) -> None:
    created = await rpc("numbers.create", MINE, {"label": "support"})
    assert (created["number"], created["sms_enabled"], created["label"]) == (MINE, True, "support")
    assert await rpc("numbers.get", MINE) == created
    assert await rpc("numbers.control_sms", MINE, "disable") is True
    assert (await rpc("numbers.get", MINE))["sms_enabled"] is False
    assert await rpc("numbers.delete", MINE) is True
    with pytest.raises(RpcError) as error:
        await rpc("numbers.get", MINE)
    assert error.value.message == "PROPERTY_VALUE_ERROR [number]"


async def test_a_number_belongs_to_one_account_and_reveals_nothing(
    rpc: Rpc, client: Any, api_key: str
) -> None:
    await rpc("numbers.create", MINE, None)
    await client.app[SERVICES].accounts.create("bob", "pw")
    as_bob = basic_auth("bob", "pw")
    with pytest.raises(RpcError) as taken:
        await rpc("numbers.create", MINE, None, auth=as_bob)
    assert (taken.value.code, taken.value.message) == (100, "FEATURE_NOT_ALLOWED [number]")
    assert "alice" not in json.dumps(taken.value.data)
    for method, params in (
        ("numbers.get", (MINE,)),
        ("numbers.delete", (MINE,)),
        ("numbers.control_sms", (MINE, "disable")),
    ):
        with pytest.raises(RpcError) as foreign:
            await rpc(method, *params, auth=as_bob)
        with pytest.raises(RpcError) as unknown:
            await rpc(method, "+33612999999", *params[1:], auth=as_bob)
        assert foreign.value.message == unknown.value.message == "PROPERTY_VALUE_ERROR [number]"
        assert foreign.value.data == unknown.value.data
    assert (await rpc("numbers.get", MINE))["sms_enabled"] is True
    with pytest.raises(RpcError) as again:
        await rpc("numbers.create", MINE, None)
    assert again.value.message == "PROPERTY_VALUE_ERROR [number]"


async def test_count_and_search_with_filters_and_paging(rpc: Rpc, api_key: str) -> None:
    numbers = [f"+336120000{i:02d}" for i in range(12)] + ["36001"]
    for index, number in enumerate(numbers):
        await rpc("numbers.create", number, {"sms_enabled": index % 3 != 0})
    assert await rpc("numbers.count", None) == 13
    assert await rpc("numbers.count", {"sms_enabled": False}) == 5
    assert await rpc("numbers.count", {"prefix": "+3361200001"}) == 2
    page = await rpc("numbers.search", {"prefix": "+336"}, {"limit": 5, "sort": "number:desc"})
    assert page["total"] == 12 and page["has_more"] is True
    assert [n["number"] for n in page["data"]] == sorted(numbers[:12], reverse=True)[:5]
    walked = [n["number"] for n in page["data"]]
    page_cursor = page["next_cursor"]
    while page["has_more"]:
        page = await rpc(
            "numbers.search",
            {"prefix": "+336"},
            {"limit": 5, "sort": "number:desc", "cursor": page["next_cursor"]},
        )
        walked.extend(n["number"] for n in page["data"])
    assert walked == sorted(numbers[:12], reverse=True)
    by_date = await rpc("numbers.search", None, {"offset": 10})
    assert [n["number"] for n in by_date["data"]] == numbers[10:]
    # An edited cursor (its row id past SQLite's integers) is refused, not sent to the store.
    bound_to, value, _ = json.loads(base64.urlsafe_b64decode(page_cursor + "=="))
    forged = json.dumps([bound_to, value, 2**63]).encode()
    with pytest.raises(RpcError) as error:
        await rpc(
            "numbers.search",
            {"prefix": "+336"},
            {
                "limit": 5,
                "sort": "number:desc",
                "cursor": base64.urlsafe_b64encode(forged).decode(),
            },
        )
    assert error.value.message == "PROPERTY_VALUE_ERROR [options.cursor]"
    for offset in (len(numbers), 2**64):
        beyond = await rpc("numbers.search", None, {"offset": offset})
        assert (beyond["total"], beyond["data"], beyond["has_more"]) == (len(numbers), [], False)
    for filters, options, message in (
        ({"prefix": "abc"}, None, "INVALID_PARAM_FORMAT [filters.prefix]"),
        ({"sms_enabled": "yes"}, None, "PROPERTY_TYPE_ERROR [filters.sms_enabled]"),
        (None, {"sort": "label"}, "PROPERTY_VALUE_ERROR [options.sort]"),
        (None, {"limit": 0}, "PROPERTY_VALUE_ERROR [options.limit]"),
    ):
        with pytest.raises(RpcError) as error:
            await rpc("numbers.search", filters, options)
        assert error.value.message == message


async def test_sender_rules(rpc: Rpc, client: Any, api_key: str) -> None:
    await rpc("numbers.create", MINE, None)
    assert len(await rpc("sms.send", MINE, TO, "from my number", None)) == 8
    await rpc("numbers.control_sms", MINE, "disable")
    for sender in (MINE, "+33612999999", "36001"):
        with pytest.raises(RpcError) as error:
            await rpc("sms.send", sender, TO, "x", None)
        assert error.value.message == "FEATURE_NOT_ALLOWED [from]"
    assert len(await rpc("sms.send", "Shop", TO, "any name while none is approved", None)) == 8
    account = (await client.app[SERVICES].accounts.list())[0]
    await client.app[SERVICES].store.approve_sender(account.id, "Bakery", approved=True)
    client.app[SERVICES].messaging._approved.clear()  # the 5 s cache, for the test's sake
    with pytest.raises(RpcError) as error:
        await rpc("sms.send", "Shop", TO, "x", None)
    assert error.value.message == "FEATURE_NOT_ALLOWED [from]"
    for allowed in ("Bakery", "SMS", ""):
        assert len(await rpc("sms.send", allowed, TO, "x", None)) == 8


async def test_send_batch(rpc: Rpc, client: Any, api_key: str) -> None:
    to_list = [TO, "+447400123456", "0612345678", TO, "+8613800138000", "+12025550123"]
    answer = await rpc("sms.send_batch", "SMS", to_list, "x" * 161, {"user_data": "promo"})
    assert [s["to"] for s in answer["sent"]] == [TO, "+447400123456", "+12025550123"]
    assert all(s["parts"] == 2 for s in answer["sent"]) and answer["parts"] == 6
    assert answer["failed"] == [
        {"to": "0612345678", "code": -32602, "message": "INVALID_PARAM_FORMAT [to]"},
        {"to": "+8613800138000", "code": 1000, "message": "SMS_ROUTING_ERROR [to]"},
    ]
    for sent in answer["sent"]:
        sms = await rpc("sms.get", sent["hash"])
        assert (sms["to"], sms["parts"], sms["user_data"]) == (sent["to"], 2, "promo")


async def test_send_batch_idempotency_covers_the_whole_batch(
    rpc: Rpc, client: Any, api_key: str
) -> None:
    options = {"idempotency_key": "campaign-1"}
    # Concurrent calls with one key send once: the messages and the kept answer commit together.
    first, *others = await asyncio.gather(
        *(rpc("sms.send_batch", "SMS", [TO, "+447400123456"], "hi", options) for _ in range(20))
    )
    again = await rpc("sms.send_batch", "SMS", [TO], "other text", options)
    assert all(other == first for other in others) and again == first
    rows = await client.app[SERVICES].store._read("SELECT COUNT(*) FROM messages", ())
    assert rows[0][0] == 2
    kept = {s["hash"] for s in first["sent"]}
    for sms_hash in kept:
        assert (await rpc("sms.get", sms_hash))["text"] == "hi"


async def test_send_batch_errors(rpc: Rpc, api_key: str, settings: Any) -> None:
    too_many = [TO] * (settings.messaging.max_batch_recipients + 1)
    for params, message in (
        (("SMS", too_many, "x", None), "PROPERTY_VALUE_ERROR [to_list]"),
        (("SMS", [], "x", None), "PROPERTY_VALUE_ERROR [to_list]"),
        (("SMS", [33612345678], "x", None), "PROPERTY_TYPE_ERROR [to_list.0]"),
        (("+33612999999", [TO], "x", None), "FEATURE_NOT_ALLOWED [from]"),
    ):
        with pytest.raises(RpcError) as error:
            await rpc("sms.send_batch", *params)
        assert error.value.message == message


async def test_the_gateways_own_numbers_cannot_be_registered(rpc: Rpc, settings: Any) -> None:
    # Every account sends from them: an owner would get everyone's replies and STOPs.
    for shared in (settings.messaging.default_sender, settings.messaging.stop_number):
        with pytest.raises(RpcError) as refused:
            await rpc("numbers.create", shared, None)
        assert (refused.value.code, refused.value.message) == (100, "FEATURE_NOT_ALLOWED [number]")
