"""CALLR's own Python SDK, unchanged but for the URL, against a real server on 127.0.0.1."""

import asyncio
import gc
import re
import warnings
from collections.abc import Iterator
from typing import Any

import callr
import pytest

from tests.helpers import LOGIN, PASSWORD, RPC_PATH


@pytest.fixture(autouse=True)
def _collect_sdk_sockets() -> Iterator[None]:
    """The SDK never closes its urllib responses; reclaim them here, not as stray warnings."""
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


@pytest.fixture
async def sdk(client: Any, api_key: str) -> Any:
    api = callr.Api(LOGIN, PASSWORD)
    api.set_api_url(str(client.make_url(RPC_PATH)))
    return api


async def _call(api: Any, method: str, *params: Any) -> Any:
    # The SDK blocks on urllib; the server runs on this loop, so call it from a thread.
    return await asyncio.to_thread(api.call, method, *params)


async def test_send_and_get_a_two_part_gsm_text(sdk: Any) -> None:
    text = ("The quick brown fox jumps over the lazy dog. " * 5)[:225]
    sms_hash = await _call(sdk, "sms.send", "SMS", "+33612345678", text, None)
    assert re.fullmatch(r"[A-Z0-9]{8}", sms_hash)
    sms = await _call(sdk, "sms.get", sms_hash)
    assert (sms["hash"], sms["text"], sms["encoding"], sms["parts"]) == (sms_hash, text, "GSM", 2)


async def test_send_and_get_an_emoji_text(sdk: Any) -> None:
    sms_hash = await _call(
        sdk, "sms.send", "", "+33612345678", "On our way 🚗", {"nature": "ALERTING"}
    )
    sms = await _call(sdk, "sms.get", sms_hash)
    assert (sms["encoding"], sms["parts"]) == ("UNICODE", 1)


async def test_quote_and_charset_mapping(sdk: Any) -> None:
    quote = await _call(sdk, "sms.get_quote", "+33612345678", "hello", None)
    assert (quote["nb_sms"], quote["cost"], quote["currency"]) == (1, "0.0650", "EUR")
    charset = await _call(sdk, "sms.get_gsm_charset_mapping")
    assert charset["mapping"]["«"] == '"'


async def test_errors_surface_as_sdk_exceptions(sdk: Any) -> None:
    with pytest.raises(callr.CallrException) as error:
        await _call(sdk, "sms.get", "NOPE0000")
    assert (error.value.msg, error.value.code) == ("PROPERTY_VALUE_ERROR [id]", -32602)


async def test_wrong_credentials_raise_the_sdk_http_error(client: Any, api_key: str) -> None:
    api = callr.Api(LOGIN, "not the password")
    api.set_api_url(str(client.make_url(RPC_PATH)))
    with pytest.raises(callr.CallrException) as error:
        await _call(api, "sms.get_gsm_charset_mapping")
    assert error.value.msg == "HTTP_CODE_ERROR"
    assert error.value.data["http_code"] == 401
