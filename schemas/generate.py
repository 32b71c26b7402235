"""Write the JSON Schema of every event and public API body to ``schemas/jsonschema/``.

Run with ``make schemas`` (``python -m schemas.generate``); ``--check`` exits
non-zero when a checked-in file is stale, which is what the test suite does.
"""

import json
import sys
from pathlib import Path

from pydantic import BaseModel

from schemas.api import CallAccepted, IncidentSummary, IncidentView, Problem
from schemas.calls import CallIntake, CallSubmission
from schemas.eido import EidoDocument
from schemas.envelope import CloudEvent
from schemas.events import EVENT_DATA_MODELS
from schemas.policy import Policy
from schemas.triage import TriageDecision

OUT_DIR = Path(__file__).parent / "jsonschema"

API_MODELS: dict[str, type[BaseModel]] = {
    "api.call-intake": CallIntake,
    "api.call-submission": CallSubmission,
    "api.call-accepted": CallAccepted,
    "api.incident": IncidentView,
    "api.incident-summary": IncidentSummary,
    "api.problem": Problem,
    "api.triage-decision": TriageDecision,
    # NENA EIDO as POST /v1/eido takes it and GET /EIDO/{id} gives it (the subset we model).
    "api.eido": EidoDocument,
    # Not an API body: the shape of deploy/policies/*.yaml, for editors and reviewers.
    "policy": Policy,
}


def rendered() -> dict[str, str]:
    """File name → JSON text for every schema we publish."""
    models: dict[str, type[BaseModel]] = {"cloudevent": CloudEvent, **API_MODELS}
    for event_type, model in EVENT_DATA_MODELS.items():
        models[event_type.removeprefix("corespond.")] = model
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, sort_keys=True)
        + "\n"
        for name, model in sorted(models.items())
    }


def stale_files(out_dir: Path = OUT_DIR) -> list[str]:
    """Names whose checked-in text differs from the models, plus files no model produces."""
    expected = rendered()
    stale = [
        name
        for name, text in expected.items()
        if not (out_dir / name).exists() or (out_dir / name).read_text() != text
    ]
    extra = [p.name for p in out_dir.glob("*.schema.json") if p.name not in expected]
    return sorted(stale + extra)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--check" in args:
        stale = stale_files()
        for name in stale:
            print(f"stale: schemas/jsonschema/{name} (run `make schemas`)", file=sys.stderr)
        return 1 if stale else 0
    OUT_DIR.mkdir(exist_ok=True)
    for old in OUT_DIR.glob("*.schema.json"):
        old.unlink()
    for name, text in rendered().items():
        (OUT_DIR / name).write_text(text)
    print(f"wrote {len(rendered())} schemas to {OUT_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
