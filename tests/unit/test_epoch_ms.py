"""Store times: integer milliseconds survive the round trip through datetime exactly."""

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from gateway.store.epoch_ms import from_ms, to_ms


@given(st.integers(min_value=0, max_value=(1 << 53) // 1000))
def test_milliseconds_round_trip(ms: int) -> None:
    moment = from_ms(ms)
    assert moment.tzinfo is UTC and to_ms(moment) == ms


def test_known_instant() -> None:
    moment = datetime(2026, 5, 17, 6, 40, 0, 123000, tzinfo=UTC)
    assert to_ms(moment) == 1_779_000_000_123
    assert from_ms(to_ms(moment)) == moment
