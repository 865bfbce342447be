"""Writes an export's CSV: read in keyset pages, formatted and written off the event loop."""

import asyncio
import hashlib
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from gateway.clock import Clock
from gateway.config import ExportSettings
from gateway.services.jobs import criteria_from_params
from gateway.services.wire import wire_datetime
from gateway.store.base import EXPORT_HEADER, Job, JobOutcome, Keyset, Store

_LINES_PER_SLICE = 500


class CsvFile:
    """A CSV written to `<final>.part`, hashed as it goes, then fsynced and renamed into place.

    Every method blocks (file I/O, CSV formatting): call them from a worker thread.
    """

    def __init__(self, final_path: Path) -> None:
        self.final_path = final_path
        self._part_path = final_path.with_name(final_path.name + ".part")
        final_path.parent.mkdir(parents=True, exist_ok=True)
        self._file: BinaryIO = self._part_path.open("wb")
        self._sha256 = hashlib.sha256()
        self.bytes = 0
        self._write([",".join(EXPORT_HEADER)])

    def write_rows(self, rows: list[tuple[str, int, int]]) -> None:
        """Write the CSV lines of store export rows (line, created, id)."""
        # Small slices: each join and encode holds the GIL only briefly, so the event loop
        # (which shares it) keeps answering while an export is written.
        for start in range(0, len(rows), _LINES_PER_SLICE):
            self._write([row[0] for row in rows[start : start + _LINES_PER_SLICE]])

    def _write(self, lines: list[str]) -> None:
        # RFC 4180: CRLF after every record, the last one included.
        data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
        self._sha256.update(data)
        self._file.write(data)
        self.bytes += len(data)

    def finish(self) -> str:
        """Make the file durable and visible under its final name; answers its SHA-256."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._part_path.replace(self.final_path)
        directory = os.open(self.final_path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
        return self._sha256.hexdigest()

    def discard(self) -> None:
        self._file.close()
        self._part_path.unlink(missing_ok=True)


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
    # Opened here, not in a thread: a cancellation cannot then leave an orphaned open file.
    output = CsvFile(export_path(context.settings, job))
    done = 0
    page_rows = context.settings.page_rows

    def read_after(after: Keyset | None) -> "asyncio.Task[list[tuple[str, int, int]]]":
        return asyncio.create_task(store.export_page(job.account_id, criteria, after, page_rows))

    # Pipelined: SQLite reads the next page while this one is written.
    next_page = read_after(None)
    try:
        while rows := await next_page:
            next_page = read_after(Keyset(rows[-1][1], rows[-1][2]))
            await asyncio.to_thread(output.write_rows, rows)
            done += len(rows)
            await store.update_job_progress(job.row_id, done, max(total, done), clock.now())
            if await store.job_status(job.row_id) == "CANCELED":
                next_page.cancel()
                await asyncio.to_thread(output.discard)
                return None
        sha256 = await asyncio.to_thread(output.finish)
    except BaseException:
        next_page.cancel()
        await asyncio.shield(asyncio.to_thread(output.discard))
        raise
    now = clock.now()
    expires_at = now + timedelta(days=context.settings.expiry_days)
    return JobOutcome(
        "DONE",
        now,
        result={
            "url": f"{context.public_url.rstrip('/')}/exports/{job.hash}.csv",
            "rows": done,
            "bytes": output.bytes,
            "sha256": sha256,
            "expires_at": wire_datetime(expires_at),
        },
        file_path=str(output.final_path),
        expires_at=expires_at,
    )
