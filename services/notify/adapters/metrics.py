"""notify's own Prometheus metrics: SMS handed to the provider, and what the provider reported."""

from prometheus_client import CollectorRegistry, Counter

# Outcomes of one attempt to hand a message to the SMS backend.
SENT = "sent"
RETRYING = "retrying"  # a transient failure: it is tried again later
FAILED = "failed"  # a permanent failure, or the last attempt
# The statuses a provider callback can move a message to (services/notify/app/callbacks.py).
REPORTED = ("sent", "delivered", "undelivered", "failed")


class NotifyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter(
            "corespond_sms_sends",
            "Attempts to hand an SMS to the backend, by outcome (sent, retrying, failed)",
            ["outcome"],
            registry=registry,
        )
        self.delivery_reports = Counter(
            "corespond_sms_delivery_reports",
            "Provider status callbacks that moved a message on, by new status "
            "(sent, delivered, undelivered, failed)",
            ["status"],
            registry=registry,
        )
        # Every value shown from the start, so a rate over it is 0 rather than absent
        # (and ``increase`` sees the first one).
        for outcome in (SENT, RETRYING, FAILED):
            self.sends.labels(outcome)
        for status in REPORTED:
            self.delivery_reports.labels(status)

    def send_attempted(self, outcome: str) -> None:
        self.sends.labels(outcome).inc()

    def provider_reported(self, status: str) -> None:
        self.delivery_reports.labels(status).inc()
