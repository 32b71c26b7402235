"""Triage against labelled corpora of realistic calls (tests/corpus/*.jsonl).

All three were written from DOMAIN.md's routing principles and the published
criteria (STAR, CAHOOTS, Crisis Now), not from the engine's output.
``triage_calls`` is the development corpus. ``triage_holdout`` and
``triage_holdout2`` were written blind (by someone who had not seen the
engine) and first scored before any rule was changed for them;
``triage_categories`` (issue 15) was written by category before the words
were touched, with must / must-not roles. All are regression corpora now, and
the next blind measurement needs a new file. No call in any of them may lose
police, an EMT, a clinician or naloxone it needs (a safety miss fails the
suite); the accuracy floors are a ratchet raised as the engine improves.
"""

import json
from pathlib import Path

import pytest

from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.app.evaluate import evaluate

CORPORA = Path(__file__).parents[1] / "corpus"

# file → (lowest all-fields accuracy, most deflection misses allowed). Safety
# misses allowed: none, in any corpus.
FLOORS = {
    "triage_calls.jsonl": (1.0, 0),
    "triage_holdout.jsonl": (0.98, 0),
    "triage_holdout2.jsonl": (0.93, 0),
    "triage_categories.jsonl": (0.94, 1),
    "triage_categories2.jsonl": (0.95, 0),
    "triage_categories3.jsonl": (0.94, 0),
    "triage_categories4.jsonl": (0.9, 0),
    "triage_categories5.jsonl": (0.83, 0),
    "triage_categories6.jsonl": (0.91, 0),
    "triage_categories7.jsonl": (0.91, 0),
    "triage_categories8.jsonl": (0.97, 0),
    "triage_categories9.jsonl": (0.97, 0),
    "triage_categories10.jsonl": (0.86, 0),
    "triage_categories11.jsonl": (0.96, 0),
    "triage_categories12.jsonl": (0.96, 0),
    "triage_categories13.jsonl": (0.96, 0),
    "triage_categories14.jsonl": (0.93, 0),
    "triage_categories15.jsonl": (0.97, 0),
    "triage_categories16.jsonl": (0.96, 0),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_corpus_is_sound(name: str) -> None:
    lines = [json.loads(line) for line in (CORPORA / name).read_text().splitlines()]
    assert len({line["id"] for line in lines}) == len(lines)
    assert {line.get("jurisdiction", "default") for line in lines} == {"default", "rural"}
    assert {line["expected"]["priority"] for line in lines} == {1, 2, 3}
    roles = {
        role
        for line in lines
        for role in line["expected"].get("roles", line["expected"].get("must", []))
    }
    assert roles == {"police", "clinician", "emt", "telehealth"}
    assert all(line["why"] for line in lines)


def test_the_corpus_is_large_enough() -> None:
    assert len((CORPORA / "triage_calls.jsonl").read_text().splitlines()) >= 150
    assert sum(len((CORPORA / name).read_text().splitlines()) for name in FLOORS) >= 300


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_triage_meets_each_corpus_at_least_as_well_as_before(name: str) -> None:
    min_accuracy, max_deflection_misses = FLOORS[name]
    with (CORPORA / name).open() as lines:
        scores = evaluate(lines, load_policy_dir(DEFAULT_POLICY_DIR))
    print(scores.render())
    assert not scores.safety_misses, scores.render()
    assert len(scores.deflection_misses) <= max_deflection_misses, scores.render()
    assert scores.accuracy("all") >= min_accuracy, scores.render()
