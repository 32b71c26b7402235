"""Warm handoffs as FHIR R4 JSON: the referral (ServiceRequest), each provider's Task, the
searchset Bundle and OperationOutcome — pure functions of plain facts.

Minimum necessary (HIPAA, 42 CFR Part 2): the person is a contained Patient that
carries only the incident code the provider was texted (how it recognises the person
its team is about to meet) — no name, birth date, phone, address or narrative, which
the provider learns face to face at the handoff. Substance-use detail (the reason)
appears only when the service is substance-use treatment *and* the deployment allows
it (``fhir_share_substance_use``), and is then labelled 42CFRPart2.
"""

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FHIR_JSON = "application/fhir+json"
CODE_SYSTEM = "urn:corespond:handoff-service"
INCIDENT_CODE_SYSTEM = "urn:corespond:incident-code"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# A fixed namespace so one organisation's name always gives the same id (FHIR and HSDS).
ORGANIZATION_NAMESPACE = uuid.UUID("5b0c3c4e-6f36-4a0e-9a52-7d0f8a3c2e11")

SERVICE_DISPLAY = {
    "mat_induction": "MAT / buprenorphine induction",
    "detox": "Withdrawal management (detox)",
    "crisis_stabilisation": "Crisis stabilisation",
    "shelter_bed": "Shelter bed",
    "harm_reduction": "Harm reduction",
    "family_support": "Family support",
    "post_overdose_follow_up": "Post-overdose outreach visit",
}
FOLLOW_UP_SERVICE = "post_overdose_follow_up"
SUD_SERVICES = frozenset({"mat_induction", "detox"})
SUD_FLAGS = ("overdose", "substance_use", "naloxone")
PERSON = "person"


def organization_id(name: str) -> str:
    """A provider organisation's stable id (the directory keys organisations by name)."""
    return str(uuid.uuid5(ORGANIZATION_NAMESPACE, name.strip().casefold()))


def outreach_team(jurisdiction: str) -> str:
    """The owner of a jurisdiction's follow-up visits: name a provider client's organisation so."""
    return f"Outreach team ({jurisdiction})"


def request_priority(priority: int | None) -> str:
    """DOMAIN.md's priority as FHIR request-priority: 1 life threat, 2 urgent, 3 routine."""
    return {1: "asap", 2: "urgent"}.get(priority or 3, "routine")


def instant(at: datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Referral:
    """What a ServiceRequest is made of: one warm handoff."""

    id: str
    handoff_status: str  # offered, accepted, unplaced (schemas.vocabulary.HandoffStatus)
    service_type: str
    incident_code: str
    priority: int | None
    flags: tuple[str, ...]
    authored_on: datetime
    last_updated: datetime
    performer_id: str | None
    performer_name: str | None
    task_statuses: tuple[str, ...]


@dataclass(frozen=True)
class ReferralTask:
    """What a Task is made of: the referral as one provider was asked to fulfil it."""

    id: str
    referral_id: str
    status: str
    status_reason: str | None
    incident_code: str
    priority: int | None
    service_name: str | None
    owner_id: str
    owner_name: str
    authored_on: datetime
    last_modified: datetime
    version: int


def _patient(incident_code: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": PERSON,
        "identifier": [{"system": INCIDENT_CODE_SYSTEM, "value": incident_code}],
    }


def _requester() -> dict[str, Any]:
    return {"display": "corespond dispatch"}


def _owner(owner_id: str, name: str) -> dict[str, Any]:
    return {"reference": f"Organization/{owner_id}", "display": name}


def shares_substance_use(service_type: str, flags: Iterable[str], allowed: bool) -> bool:
    return allowed and service_type in SUD_SERVICES and any(f in SUD_FLAGS for f in flags)


def service_request_status(handoff_status: str, task_statuses: Sequence[str]) -> str:
    if "completed" in task_statuses:
        return "completed"
    if handoff_status == "unplaced":
        return "revoked"
    return "active"


def service_request(r: Referral, *, share_substance_use: bool = False) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": r.id,
        "meta": {"lastUpdated": instant(r.last_updated)},
        "contained": [_patient(r.incident_code)],
        "status": service_request_status(r.handoff_status, r.task_statuses),
        "intent": "order",
        "priority": request_priority(r.priority),
        "code": {
            "coding": [
                {
                    "system": CODE_SYSTEM,
                    "code": r.service_type,
                    "display": SERVICE_DISPLAY.get(r.service_type, r.service_type),
                }
            ],
            "text": SERVICE_DISPLAY.get(r.service_type, r.service_type),
        },
        "subject": {"reference": f"#{PERSON}"},
        "authoredOn": instant(r.authored_on),
        "requester": _requester(),
    }
    if r.performer_id and r.performer_name:
        resource["performer"] = [_owner(r.performer_id, r.performer_name)]
    if shares_substance_use(r.service_type, r.flags, share_substance_use):
        found = [f.replace("_", " ") for f in SUD_FLAGS if f in r.flags]
        resource["reasonCode"] = [{"text": ", ".join(found)}]
        resource["meta"]["security"] = [
            {"system": ACT_CODE_SYSTEM, "code": "42CFRPart2", "display": "42 CFR Part2"}
        ]
    return resource


def task(t: ReferralTask) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": t.id,
        "meta": {"versionId": str(t.version), "lastUpdated": instant(t.last_modified)},
        "contained": [_patient(t.incident_code)],
        "status": t.status,
        "intent": "order",
        "priority": request_priority(t.priority),
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
        "description": t.service_name or "warm handoff",
        "focus": {"reference": f"ServiceRequest/{t.referral_id}"},
        "for": {"reference": f"#{PERSON}"},
        "authoredOn": instant(t.authored_on),
        "lastModified": instant(t.last_modified),
        "requester": _requester(),
        "owner": _owner(t.owner_id, t.owner_name),
    }
    if t.status_reason:
        resource["statusReason"] = {"text": t.status_reason}
    return resource


def searchset(base: str, self_url: str, resources: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": self_url}],
        "entry": [
            {
                "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
                "resource": r,
                "search": {"mode": "match"},
            }
            for r in resources
        ],
    }


# HTTP status → OperationOutcome issue type (R4 issue-type value set).
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    412: "conflict",
    415: "not-supported",
    422: "processing",
}


def operation_outcome(status: int, text: str, expression: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": ISSUE_TYPES.get(status, "exception"),
        "diagnostics": text,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}
