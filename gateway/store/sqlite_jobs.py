"""Background jobs in SQLite: queue, claims, progress and their ending with its webhook event."""

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from gateway.store.base import EventFactory, Job, JobOutcome, NewJob, WebhookTarget
from gateway.store.epoch_ms import from_ms, to_ms
from gateway.store.group_commit import fetch_all
from gateway.store.ids import new_hashes
from gateway.store.sqlite_base import SqliteBase
from gateway.store.sqlite_outbox import insert_events

_JOB_COLUMNS = (
    "id, hash, account_id, type, status, params, webhook, progress_done, progress_total, "
    "result, error, file_path, expires_at_ms, created_at_ms, updated_at_ms"
)


def _job_from_row(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    webhook = json.loads(row[6]) if row[6] is not None else None
    return Job(
        row_id=row[0],
        hash=row[1],
        account_id=row[2],
        type=row[3],
        status=row[4],
        params=json.loads(row[5]),
        webhook=WebhookTarget(**webhook) if webhook is not None else None,
        progress_done=row[7],
        progress_total=row[8],
        result=json.loads(row[9]) if row[9] is not None else None,
        error=row[10],
        file_path=row[11],
        expires_at=from_ms(row[12]) if row[12] is not None else None,
        created_at=from_ms(row[13]),
        updated_at=from_ms(row[14]),
    )


def _insert_jobs(connection: sqlite3.Connection, jobs: Sequence[NewJob]) -> list[str]:
    hashes = []
    for job in jobs:
        while True:
            job_hash = new_hashes(1)[0]
            cursor = connection.execute(
                "INSERT INTO jobs (hash, account_id, type, status, params, webhook, "
                "created_at_ms, updated_at_ms) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, ?) "
                "ON CONFLICT (hash) DO NOTHING",
                (
                    job_hash,
                    job.account_id,
                    job.type,
                    json.dumps(job.params),
                    json.dumps(asdict(job.webhook)) if job.webhook else None,
                    to_ms(job.created_at),
                    to_ms(job.created_at),
                ),
            )
            if cursor.rowcount == 1:
                break
        hashes.append(job_hash)
    return hashes


def _claim_next(connection: sqlite3.Connection, nows: Sequence[int]) -> list[Job | None]:
    claimed: list[Job | None] = []
    for now_ms in nows:
        rows = fetch_all(
            connection,
            "UPDATE jobs SET status = 'RUNNING', updated_at_ms = ? WHERE id = "
            "(SELECT id FROM jobs WHERE status = 'PENDING' ORDER BY id LIMIT 1) "
            f"RETURNING {_JOB_COLUMNS}",
            (now_ms,),
        )
        found = list(rows)
        claimed.append(_job_from_row(found[0]) if found else None)
    return claimed


def _requeue(connection: sqlite3.Connection, nows: Sequence[int]) -> list[int]:
    counts = []
    for now_ms in nows:
        cursor = connection.execute(
            "UPDATE jobs SET status = 'PENDING', updated_at_ms = ? WHERE status = 'RUNNING'",
            (now_ms,),
        )
        counts.append(cursor.rowcount)
    return counts


def _progress(
    connection: sqlite3.Connection, updates: Sequence[tuple[int, int, int, int]]
) -> list[None]:
    connection.executemany(
        "UPDATE jobs SET progress_done = ?, progress_total = ?, updated_at_ms = ? "
        "WHERE id = ? AND status = 'RUNNING'",
        [(done, total, now_ms, row_id) for row_id, done, total, now_ms in updates],
    )
    return [None] * len(updates)


def _finish(
    connection: sqlite3.Connection,
    payloads: Sequence[tuple[int, JobOutcome, EventFactory | None]],
) -> list[Job | None]:
    finished: list[Job | None] = []
    for row_id, outcome, event_for in payloads:
        rows = fetch_all(
            connection,
            "UPDATE jobs SET status = ?, result = ?, error = ?, file_path = ?, expires_at_ms = ?, "
            "updated_at_ms = ? WHERE id = ? AND status IN ('PENDING', 'RUNNING') "
            f"RETURNING {_JOB_COLUMNS}",
            (
                outcome.status,
                json.dumps(outcome.result) if outcome.result is not None else None,
                outcome.error,
                outcome.file_path,
                to_ms(outcome.expires_at) if outcome.expires_at is not None else None,
                to_ms(outcome.at),
                row_id,
            ),
        )
        found = list(rows)
        job = _job_from_row(found[0]) if found else None
        if job is not None and event_for is not None:
            # Same transaction as the new state: the event exists exactly when the state does.
            insert_events(connection, event_for(job))
        finished.append(job)
    return finished


def _forget_file(connection: sqlite3.Connection, row_ids: Sequence[int]) -> list[None]:
    connection.executemany(
        "UPDATE jobs SET file_path = NULL WHERE id = ?", [(row_id,) for row_id in row_ids]
    )
    return [None] * len(row_ids)


class JobTables(SqliteBase):
    async def insert_job(self, job: NewJob) -> str:
        job_hash: str = await self._write(_insert_jobs, job)
        return job_hash

    async def get_job(self, account_id: int, job_hash: str) -> Job | None:
        rows = await self._read_point(
            f"SELECT {_JOB_COLUMNS} FROM jobs WHERE hash = ? AND account_id = ?",
            (job_hash, account_id),
        )
        return _job_from_row(rows[0]) if rows else None

    async def claim_next_job(self, now: datetime) -> Job | None:
        job: Job | None = await self._write(_claim_next, to_ms(now))
        return job

    async def requeue_running_jobs(self, now: datetime) -> int:
        count: int = await self._write(_requeue, to_ms(now))
        return count

    async def job_status(self, row_id: int) -> Any:
        rows = await self._read_point("SELECT status FROM jobs WHERE id = ?", (row_id,))
        return rows[0][0] if rows else None

    async def update_job_progress(self, row_id: int, done: int, total: int, now: datetime) -> None:
        await self._write(_progress, (row_id, done, total, to_ms(now)))

    async def finish_job(
        self, row_id: int, outcome: JobOutcome, event_for: EventFactory | None
    ) -> Job | None:
        job: Job | None = await self._write(_finish, (row_id, outcome, event_for))
        return job

    async def expired_export_files(self, now: datetime) -> list[tuple[int, str]]:
        rows = await self._read(
            "SELECT id, file_path FROM jobs WHERE file_path IS NOT NULL AND expires_at_ms < ?",
            (to_ms(now),),
        )
        return [(row[0], row[1]) for row in rows]

    async def forget_export_file(self, row_id: int) -> None:
        await self._write(_forget_file, row_id)
