"""WAL checkpoints on a thread of their own, off the writer's commit path."""

import logging
import sqlite3
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

# The writer still checkpoints by itself once the log holds this many pages (8 MiB at 4 KiB
# pages). Under steady writes this thread never finds the log fully copied at a quiet moment,
# so only the writer can start the log over from its beginning; by then this thread has
# copied nearly every page, and what is left for the writer is short.
WRITER_CHECKPOINT_PAGES = 2_000


class WalCheckpointer:
    """Copies committed pages from the write-ahead log into the database file.

    Left to SQLite, the connection whose commit crosses 1,000 log pages runs the checkpoint
    inside that commit, fsyncs included: every waiter of that group commit, and every write
    queued behind it, waits for the disk. Here a separate connection runs a PASSIVE
    checkpoint (it never waits for, nor blocks, the writer or the readers) at most every
    `interval_s` while commits come in, and the writer's own threshold is raised to
    WRITER_CHECKPOINT_PAGES. An idle store costs the thread no wake-ups.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], *, interval_s: float) -> None:
        self._connect = connect
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._committed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        connection = self._connect()  # made here, used only by the thread from now on
        self._thread = threading.Thread(
            target=self._run, args=(connection,), name="store-checkpointer", daemon=True
        )
        self._thread.start()

    def note_commit(self) -> None:
        """The writer committed: there are pages to copy."""
        self._committed.set()

    def stop(self) -> None:
        """Stop after a last checkpoint; blocks until the thread has closed its connection."""
        self._stop.set()
        self._committed.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self, connection: sqlite3.Connection) -> None:
        try:
            while True:
                self._committed.wait()
                # Let the commits of the next interval join this checkpoint.
                self._stop.wait(self._interval_s)
                self._committed.clear()
                self._checkpoint(connection)
                # Read after the clear: a stop() that came just before it set `_committed`
                # too, and the clear undid that, so the next wait would never end.
                if self._stop.is_set():
                    return
        finally:
            connection.close()

    @staticmethod
    def _checkpoint(connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error:
            # A full disk or a damaged file shows on the writer's own statements and in
            # /readyz; here it only delays the next checkpoint.
            log.exception("WAL checkpoint failed")
