"""The example exchange in deploy/demo/eido/ is what the models accept: it cannot rot unseen.

01 the EIDO a CAD sends in, 02 the close request, 03 the EIDO it reads back after the close,
04 a subscribe / event / eventResponse / unsubscribe transcript (NENA-STA-024.1a).
"""

import json
from pathlib import Path
from typing import Any

from schemas.eido import EidoDocument, NotifierMessage, SubscriberMessage, dangling_references
from services.dispatch.api.incidents import Closing

DEMO = Path(__file__).parents[2] / "deploy" / "demo" / "eido"


def _load(name: str) -> Any:
    return json.loads((DEMO / name).read_text(encoding="utf-8"))


def _valid_eido(data: dict[str, Any]) -> EidoDocument:
    document = EidoDocument.model_validate(data)
    assert EidoDocument.model_validate(document.wire()) == document
    assert dangling_references(document.wire()) == []
    return document


def test_the_eido_in_and_the_eido_out_validate_and_keep_the_cads_id() -> None:
    sent = _valid_eido(_load("01-eido-in.json"))
    back = _valid_eido(_load("03-eido-out-closed.json"))
    assert back.id == sent.id
    incident = back.incident_component
    assert incident is not None
    [disposition] = incident.disposition_component or []
    close = Closing.model_validate(_load("02-close.json"))
    assert disposition.disposition_common_registry_code == close.apco_disposition
    assert disposition.disposition_description_text == close.disposition.value
    # A CAD's copy: no caller and no narrative.
    text = json.dumps(_load("03-eido-out-closed.json"))
    assert "3035550142" not in text
    assert "callbackComponent" not in text


def test_the_transcript_is_sta_024_in_order() -> None:
    messages = _load("04-sta024-transcript.json")["messages"]
    subscription_id = None
    unanswered: set[str] = set()
    for step in messages:
        if step["from"] == "subscriber":
            sent = SubscriberMessage.model_validate(step["message"])
            if sent.eventResponse is not None:
                unanswered.remove(sent.eventResponse.transactionId)
            if sent.unsubscribe is not None:
                assert sent.unsubscribe.subscriptionId == subscription_id
        else:
            assert step["from"] == "notifier"
            told = NotifierMessage.model_validate(step["message"])
            if told.subscribeResponse is not None:
                subscription_id = told.subscribeResponse.subscriptionId
            if told.event is not None:
                assert told.event.subscriptionId == subscription_id
                unanswered.add(told.event.transactionId)
                for eido in told.event.notification:
                    _valid_eido(eido)
    assert subscription_id is not None
    assert not unanswered  # every event answered
    assert "unsubscribeResponse" in messages[-1]["message"]
