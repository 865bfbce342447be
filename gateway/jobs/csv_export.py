"""Runs an export job: the store writes the CSV (in a process of its own), this publishes it."""

import asyncio
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from gateway.clock import Clock
from gateway.config import ExportSettings
from gateway.services.jobs import criteria_from_params
from gateway.services.wire import wire_datetime
from gateway.store.base import Job, JobOutcome, Store


class _Canceled(Exception):
    """The job was canceled while its file was being written."""


def _publish(part_path: Path, final_path: Path) -> None:
    """Give the written (and fsynced) file its final name, durably."""
    part_path.replace(final_path)
    directory = os.open(final_path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


@dataclass(frozen=True, slots=True)
class ExportContext:
    store: Store
    settings: ExportSettings
    public_url: str
    clock: Clock


def export_path(settings: ExportSettings, job: Job) -> Path:
    return settings.directory / f"{job.hash}.csv"


async def run_export(job: Job, context: ExportContext) -> JobOutcome | None:
    """Write the job's CSV; None when the job was canceled while it ran."""
    store, clock = context.store, context.clock
    criteria = criteria_from_params(job.params)
    total = await store.count_messages(job.account_id, criteria)
    await store.update_job_progress(job.row_id, 0, total, clock.now())
    final_path = export_path(context.settings, job)
    part_path = final_path.with_name(final_path.name + ".part")
    final_path.parent.mkdir(parents=True, exist_ok=True)

    async def progress(done: int) -> None:
        await store.update_job_progress(job.row_id, done, max(total, done), clock.now())
        if await store.job_status(job.row_id) == "CANCELED":
            raise _Canceled

    try:
        written = await store.export_csv(
            job.account_id, criteria, part_path, context.settings.page_rows, progress
        )
        await asyncio.to_thread(_publish, part_path, final_path)
    except _Canceled:
        part_path.unlink(missing_ok=True)
        return None
    except BaseException:
        part_path.unlink(missing_ok=True)
        raise
    now = clock.now()
    expires_at = now + timedelta(days=context.settings.expiry_days)
    return JobOutcome(
        "DONE",
        now,
        result={
            "url": f"{context.public_url.rstrip('/')}/exports/{job.hash}.csv",
            "rows": written.rows,
            "bytes": written.bytes,
            "sha256": written.sha256,
            "expires_at": wire_datetime(expires_at),
        },
        file_path=str(final_path),
        expires_at=expires_at,
    )
