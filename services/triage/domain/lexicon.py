"""The words triage knows, loaded from data: ``lexicon.yaml`` beside this module.

Data, not logic: ``findings`` reads a narrative with these tables. The file is
validated in full when loaded (a phrase listed twice in one finding, an empty
phrase or an unknown word class is refused, naming it), so a bad edit stops the
service at start instead of quietly changing decisions. A jurisdiction may add
or remove phrases in its policy (``triage.lexicon``); the merged lexicon is
validated the same way.
"""

import unicodedata
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

LEXICON_FILE = Path(__file__).with_name("lexicon.yaml")
# Real English and Spanish words that are within two edits of a lexicon word
# ("leave" / "ledge", "mother" / "methed"): never "corrected". Generated from
# pyspellchecker's frequency lists (top 40,000 English, 15,000 Spanish words) by
# tests/corpus/README.md's recipe; regenerate it when the lexicon grows.
KNOWN_WORDS_FILE = Path(__file__).with_name("known_words.txt")

# Word classes the narrative reader's patterns use (threats, attacks with an object).
CLASSES = (
    "intent",
    "harm_verbs",
    "threat_targets",
    "reflexive",
    "attack_verbs",
    "wield_verbs",
    "body_parts",
    "not_misspellings",
)


class LexiconError(ValueError):
    """The lexicon data does not validate: the message names the entry."""


class Lexicon(BaseModel):
    """Findings → phrases, the negating words, and the word classes of the patterns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    negators: frozenset[str]
    findings: dict[str, tuple[str, ...]]
    classes: dict[str, frozenset[str]]
    known_words: frozenset[str] = frozenset()

    @field_validator("findings")
    @classmethod
    def _no_duplicates(cls, findings: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, phrases in findings.items():
            seen: set[str] = set()
            for phrase in phrases:
                key = " ".join(fold(phrase).split())
                if not key:
                    raise ValueError(f"findings.{name}: empty phrase")
                if key in seen:
                    raise ValueError(f"findings.{name}: {phrase!r} is listed twice")
                seen.add(key)
        return findings

    @field_validator("classes")
    @classmethod
    def _known_classes(cls, classes: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
        unknown = sorted(set(classes) - set(CLASSES))
        missing = sorted(set(CLASSES) - set(classes))
        if unknown or missing:
            raise ValueError(f"classes: unknown {unknown}, missing {missing}")
        return classes

    def overridden(
        self, add: Mapping[str, Sequence[str]], remove: Mapping[str, Sequence[str]]
    ) -> "Lexicon":
        """This lexicon with a jurisdiction's additions and removals, validated again."""
        unknown = sorted((set(add) | set(remove)) - set(self.findings))
        if unknown:
            raise LexiconError(f"lexicon override names unknown findings: {', '.join(unknown)}")
        findings = {}
        for name, phrases in self.findings.items():
            dropped = {fold(p) for p in remove.get(name, ())}
            kept = tuple(p for p in phrases if fold(p) not in dropped)
            findings[name] = kept + tuple(add.get(name, ()))
        return _validated(
            {
                "negators": self.negators,
                "findings": findings,
                "classes": self.classes,
                "known_words": self.known_words,
            }
        )


def fold(text: str) -> str:
    """Lower case without accents: "inyectó" and "inyecto" are typed alike."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _validated(raw: Any) -> Lexicon:
    try:
        return Lexicon.model_validate(raw)
    except ValueError as exc:
        raise LexiconError(str(exc)) from exc


def load_lexicon(path: Path = LEXICON_FILE, known_words: Path | None = KNOWN_WORDS_FILE) -> Lexicon:
    """Read and validate a lexicon file; any problem is a ``LexiconError`` naming it."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        words = known_words.read_text(encoding="utf-8").split() if known_words else []
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise LexiconError(f"{path}: expected a mapping with negators, findings, classes")
    try:
        return _validated({**raw, "known_words": frozenset(words)})
    except LexiconError as exc:
        raise LexiconError(f"{path}: {exc}") from exc


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    return load_lexicon()
