"""Scoring triage against a labelled corpus: accuracy by field, and every safety miss.

A corpus line is a call intake plus ``"expected"``: the exact ``roles``, the
``priority``, ``flags`` that must be set and ``not_flags`` that must not, written
from the routing principles (not from the engine's output). A *safety miss* is a
call whose expected police, EMT or naloxone the engine left out: the one kind of
error triage must never make.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas.calls import CallIntake
from schemas.policy import PolicyBook
from schemas.vocabulary import Flag, Role
from services.triage.domain.decide import decide

SAFETY_ROLES = (Role.POLICE, Role.EMT)


@dataclass(frozen=True)
class Miss:
    call_id: str
    field: str
    expected: Any
    got: Any
    narrative: str


@dataclass
class Scores:
    calls: int = 0
    correct: dict[str, int] = field(
        default_factory=lambda: {"roles": 0, "priority": 0, "flags": 0, "not_flags": 0, "all": 0}
    )
    misses: list[Miss] = field(default_factory=list)

    @property
    def safety_misses(self) -> list[Miss]:
        return [m for m in self.misses if m.field == "safety"]

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.calls if self.calls else 0.0

    def render(self) -> str:
        rows = [f"corpus: {self.calls} calls", "field        accuracy"]
        rows += [f"  {name:<10} {100 * self.accuracy(name):6.1f}%" for name in self.correct]
        rows.append(f"safety misses (police/EMT/naloxone left out): {len(self.safety_misses)}")
        rows += [
            f"  {m.call_id}: {m.expected} missing: {m.narrative[:80]}" for m in self.safety_misses
        ]
        return "\n".join(rows)


def evaluate(lines: Iterable[str], policies: PolicyBook) -> Scores:
    scores = Scores()
    for text in lines:
        if not text.strip():
            continue
        raw: dict[str, Any] = json.loads(text)
        call_id = str(raw.pop("id"))
        expected = raw.pop("expected")
        raw.pop("why", None)
        call = CallIntake.model_validate(raw)
        decision = decide(call, policies.get(call.jurisdiction))
        roles, flags = set(decision.roles), set(decision.flags)
        want_roles = {Role(r) for r in expected["roles"]}
        checks = {
            "roles": roles == want_roles,
            "priority": decision.priority == expected["priority"],
            "flags": {Flag(f) for f in expected.get("flags", [])} <= flags,
            "not_flags": not ({Flag(f) for f in expected.get("not_flags", [])} & flags),
        }
        scores.calls += 1
        for name, ok in checks.items():
            scores.correct[name] += ok
            if not ok:
                got = {
                    "roles": sorted(roles),
                    "priority": decision.priority,
                    "flags": sorted(flags),
                    "not_flags": sorted(flags),
                }[name]
                scores.misses.append(Miss(call_id, name, expected.get(name), got, call.narrative))
        scores.correct["all"] += all(checks.values())
        needed = [r.value for r in SAFETY_ROLES if r in want_roles and r not in roles]
        if Flag.NALOXONE.value in expected.get("flags", []) and Flag.NALOXONE not in flags:
            needed.append("naloxone")
        if needed:
            scores.misses.append(Miss(call_id, "safety", needed, sorted(roles), call.narrative))
    return scores
