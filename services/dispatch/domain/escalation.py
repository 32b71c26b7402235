"""How long an escalation policy runs before it has asked everyone it will ask."""

from datetime import timedelta

from schemas.policy import Escalation


def full_window(escalation: Escalation) -> timedelta:
    """Every step's wait, for the first pass and each repeat: when nobody has
    accepted by then, the policy has run out and only people can help."""
    per_pass = sum(step.ack_seconds for step in escalation.steps)
    return timedelta(seconds=per_pass * (escalation.repeat + 1))
