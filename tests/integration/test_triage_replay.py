"""`corespond triage replay`: a policy what-if over past calls, as a program manager runs it."""

import json
import subprocess
import sys
from pathlib import Path

LINES = [
    {"id": "a1", "narrative": "man waving a knife at people, hearing voices"},
    {"id": "a2", "narrative": "hearing voices and scared, no weapons", "jurisdiction": "rural"},
    {"id": "a3", "narrative": "friend nodding out, lips turning blue"},
    {"narrative": "neighbour hearing voices and scared, nobody hurt"},
]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "triage", "replay", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "calls.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_every_call_is_decided_with_its_id_and_a_summary(tmp_path: Path) -> None:
    ran = _run(str(_write(tmp_path, [json.dumps(line) for line in LINES])))

    assert ran.returncode == 0, ran.stderr
    out = [json.loads(line) for line in ran.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a1", "a2", "a3", None]
    for o in out:
        assert set(o) == {
            "id",
            "response_model",
            "roles",
            "priority",
            "flags",
            "category",
            "rationale",
            "policy_version",
        }
    assert "police" in out[0]["roles"]
    assert out[1]["policy_version"].startswith("rural-")  # the line's own jurisdiction
    assert "telehealth" in out[1]["roles"]
    assert "naloxone" in out[2]["flags"]
    assert "calls decided: 4   bad lines: 0" in ran.stderr
    assert "without police" in ran.stderr
    assert "with EMT" in ran.stderr


def test_jurisdiction_option_overrides_each_line(tmp_path: Path) -> None:
    ran = _run(
        str(_write(tmp_path, [json.dumps(line) for line in LINES])), "--jurisdiction", "rural"
    )
    out = [json.loads(line) for line in ran.stdout.splitlines()]
    assert {o["policy_version"].split("-")[0] for o in out} == {"rural"}


def test_a_draft_policy_shifts_the_calls(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        "jurisdiction: default\nversion: draft-no-star\n"
        "programs: {police: true, co_responder: true, clinician: false, firehouse: true,"
        " telehealth: true}\n"
    )
    calls = _write(tmp_path, [json.dumps(LINES[3])])
    before = json.loads(_run(str(calls)).stdout)
    after = json.loads(_run(str(calls), "--policy", str(draft)).stdout)
    assert before["roles"] == ["clinician"]
    assert "telehealth" in after["roles"]
    assert after["policy_version"] == "draft-no-star"


def test_bad_lines_are_reported_by_number_and_skipped(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            json.dumps(LINES[0]),
            "{not json",
            json.dumps({"narrative": "x", "answers": {"weapons": "maybe"}}),
            json.dumps({"narrative": "x", "jurisdiction": "atlantis"}),
            "[1, 2]",
            json.dumps(LINES[2]),
        ],
    )
    ran = _run(str(path))

    assert ran.returncode == 1
    assert len(ran.stdout.splitlines()) == 2
    assert f"{path}:2: not valid JSON" in ran.stderr
    assert f"{path}:3: answers.weapons" in ran.stderr
    assert f"{path}:4: no triage policy for jurisdiction 'atlantis'" in ran.stderr
    assert f"{path}:5: expected a JSON object" in ran.stderr
    assert "calls decided: 2   bad lines: 4" in ran.stderr


def test_a_broken_policy_is_a_usage_error(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text("jurisdiction: default\n")
    ran = _run(str(_write(tmp_path, [json.dumps(LINES[0])])), "--policy", str(draft))
    assert ran.returncode == 2
    assert f"{draft}: " in ran.stderr
    assert "version: Field required" in ran.stderr
    assert ran.stdout == ""


def test_expect_scores_labelled_lines_and_fails_on_a_safety_miss(tmp_path: Path) -> None:
    labelled = [
        {**LINES[0], "expected": {"must": ["police"], "priority": 1, "flags": ["weapons"]}},
        {**LINES[2], "expected": {"must": ["emt"], "priority": 1, "flags": ["naloxone"]}},
    ]
    ran = _run(str(_write(tmp_path, [json.dumps(line) for line in labelled])), "--expect")
    assert ran.returncode == 0, ran.stderr
    assert [json.loads(line)["id"] for line in ran.stdout.splitlines()] == ["a1", "a3"]
    assert "safety misses (police/EMT/clinician/naloxone left out): 0" in ran.stderr
    assert "deflection misses (police not needed): 0" in ran.stderr
    assert "priority exact: 100.0%" in ran.stderr
    assert "flag recall: 100.0%" in ran.stderr

    wrong = [{**LINES[3], "id": "w1", "expected": {"must": ["police"], "priority": 1}}]
    ran = _run(str(_write(tmp_path, [json.dumps(line) for line in wrong])), "--expect")
    assert ran.returncode == 1
    assert "safety misses (police/EMT/clinician/naloxone left out): 1" in ran.stderr
    assert "w1: ['police'] missing" in ran.stderr


def test_diff_lists_the_calls_another_policy_moves(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text(
        "jurisdiction: default\nversion: draft-no-star\n"
        "programs: {police: true, co_responder: true, clinician: false, firehouse: true,"
        " telehealth: true}\n"
    )
    calls = _write(tmp_path, [json.dumps(LINES[3]), json.dumps(LINES[2])])
    ran = _run(str(calls), "--diff", str(draft))
    assert ran.returncode == 0, ran.stderr
    assert f"calls moved by {draft}: 2" in ran.stderr
    assert "line 1: roles clinician -> emt+telehealth" in ran.stderr
