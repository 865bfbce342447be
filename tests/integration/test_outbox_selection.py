"""The webhook outbox hands out due events endpoint by endpoint, through an index."""

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.store.base import OutboxEvent, WebhookTarget
from gateway.store.sqlite import SqliteStore
from gateway.store.sqlite_outbox import _ENDPOINTS_WITH_PENDING_EVENTS

NOW = datetime(2026, 3, 1, tzinfo=UTC)
BUSY, QUIET = "http://127.0.0.1:9/busy", "http://127.0.0.1:9/quiet"


def _event(number: int, endpoint: str, ordering_key: str | None = None) -> OutboxEvent:
    return OutboxEvent(
        event_id=f"event-{endpoint[-5:]}-{number}",
        account_id=1,
        target=WebhookTarget(endpoint, None, "SHA256"),
        body=b"{}",
        created_at=NOW + timedelta(milliseconds=number),
        ordering_key=ordering_key,
    )


async def _store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(
        tmp_path / "outbox.db", durability="NORMAL", reader_connections=1, max_write_batch=512
    )
    await store.open()
    await store.create_account("a", "scrypt$x", b"k" * 32, NOW)
    return store


async def test_a_saturated_endpoint_does_not_hide_another(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        await store.enqueue_events([_event(i, BUSY) for i in range(500)])
        await store.enqueue_events([_event(1000 + i, QUIET) for i in range(3)])
        later = NOW + timedelta(minutes=1)
        due = await store.due_deliveries(later, 10, frozenset(), frozenset({BUSY}))
        assert [d.event_id for d in due] == [f"event-quiet-{1000 + i}" for i in range(3)]
        # Without the exclusion: oldest first across endpoints, at most `limit`.
        due = await store.due_deliveries(later, 4, frozenset(), frozenset())
        assert [d.event_id for d in due] == [f"event-/busy-{i}" for i in range(4)]
        # Events in flight are skipped; the next ones come instead.
        in_flight = frozenset(d.outbox_id for d in due)
        due = await store.due_deliveries(later, 2, in_flight, frozenset())
        assert [d.event_id for d in due] == ["event-/busy-4", "event-/busy-5"]
        # Not due yet: nothing.
        assert (
            await store.due_deliveries(NOW - timedelta(seconds=1), 10, frozenset(), frozenset())
            == []
        )
    finally:
        await store.close()


async def test_an_event_waits_for_an_earlier_one_with_its_ordering_key(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        await store.enqueue_events(
            [_event(1, QUIET, "m1"), _event(2, QUIET, "m1"), _event(3, QUIET, "m2")]
        )
        due = await store.due_deliveries(NOW + timedelta(minutes=1), 10, frozenset(), frozenset())
        assert [d.event_id for d in due] == ["event-quiet-1", "event-quiet-3"]
    finally:
        await store.close()


def _plan(database: Path, sql: str, params: list[object]) -> str:
    with sqlite3.connect(database) as connection:
        return " | ".join(row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params))


async def test_endpoint_lookups_use_the_endpoint_index(tmp_path: Path) -> None:
    store = await _store(tmp_path / "plan")
    await store.close()
    plan = _plan(tmp_path / "plan" / "outbox.db", _ENDPOINTS_WITH_PENDING_EVENTS, [])
    assert "webhook_outbox_endpoint_due" in plan and "SCAN webhook_outbox" not in plan
