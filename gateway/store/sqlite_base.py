"""SQLite plumbing: migrations, the group-commit writer and a pool of reader connections."""

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from gateway.errors import StoreUnavailable
from gateway.store.checkpointer import WRITER_CHECKPOINT_PAGES, WalCheckpointer
from gateway.store.group_commit import BatchOperation, GroupCommitWriter, fetch_all


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("gateway.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.read_text(encoding="utf-8")))
    return sorted(found)


# How often the checkpointer copies the log into the database file: at a few thousand sends a
# second, a few hundred pages each time.
CHECKPOINT_INTERVAL_S = 0.05


class SqliteBase:
    """Connections of one SQLite file; the table modules add their queries on top."""

    def __init__(
        self,
        path: Path,
        *,
        durability: str,
        reader_connections: int,
        max_write_batch: int,
        observe_write_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._observe_write_batch = observe_write_batch
        self._path = path
        self._durability = durability
        self._reader_count = reader_connections
        self._max_write_batch = max_write_batch
        self._readers: list[aiosqlite.Connection] = []
        self._next_reader: itertools.cycle[aiosqlite.Connection] | None = None
        self._writer: GroupCommitWriter | None = None
        self._point_reader: sqlite3.Connection | None = None
        self._checkpointer: WalCheckpointer | None = None

    async def open(self) -> None:
        """Open (creating and migrating as needed); StoreUnavailable says why it cannot."""
        try:
            await self._open()
        except (OSError, sqlite3.Error) as exc:
            await self.close()
            raise StoreUnavailable(None, f"cannot open the database {self._path}: {exc}") from exc

    async def _open(self) -> None:
        # aiosqlite logs every statement with its parameters at DEBUG: message bodies, password
        # hashes, webhook secrets. Those lines never leave the process, whatever the log level.
        logging.getLogger("aiosqlite").setLevel(logging.INFO)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = GroupCommitWriter(
            self._connect_writer, max_batch=self._max_write_batch, observe_batch=self._committed
        )
        await self._writer.start(_migrate)
        self._checkpointer = WalCheckpointer(
            lambda: self._configure(sqlite3.connect(self._path, check_same_thread=False)),
            interval_s=CHECKPOINT_INTERVAL_S,
        )
        self._checkpointer.start()
        self._point_reader = self._configure(sqlite3.connect(self._path))
        # A lookup on the event loop must never wait on a lock: rather fall back to a reader.
        self._point_reader.execute("PRAGMA busy_timeout = 0")
        self._point_reader.execute("PRAGMA query_only = ON")
        for _ in range(self._reader_count):
            reader = await self._connect()
            await reader.execute("PRAGMA query_only = ON")
            self._readers.append(reader)
        self._next_reader = itertools.cycle(self._readers)

    async def close(self) -> None:
        if self._writer is not None:
            await self._writer.close()
            self._writer = None
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)
            self._checkpointer = None
        for connection in self._readers:
            await connection.close()
        if self._point_reader is not None:
            self._point_reader.close()
            self._point_reader = None
        self._readers.clear()
        self._next_reader = None

    def _committed(self, batch_size: int) -> None:
        if self._checkpointer is not None:
            self._checkpointer.note_commit()
        if self._observe_write_batch is not None:
            self._observe_write_batch(batch_size)

    def _pragmas(self) -> list[str]:
        """Every connection's settings, whichever driver opens it."""
        return [
            "PRAGMA busy_timeout = 5000",
            "PRAGMA foreign_keys = ON",
            f"PRAGMA synchronous = {self._durability}",
        ]

    def _configure(self, connection: sqlite3.Connection) -> sqlite3.Connection:
        for pragma in self._pragmas():
            connection.execute(pragma)
        return connection

    def _connect_writer(self) -> sqlite3.Connection:
        # Called in the writer's thread, which is the only one ever to use this connection.
        connection = self._configure(sqlite3.connect(self._path, isolation_level="IMMEDIATE"))
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}")
        return connection

    async def _connect(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(self._path)
        for pragma in self._pragmas():
            await connection.execute(pragma)
        return connection

    def _reader(self) -> aiosqlite.Connection:
        if self._next_reader is None:
            raise StoreUnavailable(None, "the store is not open")
        return next(self._next_reader)

    async def _write(self, operation: BatchOperation, payload: Any) -> Any:
        if self._writer is None:
            raise StoreUnavailable(None, "the store is not open")
        return await self._writer.submit(operation, payload)

    async def _read(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        return list(await self._reader().execute_fetchall(sql, params))

    async def _read_point(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        """A lookup through a unique index, run on the event loop itself.

        It takes a few microseconds in SQLite, where a hand-over to a reader thread and back
        costs the loop several times that; WAL readers do not wait for the writer. Should the
        file be locked (a checkpoint restarting the log), the lookup goes to a reader instead.
        """
        if self._point_reader is None:
            raise StoreUnavailable(None, "the store is not open")
        try:
            return fetch_all(self._point_reader, sql, params)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            return await self._read(sql, params)

    async def queue_depths(self) -> dict[str, int]:
        """Work waiting, each counted through a partial index."""
        rows = await self._read(
            "SELECT (SELECT COUNT(*) FROM messages WHERE status = 'PENDING'), "
            "(SELECT COUNT(*) FROM webhook_outbox WHERE status = 'PENDING'), "
            "(SELECT COUNT(*) FROM jobs WHERE status IN ('PENDING', 'RUNNING'))",
            (),
        )
        dispatch, outbox, jobs = rows[0]
        return {"dispatch": dispatch, "webhook_outbox": outbox, "jobs": jobs}

    async def probe_write(self, now_ms: int) -> None:
        """Commit a one-row write: raises when the store does not take writes."""
        await self._write(_probe, now_ms)

    @property
    def write_transactions(self) -> int:
        return self._writer.transactions if self._writer is not None else 0

    async def ping(self) -> None:
        await self._read("SELECT 1", ())


def _migrate(connection: sqlite3.Connection) -> None:
    current = fetch_all(connection, "PRAGMA user_version")[0][0]
    for version, script in _migrations():
        if version <= current:
            continue
        # executescript commits on its own; the version bump rides in the same script.
        connection.executescript(
            f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
        )


# Pages the probe takes and gives back: more than any one write needs (a message row, its index
# entries, a long text's overflow pages). Rewriting the health row in place alone would still
# succeed while every new message fails with SQLITE_FULL ("database or disk is full").
_PROBE_PAGES = 16


def _probe(connection: sqlite3.Connection, nows: Sequence[int]) -> list[None]:
    page_size = fetch_all(connection, "PRAGMA page_size")[0][0]
    connection.execute(
        "INSERT OR REPLACE INTO health (id, at_ms) VALUES (1, zeroblob(?))",
        (_PROBE_PAGES * page_size,),
    )
    # The pages go back to the free list, where the next probe or message finds them.
    connection.execute("UPDATE health SET at_ms = ? WHERE id = 1", (nows[-1],))
    return [None] * len(nows)
