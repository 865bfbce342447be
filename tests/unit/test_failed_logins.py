"""Failed-login tracking stays bounded by the failures of one window."""

import time

from gateway.services.accounts import FailedLogins


def test_failures_from_ever_new_addresses_are_forgotten_once_out_of_the_window() -> None:
    failed = FailedLogins(max_failures=5, window_s=0.05)
    for n in range(10_000):
        failed.record(f"address:10.0.{n // 256}.{n % 256}")
    time.sleep(0.06)  # every one of them is now out of the window
    failed.record("address:192.0.2.1")  # the table has outgrown its sweep size
    assert list(failed._failures) == ["address:192.0.2.1"]


def test_a_key_within_the_window_stays_blocked_through_a_sweep() -> None:
    failed = FailedLogins(max_failures=3, window_s=60)
    for _ in range(3):
        failed.record("login:alice")
    for n in range(10_001):
        failed.record(f"address:10.1.{n // 256}.{n % 256}")
    assert failed.blocked_for("login:alice") > 59
