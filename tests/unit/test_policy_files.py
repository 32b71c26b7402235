"""Policies are data: the shipped ones load, and a broken file is refused naming file and field."""

import re
import shutil
from pathlib import Path

import pytest

from schemas.policy import UnknownJurisdiction
from services.common.policy_files import (
    DEFAULT_POLICY_DIR,
    PolicyFileError,
    load_policy_dir,
    load_policy_file,
)
from services.triage.main import TriageSettings, create_app

VALID = """\
jurisdiction: {name}
version: {name}-1
programs: {{police: true, co_responder: true, clinician: true, firehouse: true, telehealth: true}}
dispatch:
  escalation:
    1: {{steps: [{{ack_seconds: 150}}]}}
    2: {{steps: [{{ack_seconds: 300}}]}}
    3: {{steps: [{{ack_seconds: 900, offer_at_once: 2}}], repeat: 1}}
"""


def test_shipped_policies_load() -> None:
    book = load_policy_dir(DEFAULT_POLICY_DIR)
    assert book.get("default").in_person_clinicians
    rural = book.get("rural")
    assert not rural.in_person_clinicians
    assert rural.programs.telehealth
    with pytest.raises(UnknownJurisdiction, match="atlantis"):
        book.get("atlantis")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (VALID.format(name="x").replace("firehouse: true, ", ""), "programs.firehouse: Field"),
        (VALID.format(name="x").replace("police: true", "police: sometimes"), "programs.police"),
        (VALID.format(name="x") + "sirens: loud\n", "sirens: Extra inputs are not permitted"),
        (VALID.format(name="x").replace("version: x-1\n", ""), "version: Field required"),
        (
            VALID.format(name="x").replace("police: true", "police: false"),
            "programs.police: every jurisdiction needs a police response",
        ),
        (
            VALID.format(name="x")
            .replace("clinician: true", "clinician: false")
            .replace("telehealth: true", "telehealth: false"),
            "telehealth must exist",
        ),
        (
            VALID.format(name="x") + "telehealth_on_scene: firefighter\n",
            "telehealth_on_scene: Input should be 'emt' or 'police'",
        ),
        (
            VALID.format(name="x").replace(
                "    3: {steps: [{ack_seconds: 900, offer_at_once: 2}], repeat: 1}\n", ""
            ),
            "dispatch.escalation: no steps for priority 3",
        ),
        (
            VALID.format(name="x").replace("ack_seconds: 150", "ack_seconds: 2"),
            "dispatch.escalation.1.steps.0.ack_seconds: Input should be greater than or equal",
        ),
        ("jurisdiction: x\nversion: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        (VALID.format(name="y"), "jurisdiction: 'y' does not match the file name ('x')"),
    ],
)
def test_broken_policy_is_refused_naming_file_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(text)
    with pytest.raises(PolicyFileError) as refused:
        load_policy_file(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert expected in str(refused.value)


def test_one_broken_file_refuses_the_whole_directory(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_POLICY_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "county.yaml").write_text(VALID.format(name="county").replace("true}", "maybe}"))
    with pytest.raises(PolicyFileError, match=re.escape("county.yaml: programs.telehealth")):
        load_policy_dir(tmp_path)


def test_a_directory_without_default_is_refused(tmp_path: Path) -> None:
    (tmp_path / "county.yaml").write_text(VALID.format(name="county"))
    with pytest.raises(PolicyFileError, match=re.escape("no default.yaml")):
        load_policy_dir(tmp_path)


def test_the_triage_service_does_not_start_on_a_broken_policy(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_POLICY_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "rural.yaml").write_text("jurisdiction: rural\n")
    with pytest.raises(PolicyFileError, match=re.escape("rural.yaml: version: Field required")):
        create_app(TriageSettings(policy_dir=tmp_path, data_dir=tmp_path))
