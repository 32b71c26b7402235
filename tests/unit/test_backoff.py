"""Every retry loop slows down, stays under its cap, and is spread by jitter."""

from services.common.retry import Backoff, step
from services.notify.domain.delivery import retry_delay


def test_steps_double_from_the_first_and_stop_at_the_cap() -> None:
    assert [step(0.2, n, 5.0) for n in range(1, 8)] == [0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0]


def test_each_delay_lies_in_the_upper_half_of_its_step() -> None:
    backoff = Backoff(first_s=0.2, cap_s=5.0)
    for n in range(1, 12):
        delay = backoff.next_delay()
        assert step(0.2, n, 5.0) / 2 <= delay <= step(0.2, n, 5.0)


def test_reset_starts_again_from_the_first_step() -> None:
    backoff = Backoff(first_s=1.0, cap_s=8.0)
    for _ in range(5):
        backoff.next_delay()
    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0


def test_replicas_failing_together_do_not_retry_together() -> None:
    # Twenty replicas failing at once: jitter spreads their first retry over half a step.
    delays = {round(Backoff(first_s=1.0, cap_s=60.0).next_delay(), 6) for _ in range(20)}
    assert len(delays) > 10


def test_sms_retries_wait_about_a_second_then_longer_up_to_a_minute() -> None:
    assert 0.5 <= retry_delay(1).total_seconds() <= 1.0
    assert 4.0 <= retry_delay(4).total_seconds() <= 8.0
    assert 30.0 <= retry_delay(20).total_seconds() <= 60.0
