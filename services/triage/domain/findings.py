"""Findings read from the call: the protocol answers plus what the narrative says.

A finding is a fact with its evidence (the answer or the words that showed it).
Negation is understood within a short window ("no weapons", "denies taking
anything", "hasn't hurt anyone") that never reaches past its clause: in
"yelling at nobody, waving a gun" or "no gun but a knife" the weapon stands.
Phrases such as "not breathing" or "won't wake up" are themselves positive
findings of an emergency.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from schemas.calls import Answers
from services.triage.domain.lexicon import LEXICON, NEGATORS

_NEGATING_SUFFIX = "n't"
_WINDOW = 4


@dataclass
class Finding:
    present: bool
    evidence: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    hedged: list[str] = field(default_factory=list)


# Punctuation and contrast words end a clause, and with it any negation.
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]+|\b(?:but|pero|and then|y luego)\b")


def fold(text: str) -> str:
    """Lower case without accents: "inyectó" and "inyecto" are typed alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _clauses(text: str) -> list[list[str]]:
    return [
        [_canonical(t) for t in re.findall(r"[\w']+", clause)]
        for clause in _CLAUSE_BREAK.split(fold(text))
        if clause
    ]


# "won't stop bleeding", "can't stop shaking": the negation is of the stopping.
_NEGATION_ENDS_AT = frozenset({"stop", "stops", "stopping", "quit"})


def _is_negated(tokens: list[str], start: int) -> bool:
    if start and tokens[start - 1] in _NEGATION_ENDS_AT:
        return False
    window = tokens[max(0, start - _WINDOW) : start]
    return any(t in NEGATORS or t.endswith(_NEGATING_SUFFIX) for t in window)


# First word of each phrase → (finding, phrase, words): one pass over the
# narrative's tokens instead of one scan per phrase.
_BY_FIRST_WORD: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
for _name, _phrases in LEXICON.items():
    for _phrase in dict.fromkeys(_phrases):
        _words = tuple(fold(_phrase).split())
        _BY_FIRST_WORD.setdefault(_words[0], []).append((_name, _phrase, _words))

# Misspellings: a long word one letter missing, one extra or two swapped
# ("unconsious", "siezure", "breathingg") reads as the lexicon's word.
# Substitutions are not accepted: "sitting" must never read as "hitting".
_VOCABULARY = frozenset(w for _n, _p in LEXICON.items() for ph in _p for w in fold(ph).split())
# Only long words, and only one-word entries, are corrected: a short word is too
# often another real word ("eating" is "beating" less a letter).
_FUZZY_MIN_LENGTH = 7
_FINDINGS_OF: dict[str, frozenset[str]] = {}
for _name, _phrases in LEXICON.items():
    for _phrase in _phrases:
        if " " not in _phrase and len(_phrase) >= _FUZZY_MIN_LENGTH:
            _word = fold(_phrase)
            _FINDINGS_OF[_word] = _FINDINGS_OF.get(_word, frozenset()) | {_name}
_FUZZY_TARGETS = frozenset(_FINDINGS_OF)


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


_BY_DELETION: dict[str, set[str]] = {}
for _word in _FUZZY_TARGETS:
    if _word.isalpha():
        for _key in {_word} | _deletions(_word):
            _BY_DELETION.setdefault(_key, set()).add(_word)


def _one_edit_apart(token: str, word: str) -> bool:
    if abs(len(token) - len(word)) == 1:
        return True  # found through a deletion of one or the other
    if len(token) != len(word):
        return False
    diffs = [i for i, (a, b) in enumerate(zip(token, word, strict=True)) if a != b]
    return (
        len(diffs) == 2
        and diffs[1] == diffs[0] + 1
        and token[diffs[0]] == word[diffs[1]]
        and token[diffs[1]] == word[diffs[0]]
    )


@lru_cache(maxsize=65_536)
def _canonical(token: str) -> str:
    if token in _VOCABULARY or len(token) < _FUZZY_MIN_LENGTH or not token.isalpha():
        return token
    near = {
        word
        for key in {token} | _deletions(token)
        for word in _BY_DELETION.get(key, ())
        if _one_edit_apart(token, word)
    }
    # Ambiguous corrections are kept only when every candidate means the same finding.
    meanings = {_FINDINGS_OF[word] for word in near}
    return min(near) if len(meanings) == 1 else token


# Words whose meaning changes with the next word: "shooting up" is injecting,
# not a shooting; "high school" is not intoxication.
_NOT_WHEN_FOLLOWED_BY: dict[str, frozenset[str]] = {
    "shooting": frozenset({"up"}),
    "hit her": frozenset({"head"}),
    "hit him": frozenset({"head"}),
    "hit my": frozenset({"head"}),
    "rig": frozenset({"site", "crew", "worker", "workers"}),
    "used": frozenset({"to", "car"}),
    "pipe": frozenset({"burst", "broke", "leak", "leaking"}),
    "high": frozenset({"school", "chair", "fever"}),
    "using": frozenset({"the", "a", "his", "her", "my"}),
    "safe": frozenset({"to", "place"}),
    "liquor": frozenset({"store", "shop"}),
    "beer": frozenset({"store", "garden"}),
}
# A threat against oneself is suicidal talk, not a threat to others.
_REFLEXIVE = frozenset({"himself", "herself", "myself", "themselves", "yourself", "self"})
_NOT_FOLLOWED_BY_FOR: dict[str, frozenset[str]] = {"threat": _REFLEXIVE, "violence": _REFLEXIVE}
# "weapons unknown", "kids unk": the call-taker is saying it is not known, which
# is neither yes nor no (principle 4).
_UNKNOWN = frozenset(
    {"unknown", "unk", "unkn", "unclear", "uncertain", "desconocido", "desconocidas"}
)
# "might have a gun", "not sure if he is armed": a suspicion, not a fact, and not a no.
_HEDGES = frozenset(
    {"might", "may", "maybe", "possibly", "possible", "could", "sure", "unsure", "whether", "if"}
)


def _followed_by(tokens: list[str], start: int, words: tuple[str, ...]) -> str:
    after = start + len(words)
    return tokens[after] if after < len(tokens) else ""


def _meaning_changed(name: str, tokens: list[str], start: int, words: tuple[str, ...]) -> bool:
    following = _followed_by(tokens, start, words)
    if following in _NOT_WHEN_FOLLOWED_BY.get(" ".join(words), frozenset()):
        return True
    return following in _NOT_FOLLOWED_BY_FOR.get(name, frozenset())


_HEDGE_WINDOW = 5  # "not sure if he has a gun": the hedge sits further back than a "no"


def _is_hedged(tokens: list[str], start: int) -> bool:
    return any(t in _HEDGES for t in tokens[max(0, start - _HEDGE_WINDOW) : start])


def read_narrative(narrative: str) -> dict[str, Finding]:
    found = {name: Finding(present=False) for name in LEXICON}
    for tokens in _clauses(narrative):
        for start, token in enumerate(tokens):
            for name, phrase, words in _BY_FIRST_WORD.get(token, ()):
                if tuple(tokens[start : start + len(words)]) != words:
                    continue
                if _meaning_changed(name, tokens, start, words):
                    continue
                finding = found[name]
                if _followed_by(tokens, start, words) in _UNKNOWN:
                    continue  # "weapons unknown": neither a finding nor a negation
                # Phrases that carry their own negation ("not breathing") are positive.
                self_negating = words[0] in NEGATORS or "'" in words[0]
                if self_negating:
                    finding.present = True
                    finding.evidence.append(f'"{phrase}"')
                elif _is_hedged(tokens, start):
                    # Checked before negation: "not sure if he has a gun" is a maybe.
                    finding.hedged.append(f'"{phrase}" (possible)')
                elif _is_negated(tokens, start):
                    finding.negated.append(f'"{phrase}" (negated)')
                else:
                    finding.present = True
                    finding.evidence.append(f'"{phrase}"')
    return found


def from_answers(answers: Answers) -> dict[str, bool | None]:
    """The protocol answers in finding names (True / False / None = unknown)."""
    return {
        "weapon": answers.weapons,
        "violence": answers.violence,
        "threat": answers.threat_to_others,
        "crime": answers.crime_in_progress,
        "not_breathing": None if answers.breathing is None else not answers.breathing,
        "unconscious": None if answers.conscious is None else not answers.conscious,
        "overdose": answers.overdose_suspected,
        "medical": answers.injury,
        "suicidal": answers.suicidal,
        "substance": answers.substance_use,
        "children": answers.children_present,
    }
