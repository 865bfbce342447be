"""The job runner: claims queued jobs with bounded concurrency and deletes expired exports."""

import asyncio
import logging
import secrets
from pathlib import Path

from gateway.jobs.csv_export import ExportContext, run_export
from gateway.services.jobs import JobService
from gateway.store.base import Job, JobOutcome

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, jobs: JobService, context: ExportContext) -> None:
        self._jobs = jobs
        self._context = context
        self._settings = context.settings
        self._running: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        store, clock = self._context.store, self._context.clock
        taken_back = await store.requeue_running_jobs(clock.now())
        if taken_back:
            log.info("took back %d job(s) left running by a stopped process", taken_back)
        while not self._stopping.is_set():
            self._jobs.job_queued.clear()
            try:
                await self._delete_expired_files()
                while len(self._running) < self._settings.max_concurrent_jobs:
                    job = await store.claim_next_job(clock.now())
                    if job is None:
                        break
                    task = asyncio.create_task(self._run(job), name=f"job-{job.hash}")
                    self._running.add(task)
                    task.add_done_callback(self._running.discard)
            except Exception:
                # The store may fail for a while (disk full, file locked): retry at the next poll.
                log.exception("job runner could not claim work")
            await self._wait_for_work()

    def stop(self) -> None:
        """Claim nothing more and interrupt running jobs: they run again after a restart."""
        self._stopping.set()
        for task in self._running:
            task.cancel()

    async def wait_stopped(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _wait_for_work(self) -> None:
        waiters = [
            asyncio.create_task(self._jobs.job_queued.wait()),
            asyncio.create_task(self._stopping.wait()),
            *self._running,
        ]
        await asyncio.wait(
            waiters,
            timeout=self._settings.poll_interval_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        for waiter in waiters[:2]:
            waiter.cancel()

    async def _run(self, job: Job) -> None:
        try:
            outcome = await run_export(job, self._context)
        except Exception:
            incident = secrets.token_hex(8)
            log.exception("incident %s: export %s failed", incident, job.hash)
            now = self._context.clock.now()
            outcome = JobOutcome("ERROR", now, error=f"export failed (incident {incident})")
        if outcome is not None:
            await self.finish(job, outcome)

    async def finish(self, job: Job, outcome: JobOutcome) -> None:
        """Record how the job ended; if it was canceled meanwhile (after its last check, while
        its file was published), that file is removed: nobody may download it."""
        try:
            ended = await self._jobs.finish(job, outcome)
        except Exception:
            # Left RUNNING: the next start takes it back and runs it again.
            log.exception("could not record the end of job %s", job.hash)
            return
        if ended is None and outcome.file_path is not None:
            await asyncio.to_thread(Path(outcome.file_path).unlink, missing_ok=True)

    async def _delete_expired_files(self) -> None:
        store = self._context.store
        for row_id, path in await store.expired_export_files(self._context.clock.now()):
            await asyncio.to_thread(Path(path).unlink, missing_ok=True)
            await store.forget_export_file(row_id)
