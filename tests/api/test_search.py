"""sms.search and sms.get_list through the real endpoint, on a real SQLite file."""

import asyncio
import base64
import itertools
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from gateway.app import SERVICES
from gateway.store.base import NewMessage, StatusChange
from tests.helpers import FakeClock, Rpc, RpcError, basic_auth

STATUSES = ["PENDING", "SENT", "RECEIVED", "FAILED", "EXPIRED"]
RECIPIENTS = ["+33612345678", "+33698765432", "+447400123456"]


@dataclass(frozen=True)
class Row:
    hash: str
    direction: str
    sender: str
    recipient: str
    text: str
    nature: str
    status: str
    user_data: str
    parts: int
    created_at: datetime
    updated_at: datetime


def _wire(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


async def _insert(client: Any, account_id: int, **fields: Any) -> str:
    store = client.app[SERVICES].store
    created = fields.pop("created_at")
    status = fields.pop("status", "PENDING")
    message = NewMessage(
        account_id=account_id,
        direction=fields.pop("direction", "OUT"),
        sender=fields.pop("sender", "SMS"),
        recipient=fields.pop("recipient", RECIPIENTS[0]),
        text=fields.pop("text", "hello"),
        options=None,
        encoding="GSM",
        parts=fields.pop("parts", 1),
        nature=fields.pop("nature", "ALERTING"),
        user_data=fields.pop("user_data", ""),
        status=status,
        cost=Decimal("0.0650"),
        currency="EUR",
        country="FR",
        created_at=created,
        status_history=(StatusChange("", status, created),),
        expires_at=None,
    )
    assert not fields
    message_hash: str = await store.insert_message(message, None)
    return message_hash


@pytest.fixture
async def history(client: Any, api_key: str, clock: FakeClock) -> list[Row]:
    """40 messages of alice over the 10 days before now, in varied shapes."""
    accounts = await client.app[SERVICES].accounts.list()
    alice = accounts[0].id
    start = clock.now() - timedelta(days=10)
    rows = []
    for i in range(40):
        created = start + timedelta(hours=6 * i, minutes=i)
        fields = {
            "direction": "IN" if i % 10 == 9 else "OUT",
            "sender": "Shop" if i % 4 == 0 else "SMS",
            "recipient": RECIPIENTS[i % 3],
            "text": f"Your code is {1000 + i}" + (" Hello World" if i % 5 == 0 else ""),
            "nature": "MARKETING" if i % 2 else "ALERTING",
            "status": STATUSES[i % 5],
            "user_data": f"order-{i}" if i % 7 == 0 else "",
            "parts": 1 + i % 3,
        }
        message_hash = await _insert(client, alice, created_at=created, **fields)
        rows.append(Row(message_hash, created_at=created, updated_at=created, **fields))
    return rows


async def _all(rpc: Rpc, filters: Any, sort: str | None = None, limit: int = 7) -> list[str]:
    """Every match, walking the cursor."""
    seen: list[str] = []
    options: dict[str, Any] = {"limit": limit}
    if sort:
        options["sort"] = sort
    while True:
        page = await rpc("sms.search", filters, options)
        seen.extend(sms["hash"] for sms in page["data"])
        assert len(page["data"]) <= limit
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return seen
        options = {**options, "cursor": page["next_cursor"]}


async def test_no_filters_returns_everything_oldest_first(rpc: Rpc, history: list[Row]) -> None:
    page = await rpc("sms.search", None, None)
    assert page["total"] == 40 and page["offset"] == 0 and page["limit"] == 100
    assert page["has_more"] is False and page["next_cursor"] is None
    assert [sms["hash"] for sms in page["data"]] == [row.hash for row in history]
    assert page["data"][0]["date_creation"] == _wire(history[0].created_at)


@pytest.mark.parametrize(
    ("filters", "keep"),
    [
        ({"type": "IN"}, lambda r: r.direction == "IN"),
        ({"type": "OUT"}, lambda r: r.direction == "OUT"),
        ({"from": "Shop"}, lambda r: r.sender == "Shop"),
        ({"to": RECIPIENTS[1]}, lambda r: r.recipient == RECIPIENTS[1]),
        ({"text": "hello world"}, lambda r: "Hello World" in r.text),
        ({"text": "code is 101"}, lambda r: "code is 101" in r.text),
        ({"text": "%"}, lambda r: "%" in r.text),
        ({"nature": "MARKETING"}, lambda r: r.nature == "MARKETING"),
        ({"status": "FAILED"}, lambda r: r.status == "FAILED"),
        ({"status": ["FAILED", "EXPIRED"]}, lambda r: r.status in ("FAILED", "EXPIRED")),
        ({"user_data": "order-14"}, lambda r: r.user_data == "order-14"),
        (
            {"status": "RECEIVED", "to": RECIPIENTS[0]},
            lambda r: r.status == "RECEIVED" and r.recipient == RECIPIENTS[0],
        ),
    ],
)
async def test_each_filter(
    rpc: Rpc, history: list[Row], filters: dict[str, Any], keep: Any
) -> None:
    expected = [row.hash for row in history if keep(row)]
    page = await rpc("sms.search", filters, {"limit": 500})
    assert [sms["hash"] for sms in page["data"]] == expected
    assert page["total"] == len(expected)
    assert await _all(rpc, filters) == expected


async def test_hash_filter(rpc: Rpc, history: list[Row]) -> None:
    page = await rpc("sms.search", {"hash": history[5].hash}, None)
    assert [sms["hash"] for sms in page["data"]] == [history[5].hash] and page["total"] == 1


async def test_date_bounds_are_inclusive_in_both_formats(rpc: Rpc, history: list[Row]) -> None:
    low, high = history[10].created_at, history[20].created_at
    expected = [row.hash for row in history[10:21]]
    for date_from, date_to in (
        (_wire(low), _wire(high)),
        (
            low.isoformat().replace("+00:00", "Z"),
            high.astimezone(timezone(timedelta(hours=2))).isoformat(),
        ),
        # RFC 3339 allows lowercase `t` and `z`.
        (
            low.isoformat().replace("+00:00", "z").replace("T", "t"),
            high.astimezone(timezone(timedelta(hours=-3))).isoformat().replace("T", "t"),
        ),
    ):
        page = await rpc("sms.search", {"date_from": date_from, "date_to": date_to}, None)
        assert [sms["hash"] for sms in page["data"]] == expected
        assert page["total"] == len(expected)


@pytest.mark.parametrize("field", ["date_creation", "date_update", "status", "parts"])
@pytest.mark.parametrize("direction", ["asc", "desc"])
async def test_each_sort_is_total_and_pages_agree(
    rpc: Rpc, history: list[Row], field: str, direction: str
) -> None:
    key = {
        "date_creation": lambda r: r.created_at,
        "date_update": lambda r: r.updated_at,
        "status": lambda r: r.status,
        "parts": lambda r: r.parts,
    }[field]
    # Ties are broken by arrival order (history is in arrival order), in the same direction.
    ranked = sorted(enumerate(history), key=lambda item: (key(item[1]), item[0]))
    expected = [row.hash for _, row in ranked]
    if direction == "desc":
        expected.reverse()
    page = await rpc("sms.search", None, {"sort": f"{field}:{direction}", "limit": 500})
    assert [sms["hash"] for sms in page["data"]] == expected
    assert await _all(rpc, None, f"{field}:{direction}") == expected
    by_offset = []
    for offset in range(0, 40, 9):
        chunk = await rpc(
            "sms.search", None, {"sort": f"{field}:{direction}", "limit": 9, "offset": offset}
        )
        assert chunk["offset"] == offset and chunk["has_more"] == (offset + 9 < 40)
        by_offset.extend(sms["hash"] for sms in chunk["data"])
    assert by_offset == expected
    # Past the end, even beyond a 64-bit integer, is an empty page, not an error.
    for offset in (40, 2**63, 2**70):
        beyond = await rpc("sms.search", None, {"sort": f"{field}:{direction}", "offset": offset})
        assert (beyond["total"], beyond["offset"], beyond["data"]) == (40, offset, [])
        assert beyond["has_more"] is False


async def test_sort_shorthands(rpc: Rpc, history: list[Row]) -> None:
    newest_first = await rpc("sms.search", None, {"sort": "desc", "limit": 1})
    assert newest_first["data"][0]["hash"] == history[-1].hash
    by_parts = await rpc("sms.search", None, {"sort": "parts", "limit": 500})
    assert [sms["parts"] for sms in by_parts["data"]] == sorted(row.parts for row in history)


async def test_search_window_clamps_date_from(
    rpc: Rpc, history: list[Row], clock: FakeClock
) -> None:
    clock.advance(days=183 - 10 + 5)  # the first 20 messages (5 days) fall out of the window
    window_start = clock.now() - timedelta(days=183)
    expected = [row.hash for row in history if row.created_at >= window_start]
    assert 0 < len(expected) < 40
    for filters in (None, {"date_from": "2020-01-01 00:00:00"}):
        page = await rpc("sms.search", filters, {"limit": 500})
        assert [sms["hash"] for sms in page["data"]] == expected and page["total"] == len(expected)


async def test_total_counts_across_days_with_partial_edge_days(
    rpc: Rpc, history: list[Row]
) -> None:
    for low, high in itertools.combinations([0, 3, 4, 17, 22, 39], 2):
        filters = {
            "date_from": _wire(history[low].created_at),
            "date_to": _wire(history[high].created_at),
        }
        assert (await rpc("sms.search", filters, {"limit": 1}))["total"] == high - low + 1
    open_ended = {"date_from": _wire(history[13].created_at)}
    assert (await rpc("sms.search", open_ended, {"limit": 1}))["total"] == 27


async def test_cursor_walk_during_inserts_has_no_duplicate_and_no_gap(
    rpc: Rpc, post: Any, clock: FakeClock
) -> None:
    async def send_batch(tag: str, count: int) -> None:
        calls = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "sms.send",
                "params": ["SMS", RECIPIENTS[i % 3], f"{tag} {i}"],
            }
            for i in range(count)
        ]
        status, answers = await post(calls)
        assert status == 200 and all("result" in answer for answer in answers)

    for batch in range(30):
        clock.advance(seconds=1)
        await send_batch(f"before-{batch}", 100)
    before = (await rpc("sms.search", None, {"limit": 1}))["total"]
    assert before == 3000

    walked: list[str] = []
    options: dict[str, Any] = {"limit": 97}
    arrivals = 0
    while True:
        page = await rpc("sms.search", None, options)
        walked.extend(sms["hash"] for sms in page["data"])
        if arrivals < 10:  # new messages keep arriving while the walk goes on
            clock.advance(seconds=1)
            await send_batch(f"during-{arrivals}", 20)
            arrivals += 1
        if not page["has_more"]:
            break
        options = {"limit": 97, "cursor": page["next_cursor"]}
    assert len(walked) == len(set(walked)) == 3000 + 20 * arrivals
    every = await _all(rpc, None, limit=500)
    assert walked == every


async def test_accounts_see_only_their_own_messages(
    rpc: Rpc, client: Any, history: list[Row]
) -> None:
    await client.app[SERVICES].accounts.create("bob", "pw")
    as_bob = basic_auth("bob", "pw")
    assert (await rpc("sms.search", None, None, auth=as_bob))["total"] == 0
    bob_hash = await rpc("sms.send", "SMS", RECIPIENTS[0], "bob's", None, auth=as_bob)
    page = await rpc("sms.search", {"to": RECIPIENTS[0]}, None, auth=as_bob)
    assert [sms["hash"] for sms in page["data"]] == [bob_hash] and page["total"] == 1
    alice_page = await rpc("sms.search", {"hash": bob_hash}, None)
    assert alice_page["total"] == 0 and alice_page["data"] == []


@pytest.mark.parametrize(
    ("filters", "options", "message"),
    [
        (
            {"date_from": "2026-05-10 00:00:00", "date_to": "2026-05-01 00:00:00"},
            None,
            "PROPERTY_VALUE_ERROR [filters.date_to]",
        ),
        ({"date_from": "2026-05-10"}, None, "INVALID_PARAM_FORMAT [filters.date_from]"),
        ({"date_to": "2026-02-30 00:00:00"}, None, "INVALID_PARAM_FORMAT [filters.date_to]"),
        ({"date_to": "2026-05-10T00:00:00"}, None, "INVALID_PARAM_FORMAT [filters.date_to]"),
        ({"date_to": 1700000000}, None, "PROPERTY_TYPE_ERROR [filters.date_to]"),
        ({"status": "LOST"}, None, "PROPERTY_VALUE_ERROR [filters.status]"),
        ({"status": []}, None, "PROPERTY_VALUE_ERROR [filters.status]"),
        ({"status": 3}, None, "PROPERTY_TYPE_ERROR [filters.status]"),
        ({"type": "BOTH"}, None, "PROPERTY_VALUE_ERROR [filters.type]"),
        ({"text": "x" * 65}, None, "INVALID_PARAM_FORMAT [filters.text]"),
        # SQLite's LIKE would stop at the NUL and match every text with "lo".
        ({"text": "lo\x00"}, None, "INVALID_PARAM_FORMAT [filters.text]"),
        ({"hash": "abc"}, None, "INVALID_PARAM_FORMAT [filters.hash]"),
        ({"colour": "red"}, None, "PROPERTY_VALUE_ERROR [filters.colour]"),
        ("all", None, "PROPERTY_TYPE_ERROR [filters]"),
        (None, {"limit": 0}, "PROPERTY_VALUE_ERROR [options.limit]"),
        (None, {"limit": 501}, "PROPERTY_VALUE_ERROR [options.limit]"),
        (None, {"limit": "10"}, "PROPERTY_TYPE_ERROR [options.limit]"),
        (None, {"offset": -1}, "PROPERTY_VALUE_ERROR [options.offset]"),
        (None, {"sort": "price:asc"}, "PROPERTY_VALUE_ERROR [options.sort]"),
        (None, {"sort": "parts:up"}, "PROPERTY_VALUE_ERROR [options.sort]"),
        (None, {"cursor": "not-a-cursor"}, "PROPERTY_VALUE_ERROR [options.cursor]"),
    ],
)
async def test_search_errors_name_the_property(
    rpc: Rpc, api_key: str, filters: Any, options: Any, message: str
) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.search", filters, options)
    assert error.value.message == message and error.value.code == -32602


async def test_cursor_is_bound_to_its_filters_and_sort(rpc: Rpc, history: list[Row]) -> None:
    page = await rpc("sms.search", {"nature": "MARKETING"}, {"limit": 5})
    cursor = page["next_cursor"]
    assert cursor
    for filters, options in (
        ({"nature": "ALERTING"}, {"cursor": cursor}),
        (None, {"cursor": cursor}),
        ({"nature": "MARKETING"}, {"cursor": cursor, "sort": "desc"}),
        ({"nature": "MARKETING"}, {"cursor": cursor, "offset": 5}),
    ):
        with pytest.raises(RpcError) as error:
            await rpc("sms.search", filters, options)
        assert error.value.message == "PROPERTY_VALUE_ERROR [options.cursor]"
    following = await rpc("sms.search", {"nature": "MARKETING"}, {"limit": 5, "cursor": cursor})
    assert following["data"][0]["hash"] == [r.hash for r in history if r.nature == "MARKETING"][5]


async def test_get_list(rpc: Rpc, history: list[Row]) -> None:
    low, high = _wire(history[0].created_at), _wire(history[-1].created_at)
    outbound = await rpc("sms.get_list", "OUT", low, high)
    assert [sms["hash"] for sms in outbound] == [r.hash for r in history if r.direction == "OUT"]
    inbound = await rpc("sms.get_list", "IN", low, high)
    assert [sms["hash"] for sms in inbound] == [r.hash for r in history if r.direction == "IN"]
    assert inbound[0]["type"] == "IN"
    with pytest.raises(RpcError) as error:
        await rpc("sms.get_list", "OUT", high, low)
    assert error.value.message == "PROPERTY_VALUE_ERROR [to]"
    with pytest.raises(RpcError) as error:
        await rpc("sms.get_list", "ALL", low, high)
    assert error.value.message == "PROPERTY_VALUE_ERROR [type]"


async def test_get_list_refuses_a_range_over_its_limit(
    rpc: Rpc, client: Any, history: list[Row], settings: Any, monkeypatch: Any
) -> None:
    search = client.app[SERVICES].search
    monkeypatch.setattr(
        search, "_settings", settings.search.model_copy(update={"get_list_max_rows": 10})
    )
    low, high = _wire(history[0].created_at), _wire(history[-1].created_at)
    with pytest.raises(RpcError) as error:
        await rpc("sms.get_list", "OUT", low, high)
    assert error.value.message == "PROPERTY_VALUE_ERROR [to]"
    assert len(await rpc("sms.get_list", "OUT", low, _wire(history[8].created_at))) == 9


async def test_concurrent_searches_and_sends(rpc: Rpc, history: list[Row]) -> None:
    results = await asyncio.gather(
        *(rpc("sms.search", {"status": "FAILED"}, None) for _ in range(10)),
        *(rpc("sms.send", "SMS", RECIPIENTS[0], "x", None) for _ in range(10)),
    )
    assert all(r["total"] == 8 for r in results[:10])


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"to": "abc"}, "INVALID_PARAM_FORMAT [filters.to]"),
        ({"from": "!!"}, "INVALID_PARAM_FORMAT [filters.from]"),
    ],
)
async def test_number_filters_have_the_send_formats(
    rpc: Rpc, api_key: str, filters: Any, message: str
) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.search", filters, None)
    assert error.value.message == message


async def test_empty_status_list_says_so(rpc: Rpc, api_key: str) -> None:
    with pytest.raises(RpcError) as error:
        await rpc("sms.search", {"status": []}, None)
    assert error.value.data["reason"] == "must name at least one status"


async def test_totals_are_exact_at_the_window_edge_and_for_an_empty_sender(
    client: Any, rpc: Rpc, api_key: str, clock: FakeClock, settings: Any
) -> None:
    alice = (await client.app[SERVICES].accounts.list())[0].id
    window_start = clock.now() - timedelta(days=settings.search.window_days)
    # On the window's first day, just inside it; then one message of today.
    await _insert(client, alice, created_at=window_start + timedelta(milliseconds=1))
    await _insert(client, alice, created_at=clock.now())
    # date_to before the window: nothing, not the rows of the window's first day.
    before = await rpc("sms.search", {"date_to": "2020-01-01 00:00:00"}, None)
    assert (before["total"], before["data"]) == (0, [])
    # An empty sender is a filter that no stored message matches (they carry the default).
    empty_sender = await rpc("sms.search", {"from": ""}, None)
    assert (empty_sender["total"], empty_sender["data"]) == (0, [])
    assert (await rpc("sms.search", None, None))["total"] == 2


def _edited(cursor: str, value: Any = None, row_id: Any = None) -> str:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    bound_to, old_value, old_row_id = json.loads(raw)
    edited = [
        bound_to,
        old_value if value is None else value,
        old_row_id if row_id is None else row_id,
    ]
    return base64.urlsafe_b64encode(json.dumps(edited).encode()).decode().rstrip("=")


async def test_an_edited_cursor_is_refused(rpc: Rpc, history: list[Row]) -> None:
    for sort in ("date_creation:asc", "status:desc"):
        page = await rpc("sms.search", None, {"limit": 5, "sort": sort})
        cursor = page["next_cursor"]
        wrong_type = 5 if sort.startswith("status") else "zzz"
        for forged in (
            _edited(cursor, row_id=2**63),
            _edited(cursor, row_id=True),
            _edited(cursor, value=wrong_type),
            _edited(cursor, value=-(2**63) - 1) if sort.startswith("date") else cursor + "x",
        ):
            with pytest.raises(RpcError) as error:
                await rpc("sms.search", None, {"limit": 5, "sort": sort, "cursor": forged})
            assert error.value.message == "PROPERTY_VALUE_ERROR [options.cursor]"
        # The untouched cursor still walks on.
        assert (await rpc("sms.search", None, {"limit": 5, "sort": sort, "cursor": cursor}))["data"]
