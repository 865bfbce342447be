"""Valid calls with one value swapped for hostile JSON: every answer is a well-formed result
or a JSON-RPC error that is not an internal one, and a refused call writes nothing."""

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.test_hostile_input import _assert_well_formed, _message_count, _post, json_values
from tests.helpers import REPO_ROOT


def _seeds() -> list[dict[str, Any]]:
    seeds = []
    for path in sorted((REPO_ROOT / "tests" / "fixtures").glob("*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip() or "$" in line:
                continue
            request = json.loads(line)["request"]
            if isinstance(request, dict) and request.get("params"):
                seeds.append({"method": request["method"], "params": request["params"]})
    return seeds


HOOK = {
    "endpoint": "http://127.0.0.1:9/hook",
    "options": {"hmac_secret": "s", "hmac_algo": "SHA256"},
}
SMS_OPTIONS = {
    "force_encoding": "GSM",
    "nature": "ALERTING",
    "user_data": "u",
    "webhook": HOOK,
    "flash_message": False,
    "idempotency_key": "k1",
    "push_dlr_enabled": False,
    "validity_s": 3600,
}
DATES = {"date_from": "2026-01-01 00:00:00", "date_to": "2026-12-31 00:00:00"}
# Values at the edges of what the store, the calendar, URLs and Unicode can hold.
EDGE_VALUES = st.sampled_from(
    [
        2**63,
        2**63 - 1,
        -(2**63) - 1,
        2**64,
        10**30,
        -1,
        0,
        1.5,
        1e308,
        "",
        " ",
        "\x00",
        "\ud800",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31 23:59:59",
        "2026-02-30 00:00:00",
        "http://a..b/",
        "http://127.0.0.1:99999/",
        "http://[::1/",
        "x" * 5000,
        "%STOPNUM%" * 400,
        "€" * 200,
        "+33612345678",
        [],
        {},
        True,
        None,
    ]
)

SEEDS = [
    *_seeds(),
    {"method": "sms.send", "params": ["SMS", "+33612345678", "Hello €", SMS_OPTIONS]},
    {"method": "sms.send_batch", "params": ["SMS", ["+33612345678", "+447700900123"], "Hi", {}]},
    {"method": "sms.get_quote", "params": ["+33612345678", "Hello", SMS_OPTIONS]},
    {
        "method": "sms.search",
        "params": [
            {
                "type": "OUT",
                "from": "SMS",
                "to": "+33612345678",
                "text": "x",
                "nature": "ALERTING",
                "status": ["PENDING"],
                "user_data": "u",
                **DATES,
            },
            {"offset": 0, "limit": 10, "sort": "date_creation:desc"},
        ],
    },
    {"method": "sms.export_async", "params": [{"type": "OUT", **DATES}, HOOK]},
    {"method": "jobs.get", "params": ["ABCDEFGH"]},
    {
        "method": "webhooks.subscribe",
        "params": ["sms.mo", "http://127.0.0.1:9/mo", HOOK["options"]],
    },
    {"method": "numbers.create", "params": ["+33612345678", {"sms_enabled": True, "label": "l"}]},
    {
        "method": "numbers.search",
        "params": [
            {"sms_enabled": True, "prefix": "+336", **DATES},
            {"offset": 0, "limit": 5, "sort": "number"},
        ],
    },
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    copy = json.loads(json.dumps(value))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@settings(
    max_examples=1500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_one_hostile_value_in_a_valid_call(client: Any, api_key: str, data: Any) -> None:
    seed = data.draw(st.sampled_from(SEEDS))
    path = data.draw(st.sampled_from(_paths(seed["params"])))
    new = data.draw(EDGE_VALUES | json_values)
    params = _replace(seed["params"], path, new)
    call = {"jsonrpc": "2.0", "id": 1, "method": seed["method"], "params": params}
    before = await _message_count(client)
    status, answer = await _post(client, json.dumps(call).encode())
    assert status == 200
    _assert_well_formed(answer)
    if "error" in answer:
        assert await _message_count(client) == before  # nothing half-written
