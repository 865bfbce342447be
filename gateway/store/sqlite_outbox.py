"""The webhook outbox in SQLite: events to deliver, due deliveries, and every attempt made."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.store.base import DeliveryAttempt, OutboxEvent, PendingDelivery, WebhookTarget
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.sqlite_base import SqliteBase


def insert_events(connection: sqlite3.Connection, events: Sequence[OutboxEvent]) -> None:
    """Queue events inside the caller's transaction; they are due at once."""
    connection.executemany(
        "INSERT INTO webhook_outbox (event_id, account_id, endpoint, hmac_secret, hmac_algo, body, "
        "status, next_attempt_at_ms, created_at_ms, ordering_key) "
        "VALUES (?, ?, ?, ?, ?, ?, 'PENDING', ?, ?, ?)",
        [
            (
                event.event_id,
                event.account_id,
                event.target.endpoint,
                event.target.hmac_secret,
                event.target.hmac_algo,
                event.body,
                to_ms(event.created_at),
                to_ms(event.created_at),
                event.ordering_key,
            )
            for event in events
        ],
    )


def _insert_events(
    connection: sqlite3.Connection, batches: Sequence[Sequence[OutboxEvent]]
) -> list[None]:
    insert_events(connection, [event for batch in batches for event in batch])
    return [None] * len(batches)


def _record_attempts(
    connection: sqlite3.Connection, attempts: Sequence[DeliveryAttempt]
) -> list[None]:
    connection.executemany(
        "INSERT INTO webhook_attempts (outbox_id, attempt, at_ms, status_code, error, duration_ms) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (a.outbox_id, a.attempt, to_ms(a.at), a.status_code, a.error, a.duration_ms)
            for a in attempts
        ],
    )
    connection.executemany(
        "UPDATE webhook_outbox SET attempts = ?, status = ?, next_attempt_at_ms = ?, "
        "finished_at_ms = ? WHERE id = ?",
        [
            (
                a.attempt,
                "DELIVERED" if a.delivered else "PENDING" if a.next_attempt_at else "FAILED",
                to_ms(a.next_attempt_at) if a.next_attempt_at else to_ms(a.at),
                None if a.next_attempt_at else to_ms(a.at),
                a.outbox_id,
            )
            for a in attempts
        ],
    )
    return [None] * len(attempts)


def _delivery_from_row(row: sqlite3.Row | tuple[Any, ...]) -> PendingDelivery:
    return PendingDelivery(
        outbox_id=row[0],
        event_id=row[1],
        target=WebhookTarget(row[2], row[3], row[4]),
        body=bytes(row[5]),
        attempts=row[6],
        created_at=from_ms(row[7]),
    )


# The distinct endpoints with pending events, one index probe each (a loose index scan).
_ENDPOINTS_WITH_PENDING_EVENTS = (
    "WITH RECURSIVE pending(endpoint) AS ("
    "SELECT MIN(endpoint) FROM webhook_outbox WHERE status = 'PENDING' "
    "UNION ALL SELECT (SELECT MIN(endpoint) FROM webhook_outbox "
    "WHERE status = 'PENDING' AND endpoint > pending.endpoint) "
    "FROM pending WHERE endpoint IS NOT NULL) "
    "SELECT endpoint FROM pending WHERE endpoint IS NOT NULL"
)


class OutboxTables(SqliteBase):
    async def enqueue_events(self, events: Sequence[OutboxEvent]) -> None:
        await self._write(_insert_events, events)

    async def due_deliveries(
        self,
        now: datetime,
        limit: int,
        exclude: frozenset[int],
        exclude_endpoints: frozenset[str],
    ) -> list[PendingDelivery]:
        # Endpoint by endpoint, each through its own index range: many events for one stuck
        # or saturated endpoint never hide the others, nor cost a scan to step over.
        endpoints = [
            row[0]
            for row in await self._read(_ENDPOINTS_WITH_PENDING_EVENTS, ())
            if row[0] not in exclude_endpoints
        ]
        ids = ", ".join("?" * len(exclude))
        due: list[Any] = []
        for endpoint in endpoints:
            due += await self._read(
                "SELECT id, event_id, endpoint, hmac_secret, hmac_algo, body, attempts, "
                "created_at_ms, next_attempt_at_ms FROM webhook_outbox AS event "
                "WHERE status = 'PENDING' AND endpoint = ? AND next_attempt_at_ms <= ? "
                f"AND id NOT IN ({ids}) "
                # An event waits while an earlier one with its ordering key is undelivered.
                "AND (ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_outbox AS "
                "earlier WHERE earlier.ordering_key = event.ordering_key "
                "AND earlier.endpoint = event.endpoint AND earlier.status = 'PENDING' "
                "AND earlier.id < event.id)) "
                "ORDER BY next_attempt_at_ms LIMIT ?",
                (endpoint, to_ms(now), *exclude, limit),
            )
        due.sort(key=lambda row: row[8])  # oldest due first, across endpoints
        return [_delivery_from_row(row) for row in due[:limit]]

    async def next_delivery_at(self) -> datetime | None:
        rows = await self._read(
            "SELECT MIN(next_attempt_at_ms) FROM webhook_outbox WHERE status = 'PENDING'", ()
        )
        return from_ms(rows[0][0]) if rows and rows[0][0] is not None else None

    async def record_attempt(self, attempt: DeliveryAttempt) -> None:
        await self._write(_record_attempts, attempt)

    async def delivery_attempts(self, event_id: str) -> list[DeliveryAttempt]:
        rows = await self._read(
            "SELECT a.outbox_id, a.attempt, a.at_ms, a.status_code, a.error, a.duration_ms, "
            "o.status FROM webhook_attempts a JOIN webhook_outbox o ON o.id = a.outbox_id "
            "WHERE o.event_id = ? ORDER BY a.attempt",
            (event_id,),
        )
        return [
            DeliveryAttempt(
                outbox_id=row[0],
                attempt=row[1],
                at=from_ms(row[2]),
                status_code=row[3],
                error=row[4],
                duration_ms=row[5],
                delivered=row[3] is not None and 200 <= row[3] < 300,
                next_attempt_at=None,
            )
            for row in rows
        ]
