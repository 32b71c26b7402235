"""Policy what-if: decide a file of past calls (JSON lines) and summarise how they would go.

Each line is a call intake; an optional ``"id"`` is echoed back and the line's
own ``"jurisdiction"`` is used unless the caller overrides it. A bad line is
reported with its number and skipped; the rest are still decided. A labelled
corpus line (``"expected"``, ``"why"``) replays too: the label is kept aside for
``--expect`` scoring. With a second policy (``--diff``) every call is also
decided under it, and the calls whose roles, priority or flags move are listed.
"""

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from schemas.calls import CallIntake
from schemas.policy import Policy, PolicyBook, UnknownJurisdiction
from schemas.triage import TriageDecision
from schemas.vocabulary import Role
from services.triage.app.evaluate import Expected, split_label
from services.triage.domain.decide import decide


@dataclass(frozen=True)
class Decided:
    line: int
    call_id: Any
    decision: TriageDecision
    call: CallIntake | None = None
    expected: Expected | None = None
    other: TriageDecision | None = None  # the same call under the --diff policy

    def moved(self) -> str | None:
        """How the --diff policy changes this call ("" when it does not), or None without one."""
        if self.other is None:
            return None
        before, after = self.decision, self.other
        changes = []
        if set(before.roles) != set(after.roles):
            changes.append(f"roles {_names(before.roles)} -> {_names(after.roles)}")
        if before.priority != after.priority:
            changes.append(f"P{before.priority} -> P{after.priority}")
        if set(before.flags) != set(after.flags):
            changes.append(f"flags {_names(before.flags)} -> {_names(after.flags)}")
        return "; ".join(changes)

    def as_json(self) -> str:
        d = self.decision
        return json.dumps(
            {
                "id": self.call_id,
                "response_model": d.response_model.value,
                "roles": [r.value for r in d.roles],
                "priority": d.priority,
                "flags": [f.value for f in d.flags],
                "category": d.category.value,
                "rationale": [r.model_dump() for r in d.rationale],
                "policy_version": d.policy_version,
            }
        )


@dataclass(frozen=True)
class BadLine:
    line: int
    error: str


def _names(values: Iterable[Any]) -> str:
    return "+".join(sorted(str(getattr(v, "value", v)) for v in values)) or "-"


def replay(
    lines: Iterable[str],
    policies: PolicyBook,
    jurisdiction: str | None = None,
    other: Policy | None = None,
) -> Iterator[Decided | BadLine]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise ValueError("expected a JSON object (one call intake per line)")
            call_id = raw.get("id")
            _id, expected, raw = split_label(raw)
            if jurisdiction:
                raw["jurisdiction"] = jurisdiction
            call = CallIntake.model_validate(raw)
            decision = decide(call, policies.get(call.jurisdiction))
            moved = decide(call, other) if other else None
            yield Decided(number, call_id, decision, call, expected, moved)
        except json.JSONDecodeError as exc:
            yield BadLine(number, f"not valid JSON: {exc.msg} (column {exc.colno})")
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(call)'}: {err['msg']}"
                for err in exc.errors()[:5]
            )
            yield BadLine(number, problems)
        except (ValueError, UnknownJurisdiction) as exc:
            yield BadLine(number, str(exc).strip("'\""))


@dataclass
class Summary:
    """What a program manager reads: where calls went, and how many without police."""

    calls: int = 0
    by_model: Counter[str] = field(default_factory=Counter)
    by_priority: Counter[int] = field(default_factory=Counter)
    without_police: int = 0
    with_emt: int = 0

    def add(self, decision: TriageDecision) -> None:
        self.calls += 1
        self.by_model[decision.response_model.value] += 1
        self.by_priority[decision.priority] += 1
        self.without_police += Role.POLICE not in decision.roles
        self.with_emt += Role.EMT in decision.roles

    def render(self, failed: int) -> str:
        def share(n: int) -> str:
            return f"{n:5d}  {100 * n / self.calls:5.1f}%" if self.calls else f"{n:5d}      -"

        rows = [f"calls decided: {self.calls}   bad lines: {failed}", "", "response model"]
        rows += [f"  {model:<14}{share(n)}" for model, n in sorted(self.by_model.items())]
        rows += ["", f"  {'without police':<14}{share(self.without_police)}"]
        rows += [f"  {'with EMT':<14}{share(self.with_emt)}", "", "priority"]
        rows += [f"  P{p:<13}{share(n)}" for p, n in sorted(self.by_priority.items())]
        return "\n".join(rows)
