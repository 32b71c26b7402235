"""The FHIR R4 JSON a warm handoff becomes is valid R4B, carries the IG's fixed values, and
shows substance-use detail only for SUD treatment when the deployment allows it."""

from datetime import UTC, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from services.dispatch.domain import fhir_mapping as fhir
from services.dispatch.domain.referral_lifecycle import TaskStatus

AT = datetime(2026, 12, 8, 2, 30, tzinfo=UTC)


def _referral(service_type: str = "detox", **overrides: object) -> fhir.Referral:
    values: dict[str, object] = {
        "id": "h1",
        "handoff_status": "offered",
        "service_type": service_type,
        "incident_code": "4821",
        "priority": 1,
        "flags": ("overdose", "naloxone", "children_present"),
        "authored_on": AT,
        "last_updated": AT,
        "performer_id": fhir.organization_id("Denver CARES"),
        "performer_name": "Denver CARES",
        "task_statuses": ("requested",),
    }
    return fhir.Referral(**{**values, **overrides})  # type: ignore[arg-type]


@pytest.mark.parametrize("status", list(TaskStatus))
def test_a_task_in_every_status_is_valid_r4b(status: TaskStatus) -> None:
    resource = fhir.task(
        fhir.ReferralTask(
            id="t1",
            referral_id="h1",
            status=status.value,
            status_reason="no beds tonight" if status == TaskStatus.REJECTED else None,
            incident_code="4821",
            priority=2,
            service_name="Withdrawal management bed",
            owner_id=fhir.organization_id("Denver CARES"),
            owner_name="Denver CARES",
            authored_on=AT,
            last_modified=AT,
            version=3,
        )
    )
    task = Task.model_validate(resource)
    assert task.status == status.value
    assert task.intent == "order"
    assert task.priority == "urgent"
    assert task.code.coding[0].code == "fulfill"  # type: ignore[union-attr,index]
    assert task.meta.versionId == "3"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("priority", "expected"), [(1, "asap"), (2, "urgent"), (3, "routine"), (None, "routine")]
)
def test_urgency_follows_the_incidents_priority(priority: int | None, expected: str) -> None:
    referral = ServiceRequest.model_validate(fhir.service_request(_referral(priority=priority)))
    assert referral.priority == expected


def test_substance_use_detail_only_for_sud_treatment_and_only_when_allowed() -> None:
    withheld = fhir.service_request(_referral("detox"), share_substance_use=False)
    other_service = fhir.service_request(_referral("shelter_bed"), share_substance_use=True)
    shared = fhir.service_request(_referral("detox"), share_substance_use=True)
    for resource in (withheld, other_service):
        ServiceRequest.model_validate(resource)
        assert "reasonCode" not in resource
        assert "overdose" not in str(resource)
    assert ServiceRequest.model_validate(shared).reasonCode[0].text == "overdose, naloxone"  # type: ignore[index]
    assert shared["meta"]["security"][0]["code"] == "42CFRPart2"
    assert "children" not in str(shared)  # only the substance-use flags, never the others


@pytest.mark.parametrize(
    ("handoff", "tasks", "expected"),
    [
        ("offered", ("requested",), "active"),
        ("accepted", ("rejected", "accepted"), "active"),
        ("accepted", ("accepted", "completed"), "completed"),
        ("unplaced", ("rejected", "cancelled"), "revoked"),
    ],
)
def test_the_service_request_status_follows_its_tasks(
    handoff: str, tasks: tuple[str, ...], expected: str
) -> None:
    resource = fhir.service_request(_referral(handoff_status=handoff, task_statuses=tasks))
    assert ServiceRequest.model_validate(resource).status == expected


def test_search_bundles_and_operation_outcomes_are_valid_r4b() -> None:
    referral = fhir.service_request(_referral())
    bundle = Bundle.model_validate(fhir.searchset("http://x/fhir/r4", "http://x/q", [referral]))
    assert bundle.total == 1
    assert bundle.entry[0].fullUrl == "http://x/fhir/r4/ServiceRequest/h1"  # type: ignore[index]
    for status in (400, 401, 403, 404, 409, 412, 415, 422, 500):
        outcome = OperationOutcome.model_validate(fhir.operation_outcome(status, "why", "Task.x"))
        assert outcome.issue[0].severity == "error"
