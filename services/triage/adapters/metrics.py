"""triage's own Prometheus metrics: decisions by response model and priority."""

from prometheus_client import CollectorRegistry, Counter

from schemas.triage import TriageDecision


class TriageMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "corespond_triage_decisions",
            "Calls triaged (decisions committed), by response model and priority",
            ["response_model", "priority"],
            registry=registry,
        )

    def decided(self, decision: TriageDecision) -> None:
        self.decisions.labels(decision.response_model.value, str(decision.priority)).inc()
