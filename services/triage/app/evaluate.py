"""Scoring triage against a labelled corpus: safety misses, deflection misses, priority, flags.

A corpus line is a call intake plus ``"expected"``, written from the routing
principles (not from the engine's output), in one of two forms:

- exact: ``roles`` (the exact set), ``priority``, ``flags`` that must be set
  and ``not_flags`` that must not;
- bounds: ``must`` (roles that must be sent) and ``must_not`` (roles that must
  not), with ``priority``, ``flags`` and ``not_flags`` as above. A role the
  label leaves out of both is the engine's call (police at a bridge, say).

The figures the issue names, in the order a program reads them:

- a *safety miss* is a call that lost a responder it needs: expected police,
  EMT or clinician (telehealth counts as the clinician) absent, or expected
  naloxone not set. Triage must never make one;
- a *deflection miss* is police sent where the label says police are not needed;
- *priority exact* is the share of calls at exactly the expected priority;
- *flag recall* is the share of expected flags that were set, over all calls.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas.calls import CallIntake
from schemas.policy import PolicyBook
from schemas.triage import TriageDecision
from schemas.vocabulary import Flag, Role
from services.triage.domain.decide import decide

# The roles whose absence is a safety miss; telehealth stands in for a clinician.
SAFETY_ROLES = (Role.POLICE, Role.EMT, Role.CLINICIAN)


@dataclass(frozen=True)
class Miss:
    call_id: str
    field: str
    expected: Any
    got: Any
    narrative: str


@dataclass(frozen=True)
class Expected:
    """One call's label, in either form, with the checks it implies."""

    must: frozenset[Role]
    must_not: frozenset[Role]
    exact: frozenset[Role] | None
    priority: int
    flags: frozenset[Flag]
    not_flags: frozenset[Flag]

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> "Expected":
        flags = frozenset(Flag(f) for f in raw.get("flags", []))
        not_flags = frozenset(Flag(f) for f in raw.get("not_flags", []))
        if "roles" in raw:
            exact = frozenset(Role(r) for r in raw["roles"])
            return cls(exact, frozenset(Role) - exact, exact, raw["priority"], flags, not_flags)
        return cls(
            frozenset(Role(r) for r in raw.get("must", [])),
            frozenset(Role(r) for r in raw.get("must_not", [])),
            None,
            raw["priority"],
            flags,
            not_flags,
        )

    def roles_ok(self, roles: set[Role]) -> bool:
        if self.exact is not None:
            return roles == self.exact
        return self.must <= roles and not (self.must_not & roles)

    def safety_missing(self, roles: set[Role], flags: set[Flag]) -> list[str]:
        """What safety needs that the decision left out (empty: no safety miss)."""
        missing = []
        for role in SAFETY_ROLES:
            wanted = role in self.must or (role == Role.CLINICIAN and Role.TELEHEALTH in self.must)
            sent = role in roles or (role == Role.CLINICIAN and Role.TELEHEALTH in roles)
            if wanted and not sent:
                missing.append(role.value)
        if Flag.NALOXONE in self.flags and Flag.NALOXONE not in flags:
            missing.append("naloxone")
        return missing

    def deflection_missed(self, roles: set[Role]) -> bool:
        return Role.POLICE in self.must_not and Role.POLICE in roles


@dataclass
class Scores:
    calls: int = 0
    correct: dict[str, int] = field(
        default_factory=lambda: {"roles": 0, "priority": 0, "flags": 0, "not_flags": 0, "all": 0}
    )
    flags_expected: int = 0
    flags_found: int = 0
    misses: list[Miss] = field(default_factory=list)

    @property
    def safety_misses(self) -> list[Miss]:
        return [m for m in self.misses if m.field == "safety"]

    @property
    def deflection_misses(self) -> list[Miss]:
        return [m for m in self.misses if m.field == "deflection"]

    def accuracy(self, name: str) -> float:
        return self.correct[name] / self.calls if self.calls else 0.0

    @property
    def flag_recall(self) -> float:
        return self.flags_found / self.flags_expected if self.flags_expected else 1.0

    def add(self, call_id: str, call: CallIntake, expected: Expected, d: TriageDecision) -> None:
        roles, flags = set(d.roles), set(d.flags)
        checks = {
            "roles": expected.roles_ok(roles),
            "priority": d.priority == expected.priority,
            "flags": expected.flags <= flags,
            "not_flags": not (expected.not_flags & flags),
        }
        self.calls += 1
        self.flags_expected += len(expected.flags)
        self.flags_found += len(expected.flags & flags)
        for name, ok in checks.items():
            self.correct[name] += ok
            if not ok:
                want: Any = {
                    "roles": sorted(expected.exact or expected.must)
                    + [f"-{r.value}" for r in sorted(expected.must_not)] * (expected.exact is None),
                    "priority": expected.priority,
                    "flags": sorted(expected.flags),
                    "not_flags": sorted(expected.not_flags),
                }[name]
                got = sorted(flags) if "flags" in name else (sorted(roles), d.priority)
                self.misses.append(Miss(call_id, name, want, got, call.narrative))
        self.correct["all"] += all(checks.values())
        needed = expected.safety_missing(roles, flags)
        if needed:
            self.misses.append(Miss(call_id, "safety", needed, sorted(roles), call.narrative))
        if expected.deflection_missed(roles):
            self.misses.append(
                Miss(call_id, "deflection", "no police", sorted(roles), call.narrative)
            )

    def render(self) -> str:
        rows = [f"corpus: {self.calls} calls", "field        accuracy"]
        rows += [f"  {name:<10} {100 * self.accuracy(name):6.1f}%" for name in self.correct]
        rows.append(
            f"safety misses (police/EMT/clinician/naloxone left out): {len(self.safety_misses)}"
        )
        rows += [
            f"  {m.call_id}: {m.expected} missing: {m.narrative[:80]}" for m in self.safety_misses
        ]
        rows.append(f"deflection misses (police not needed): {len(self.deflection_misses)}")
        rows += [f"  {m.call_id}: {m.narrative[:80]}" for m in self.deflection_misses]
        rows.append(f"priority exact: {100 * self.accuracy('priority'):.1f}%")
        rows.append(f"flag recall: {100 * self.flag_recall:.1f}%")
        return "\n".join(rows)


def split_label(raw: dict[str, Any]) -> tuple[str, Expected | None, dict[str, Any]]:
    """A corpus line's id, its label (None when unlabelled) and the call intake itself."""
    call_id = str(raw.pop("id", ""))
    label = raw.pop("expected", None)
    raw.pop("why", None)
    return call_id, (Expected.parse(label) if label is not None else None), raw


def evaluate(lines: Iterable[str], policies: PolicyBook) -> Scores:
    scores = Scores()
    for text in lines:
        if not text.strip():
            continue
        call_id, expected, raw = split_label(json.loads(text))
        if expected is None:
            raise ValueError(f'{call_id}: no "expected" label')
        call = CallIntake.model_validate(raw)
        scores.add(call_id, call, expected, decide(call, policies.get(call.jurisdiction)))
    return scores
