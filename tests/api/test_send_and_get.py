"""sms.send and sms.get through the real HTTP endpoint."""

import re
from typing import Any

import pytest

from gateway.app import SERVICES
from tests.helpers import LOGIN, PASSWORD, Rpc, RpcError, basic_auth

LONG_GSM = ("Hello from the gateway! " * 10)[:225]
EMOJI_TEXT = "Your table is ready 🍽️ see you soon"


async def test_send_returns_a_hash_and_get_returns_the_stored_sms(rpc: Rpc) -> None:
    sms_hash = await rpc("sms.send", "SMS", "+33612345678", LONG_GSM, None)
    assert re.fullmatch(r"[A-Z0-9]{8}", sms_hash)
    sms = await rpc("sms.get", sms_hash)
    assert sms["hash"] == sms_hash
    assert sms["type"] == "OUT"
    assert (sms["from"], sms["to"], sms["text"]) == ("SMS", "+33612345678", LONG_GSM)
    assert (sms["encoding"], sms["parts"]) == ("GSM", 2)
    assert sms["status"] == "PENDING"
    assert sms["options"] is None
    assert sms["user_data"] == "" and sms["status_error"] == ""
    assert (sms["cost"], sms["currency"]) == ("0.1300", "EUR")
    assert sms["nature"] == "ALERTING"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", sms["date_creation"])
    assert sms["date_sent"] == sms["date_received"] == "0000-00-00 00:00:00"
    history = [(h["old_status"], h["new_status"]) for h in sms["status_history"]]
    assert history == [("", "CREATED"), ("CREATED", "PENDING")]
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}", sms["status_history"][0]["updated_at"]
    )


async def test_emoji_text_is_unicode(rpc: Rpc) -> None:
    sms = await rpc("sms.get", await rpc("sms.send", "", "+447400123456", EMOJI_TEXT, None))
    assert (sms["encoding"], sms["parts"]) == ("UNICODE", 1)
    assert sms["from"] == "36180"  # the configured default shortcode
    assert sms["cost"] == "0.0400"


async def test_options_are_stored_as_given(rpc: Rpc) -> None:
    options = {"nature": "MARKETING", "user_data": "order-42", "force_encoding": "GSM"}
    sms = await rpc(
        "sms.get", await rpc("sms.send", "Shop", "+33612345678", "Olá «mundo»", options)
    )
    assert sms["options"] == options
    assert (sms["nature"], sms["user_data"]) == ("MARKETING", "order-42")
    assert (sms["text"], sms["encoding"]) == ('Ola "mundo"', "GSM")


async def test_stop_placeholder_is_replaced_before_segmentation(rpc: Rpc) -> None:
    sms = await rpc(
        "sms.get", await rpc("sms.send", "SMS", "+33612345678", "STOP au %STOPNUM%", None)
    )
    assert sms["text"] == "STOP au 36173"


async def test_named_params_work_like_positional(post: Any) -> None:
    status, body = await post(
        {
            "jsonrpc": "2.0",
            "id": "n1",
            "method": "sms.send",
            "params": {"from": "SMS", "to": "+33612345678", "body": "named"},
        }
    )
    assert status == 200 and re.fullmatch(r"[A-Z0-9]{8}", body["result"]) and body["id"] == "n1"


async def test_idempotency_key_returns_the_first_hash_and_sends_once(rpc: Rpc, client: Any) -> None:
    options = {"idempotency_key": "k-1"}
    first = await rpc("sms.send", "SMS", "+33612345678", "once", options)
    again = await rpc("sms.send", "SMS", "+33612345678", "once", options)
    other = await rpc("sms.send", "SMS", "+33612345678", "once", {"idempotency_key": "k-2"})
    assert first == again != other


async def test_a_repeat_answers_the_first_hash_even_if_the_sender_is_no_longer_allowed(
    rpc: Rpc, client: Any
) -> None:
    options = {"idempotency_key": "k-shop"}
    first = await rpc("sms.send", "Shop", "+33612345678", "once", options)
    account = (await client.app[SERVICES].accounts.list())[0]
    await client.app[SERVICES].store.approve_sender(account.id, "Bakery", approved=True)
    client.app[SERVICES].messaging._approved.clear()  # the 5 s cache, for the test's sake
    with pytest.raises(RpcError) as refused:
        await rpc("sms.send", "Shop", "+33612345678", "new", {"idempotency_key": "k-new"})
    assert refused.value.message == "FEATURE_NOT_ALLOWED [from]"
    assert await rpc("sms.send", "Shop", "+33612345678", "once", options) == first


async def test_concurrent_sends_with_one_key_store_one_message(rpc: Rpc) -> None:
    import asyncio

    hashes = await asyncio.gather(
        *(
            rpc("sms.send", "SMS", "+33612345678", "x", {"idempotency_key": "same"})
            for _ in range(20)
        )
    )
    assert len(set(hashes)) == 1


async def test_other_accounts_sms_answers_like_an_unknown_hash(rpc: Rpc, client: Any) -> None:
    from gateway.app import SERVICES

    sms_hash = await rpc("sms.send", "SMS", "+33612345678", "private", None)
    await client.app[SERVICES].accounts.create("mallory", "pw")
    as_mallory = basic_auth("mallory", "pw")
    with pytest.raises(RpcError) as foreign:
        await rpc("sms.get", sms_hash, auth=as_mallory)
    with pytest.raises(RpcError) as unknown:
        await rpc("sms.get", "ZZZZZZZZ", auth=as_mallory)
    assert foreign.value.code == unknown.value.code == -32602
    assert foreign.value.message == unknown.value.message == "PROPERTY_VALUE_ERROR [id]"
    assert foreign.value.data == unknown.value.data
    assert (await rpc("sms.get", sms_hash, auth=basic_auth(LOGIN, PASSWORD)))["text"] == "private"
