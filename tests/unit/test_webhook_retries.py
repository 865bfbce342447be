"""The retry schedule of webhook deliveries (pure)."""

import random
from datetime import UTC, datetime, timedelta

from gateway.config import WebhookSettings
from gateway.jobs.webhook_delivery import next_retry_at

START = datetime(2026, 1, 1, tzinfo=UTC)


def _delays(settings: WebhookSettings) -> list[float]:
    """Walk the schedule from the event until it gives up; answers each delay in seconds."""
    delays, now, attempts = [], START, 1
    while (retry := next_retry_at(settings, START, now, attempts, random.Random(7))) is not None:
        delays.append((retry - now).total_seconds())
        now, attempts = retry, attempts + 1
    return delays


def test_default_schedule_backs_off_then_retries_hourly_for_a_day() -> None:
    settings = WebhookSettings(jitter=0)
    delays = _delays(settings)
    assert delays[:7] == [5, 30, 120, 600, 1800, 3600, 3600]
    assert set(delays[6:]) == {3600}
    assert sum(delays) <= 24 * 3600 < sum(delays) + 3600
    assert len(delays) == 6 + 22  # 6,155 s of back-off, then hourly up to 24 h, then give up


def test_jitter_spreads_each_delay_within_its_bound() -> None:
    settings = WebhookSettings(jitter=0.2)
    for seed in range(50):
        retry = next_retry_at(settings, START, START, 2, random.Random(seed))
        assert retry is not None
        assert 24 <= (retry - START).total_seconds() <= 36


def test_no_retry_past_the_give_up_time() -> None:
    settings = WebhookSettings(jitter=0, give_up_after_s=100)
    assert next_retry_at(settings, START, START + timedelta(seconds=96), 1) is None
    assert next_retry_at(settings, START, START + timedelta(seconds=95), 1) is not None
