"""sms.get_quote, sms.get_count_for_body and sms.get_gsm_charset_mapping."""

from decimal import Decimal
from typing import Any

import pytest

from gateway.app import SERVICES, create_app
from gateway.config import Settings
from gateway.encoding import GSM_TRANSLITERATION
from tests.helpers import LOGIN, PASSWORD, RPC_PATH, FakeClock, Rpc, RpcError, basic_auth


async def test_quote_prices_every_part(rpc: Rpc) -> None:
    quote = await rpc("sms.get_quote", "+33612345678", "x" * 161, None)
    assert quote == {
        "nb_sms": 2,
        "encoding": "GSM",
        "cost": "0.1300",
        "currency": "EUR",
        "unit_cost": "0.0650",
        "country": "FR",
    }


async def test_quote_follows_force_encoding(rpc: Rpc) -> None:
    unicode_quote = await rpc(
        "sms.get_quote", "+12025550123", "hello", {"force_encoding": "UNICODE"}
    )
    assert (unicode_quote["encoding"], unicode_quote["country"], unicode_quote["cost"]) == (
        "UNICODE",
        "US",
        "0.0100",
    )
    gsm_quote = await rpc("sms.get_quote", "+4915112345678", "ça « va »", {"force_encoding": "GSM"})
    assert (gsm_quote["encoding"], gsm_quote["nb_sms"], gsm_quote["country"]) == ("GSM", 1, "DE")


async def test_quote_without_price_is_a_routing_error(rpc: Rpc) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.get_quote", "+8613800138000", "hi", None)
    assert (error.value.code, error.value.message) == (1000, "SMS_ROUTING_ERROR [to]")


async def test_count_for_body(rpc: Rpc) -> None:
    count = await rpc("sms.get_count_for_body", "😀" * 68)
    assert count == {
        "nb_sms": 3,
        "encoding": "UNICODE",
        "cost": None,
        "currency": "EUR",
        "unit_cost": None,
        "country": None,
    }


async def test_gsm_charset_mapping(rpc: Rpc) -> None:
    charset = await rpc("sms.get_gsm_charset_mapping")
    assert len(charset["gsm"]) == 127 and "@" in charset["gsm"] and "\x1b" not in charset["gsm"]
    assert sorted(charset["gsm_extended"]) == sorted("\x0c^{}\\[~]|€")
    assert charset["mapping"] == dict(GSM_TRANSLITERATION) and len(charset["mapping"]) >= 100


async def test_a_text_that_gsm_empties_is_refused(rpc: Rpc) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.get_quote", "+33612345678", "\u200b", {"force_encoding": "GSM"})
    assert error.value.message == "PROPERTY_VALUE_ERROR [text]"
    # Without forcing GSM the same text is one UNICODE part.
    quote = await rpc("sms.get_quote", "+33612345678", "\u200b", None)
    assert (quote["nb_sms"], quote["encoding"]) == (1, "UNICODE")


async def test_a_non_geographic_number_priced_by_prefix_has_no_country(
    aiohttp_client: Any, settings: Settings
) -> None:
    pricing = settings.pricing.model_copy(update={"prefixes": {"+800": Decimal("0.1000")}})
    client = await aiohttp_client(
        create_app(settings.model_copy(update={"pricing": pricing}), clock=FakeClock())
    )
    await client.app[SERVICES].accounts.create(LOGIN, PASSWORD)
    call = {"jsonrpc": "2.0", "id": 1, "method": "sms.get_quote", "params": ["+80012345678", "hi"]}
    headers = {"Authorization": basic_auth(LOGIN, PASSWORD)}
    async with client.post(RPC_PATH, json=call, headers=headers) as response:
        quote = (await response.json())["result"]
    # phonenumbers calls the region of +800 "001": no ISO 3166 code, so null.
    assert (quote["cost"], quote["country"]) == ("0.1000", None)
