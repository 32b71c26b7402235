"""NENA Emergency Incident Data Object (EIDO, NENA-STA-021) and its conveyance messages (STA-024).

Written from the public JSON schema (``NENA911/EIDO-JSON`` ``Schema/openapi.yaml``, version
1.0.0) for the subset corespond reads and writes; nothing of it is copied in. Names follow the
wire format (camelCase; ``$id``/``$ref`` links): the Python attributes are their snake_case.

What is checked here, on the way in and on the way out:

- the required fields of the root (``$id``, ``lastUpdateTimeStamp``,
  ``updatedByAgencyReference``, ``eidoVersion`` "1.0", ``issuingElementIdentification``,
  ``agencyComponent``) and of each component corespond uses (an incident's
  ``incidentTypeCommonRegistryText``, an emergency resource's
  ``primaryUnitStatusRegistryText``, a note's ``notesActionComments``, ...);
- enumerations the schema closes (``eidoVersion``, a call's ``direction``);
- every ``{"$ref": ...}`` anywhere in the document names a ``$id`` the document holds
  (``dangling_references``; the API answers 422 naming the path of the first bad one).

Components and fields outside the subset (additional data, vehicles, cautions, extensions)
are kept as they came (``extra="allow"``), so a document read and written again loses
nothing. Sizes are bounded: a document is at most ``MAX_COMPONENTS`` of each kind.
"""

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic.alias_generators import to_camel

from schemas.text import MULTI_LINE, ONE_LINE

EIDO_MEDIA_TYPE = "application/emergency.eido+json"
MAX_COMPONENTS = 200

Id = Annotated[str, StringConstraints(min_length=1, max_length=255), ONE_LINE]
RegistryText = Annotated[str, StringConstraints(min_length=1, max_length=255), ONE_LINE]
# PIDF-LO documents and HTML5 notes: several lines are legitimate; size is bounded.
LongText = Annotated[str, StringConstraints(max_length=20000), MULTI_LINE]
Texts = Annotated[list[RegistryText], Field(max_length=50)]


def _not_a_number(value: Any) -> Any:
    # Pydantic's lax mode reads 0 as 1970-01-01: the schema says an RFC 3339 string.
    if isinstance(value, int | float):
        raise ValueError("a date-time is an RFC 3339 string, not a number")
    return value


# Naive times are allowed: the NENA samples carry some without an offset (read as UTC).
Timestamp = Annotated[datetime, BeforeValidator(_not_a_number)]


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class Reference(_Wire):
    """A link to another component by its ``$id``."""

    model_config = ConfigDict(extra="forbid")

    ref: Id = Field(alias="$ref")


References = Annotated[list[Reference], Field(max_length=MAX_COMPONENTS)]


class Prologue(_Wire):
    """What every data component starts with."""

    id: Id = Field(alias="$id")
    last_update_time_stamp: Timestamp
    updated_by_agency_reference: Reference
    updated_by_agent_reference: Reference | None = None


class Agency(Prologue):
    agency_role_description_registry_text: Texts = Field(default_factory=list)
    agency_type: Texts = Field(default_factory=list)
    incident_owning_agency_indicator: bool | None = None


class Agent(Prologue):
    agent_role_registry_text: Texts = Field(default_factory=list)
    agency_reference: Reference | None = None
    agent_workstation_position_identification: RegistryText | None = None


class Notes(Prologue):
    notes_action_comments: LongText
    agent_reference: Reference | None = None


class Disposition(Prologue):
    disposition_common_registry_code: RegistryText
    disposition_primary_indicator: bool | None = None
    disposition_category_text: RegistryText | None = None
    disposition_description_text: RegistryText | None = None


class Incident(Prologue):
    incident_type_common_registry_text: RegistryText
    incident_type_internal_code: RegistryText | None = None
    incident_type_internal_text: RegistryText | None = None
    incident_status_common_registry_text: Texts | None = None
    internal_incident_id: Id | None = None
    incident_common_priority_number: int | None = None
    location_reference: References | None = None
    person_reference: References | None = None
    notes_reference: References | None = None
    disposition_component: Annotated[list[Disposition], Field(max_length=20)] | None = None


class Call(Prologue):
    call_state_registry_text: RegistryText
    standard_primary_call_type: RegistryText
    direction: Literal["incoming", "outgoing", "internal"]
    call_start_timestamp: Timestamp
    answer_date: Timestamp | None = None
    call_back_reference: Reference | None = None
    location_reference: References | None = None
    person_reference: References | None = None
    notes_reference: References | None = None
    agent_reference: References | None = None


class Callback(Prologue):
    call_back_information_uri: Texts | None = None


class Location(Prologue):
    location_type_description_registry_text: RegistryText
    location_by_value: LongText | None = None
    location_by_reference_url: (
        Annotated[str, StringConstraints(max_length=2000), ONE_LINE] | None
    ) = None
    location_description_text: (
        Annotated[str, StringConstraints(max_length=2000), MULTI_LINE] | None
    ) = None


class Person(Prologue):
    person_incident_role_registry_text: Texts
    call_identifier: Texts | None = None
    call_back_reference: Reference | None = None
    location_reference: References | None = None


class EmergencyResource(Prologue):
    primary_unit_status_registry_text: RegistryText
    emergency_resource_type_common_registry_text: RegistryText | None = None
    emergency_resource_name: RegistryText | None = None
    resource_attribute_registry_text: Texts | None = None
    secondary_unit_status_registry_text: Texts | None = None
    unit_status_internal: Texts | None = None
    agent_reference: References | None = None
    eta: Timestamp | None = None


class Dispatch(Prologue):
    agency_reference: Reference | None = None
    emergency_resource_reference: References | None = None
    notes_reference: References | None = None


class EidoDocument(Prologue):
    """One EIDO: an incident's state as an agency or functional element issues it."""

    eido_version: Literal["1.0"]
    issuing_element_identification: RegistryText
    agency_component: Annotated[list[Agency], Field(min_length=1, max_length=MAX_COMPONENTS)]
    incident_component: Incident | None = None
    call_component: Annotated[list[Call], Field(max_length=MAX_COMPONENTS)] | None = None
    callback_component: Annotated[list[Callback], Field(max_length=MAX_COMPONENTS)] | None = None
    dispatch_component: Annotated[list[Dispatch], Field(max_length=MAX_COMPONENTS)] | None = None
    emergency_resource_component: (
        Annotated[list[EmergencyResource], Field(max_length=MAX_COMPONENTS)] | None
    ) = None
    notes_component: Annotated[list[Notes], Field(max_length=MAX_COMPONENTS)] | None = None
    location_component: Annotated[list[Location], Field(max_length=MAX_COMPONENTS)] | None = None
    person_component: Annotated[list[Person], Field(max_length=MAX_COMPONENTS)] | None = None
    agent_component: Annotated[list[Agent], Field(max_length=MAX_COMPONENTS)] | None = None

    def wire(self) -> dict[str, Any]:
        """The JSON form: wire names, no empty optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _walk(node: Any, path: tuple[str | int, ...]) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, (*path, index))


def duplicate_ids(document: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every ``$id`` a component before it already has: (JSON path, id). Links need one each."""
    seen: set[str] = set()
    twice = []
    for path, node in _walk(document, ()):
        if isinstance(node, dict) and isinstance(node.get("$id"), str):
            if node["$id"] in seen:
                twice.append(((*path, "$id"), node["$id"]))
            seen.add(node["$id"])
    return twice


def dangling_references(document: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every ``{"$ref": x}`` whose ``x`` is no ``$id`` in ``document``: (JSON path, target)."""
    ids = {
        node["$id"] for _, node in _walk(document, ()) if isinstance(node, dict) and "$id" in node
    }
    return [
        ((*path, "$ref"), node["$ref"])
        for path, node in _walk(document, ())
        if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in ids
    ]


# --- Conveyance (NENA-STA-024.1a): the WebSocket subscribe / notify messages ----------------


class _Message(BaseModel):
    model_config = ConfigDict(extra="allow")


class Subscribe(_Message):
    requestId: Id
    requestType: Literal["EIDO"]
    requestSubType: Literal["new", "single"] = "new"
    incidentId: Id | None = None
    requestAccepts: str | None = None
    minRate: int | None = Field(default=None, ge=0)
    requestExpires: int | None = Field(default=None, ge=1)


class Unsubscribe(_Message):
    requestId: Id | None = None
    subscriptionId: Id


class EventResponse(_Message):
    transactionId: Id
    statusCode: int
    statusText: str | None = None


class TerminateResponse(_Message):
    requestId: Id | None = None
    subscriptionId: Id | None = None
    statusCode: int | None = None


class SubscriberMessage(BaseModel):
    """What a subscriber may send: exactly one of these keys."""

    model_config = ConfigDict(extra="forbid")

    subscribe: Subscribe | None = None
    unsubscribe: Unsubscribe | None = None
    eventResponse: EventResponse | None = None
    terminateResponse: TerminateResponse | None = None


class SubscribeResponse(_Message):
    requestId: Id
    statusCode: int
    statusText: str | None = None
    subscriptionId: Id | None = None
    expires: int | None = None


class Event(_Message):
    subscriptionId: Id
    transactionId: Id
    # Each EIDO is validated on its own (EidoDocument), so one bad document is named by its
    # index and does not hide the others.
    notification: list[dict[str, Any]]


class UnsubscribeResponse(_Message):
    subscriptionId: Id
    statusCode: int
    statusText: str | None = None


class Terminate(_Message):
    requestId: Id | None = None
    subscriptionId: Id | None = None
    reason: str | None = None


class NotifierMessage(BaseModel):
    """What a notifier (the EIDO service subscribed to) may send: exactly one of these keys."""

    model_config = ConfigDict(extra="forbid")

    subscribeResponse: SubscribeResponse | None = None
    event: Event | None = None
    unsubscribeResponse: UnsubscribeResponse | None = None
    terminate: Terminate | None = None


def subscribe_message(request_id: str) -> dict[str, Any]:
    """A subscription to every incident the notifier will tell of (``requestSubType`` new)."""
    return {
        "subscribe": {
            "requestId": request_id,
            "requestType": "EIDO",
            "requestSubType": "new",
            "requestAccepts": EIDO_MEDIA_TYPE,
        }
    }


def event_response(transaction_id: str, code: int, text: str) -> dict[str, Any]:
    return {
        "eventResponse": {"transactionId": transaction_id, "statusCode": code, "statusText": text}
    }


def unsubscribe_message(request_id: str, subscription_id: str) -> dict[str, Any]:
    return {"unsubscribe": {"requestId": request_id, "subscriptionId": subscription_id}}


def terminate_response(
    request_id: str | None, subscription_id: str | None, code: int
) -> dict[str, Any]:
    return {
        "terminateResponse": {
            "requestId": request_id,
            "subscriptionId": subscription_id,
            "statusCode": code,
        }
    }


def subscribe_response(
    request_id: str, subscription_id: str | None, expires: int, code: int, text: str
) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request_id, "statusCode": code, "statusText": text}
    if subscription_id is not None:
        body |= {"subscriptionId": subscription_id, "expires": expires}
    return {"subscribeResponse": body}


def event_message(
    subscription_id: str, transaction_id: str, notification: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "event": {
            "subscriptionId": subscription_id,
            "transactionId": transaction_id,
            "notification": notification,
        }
    }


def unsubscribe_response(subscription_id: str, code: int, text: str) -> dict[str, Any]:
    return {
        "unsubscribeResponse": {
            "subscriptionId": subscription_id,
            "statusCode": code,
            "statusText": text,
        }
    }


def terminate_message(request_id: str, subscription_id: str, reason: str) -> dict[str, Any]:
    return {
        "terminate": {"requestId": request_id, "subscriptionId": subscription_id, "reason": reason}
    }
