"""Account webhook subscriptions in SQLite."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.store.base import Subscription, WebhookTarget
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.ids import new_hashes
from gateway.store.sqlite_base import SqliteBase

_COLUMNS = "hash, account_id, type, endpoint, hmac_secret, hmac_algo, created_at_ms"


def _subscription_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Subscription:
    return Subscription(
        row[0], row[1], row[2], WebhookTarget(row[3], row[4], row[5]), from_ms(row[6])
    )


def _insert(
    connection: sqlite3.Connection,
    payloads: Sequence[tuple[int, str, WebhookTarget, int]],
) -> list[str]:
    hashes = []
    for account_id, event_type, target, now_ms in payloads:
        while True:
            subscription_hash = new_hashes(1)[0]
            cursor = connection.execute(
                f"INSERT INTO webhook_subscriptions ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (hash) DO NOTHING",
                (
                    subscription_hash,
                    account_id,
                    event_type,
                    target.endpoint,
                    target.hmac_secret,
                    target.hmac_algo,
                    now_ms,
                ),
            )
            if cursor.rowcount == 1:
                break
        hashes.append(subscription_hash)
    return hashes


def _delete(connection: sqlite3.Connection, payloads: Sequence[tuple[int, str]]) -> list[bool]:
    deleted = []
    for account_id, subscription_hash in payloads:
        cursor = connection.execute(
            "DELETE FROM webhook_subscriptions WHERE account_id = ? AND hash = ?",
            (account_id, subscription_hash),
        )
        deleted.append(cursor.rowcount == 1)
    return deleted


class SubscriptionTables(SqliteBase):
    async def insert_subscription(
        self, account_id: int, event_type: str, target: WebhookTarget, now: datetime
    ) -> Subscription:
        subscription_hash: str = await self._write(
            _insert, (account_id, event_type, target, to_ms(now))
        )
        return Subscription(subscription_hash, account_id, event_type, target, now)

    async def delete_subscription(self, account_id: int, subscription_hash: str) -> bool:
        deleted: bool = await self._write(_delete, (account_id, subscription_hash))
        return deleted

    async def all_subscriptions(self) -> list[Subscription]:
        rows = await self._read(f"SELECT {_COLUMNS} FROM webhook_subscriptions ORDER BY id", ())
        return [_subscription_from_row(row) for row in rows]
