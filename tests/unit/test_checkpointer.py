"""The WAL checkpointer thread stops whenever stop() comes, however it falls against its loop."""

import sqlite3
import threading
import time
from pathlib import Path

from gateway.store.checkpointer import WalCheckpointer

INTERVAL_S = 0.001


def test_stop_always_ends_the_thread(tmp_path: Path) -> None:
    # A stop() landing just as the thread's interval runs out used to be lost: the thread then
    # waited for a commit for ever, and the store's close with it. Stops are spread over the
    # interval's end, many times, each given a second.
    stuck = 0
    for attempt in range(600):
        checkpointer = WalCheckpointer(
            lambda: sqlite3.connect(tmp_path / "wal.db", check_same_thread=False),
            interval_s=INTERVAL_S,
        )
        checkpointer.start()
        checkpointer.note_commit()
        time.sleep(INTERVAL_S + (attempt % 7) * INTERVAL_S / 10)
        stopping = threading.Thread(target=checkpointer.stop, daemon=True)
        stopping.start()
        stopping.join(1)
        stuck += stopping.is_alive()
    assert stuck == 0
