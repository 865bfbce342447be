"""The SQLite store on a real file: group commit, isolation of failures, reopen."""

import asyncio
import dataclasses
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from gateway.store import sqlite_messages
from gateway.store.base import NewMessage, StatusChange
from gateway.store.checkpointer import WRITER_CHECKPOINT_PAGES
from gateway.store.ids import HASH_ALPHABET, new_hashes
from gateway.store.sqlite import SqliteStore

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def _store(path: Path) -> SqliteStore:
    return SqliteStore(path, durability="NORMAL", reader_connections=2, max_write_batch=512)


def _message(account_id: int, text: str) -> NewMessage:
    return NewMessage(
        account_id=account_id,
        direction="OUT",
        sender="SMS",
        recipient="+33612345678",
        text=text,
        options=None,
        encoding="GSM",
        parts=1,
        nature="ALERTING",
        user_data="",
        status="PENDING",
        cost=Decimal("0.0650"),
        currency="EUR",
        country="FR",
        created_at=NOW,
        status_history=(StatusChange("", "CREATED", NOW), StatusChange("CREATED", "PENDING", NOW)),
        expires_at=None,
    )


@pytest.fixture
async def store(tmp_path: Path) -> SqliteStore:
    store = _store(tmp_path / "store.db")
    await store.open()
    yield store  # type: ignore[misc]
    await store.close()


async def test_concurrent_writes_share_transactions(store: SqliteStore) -> None:
    account = await store.create_account("a", "scrypt$x", b"k" * 32, NOW)
    before = store.write_transactions
    hashes = await asyncio.gather(
        *(store.insert_message(_message(account.id, f"m{i}"), None) for i in range(300))
    )
    assert len(set(hashes)) == 300
    assert store.write_transactions - before < 30  # grouped, not one transaction per send
    for index in (0, 150, 299):
        stored = await store.get_message(account.id, hashes[index])
        assert stored is not None and stored.text == f"m{index}"
        assert stored.created_at == NOW and stored.status_history[1].at == NOW


async def test_a_failing_write_does_not_fail_its_neighbours(store: SqliteStore) -> None:
    account = await store.create_account("a", "scrypt$x", b"k" * 32, NOW)
    bad = dataclasses.replace(_message(account.id, "bad"), encoding="EBCDIC")  # violates a CHECK
    results = await asyncio.gather(
        store.insert_message(_message(account.id, "good-1"), None),
        store.insert_message(bad, None),
        store.insert_message(_message(account.id, "good-2"), None),
        return_exceptions=True,
    )
    assert isinstance(results[1], Exception)
    for good in (results[0], results[2]):
        assert isinstance(good, str) and await store.get_message(account.id, good) is not None
    rows = await store._read("SELECT COUNT(*) FROM messages", ())
    assert rows[0][0] == 2


async def test_committed_messages_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "reopen.db"
    first = _store(path)
    await first.open()
    account = await first.create_account("a", "scrypt$x", b"k" * 32, NOW)
    message_hash = await first.insert_message(_message(account.id, "kept"), None)
    await first.close()
    second = _store(path)
    await second.open()  # migrations already applied: opening again changes nothing
    try:
        stored = await second.get_message(account.id, message_hash)
        assert stored is not None and stored.text == "kept" and stored.cost == Decimal("0.0650")
        assert await second.get_message(account.id + 1, message_hash) is None
    finally:
        await second.close()


@pytest.mark.parametrize(("durability", "level"), [("NORMAL", 1), ("FULL", 2)])
async def test_durability_mode_sets_synchronous(
    tmp_path: Path, durability: str, level: int
) -> None:
    store = SqliteStore(
        tmp_path / "d.db", durability=durability, reader_connections=1, max_write_batch=8
    )
    await store.open()
    try:
        assert (await store._read("PRAGMA synchronous", ()))[0][0] == level
        assert (await store._read("PRAGMA journal_mode", ()))[0][0] == "wal"
        assert (await store._read("PRAGMA foreign_keys", ()))[0][0] == 1
    finally:
        await store.close()


def test_new_hashes_are_uniform_ids() -> None:
    hashes = new_hashes(5000)
    assert all(len(h) == 8 and set(h) <= set(HASH_ALPHABET) for h in hashes)
    assert len(set(hashes)) == 5000
    counts = {c: 0 for c in HASH_ALPHABET}
    for h in hashes:
        for c in h:
            counts[c] += 1
    expected = 5000 * 8 / 36
    assert all(abs(n - expected) < 0.2 * expected for n in counts.values())


async def test_a_taken_hash_is_drawn_again(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await store.create_account("a", "scrypt$x", b"k" * 32, NOW)
    first = await store.insert_message(_message(account.id, "first"), None)
    draws = iter([[first], ["NEWHASH1"]])
    monkeypatch.setattr(sqlite_messages, "new_hashes", lambda count: next(draws))
    second = await store.insert_message(_message(account.id, "second"), None)
    assert second == "NEWHASH1"
    stored = await store.get_message(account.id, first)
    assert stored is not None and stored.text == "first"


async def test_a_taken_hash_in_a_group_commit_is_drawn_again_for_its_row_only(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await store.create_account("a", "scrypt$x", b"k" * 32, NOW)
    taken = await store.insert_message(_message(account.id, "taken"), None)
    draws = iter([["FRESH001", taken, "FRESH003"], ["FRESH002"]])
    monkeypatch.setattr(sqlite_messages, "new_hashes", lambda count: next(draws))
    hashes = await asyncio.gather(
        *(store.insert_message(_message(account.id, f"m{i}"), None) for i in range(1, 4))
    )
    assert hashes == ["FRESH001", "FRESH002", "FRESH003"]
    for message_hash, text in zip(hashes, ["m1", "m2", "m3"], strict=True):
        stored = await store.get_message(account.id, message_hash)
        assert stored is not None and stored.text == text
    kept = await store.get_message(account.id, taken)
    assert kept is not None and kept.text == "taken"


async def test_committed_rows_reach_the_database_file_without_the_writer_checkpointing(
    tmp_path: Path,
) -> None:
    """The checkpointer thread copies the log into the main file; a few hundred rows are
    far from the writer's own threshold."""
    path = tmp_path / "store.db"
    store = _store(path)
    await store.open()
    try:
        account = await store.create_account("a", "scrypt$x", b"k" * 32, NOW)
        await asyncio.gather(
            *(store.insert_message(_message(account.id, f"m{i}"), None) for i in range(300))
        )
        copy = tmp_path / "main-file-only.db"
        for _ in range(200):
            # The main file alone, without its -wal: only what a checkpoint has copied.
            # A copy taken while a checkpoint writes may be torn, or predate the tables.
            copy.write_bytes(path.read_bytes())
            connection = sqlite3.connect(copy)
            try:
                (count,) = connection.execute("SELECT COUNT(*) FROM messages").fetchone()
            except sqlite3.DatabaseError:
                count = -1
            finally:
                connection.close()
            copy.unlink()
            if count == 300:
                break
            await asyncio.sleep(0.02)
        assert count == 300
        log_bytes = (path.parent / "store.db-wal").stat().st_size
        assert 0 < log_bytes < WRITER_CHECKPOINT_PAGES * 4096 / 2  # never the writer's turn
    finally:
        await store.close()
