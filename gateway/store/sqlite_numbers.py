"""Numbers and approved senders in SQLite."""

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.store.base import Keyset, NumberFilters, OwnedNumber
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.group_commit import fetch_all
from gateway.store.sqlite_base import SqliteBase

_COLUMNS = "id, number, account_id, sms_enabled, label, created_at_ms, updated_at_ms"


def _number_from_row(row: sqlite3.Row | tuple[Any, ...]) -> OwnedNumber:
    return OwnedNumber(
        row[0], row[1], row[2], bool(row[3]), row[4], from_ms(row[5]), from_ms(row[6])
    )


def _where(account_id: int, filters: NumberFilters) -> tuple[str, list[Any]]:
    clauses: list[str] = ["account_id = ?"]
    params: list[Any] = [account_id]
    if filters.sms_enabled is not None:
        clauses.append("sms_enabled = ?")
        params.append(int(filters.sms_enabled))
    if filters.prefix:
        # A prefix of digits and `+` only (validated), so the range needs no escaping.
        clauses.append("number >= ? AND number < ?")
        params.extend([filters.prefix, filters.prefix + ":"])
    if filters.created_from is not None:
        clauses.append("created_at_ms >= ?")
        params.append(to_ms(filters.created_from))
    if filters.created_to is not None:
        clauses.append("created_at_ms <= ?")
        params.append(to_ms(filters.created_to))
    return " AND ".join(clauses), params


def _insert(
    connection: sqlite3.Connection, payloads: Sequence[tuple[int, str, bool, str, int]]
) -> list[OwnedNumber | None]:
    inserted: list[OwnedNumber | None] = []
    for account_id, number, sms_enabled, label, now_ms in payloads:
        rows = list(
            fetch_all(
                connection,
                "INSERT INTO numbers (number, account_id, sms_enabled, label, created_at_ms, "
                "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING "
                f"RETURNING {_COLUMNS}",
                (number, account_id, int(sms_enabled), label, now_ms, now_ms),
            )
        )
        inserted.append(_number_from_row(rows[0]) if rows else None)
    return inserted


def _changes(
    connection: sqlite3.Connection, statements: Sequence[tuple[str, tuple[Any, ...]]]
) -> list[int]:
    counts = []
    for sql, params in statements:
        cursor = connection.execute(sql, params)
        counts.append(cursor.rowcount)
    return counts


class NumberTables(SqliteBase):
    async def insert_number(
        self, account_id: int, number: str, sms_enabled: bool, label: str, now: datetime
    ) -> OwnedNumber | None:
        inserted: OwnedNumber | None = await self._write(
            _insert, (account_id, number, sms_enabled, label, to_ms(now))
        )
        return inserted

    async def number(self, number: str) -> OwnedNumber | None:
        rows = await self._read_point(f"SELECT {_COLUMNS} FROM numbers WHERE number = ?", (number,))
        return _number_from_row(rows[0]) if rows else None

    async def delete_number(self, account_id: int, number: str) -> bool:
        sql = "DELETE FROM numbers WHERE account_id = ? AND number = ?"
        deleted: int = await self._write(_changes, (sql, (account_id, number)))
        return deleted == 1

    async def set_number_sms(
        self, account_id: int, number: str, enabled: bool, now: datetime
    ) -> bool:
        sql = (
            "UPDATE numbers SET sms_enabled = ?, updated_at_ms = ? "
            "WHERE account_id = ? AND number = ?"
        )
        changed: int = await self._write(
            _changes, (sql, (int(enabled), to_ms(now), account_id, number))
        )
        return changed == 1

    async def count_numbers(self, account_id: int, filters: NumberFilters) -> int:
        condition, params = _where(account_id, filters)
        rows = await self._read(f"SELECT COUNT(*) FROM numbers WHERE {condition}", tuple(params))
        total: int = rows[0][0]
        return total

    async def search_numbers(
        self,
        account_id: int,
        filters: NumberFilters,
        *,
        by_number: bool,
        descending: bool,
        after: Keyset | None,
        offset: int,
        limit: int,
    ) -> list[OwnedNumber]:
        condition, params = _where(account_id, filters)
        column = "number" if by_number else "created_at_ms"
        direction = "DESC" if descending else "ASC"
        if after is not None:
            condition += f" AND ({column}, id) {'<' if descending else '>'} (?, ?)"
            params.extend([after.value, after.row_id])
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM numbers WHERE {condition} "
            f"ORDER BY {column} {direction}, id {direction} LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_number_from_row(row) for row in rows]

    async def approved_senders(self, account_id: int) -> frozenset[str]:
        rows = await self._read(
            "SELECT sender FROM approved_senders WHERE account_id = ?", (account_id,)
        )
        return frozenset(row[0] for row in rows)

    async def approve_sender(self, account_id: int, sender: str, approved: bool) -> None:
        if approved:
            sql = "INSERT OR IGNORE INTO approved_senders VALUES (?, ?)"
        else:
            sql = "DELETE FROM approved_senders WHERE account_id = ? AND sender = ?"
        await self._write(_changes, (sql, (account_id, sender)))
