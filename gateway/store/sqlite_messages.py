"""Messages in SQLite: group-committed inserts, lookups, searches and counts."""

import asyncio
import json
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.store import search_sql
from gateway.store.base import (
    STATUS_RANKS,
    ExportFile,
    IdempotencyKey,
    Keyset,
    Message,
    MessageEvents,
    NewMessage,
    OutboxEvent,
    SearchCriteria,
    SortOrder,
    StatusChange,
    StatusTransition,
)
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.export_process import ExportSpec
from gateway.store.group_commit import fetch_all
from gateway.store.ids import new_hashes
from gateway.store.sqlite_base import SqliteBase
from gateway.store.sqlite_outbox import insert_events

_MESSAGE_COLUMNS = (
    "hash, account_id, direction, sender, recipient, text, options, encoding, parts, nature, "
    "user_data, status, status_error, cost, currency, country, created_at_ms, updated_at_ms, "
    "sent_at_ms, received_at_ms, status_history, expires_at_ms"
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
        expires_at=from_ms(row[21]) if row[21] is not None else None,
        row_id=row[22],
    )


# What an idempotency key already answered within its window: read before a send's checks, and
# again in the writer's transaction, where concurrent first calls are settled.
_KEPT_HASH = (
    "SELECT message_hash FROM idempotency_keys "
    "WHERE account_id = ? AND key = ? AND created_at_ms >= ?"
)
_KEPT_BATCH_ANSWER = (
    "SELECT answer FROM batch_answers WHERE account_id = ? AND key = ? AND created_at_ms >= ?"
)


def _key_params(account_id: int, idempotency: IdempotencyKey) -> tuple[int, str, int]:
    return account_id, idempotency.key, to_ms(idempotency.not_before)


def _insert_messages(
    connection: sqlite3.Connection,
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
            fetch_all(connection, _KEPT_HASH, _key_params(message.account_id, idempotency))
        )
        if known:
            answers[index] = known[0][0]
        else:
            first_with_key[slot] = index
    repeated = {index for index, _ in repeats}
    fresh = [i for i in range(len(payloads)) if answers[i] is None and i not in repeated]
    rows = {index: _message_row(payloads[index][0]) for index in fresh}
    _insert_rows(connection, rows)
    key_rows = []
    for index in fresh:
        message, idempotency = payloads[index]
        answers[index] = rows[index][0]
        if idempotency is not None:
            key_rows.append((message.account_id, idempotency.key, rows[index][0], rows[index][16]))
    if key_rows:
        # REPLACE: a key older than the window is free to be used again.
        connection.executemany(
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
        created_ms if message.status == "RECEIVED" else None,  # an inbound SMS, received now
        _history_json(message.status_history),
        to_ms(message.expires_at) if message.expires_at is not None else None,
    ]


_ROWS_PER_INSERT = 1000  # 22 columns each, under SQLite's 32766 bound parameters


_RANK_SQL = (
    "CASE status "
    + " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STATUS_RANKS.items())
    + " END"
)


def _transitions(
    connection: sqlite3.Connection,
    payloads: Sequence[tuple[StatusTransition, MessageEvents]],
) -> list[Message | None]:
    """Batch operation: each message moves forward (never back) and queues its events."""
    moved: list[Message | None] = []
    events: list[OutboxEvent] = []
    for transition, events_for in payloads:
        at_ms = to_ms(transition.at)
        key: int | str | None
        if transition.row_id is not None:
            target, key = "id = ?", transition.row_id
        else:
            target, key = "carrier_ref = ?", transition.carrier_ref
        rows = fetch_all(
            connection,
            "UPDATE messages SET status = ?, status_error = ?, updated_at_ms = ?, "
            "sent_at_ms = CASE WHEN ? = 'SENT' THEN ? ELSE sent_at_ms END, "
            "received_at_ms = CASE WHEN ? = 'RECEIVED' THEN ? ELSE received_at_ms END, "
            "carrier_ref = COALESCE(?, carrier_ref), "
            "status_history = json_insert(status_history, '$[#]', json_object("
            "'old_status', status, 'new_status', ?, 'at_ms', ?)) "
            f"WHERE {target} AND {_RANK_SQL} < ? RETURNING {_SELECT_COLUMNS}",
            (
                transition.new_status,
                transition.error,
                at_ms,
                transition.new_status,
                at_ms,
                transition.new_status,
                at_ms,
                transition.set_carrier_ref,
                transition.new_status,
                at_ms,
                key,
                STATUS_RANKS[transition.new_status],
            ),
        )
        found = list(rows)
        message = _message_from_row(found[0]) if found else None
        if message is not None:
            events.extend(events_for(message))
        moved.append(message)
    # One insert for the whole round's events, in transition order.
    insert_events(connection, events)
    return moved


def _insert_inbound(
    connection: sqlite3.Connection, payloads: Sequence[tuple[NewMessage, MessageEvents]]
) -> list[str]:
    rows = {index: _message_row(message) for index, (message, _) in enumerate(payloads)}
    _insert_rows(connection, rows)
    hashes = []
    for index, (_, events) in enumerate(payloads):
        row = fetch_all(
            connection, f"SELECT {_SELECT_COLUMNS} FROM messages WHERE hash = ?", (rows[index][0],)
        )
        insert_events(connection, events(_message_from_row(next(iter(row)))))
        hashes.append(rows[index][0])
    return hashes


def _insert_rows(connection: sqlite3.Connection, rows: dict[int, list[Any]]) -> None:
    """Insert rows with fresh hashes; a hash already taken is drawn again for its row only.

    One multi-row INSERT per chunk. No RETURNING: the sqlite3 module gives up and takes back
    the GIL for every row it steps through, and each hand-back stalls the event loop's
    thread. A collision shows as fewer changes than rows; the rows that did go in are then
    the newest ids, as an INTEGER PRIMARY KEY without AUTOINCREMENT numbers new rows from
    the largest id upwards.
    """
    pending = list(rows.values())
    while pending:
        chunk, pending = pending[:_ROWS_PER_INSERT], pending[_ROWS_PER_INSERT:]
        for row, message_hash in zip(chunk, new_hashes(len(chunk)), strict=True):
            row[0] = message_hash
        values = ", ".join([f"({', '.join('?' * len(chunk[0]))})"] * len(chunk))
        cursor = connection.execute(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES {values} "
            "ON CONFLICT (hash) DO NOTHING",
            [value for row in chunk for value in row],
        )
        if cursor.rowcount == len(chunk):
            continue
        taken: set[str] = set()
        if cursor.rowcount > 0 and cursor.lastrowid is not None:
            inserted = fetch_all(
                connection,
                "SELECT hash FROM messages WHERE id > ?",
                (cursor.lastrowid - cursor.rowcount,),
            )
            taken = {row[0] for row in inserted}
        pending.extend(row for row in chunk if row[0] not in taken)


def _insert_batches_once(
    connection: sqlite3.Connection,
    payloads: Sequence[
        tuple[int, IdempotencyKey, Sequence[NewMessage], Callable[[list[str]], str], int]
    ],
) -> list[str]:
    """Batch operation for the writer: each keyed batch's messages and its answer in the one
    transaction, unless an answer is kept for the key (perhaps by a batch of this round)."""
    answers = []
    for account_id, idempotency, messages, answer_of, now_ms in payloads:
        kept = fetch_all(connection, _KEPT_BATCH_ANSWER, _key_params(account_id, idempotency))
        if kept:
            answers.append(kept[0][0])
            continue
        rows = {index: _message_row(message) for index, message in enumerate(messages)}
        _insert_rows(connection, rows)
        answer = answer_of([rows[index][0] for index in range(len(messages))])
        # REPLACE: a key older than the window is free to be used again.
        connection.execute(
            "INSERT OR REPLACE INTO batch_answers VALUES (?, ?, ?, ?)",
            (account_id, idempotency.key, answer, now_ms),
        )
        answers.append(answer)
    return answers


class MessageTables(SqliteBase):
    async def insert_message(self, message: NewMessage, idempotency: IdempotencyKey | None) -> str:
        result: str = await self._write(_insert_messages, (message, idempotency))
        return result

    async def hash_for_key(self, account_id: int, idempotency: IdempotencyKey) -> str | None:
        rows = await self._read_point(_KEPT_HASH, _key_params(account_id, idempotency))
        return rows[0][0] if rows else None

    async def batch_answer(self, account_id: int, idempotency: IdempotencyKey) -> str | None:
        rows = await self._read(_KEPT_BATCH_ANSWER, _key_params(account_id, idempotency))
        return rows[0][0] if rows else None

    async def insert_batch_once(
        self,
        account_id: int,
        idempotency: IdempotencyKey,
        messages: Sequence[NewMessage],
        answer_of: Callable[[list[str]], str],
        now: datetime,
    ) -> str:
        answer: str = await self._write(
            _insert_batches_once, (account_id, idempotency, messages, answer_of, to_ms(now))
        )
        return answer

    async def get_message(self, account_id: int, message_hash: str) -> Message | None:
        rows = await self._read_point(
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

    async def export_csv(
        self,
        account_id: int,
        criteria: SearchCriteria,
        part_path: Path,
        page_rows: int,
        progress: Callable[[int], Awaitable[None]],
    ) -> ExportFile:
        spec = ExportSpec(str(self._path), account_id, criteria, str(part_path), page_rows)
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.store.export_process",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert child.stdin is not None and child.stdout is not None and child.stderr is not None
        try:
            child.stdin.write(spec.to_json().encode() + b"\n")
            await child.stdin.drain()
            child.stdin.close()
            written: dict[str, Any] | None = None
            async for line in child.stdout:
                report = json.loads(line)
                if "done" in report:
                    await progress(report["done"])
                else:
                    written = report
            errors = await child.stderr.read()
            status = await child.wait()
        finally:
            if child.returncode is None:  # cancelled, or `progress` raised
                child.kill()
                await child.wait()
        if status != 0 or written is None:
            reason = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no report"]
            raise RuntimeError(f"the export process failed ({status}): {reason[0]}")
        return ExportFile(**written)

    async def insert_inbound(self, message: NewMessage, events: MessageEvents) -> str:
        message_hash: str = await self._write(_insert_inbound, (message, events))
        return message_hash

    async def pending_messages(
        self,
        limit: int,
        exclude: frozenset[int],
        exclude_accounts: frozenset[int],
        now: datetime,
    ) -> list[Message]:
        ids = ", ".join("?" * len(exclude))
        accounts = ", ".join("?" * len(exclude_accounts))
        # An expired message waits for the expiry pass (which may be behind after a pause or
        # a restart); it is never handed to the carrier.
        rows = await self._read(
            f"SELECT {_SELECT_COLUMNS} FROM messages WHERE status = 'PENDING' "
            f"AND id NOT IN ({ids}) AND account_id NOT IN ({accounts}) "
            "AND (expires_at_ms IS NULL OR expires_at_ms > ?) ORDER BY id LIMIT ?",
            (*exclude, *exclude_accounts, to_ms(now), limit),
        )
        return [_message_from_row(row) for row in rows]

    async def apply_transition(
        self, transition: StatusTransition, events: MessageEvents
    ) -> Message | None:
        message: Message | None = await self._write(_transitions, (transition, events))
        return message

    async def awaiting_receipts(self, carrier_ref_prefix: str) -> list[tuple[str, str]]:
        # Through the undelivered messages' partial index (its condition repeated, as SQLite
        # requires), not the whole table in id order.
        rows = await self._read(
            "SELECT carrier_ref, recipient FROM messages INDEXED BY messages_undelivered_expiry "
            "WHERE status IN ('PENDING', 'SENT', 'REMOTE_QUEUED') AND status <> 'PENDING' "
            "AND substr(carrier_ref, 1, ?) = ? ORDER BY id",
            (len(carrier_ref_prefix), carrier_ref_prefix),
        )
        return [(row[0], row[1]) for row in rows]

    async def expired_undelivered(self, now: datetime, limit: int) -> list[int]:
        rows = await self._read(
            "SELECT id FROM messages WHERE status IN ('PENDING', 'SENT', 'REMOTE_QUEUED') "
            "AND expires_at_ms < ? ORDER BY expires_at_ms LIMIT ?",
            (to_ms(now), limit),
        )
        return [row[0] for row in rows]
