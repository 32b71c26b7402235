"""The sign-in throttle forgets old windows, stays bounded, and costs the same per attempt.

The first version kept every key it had seen (30,000 one-off keys stayed) and,
past 10,000, scanned them all on every attempt. Unknown usernames lock exactly
as real accounts do.
"""

import time
from datetime import UTC, datetime, timedelta

from services.dispatch.app.throttle import Throttle, UnknownAccounts
from services.dispatch.domain.credentials import LOCK_AFTER_FAILURES, LOCKED_FOR

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_a_key_is_limited_within_its_window_and_free_after() -> None:
    throttle = Throttle(limit=3, window=MINUTE)
    assert [throttle.allow("ip:a", T0) for _ in range(4)] == [True, True, True, False]
    assert throttle.retry_after("ip:a", T0) == 61
    assert throttle.allow("ip:b", T0)  # another key is not held up
    assert throttle.allow("ip:a", T0 + MINUTE)


def test_one_off_keys_are_forgotten_once_their_window_has_passed() -> None:
    throttle = Throttle(limit=30, window=MINUTE)
    for n in range(30_000):
        throttle.allow(f"ip:{n}", T0 + timedelta(milliseconds=n))
    assert len(throttle) <= throttle.max_keys
    throttle.allow("ip:late", T0 + timedelta(minutes=5))
    assert len(throttle) == 1


def test_the_number_of_keys_is_capped_within_a_window() -> None:
    throttle = Throttle(limit=30, window=MINUTE, max_keys=1_000)
    for n in range(5_000):
        throttle.allow(f"ip:{n}", T0)
    assert len(throttle) == 1_000
    # The busiest keys are the ones kept: a key in use is never the one evicted.
    for _ in range(29):
        throttle.allow("ip:4999", T0)
    assert not throttle.allow("ip:4999", T0)


def test_an_attempt_costs_the_same_with_many_keys_held() -> None:
    throttle = Throttle(limit=30, window=timedelta(hours=1))
    for n in range(10_000):
        throttle.allow(f"ip:{n}", T0)
    started = time.perf_counter()
    for n in range(10_000, 20_000):
        throttle.allow(f"ip:{n}", T0)
    per_attempt = (time.perf_counter() - started) / 10_000
    # A scan of 10,000 keys per attempt took milliseconds; a dictionary step takes microseconds.
    assert per_attempt < 0.0002
    assert len(throttle) == throttle.max_keys


def test_an_unknown_username_locks_as_a_real_account_does() -> None:
    unknown = UnknownAccounts()
    locks = [unknown.failed("nobody", T0) for _ in range(LOCK_AFTER_FAILURES)]
    assert locks[:-1] == [None] * (LOCK_AFTER_FAILURES - 1)
    assert locks[-1] == T0 + LOCKED_FOR
    assert unknown.locked_until("nobody", T0 + MINUTE) == T0 + LOCKED_FOR
    assert unknown.locked_until("nobody", T0 + LOCKED_FOR) is None  # then counts afresh
    assert unknown.failed("nobody", T0 + LOCKED_FOR) is None
    assert unknown.locked_until("somebody-else", T0) is None


def test_unknown_usernames_are_bounded_too() -> None:
    unknown = UnknownAccounts(max_keys=100)
    for n in range(1_000):
        unknown.failed(f"guess-{n}", T0)
    assert len(unknown) == 100
