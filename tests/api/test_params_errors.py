"""Bad params get API.md's `CODE [property]` errors and never a half-written row."""

import json
from typing import Any

import pytest

from gateway.app import SERVICES
from gateway.rpc.endpoint import _answer
from tests.helpers import Rpc, RpcError

TO = "+33612345678"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([], "MISSING_PROPERTY [from]"),
        (["SMS"], "MISSING_PROPERTY [to]"),
        (["SMS", None, "hi"], "MISSING_PROPERTY [to]"),
        (["SMS", TO, None], "MISSING_PROPERTY [body]"),
        (["SMS", 33612345678, "hi"], "PROPERTY_TYPE_ERROR [to]"),
        ([1, TO, "hi"], "PROPERTY_TYPE_ERROR [from]"),
        (["SMS", TO, ["hi"]], "PROPERTY_TYPE_ERROR [body]"),
        (["SMS", TO, "hi", "options"], "PROPERTY_TYPE_ERROR [options]"),
        (["SMS", "0612345678", "hi"], "INVALID_PARAM_FORMAT [to]"),
        (["SMS", "+33123", "hi"], "INVALID_PARAM_FORMAT [to]"),
        (["+33123", TO, "hi"], "INVALID_PARAM_FORMAT [from]"),
        (["twelve chars", TO, "hi"], "INVALID_PARAM_FORMAT [from]"),
        (["12345678901", TO, "hi"], "INVALID_PARAM_FORMAT [from]"),
        (["SMS!", TO, "hi"], "INVALID_PARAM_FORMAT [from]"),
        (["SMS", TO, ""], "INVALID_PARAM_FORMAT [body]"),
        (["SMS", TO, "x" * 3201], "INVALID_PARAM_FORMAT [body]"),
        (["SMS", TO, "hi", {"nature": "SPAM"}], "PROPERTY_VALUE_ERROR [options.nature]"),
        (
            ["SMS", TO, "hi", {"force_encoding": "gsm"}],
            "PROPERTY_VALUE_ERROR [options.force_encoding]",
        ),
        (["SMS", TO, "hi", {"colour": "red"}], "PROPERTY_VALUE_ERROR [options.colour]"),
        (["SMS", TO, "hi", {"user_data": "u" * 256}], "INVALID_PARAM_FORMAT [options.user_data]"),
        (
            ["SMS", TO, "hi", {"flash_message": "yes"}],
            "PROPERTY_TYPE_ERROR [options.flash_message]",
        ),
        (
            ["SMS", TO, "hi", {"idempotency_key": "k" * 65}],
            "INVALID_PARAM_FORMAT [options.idempotency_key]",
        ),
        (
            ["SMS", TO, "hi", {"webhook": {"endpoint": "ftp://example.org/x"}}],
            "INVALID_PARAM_FORMAT [options.webhook.endpoint]",
        ),
        (
            [
                "SMS",
                TO,
                "hi",
                {
                    "webhook": {
                        "endpoint": "https://example.org/x",
                        "options": {"hmac_algo": "SHA3"},
                    }
                },
            ],
            "PROPERTY_VALUE_ERROR [options.webhook.options.hmac_algo]",
        ),
        # Only characters that GSM drops: an empty SMS would be sent and billed.
        (
            ["SMS", TO, "\u200b\u00ad", {"force_encoding": "GSM"}],
            "PROPERTY_VALUE_ERROR [body]",
        ),
        (["+33612345678", TO, "hi"], "FEATURE_NOT_ALLOWED [from]"),
        (["36999", TO, "hi"], "FEATURE_NOT_ALLOWED [from]"),
        (["SMS", "+8613800138000", "hi"], "SMS_ROUTING_ERROR [to]"),
    ],
)
async def test_send_errors(rpc: Rpc, client: Any, params: list[Any], message: str) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.send", *params)
    assert error.value.message == message
    expected_code = {"FEATURE_NOT_ALLOWED": 100, "SMS_ROUTING_ERROR": 1000}.get(
        message.split()[0], -32602
    )
    assert error.value.code == expected_code
    assert error.value.data["property"] == message.split("[")[1].rstrip("]")
    rows = await client.app[SERVICES].store._read("SELECT COUNT(*) FROM messages", ())
    assert rows[0][0] == 0


async def test_errors_never_echo_the_input(rpc: Rpc) -> None:
    secret = "+33699999999-secret"
    with pytest.raises(RpcError) as error:
        await rpc("sms.send", "SMS", secret, "hi")
    assert "secret" not in repr(error.value.data) and "secret" not in error.value.message


async def test_legacy_push_dlr_options_are_accepted(rpc: Rpc) -> None:
    options = {
        "push_dlr_enabled": True,
        "push_dlr_url": "https://example.org/dlr",
        "push_dlr_url_auth": "u:p",
    }
    sms = await rpc("sms.get", await rpc("sms.send", "SMS", TO, "hi", options))
    assert sms["options"] == options


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://a..b/x",  # an empty label: aiohttp cannot encode the host
        "http://" + "a" * 64 + ".example/x",  # a label over 63 characters
        "http://%zz/x",
        "http://exa mple.org/x",
        "http://256.256.256.256/x",
        "http://127.0.0.1:99999/x",
        "http://127.0.0.1:0/x",
        "http://[::1/x",
        "http:///x",
        "http://[v1.x]/x",
        "http://example.org/a b",
        "http://example.org/a\r\nX-Injected: 1",
    ],
)
async def test_endpoints_that_no_request_can_reach_are_refused(
    rpc: Rpc, client: Any, endpoint: str
) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.send", "SMS", TO, "hi", {"webhook": {"endpoint": endpoint}})
    assert error.value.message == "INVALID_PARAM_FORMAT [options.webhook.endpoint]"
    with pytest.raises(RpcError) as error:
        await rpc("webhooks.subscribe", "sms.mo", endpoint, None)
    assert error.value.message == "INVALID_PARAM_FORMAT [endpoint]"
    rows = await client.app[SERVICES].store._read("SELECT COUNT(*) FROM messages", ())
    assert rows[0][0] == 0


async def test_a_standard_webhooks_secret_must_carry_a_base64_key(rpc: Rpc) -> None:
    # Decoded as Standard Webhooks libraries do (padding optional, stray bytes ignored),
    # these still give no key.
    for secret in ("whsec_a", "whsec_!!!!", "whsec_"):
        webhook = {"endpoint": "https://example.org/x", "options": {"hmac_secret": secret}}
        with pytest.raises(RpcError) as error:
            await rpc("sms.send", "SMS", TO, "hi", {"webhook": webhook})
        assert error.value.message == "PROPERTY_VALUE_ERROR [options.webhook.options.hmac_secret]"
        with pytest.raises(RpcError) as error:
            await rpc(
                "webhooks.subscribe", "sms.mo", "https://example.org/x", {"hmac_secret": secret}
            )
        assert error.value.message == "PROPERTY_VALUE_ERROR [options.hmac_secret]"
    for secret in ("whsec_a2V5", "whsec_a2V5\n", "whsec_a2tr"):  # padded, pasted, unpadded
        webhook = {"endpoint": "https://example.org/x", "options": {"hmac_secret": secret}}
        assert await rpc("sms.send", "SMS", TO, "hi", {"webhook": webhook})


async def test_usual_endpoint_shapes_are_accepted(rpc: Rpc) -> None:
    for endpoint in (
        "https://user:pw@hooks.example.org:8443/dlr?x=1",
        "http://bücher.example/hook",
        "http://example.org./hook",
        "http://under_score.example/hook",
        "http://[::1]:9/hook",
        "http://127.0.0.1:9/hook",
    ):
        sms = await rpc(
            "sms.get", await rpc("sms.send", "SMS", TO, "hi", {"push_dlr_url": endpoint})
        )
        assert sms["options"]["push_dlr_url"] == endpoint


async def test_instants_beyond_the_calendar_are_refused_by_property(rpc: Rpc) -> None:
    for method, params, message in (
        ("sms.search", [{"date_from": "0001-01-01T00:00:00+01:00"}, None], "filters.date_from"),
        ("sms.search", [{"date_to": "9999-12-31T23:59:59-01:00"}, None], "filters.date_to"),
        ("sms.get_list", ["OUT", "0001-01-01T00:00:00+00:30", "2026-01-01 00:00:00"], "from"),
        ("numbers.count", [{"date_to": "9999-12-31T23:00:00-02:00"}], "filters.date_to"),
    ):
        with pytest.raises(RpcError) as error:
            await rpc(method, *params)
        assert error.value.message == f"PROPERTY_VALUE_ERROR [{message}]"
    # The calendar's own ends, in UTC, are fine.
    assert await rpc("sms.get_list", "OUT", "0001-01-01 00:00:00", "9999-12-31 23:59:59") == []


async def test_sms_get_errors(rpc: Rpc) -> None:
    for params, message in (
        [(), "MISSING_PROPERTY [id]"],
        [(12,), "PROPERTY_TYPE_ERROR [id]"],
        [("abc",), "PROPERTY_VALUE_ERROR [id]"],
    ):
        with pytest.raises(RpcError) as error:
            await rpc("sms.get", *params)
        assert error.value.message == message


async def test_lone_surrogates_are_refused_by_property(post: Any, client: Any) -> None:
    for options, prop in (("null", "body"), ('{"user_data": "\\udc00"}', "options.user_data")):
        body_text = '"a\\ud800b"' if prop == "body" else '"fine"'
        raw = (
            '{"jsonrpc": "2.0", "id": 1, "method": "sms.send", '
            f'"params": ["SMS", "+33612345678", {body_text}, {options}]}}'
        )
        status, answer = await post(raw)
        assert status == 200 and answer["error"]["message"] == f"INVALID_PARAM_FORMAT [{prop}]"
    # A recipient of a batch is refused by its position.
    raw = (
        '{"jsonrpc": "2.0", "id": 1, "method": "sms.send_batch", '
        '"params": ["SMS", ["+33612345678", "\\ud800"], "hi", null]}'
    )
    status, answer = await post(raw)
    assert status == 200 and answer["error"]["message"] == "INVALID_PARAM_FORMAT [to_list.1]"
    rows = await client.app[SERVICES].store._read("SELECT COUNT(*) FROM messages", ())
    assert rows[0][0] == 0


def test_an_answer_carrying_a_lone_surrogate_is_still_json() -> None:
    answer = _answer({"jsonrpc": "2.0", "result": "a\ud800b", "id": 1})
    assert answer.status == 200 and isinstance(answer.body, bytes)
    assert answer.body.decode("utf-8") == '{"jsonrpc":"2.0","result":"a\\ud800b","id":1}'
    assert json.loads(answer.body)["result"] == "a\ud800b"


async def test_unexpected_failure_is_internal_error_with_logged_incident(
    rpc: Rpc, client: Any, settings: Any, caplog: Any
) -> None:
    import asyncio
    import sqlite3

    sms_hash = await rpc("sms.send", "SMS", TO, "hi")

    # A real fault from outside the gateway: another process drops the table under it.
    def drop() -> None:
        with sqlite3.connect(settings.store.path, timeout=10) as outsider:
            outsider.execute("DROP TABLE messages")

    await asyncio.to_thread(drop)  # from a thread: the event loop keeps serving meanwhile
    with pytest.raises(RpcError) as error:
        await rpc("sms.get", sms_hash)
    assert (error.value.code, error.value.message) == (-32603, "INTERNAL_ERROR")
    incident = error.value.data["incident"]
    assert "messages" not in repr(error.value.data)  # no driver text reaches the caller
    logged = [r for r in caplog.records if incident in r.getMessage()]
    assert logged and logged[0].exc_info is not None
