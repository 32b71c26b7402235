"""The P1 alert waits for a policy's whole escalation: every step, for every pass."""

from datetime import timedelta

from schemas.policy import DEFAULT_ESCALATION, Escalation, EscalationStep
from services.dispatch.domain.escalation import full_window


def test_the_default_p1_escalation_runs_thirteen_minutes() -> None:
    # 150 + 120 + 120 seconds, run twice (repeat=1).
    assert full_window(DEFAULT_ESCALATION[1]) == timedelta(seconds=780)


def test_a_single_step_without_repeat_is_its_own_wait() -> None:
    escalation = Escalation(steps=[EscalationStep(ack_seconds=60)])
    assert full_window(escalation) == timedelta(seconds=60)


def test_each_repeat_adds_a_whole_pass() -> None:
    steps = [EscalationStep(ack_seconds=30), EscalationStep(ack_seconds=90, offer_at_once=2)]
    assert full_window(Escalation(steps=steps, repeat=2)) == timedelta(seconds=3 * 120)
