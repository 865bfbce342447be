"""sms.get_quote, sms.get_count_for_body and sms.get_gsm_charset_mapping."""

import pytest

from gateway.encoding import GSM_TRANSLITERATION
from tests.helpers import Rpc, RpcError


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
