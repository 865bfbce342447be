"""Token buckets: the throughput limits of the dispatcher and the per-account request limit."""

import time


class TokenBucket:
    """`rate` tokens a second, at most one second's worth saved up (and never less than one
    token: below one a second, a whole token could never be saved); rate 0 means no limit."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity
        self._at = time.monotonic()

    def _refill(self) -> None:
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now

    def has_token(self) -> bool:
        if self.rate == 0:
            return True
        self._refill()
        return self._tokens >= 1

    def take(self) -> None:
        if self.rate:
            self._tokens -= 1

    def seconds_to_token(self) -> float:
        if self.rate == 0:
            return 0.0
        self._refill()
        return max(0.0, (1 - self._tokens) / self.rate)

    def try_take(self) -> float:
        """Take a token if there is one (answers 0), else answer the seconds until there is."""
        if self.has_token():
            self.take()
            return 0.0
        return self.seconds_to_token()
