"""The SQLite store: migrations, one group-commit writer, a small pool of reader connections."""

import itertools
import json
import secrets
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from gateway.errors import DuplicateLogin, StoreUnavailable
from gateway.store import search_sql
from gateway.store.base import (
    Account,
    AccountCredentials,
    IdempotencyKey,
    Keyset,
    Message,
    NewMessage,
    SearchCriteria,
    SortOrder,
    StatusChange,
)
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.group_commit import GroupCommitWriter

HASH_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
HASH_LENGTH = 8
_HASH_SPACE = len(HASH_ALPHABET) ** HASH_LENGTH
_DRAW_BYTES = 6
# Draws at or above this limit are rejected, so that every hash is equally likely.
_DRAW_LIMIT = (1 << (8 * _DRAW_BYTES)) // _HASH_SPACE * _HASH_SPACE


def new_hashes(count: int) -> list[str]:
    """Random object ids: 8 characters of [A-Z0-9] (API.md `hash`), from one urandom read."""
    hashes: list[str] = []
    while len(hashes) < count:
        pool = secrets.token_bytes(_DRAW_BYTES * (count - len(hashes)))
        for start in range(0, len(pool), _DRAW_BYTES):
            draw = int.from_bytes(pool[start : start + _DRAW_BYTES])
            if draw >= _DRAW_LIMIT:
                continue
            draw %= _HASH_SPACE
            chars = []
            for _ in range(HASH_LENGTH):
                draw, digit = divmod(draw, len(HASH_ALPHABET))
                chars.append(HASH_ALPHABET[digit])
            hashes.append("".join(chars))
    return hashes


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("gateway.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


_MESSAGE_COLUMNS = (
    "hash, account_id, direction, sender, recipient, text, options, encoding, parts, nature, "
    "user_data, status, status_error, cost, currency, country, created_at_ms, updated_at_ms, "
    "sent_at_ms, received_at_ms, status_history"
)
_SELECT_COLUMNS = f"{_MESSAGE_COLUMNS}, id"


def _history_json(history: Sequence[StatusChange]) -> str:
    # Statuses are the gateway's own upper-case words, so plain formatting yields valid JSON
    # at a fraction of json.dumps' cost on the send path.
    entries = ",".join(
        f'{{"old_status":"{c.old_status}","new_status":"{c.new_status}","at_ms":{to_ms(c.at)}}}'
        for c in history
    )
    return f"[{entries}]"


def _message_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Message:
    history = tuple(
        StatusChange(item["old_status"], item["new_status"], from_ms(item["at_ms"]))
        for item in json.loads(row[20])
    )
    return Message(
        hash=row[0],
        account_id=row[1],
        direction=row[2],
        sender=row[3],
        recipient=row[4],
        text=row[5],
        options=json.loads(row[6]) if row[6] is not None else None,
        encoding=row[7],
        parts=row[8],
        nature=row[9],
        user_data=row[10],
        status=row[11],
        status_error=row[12],
        cost=Decimal(row[13]) if row[13] is not None else None,
        currency=row[14],
        country=row[15],
        created_at=from_ms(row[16]),
        updated_at=from_ms(row[17]),
        sent_at=from_ms(row[18]) if row[18] is not None else None,
        received_at=from_ms(row[19]) if row[19] is not None else None,
        status_history=history,
        row_id=row[21],
    )


async def _insert_messages(
    connection: aiosqlite.Connection,
    payloads: Sequence[tuple[NewMessage, IdempotencyKey | None]],
) -> list[str]:
    """Batch operation for the writer: every queued send in one multi-row insert."""
    answers: list[str | None] = [None] * len(payloads)
    first_with_key: dict[tuple[int, str], int] = {}
    repeats: list[tuple[int, int]] = []
    for index, (message, idempotency) in enumerate(payloads):
        if idempotency is None:
            continue
        slot = (message.account_id, idempotency.key)
        if slot in first_with_key:
            repeats.append((index, first_with_key[slot]))
            continue
        known = list(
            await connection.execute_fetchall(
                "SELECT message_hash FROM idempotency_keys "
                "WHERE account_id = ? AND key = ? AND created_at_ms >= ?",
                (message.account_id, idempotency.key, to_ms(idempotency.not_before)),
            )
        )
        if known:
            answers[index] = known[0][0]
        else:
            first_with_key[slot] = index
    repeated = {index for index, _ in repeats}
    fresh = [i for i in range(len(payloads)) if answers[i] is None and i not in repeated]
    rows = {index: _message_row(payloads[index][0]) for index in fresh}
    await _insert_rows(connection, rows)
    key_rows = []
    for index in fresh:
        message, idempotency = payloads[index]
        answers[index] = rows[index][0]
        if idempotency is not None:
            key_rows.append((message.account_id, idempotency.key, rows[index][0], rows[index][16]))
    if key_rows:
        # REPLACE: a key older than the window is free to be used again.
        await connection.executemany(
            "INSERT OR REPLACE INTO idempotency_keys VALUES (?, ?, ?, ?)", key_rows
        )
    for index, first in repeats:
        answers[index] = answers[first]
    settled = [answer for answer in answers if answer is not None]
    if len(settled) != len(payloads):
        raise RuntimeError("a queued send got no hash")
    return settled


def _message_row(message: NewMessage) -> list[Any]:
    created_ms = to_ms(message.created_at)
    return [
        "",  # the hash, drawn when the row is inserted
        message.account_id,
        message.direction,
        message.sender,
        message.recipient,
        message.text,
        json.dumps(message.options) if message.options is not None else None,
        message.encoding,
        message.parts,
        message.nature,
        message.user_data,
        message.status,
        "",
        str(message.cost) if message.cost is not None else None,
        message.currency,
        message.country,
        created_ms,
        created_ms,
        None,
        None,
        _history_json(message.status_history),
    ]


_ROWS_PER_INSERT = 1000  # 21 columns each, under SQLite's 32766 bound parameters


async def _insert_rows(connection: aiosqlite.Connection, rows: dict[int, list[Any]]) -> None:
    """Insert rows with fresh hashes; a hash already taken is drawn again for its row only.

    One multi-row INSERT ... RETURNING per round trip: the rows whose hash collided are the
    ones missing from what it returns.
    """
    pending = list(rows.values())
    while pending:
        chunk, pending = pending[:_ROWS_PER_INSERT], pending[_ROWS_PER_INSERT:]
        for row, message_hash in zip(chunk, new_hashes(len(chunk)), strict=True):
            row[0] = message_hash
        values = ", ".join([f"({', '.join('?' * len(chunk[0]))})"] * len(chunk))
        inserted = await connection.execute_fetchall(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES {values} "
            "ON CONFLICT (hash) DO NOTHING RETURNING hash",
            [value for row in chunk for value in row],
        )
        taken = {row[0] for row in inserted}
        pending.extend(row for row in chunk if row[0] not in taken)


async def _insert_account(
    connection: aiosqlite.Connection, payloads: Sequence[tuple[str, str, bytes, int]]
) -> list[int | None]:
    ids: list[int | None] = []
    for login, password_hash, token_sha256, now_ms in payloads:
        try:
            cursor = await connection.execute(
                "INSERT INTO accounts (login, password_hash, created_at_ms) VALUES (?, ?, ?)",
                (login, password_hash, now_ms),
            )
        except sqlite3.IntegrityError:
            ids.append(None)
            continue
        account_id = cursor.lastrowid
        await connection.execute(
            "INSERT INTO api_keys (account_id, name, token_sha256, created_at_ms) "
            "VALUES (?, 'default', ?, ?)",
            (account_id, token_sha256, now_ms),
        )
        ids.append(account_id)
    return ids


class SqliteStore:
    """Implements the store Protocols of `gateway.store.base` on one SQLite file."""

    def __init__(
        self, path: Path, *, durability: str, reader_connections: int, max_write_batch: int
    ) -> None:
        self._path = path
        self._durability = durability
        self._reader_count = reader_connections
        self._max_write_batch = max_write_batch
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader: itertools.cycle[aiosqlite.Connection] | None = None
        self._writer: GroupCommitWriter | None = None
        self._write_connection: aiosqlite.Connection | None = None

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._write_connection = await self._connect(isolation_level="IMMEDIATE")
        await self._write_connection.execute("PRAGMA journal_mode = WAL")
        await self._migrate(self._write_connection)
        self._writer = GroupCommitWriter(self._write_connection, max_batch=self._max_write_batch)
        self._writer.start()
        for _ in range(self._reader_count):
            reader = await self._connect()
            await reader.execute("PRAGMA query_only = ON")
            self._readers.append(reader)
        self._next_reader = itertools.cycle(self._readers)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        for connection in [*self._readers, self._write_connection]:
            if connection is not None:
                await connection.close()
        self._readers.clear()
        self._write_connection = None

    async def _connect(self, isolation_level: str | None = None) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self._path, isolation_level=isolation_level)
        await connection.execute("PRAGMA busy_timeout = 5000")
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute(f"PRAGMA synchronous = {self._durability}")
        return connection

    async def _migrate(self, connection: aiosqlite.Connection) -> None:
        rows = await connection.execute_fetchall("PRAGMA user_version")
        current = next(iter(rows))[0]
        for version, script in _migrations():
            if version <= current:
                continue
            # executescript commits on its own; the version bump rides in the same script.
            await connection.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )

    def _reader(self) -> aiosqlite.Connection:
        if self._next_reader is None:
            raise StoreUnavailable(None, "the store is not open")
        return next(self._next_reader)

    async def _write(self, operation: Any, payload: Any) -> Any:
        if self._writer is None:
            raise StoreUnavailable(None, "the store is not open")
        return await self._writer.submit(operation, payload)

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        return list(await self._reader().execute_fetchall(sql, params))

    @property
    def write_transactions(self) -> int:
        return self._writer.transactions if self._writer is not None else 0

    async def ping(self) -> None:
        await self._read("SELECT 1", ())

    async def create_account(
        self, login: str, password_hash: str, api_key_sha256: bytes, now: datetime
    ) -> Account:
        account_id = await self._write(
            _insert_account, (login, password_hash, api_key_sha256, to_ms(now))
        )
        if account_id is None:
            raise DuplicateLogin("login", "an account with this login exists")
        return Account(account_id, login, now)

    async def list_accounts(self) -> list[Account]:
        rows = await self._read("SELECT id, login, created_at_ms FROM accounts ORDER BY id", ())
        return [Account(row[0], row[1], from_ms(row[2])) for row in rows]

    async def credentials_for_login(self, login: str) -> AccountCredentials | None:
        rows = await self._read(
            "SELECT id, login, created_at_ms, password_hash FROM accounts WHERE login = ?",
            (login,),
        )
        if not rows:
            return None
        row = rows[0]
        return AccountCredentials(Account(row[0], row[1], from_ms(row[2])), row[3])

    async def account_for_api_key(self, token_sha256: bytes) -> Account | None:
        rows = await self._read(
            "SELECT a.id, a.login, a.created_at_ms FROM api_keys k "
            "JOIN accounts a ON a.id = k.account_id WHERE k.token_sha256 = ?",
            (token_sha256,),
        )
        return Account(rows[0][0], rows[0][1], from_ms(rows[0][2])) if rows else None

    async def insert_message(self, message: NewMessage, idempotency: IdempotencyKey | None) -> str:
        result: str = await self._write(_insert_messages, (message, idempotency))
        return result

    async def get_message(self, account_id: int, message_hash: str) -> Message | None:
        rows = await self._read(
            f"SELECT {_SELECT_COLUMNS} FROM messages WHERE hash = ? AND account_id = ?",
            (message_hash, account_id),
        )
        return _message_from_row(rows[0]) if rows else None

    async def search_messages(
        self,
        account_id: int,
        criteria: SearchCriteria,
        order: SortOrder,
        *,
        after: Keyset | None,
        offset: int,
        limit: int,
        few_matches: bool = False,
    ) -> list[Message]:
        sql, params = search_sql.page(
            _SELECT_COLUMNS,
            account_id,
            criteria,
            order,
            after=after,
            offset=offset,
            limit=limit,
            few_matches=few_matches,
        )
        return [_message_from_row(row) for row in await self._read(sql, tuple(params))]

    async def count_messages(self, account_id: int, criteria: SearchCriteria) -> int:
        sql, params = search_sql.count(account_id, criteria)
        rows = await self._read(sql, tuple(params))
        total: int = rows[0][0]
        return total
