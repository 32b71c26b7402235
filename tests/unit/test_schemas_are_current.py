"""The checked-in JSON Schema files are exactly what the pydantic models generate."""

from pathlib import Path

from schemas.generate import rendered, stale_files


def test_checked_in_json_schemas_match_the_models() -> None:
    assert stale_files() == [], "run `make schemas` and commit the result"


def test_a_changed_model_is_detected(tmp_path: Path) -> None:
    for name, text in rendered().items():
        (tmp_path / name).write_text(text)
    assert stale_files(tmp_path) == []
    victim = next(iter(rendered()))
    (tmp_path / victim).write_text("{}\n")
    (tmp_path / "orphan.schema.json").write_text("{}\n")
    assert stale_files(tmp_path) == sorted([victim, "orphan.schema.json"])


def test_every_event_type_has_a_schema() -> None:
    names = set(rendered())
    for expected in (
        "call.received.v1",
        "call.triaged.v1",
        "assignment.offered.v1",
        "notification.status.v1",
        "cloudevent",
        "api.call-submission",
    ):
        assert f"{expected}.schema.json" in names
