"""A full database: SQLite itself reports SQLITE_FULL ("database or disk is full") on the
gateway's own write connection, and the gateway answers, reports and recovers."""

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import pytest

from gateway.app import SERVICES
from tests.helpers import Rpc, RpcError

TO = "+33612345678"
# Near a page of text each: a few sends use up whatever room the last pages had.
BODY = "disk full test " * 200


async def _on_writer(client: Any, sql: str) -> Any:
    """Run one statement on the store's write connection, in its writer thread, as one of
    its writes: the limit is a setting of that very connection."""

    def statement(connection: sqlite3.Connection, payloads: Sequence[None]) -> list[Any]:
        return [connection.execute(sql).fetchone()[0]] * len(payloads)

    return await client.app[SERVICES].store._write(statement, None)


async def _readyz(client: Any) -> tuple[int, Any]:
    async with client.get("/readyz") as response:
        return response.status, await response.json()


async def _rows(client: Any, sql: str, *params: Any) -> list[Any]:
    return [tuple(row) for row in await client.app[SERVICES].store._read(sql, params)]


def _incident_cause(records: list[logging.LogRecord], incident: str) -> BaseException | None:
    for record in records:
        if incident in record.getMessage() and record.exc_info:
            return record.exc_info[1]
    return None


async def test_a_full_database_fails_sends_cleanly_and_recovers(
    client: Any, rpc: Rpc, caplog: pytest.LogCaptureFixture
) -> None:
    assert (await _readyz(client))[0] == 200
    sent = [await rpc("sms.send", "SMS", TO, f"before {n} {BODY}", None) for n in range(3)]
    pages = await _on_writer(client, "PRAGMA page_count")
    # The file may not grow past its size now: the next page SQLite needs is SQLITE_FULL.
    assert await _on_writer(client, "PRAGMA max_page_count = 1") == pages

    failed: RpcError | None = None
    for n in range(200):  # bounded; a handful of sends fill the last pages
        options = {"idempotency_key": f"full-{n}"}
        try:
            sent.append(await rpc("sms.send", "SMS", TO, f"during {n} {BODY}", options))
        except RpcError as error:
            failed, failed_n = error, n
            break
    assert failed is not None, "the database never filled up"
    # A JSON-RPC error over HTTP 200 (the rpc fixture checks the status), with an incident id
    # that the log holds next to SQLite's own error.
    assert (failed.code, failed.message) == (-32603, "INTERNAL_ERROR")
    cause = _incident_cause(caplog.records, failed.data["incident"])
    assert isinstance(cause, sqlite3.OperationalError)
    assert cause.sqlite_errorcode == sqlite3.SQLITE_FULL
    assert "database or disk is full" not in str(failed.data)  # no driver text to the caller

    status, body = await _readyz(client)
    assert status == 503 and "the store does not take writes" in body["problems"]
    # Nothing of the failed send was committed: no message, no idempotency key, no count.
    text, key = f"during {failed_n} {BODY}", f"full-{failed_n}"
    assert await _rows(client, "SELECT hash FROM messages WHERE text = ?", text) == []
    assert await _rows(client, "SELECT key FROM idempotency_keys WHERE key = ?", key) == []
    counted = await _rows(client, "SELECT SUM(count) FROM message_day_counts")
    assert counted == [(len(sent),)] == await _rows(client, "SELECT COUNT(*) FROM messages")
    # Reads still answer.
    assert (await rpc("sms.get", sent[-1]))["hash"] == sent[-1]

    await _on_writer(client, "PRAGMA max_page_count = 1073741823")
    assert (await _readyz(client))[0] == 200
    # The same call again (same idempotency key) is sent now, once.
    retried = await rpc("sms.send", "SMS", TO, text, {"idempotency_key": key})
    assert retried not in sent
    assert await _rows(client, "SELECT hash FROM messages WHERE text = ?", text) == [(retried,)]
    more = await rpc("sms.send", "SMS", TO, "after the disk was freed", None)
    assert (await rpc("sms.get", more))["status"] == "PENDING"
