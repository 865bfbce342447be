"""A cancel that lands after an export's last check, while its file is published."""

from pathlib import Path
from typing import Any

from gateway.app import open_store
from gateway.jobs.csv_export import ExportContext, run_export
from gateway.jobs.runner import JobRunner
from gateway.services.container import build_services
from gateway.services.messaging import SendOptions
from gateway.services.search import MessageFilters
from tests.helpers import FakeClock


async def test_a_job_canceled_while_its_file_is_published_leaves_no_file(
    settings: Any, tmp_path: Path
) -> None:
    clock = FakeClock()
    store = open_store(settings)
    await store.open()
    try:
        services = build_services(settings, store, clock)
        account = (await services.accounts.create("alice", "pw")).account
        await services.messaging.send(account.id, "SMS", "+33612345678", "hi", SendOptions())
        job_hash = await services.jobs.create_export(account.id, MessageFilters(), None)
        job = await store.claim_next_job(clock.now())
        assert job is not None and job.hash == job_hash
        context = ExportContext(store, settings.exports, settings.server.public_url, clock)
        # The export ran to its end and published its file; the cancel comes just after.
        outcome = await run_export(job, context)
        assert outcome is not None and outcome.file_path is not None
        assert [str(path) for path in settings.exports.directory.glob("*")] == [outcome.file_path]
        await services.jobs.cancel(account.id, job_hash)
        await JobRunner(services.jobs, context).finish(job, outcome)
        assert (await services.jobs.get(account.id, job_hash)).status == "CANCELED"
        assert list(settings.exports.directory.glob("*")) == []
    finally:
        await store.close()
