"""Triage against labelled corpora of realistic calls (tests/corpus/*.jsonl).

All three were written from DOMAIN.md's routing principles and the published
criteria (STAR, CAHOOTS, Crisis Now), not from the engine's output.
``triage_calls`` is the development corpus. ``triage_holdout`` and
``triage_holdout2`` were written blind (by someone who had not seen the
engine) and first scored before any rule was changed for them; they are now
regression corpora too, and the next blind measurement needs a new file. No
call may lose police, an EMT or naloxone it needs beyond the misses recorded
here; the accuracy floors are a ratchet raised as the engine improves.
"""

import json
from pathlib import Path

import pytest

from services.common.policy_files import DEFAULT_POLICY_DIR, load_policy_dir
from services.triage.app.evaluate import evaluate

CORPORA = Path(__file__).parents[1] / "corpus"

# file → (most safety misses allowed, lowest all-fields accuracy). The misses
# left are rural calls where a wrongly read weapon ("brother took the guns out
# of the house") sends a deputy instead of an EMT to hold the tablet.
FLOORS = {
    "triage_calls.jsonl": (0, 1.0),
    "triage_holdout.jsonl": (1, 0.98),
    "triage_holdout2.jsonl": (1, 0.86),
}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_corpus_is_sound(name: str) -> None:
    lines = [json.loads(line) for line in (CORPORA / name).read_text().splitlines()]
    assert len({line["id"] for line in lines}) == len(lines)
    assert {line.get("jurisdiction", "default") for line in lines} == {"default", "rural"}
    assert {line["expected"]["priority"] for line in lines} == {1, 2, 3}
    roles = {role for line in lines for role in line["expected"]["roles"]}
    assert roles == {"police", "clinician", "emt", "telehealth"}
    assert all(line["why"] for line in lines)


def test_the_development_corpus_is_large_enough() -> None:
    assert len((CORPORA / "triage_calls.jsonl").read_text().splitlines()) >= 150


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_triage_meets_each_corpus_at_least_as_well_as_before(name: str) -> None:
    max_safety_misses, min_accuracy = FLOORS[name]
    with (CORPORA / name).open() as lines:
        scores = evaluate(lines, load_policy_dir(DEFAULT_POLICY_DIR))
    print(scores.render())
    assert len(scores.safety_misses) <= max_safety_misses, scores.render()
    assert scores.accuracy("all") >= min_accuracy, scores.render()
