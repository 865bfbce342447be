"""Token buckets behind the request limit and the carrier throughput limits."""

from gateway.services.throttle import TokenBucket


def test_a_rate_below_one_a_second_still_lets_one_through_then_waits() -> None:
    bucket = TokenBucket(0.5)
    assert bucket.try_take() == 0.0
    # The next token is two seconds away (give or take the microseconds this test takes).
    assert 1.99 < bucket.try_take() <= 2.0


def test_a_rate_saves_at_most_one_second_of_tokens() -> None:
    bucket = TokenBucket(3)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 0.3 < bucket.try_take() <= 1 / 3


def test_rate_zero_is_no_limit() -> None:
    bucket = TokenBucket(0)
    assert all(bucket.try_take() == 0.0 for _ in range(1000))
