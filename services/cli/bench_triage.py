"""The triage engine alone, in process: decisions per second and time per decision.

No broker, no database, no HTTP: ``decide(call, policy)`` on a mix of calls
(every category, negation, slang, Spanish, both shipped policies), timed one
decision at a time with a monotonic nanosecond clock.
"""

import time
from dataclasses import dataclass

from schemas.calls import CallIntake
from services.cli.sample_calls import ENGINE_EXTRA_CALLS, SAMPLE_CALLS
from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.domain.decide import decide

MIX = [*SAMPLE_CALLS, *ENGINE_EXTRA_CALLS]


@dataclass(frozen=True)
class EngineFigures:
    decisions: int
    total_s: float
    per_decision_us: list[float]

    def report(self) -> str:
        ordered = sorted(self.per_decision_us)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

        return (
            f"triage engine (in process, {len(MIX)} kinds of call, both shipped policies)\n"
            f"  {'decisions/s':<34} {self.decisions / self.total_s:9.0f}\n"
            f"  {'time per decision':<34} p50 {pct(50):6.1f} us   p99 {pct(99):6.1f} us"
            f"   max {ordered[-1]:6.1f} us   (n={self.decisions})"
        )


def measure_engine(decisions: int = 20_000) -> EngineFigures:
    book = load_policy_dir(DEFAULT_POLICY_DIR)
    calls = [CallIntake.model_validate(c) for c in MIX]
    policies = [book.get(c.jurisdiction) for c in calls]
    for call, policy in zip(calls, policies, strict=True):  # warm up
        decide(call, policy)
    timings: list[float] = []
    clock = time.perf_counter_ns
    started = clock()
    for i in range(decisions):
        k = i % len(calls)
        t0 = clock()
        decide(calls[k], policies[k])
        timings.append((clock() - t0) / 1000)
    return EngineFigures(decisions, (clock() - started) / 1e9, timings)
