"""Group commit: one writer task drains queued writes into a single transaction per round."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

# A batch operation runs inside an open transaction and answers one result per payload, in order.
BatchOperation = Callable[[aiosqlite.Connection, Sequence[Any]], Awaitable[Sequence[Any]]]


@dataclass(slots=True)
class _Write:
    operation: BatchOperation
    payload: Any
    future: asyncio.Future[Any] = field(repr=False)


class WriterClosed(RuntimeError):
    """The writer no longer takes writes (the store is closing)."""


class GroupCommitWriter:
    """Owns the only write connection.

    Concurrent writers do not pay one transaction each: whatever is queued when the writer
    wakes up is applied in one transaction and answered after the commit, so throughput grows
    with concurrency while every answered write is durable.
    """

    def __init__(
        self,
        connection: aiosqlite.Connection,
        *,
        max_batch: int,
        observe_batch: Callable[[int], None] | None = None,
    ) -> None:
        self._observe_batch = observe_batch
        self._connection = connection
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Write | None] = asyncio.Queue()
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0  # committed transactions, for operators and tests

    def start(self) -> None:
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
            results = await self._transaction(writes)
        except Exception as exc:
            if len(writes) == 1:
                if not writes[0].future.done():
                    writes[0].future.set_exception(exc)
                return
            # One bad write must not fail its neighbours: retry each in its own transaction.
            for write in writes:
                await self._apply([write])
            return
        for write, result in zip(writes, results, strict=True):
            if not write.future.done():
                write.future.set_result(result)

    async def _transaction(self, writes: list[_Write]) -> list[Any]:
        # The write connection opens a transaction (BEGIN IMMEDIATE) implicitly at the first
        # write statement, so a round costs the statements plus one COMMIT.
        results: list[Any] = []
        try:
            start = 0
            while start < len(writes):
                operation = writes[start].operation
                end = start
                while end < len(writes) and writes[end].operation is operation:
                    end += 1
                payloads = [write.payload for write in writes[start:end]]
                results.extend(await operation(self._connection, payloads))
                start = end
            await self._connection.commit()
            self.transactions += 1
            if self._observe_batch is not None:
                self._observe_batch(len(writes))
        except BaseException:
            try:
                await self._connection.rollback()
            except Exception:
                log.exception("rollback failed")
            raise
        return results
