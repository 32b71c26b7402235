"""Triage against a labelled corpus of realistic calls (tests/corpus/triage_calls.jsonl).

The corpus was written from DOMAIN.md's routing principles and the published
criteria (STAR, CAHOOTS, Crisis Now), not from the engine's output. No call may
be left without the police, EMT or naloxone it needs; the accuracy floor is a
ratchet that fails on any regression and is raised as the engine improves.
"""

import json
from pathlib import Path

from services.triage.adapters.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.app.evaluate import evaluate

CORPUS = Path(__file__).parents[1] / "corpus" / "triage_calls.jsonl"

# Safety misses must stay at zero; raise the accuracy floor as the engine improves.
MAX_SAFETY_MISSES = 0
MIN_ALL_FIELDS_ACCURACY = 0.98


def test_corpus_is_sound() -> None:
    lines = [json.loads(line) for line in CORPUS.read_text().splitlines()]
    assert len(lines) >= 150
    assert len({line["id"] for line in lines}) == len(lines)
    assert {line.get("jurisdiction", "default") for line in lines} == {"default", "rural"}
    assert {line["expected"]["priority"] for line in lines} == {1, 2, 3}
    roles = {role for line in lines for role in line["expected"]["roles"]}
    assert roles == {"police", "clinician", "emt", "telehealth"}
    assert all(line["why"] for line in lines)


def test_triage_meets_the_corpus_at_least_as_well_as_before() -> None:
    with CORPUS.open() as lines:
        scores = evaluate(lines, load_policy_dir(DEFAULT_POLICY_DIR))
    print(scores.render())
    assert len(scores.safety_misses) <= MAX_SAFETY_MISSES, scores.render()
    assert scores.accuracy("all") >= MIN_ALL_FIELDS_ACCURACY, scores.render()
