"""Group commit: one writer task drains queued writes into a single transaction per round."""

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# A batch operation runs inside an open transaction, in the writer's thread, and answers one
# result per payload, in order.
BatchOperation = Callable[[sqlite3.Connection, Sequence[Any]], Sequence[Any]]


@dataclass(slots=True)
class _Write:
    operation: BatchOperation
    payload: Any
    future: asyncio.Future[Any] = field(repr=False)


class WriterClosed(RuntimeError):
    """The writer no longer takes writes (the store is closing)."""


def fetch_all(connection: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    return connection.execute(sql, params).fetchall()


class GroupCommitWriter:
    """Owns the only write connection, on a thread of its own.

    Concurrent writers do not pay one transaction each: whatever is queued when the writer
    wakes up is applied in one transaction and answered after the commit, so throughput grows
    with concurrency while every answered write is durable. A round is one call into the
    writer's thread, statements and COMMIT together: handing each statement to a thread on
    its own (as aiosqlite does) costs more event-loop time than SQLite spends on the rows.
    """

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        *,
        max_batch: int,
        observe_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._connect = connect
        self._observe_batch = observe_batch
        self._max_batch = max_batch
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="store-writer")
        self._connection: sqlite3.Connection | None = None
        self._queue: asyncio.Queue[_Write | None] = asyncio.Queue()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0  # committed transactions, for operators and tests

    async def start(self, prepare: Callable[[sqlite3.Connection], None]) -> None:
        """Connect in the writer's thread, run `prepare` (migrations) there, start taking writes."""
        self._connection = await self._in_thread(self._connect)
        await self._in_thread(prepare, self._connection)
        self._task = asyncio.create_task(self._run(), name="store-writer")

    async def submit(self, operation: BatchOperation, payload: Any) -> Any:
        """Queue one write and wait until it is committed (or has failed)."""
        if self._closed:
            raise WriterClosed("the store is closing")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Write(operation, payload, future))
        return await future

    async def close(self) -> None:
        """Commit everything already queued, then stop."""
        if self._closed:
            return
        self._closed = True
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
        if self._connection is not None:
            await self._in_thread(self._connection.close)
            self._connection = None
        self._thread.shutdown()

    async def _in_thread(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            round_ = [first]
            while len(round_) < self._max_batch and not self._queue.empty():
                queued = self._queue.get_nowait()
                if queued is None:
                    stopping = True
                    break
                round_.append(queued)
            await self._apply(round_)

    async def _apply(self, writes: list[_Write]) -> None:
        try:
            results = await self._in_thread(
                self._transaction, [(write.operation, write.payload) for write in writes]
            )
        except Exception as exc:
            if len(writes) == 1:
                if not writes[0].future.done():
                    writes[0].future.set_exception(exc)
                return
            # One bad write must not fail its neighbours: retry each in its own transaction.
            for write in writes:
                await self._apply([write])
            return
        self.transactions += 1
        if self._observe_batch is not None:
            self._observe_batch(len(writes))
        for write, result in zip(writes, results, strict=True):
            if not write.future.done():
                write.future.set_result(result)

    def _transaction(self, writes: list[tuple[BatchOperation, Any]]) -> list[Any]:
        """In the writer's thread: every write of the round, then one COMMIT."""
        connection = self._connection
        if connection is None:
            raise WriterClosed("the store is not open")
        # The connection opens a transaction (BEGIN IMMEDIATE) implicitly at the first write
        # statement; consecutive writes of one operation run as one batch.
        results: list[Any] = []
        try:
            start = 0
            while start < len(writes):
                operation = writes[start][0]
                end = start
                while end < len(writes) and writes[end][0] is operation:
                    end += 1
                results.extend(operation(connection, [payload for _, payload in writes[start:end]]))
                start = end
            connection.commit()
        except BaseException:
            try:
                connection.rollback()
            except Exception:
                log.exception("rollback failed")
            raise
        return results
