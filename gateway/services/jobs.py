"""Background jobs: creating exports, reading and canceling jobs, ending them with their event."""

import asyncio
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from gateway.clock import Clock
from gateway.errors import NotFound, PropertyValueError
from gateway.services.endpoints import EndpointPolicy
from gateway.services.search import MessageFilters, SearchService
from gateway.services.subscriptions import SubscriptionService
from gateway.services.webhooks import new_event
from gateway.services.wire import JobResult
from gateway.store.base import (
    FINISHED_JOB_STATUSES,
    Job,
    JobOutcome,
    JobStore,
    NewJob,
    OutboxEvent,
    SearchCriteria,
    WebhookTarget,
)
from gateway.store.epoch_ms import from_ms, to_ms

EXPORT_JOB = "sms.export"
_DATE_FIELDS = ("created_from", "created_to")


def criteria_to_params(criteria: SearchCriteria) -> dict[str, Any]:
    """The criteria as JSON for the jobs table (times as epoch milliseconds)."""
    params = asdict(criteria)
    for name in _DATE_FIELDS:
        if params[name] is not None:
            params[name] = to_ms(params[name])
    return params


def criteria_from_params(params: dict[str, Any]) -> SearchCriteria:
    values = dict(params)
    for name in _DATE_FIELDS:
        if values[name] is not None:
            values[name] = from_ms(values[name])
    values["statuses"] = tuple(values["statuses"])
    return SearchCriteria(**values)


class JobService:
    def __init__(
        self,
        store: JobStore,
        search: SearchService,
        subscriptions: SubscriptionService,
        clock: Clock,
        events_queued: asyncio.Event,
        endpoints: EndpointPolicy,
    ) -> None:
        self._endpoints = endpoints
        self._store = store
        self._search = search
        self._subscriptions = subscriptions
        self._clock = clock
        # Set after events are committed, so the webhook sender delivers them at once.
        self._events_queued = events_queued
        # Set when a job is queued, so the runner starts it without waiting for its next poll.
        self.job_queued = asyncio.Event()

    async def create_export(
        self, account_id: int, filters: MessageFilters, webhook: WebhookTarget | None
    ) -> str:
        """Queue a CSV export of the messages `sms.search` would find now; answers its hash."""
        if webhook is not None:
            await self._endpoints.check(webhook.endpoint, "webhook.endpoint")
        now = self._clock.now()
        criteria = self._search.criteria(filters)
        # The export is of what exists when it is asked for, not of what arrives while it runs.
        until = min(criteria.created_to or now, now)
        params = criteria_to_params(replace(criteria, created_to=until))
        job_hash = await self._store.insert_job(
            NewJob(account_id, EXPORT_JOB, params, webhook, now)
        )
        self.job_queued.set()
        return job_hash

    async def get(self, account_id: int, job_hash: str) -> Job:
        job = await self._store.get_job(account_id, job_hash)
        if job is None:
            raise NotFound("id")
        return job

    async def export_file(self, account_id: int, job_hash: str) -> Path:
        """The file of a done, unexpired export of this account."""
        job = await self.get(account_id, job_hash)
        # Another account's job, an unfinished job and an expired file all look the same.
        if (
            job.status != "DONE"
            or job.file_path is None
            or (job.expires_at is not None and job.expires_at <= self._clock.now())
        ):
            raise NotFound("id")
        return Path(job.file_path)

    async def cancel(self, account_id: int, job_hash: str) -> None:
        """Stop a pending or running job; canceling a canceled job again is harmless."""
        job = await self.get(account_id, job_hash)
        if job.status not in FINISHED_JOB_STATUSES:
            ended = await self.finish(job, JobOutcome("CANCELED", self._clock.now()))
            if ended is not None:
                return
            job = await self.get(account_id, job_hash)  # it ended on its own meanwhile
        if job.status != "CANCELED":
            raise PropertyValueError("id", "the job has already ended")

    async def finish(self, job: Job, outcome: JobOutcome) -> Job | None:
        """End the job and queue its `job.status_update` events in one transaction."""
        ended = await self._store.finish_job(job.row_id, outcome, self._status_events)
        if ended is not None:
            self._events_queued.set()
        return ended

    def _status_events(self, job: Job) -> list[OutboxEvent]:
        """To the webhook given with the job, and to the account's subscriptions."""
        targets: list[tuple[WebhookTarget, str | None]] = []
        if job.webhook is not None:
            targets.append((job.webhook, None))
        for subscription in self._subscriptions.targets(job.account_id, "job.status_update"):
            targets.append((subscription.target, subscription.hash))
        data = JobResult.of(job).model_dump()
        now = self._clock.now()
        return [
            new_event(job.account_id, target, "job.status_update", data, hook_hash=hook, now=now)
            for target, hook in targets
        ]
