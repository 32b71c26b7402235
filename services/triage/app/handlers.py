"""call.received → decide → store the decision and announce call.triaged, in one transaction."""

import logging
from collections.abc import Callable
from functools import partial

from schemas.calls import CallIntake
from schemas.envelope import CloudEvent, EventType
from schemas.events import CallReceived, CallTriaged
from schemas.policy import PolicyBook, UnknownJurisdiction
from schemas.triage import RationaleItem, TriageDecision
from services.common.consumer import Handler
from services.common.outbox import UnitOfWork
from services.triage.adapters.decisions import Decisions
from services.triage.domain.decide import decide

log = logging.getLogger(__name__)


def make_handlers(
    policies: PolicyBook, decided: Callable[[TriageDecision], None] | None = None
) -> dict[str, Handler]:
    """``decided`` hears of each decision once it is committed (the metrics count it)."""

    async def on_call_received(uow: UnitOfWork, event: CloudEvent, data: CallReceived) -> None:
        decisions = Decisions(uow.session)
        if await decisions.exists(data.incident_id):
            # A second call.received for the same incident (a re-submission, not a
            # redelivery — those the inbox stops): the first decision stands.
            log.info("triage.already_decided")
            return
        call = CallIntake(
            narrative=data.narrative,
            answers=data.answers,
            location=data.location,
            source=data.source,
            jurisdiction=data.jurisdiction,
        )
        try:
            policy = policies.get(data.jurisdiction)
        except UnknownJurisdiction:
            # A call is never left undecided: decide under the default policy and
            # say so, rather than dead-letter someone in crisis.
            policy = policies.get("default")
            log.warning("triage.unknown_jurisdiction", extra={"jurisdiction": data.jurisdiction})
        decision = decide(call, policy)
        if policy.jurisdiction != data.jurisdiction:
            decision.rationale.append(
                RationaleItem(
                    rule="policy.fallback",
                    reason=f"no policy for jurisdiction {data.jurisdiction!r}: "
                    "decided under default",
                    evidence=[f"jurisdiction={data.jurisdiction}"],
                )
            )
        now = uow.clock.now()
        decisions.add(data.incident_id, event.id, now, decision)
        uow.emit(
            EventType.CALL_TRIAGED,
            data.incident_id,
            CallTriaged(incident_id=data.incident_id, decided_at=now, decision=decision),
        )
        if decided is not None:
            uow.on_committed(partial(decided, decision))
        log.info(
            "triage.decided",
            extra={"model": decision.response_model.value, "priority": decision.priority},
        )

    return {EventType.CALL_RECEIVED: on_call_received}
