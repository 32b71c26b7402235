"""Findings read from the call: the protocol answers plus what the narrative says.

A finding is a fact with its evidence (the answer or the words that showed it).
Negation is understood within a short window ("no weapons", "denies taking
anything", "hasn't hurt anyone") that never reaches past its clause: in
"yelling at nobody, waving a gun" or "no gun but a knife" the weapon stands.
Phrases such as "not breathing" or "won't wake up" are themselves positive
findings of an emergency.
"""

import re
from dataclasses import dataclass, field

from schemas.calls import Answers

NEGATORS = frozenset(
    {"no", "not", "never", "without", "denies", "denied", "deny", "none", "nobody", "sin", "niega"}
)
_NEGATING_SUFFIX = "n't"
_WINDOW = 3

# Each finding: the phrases that show it. Multi-word phrases match on word boundaries.
LEXICON: dict[str, tuple[str, ...]] = {
    "weapon": (
        "gun",
        "guns",
        "knife",
        "knives",
        "weapon",
        "weapons",
        "armed",
        "pistol",
        "rifle",
        "machete",
        "firearm",
        "handgun",
        "shotgun",
        "arma",
        "pistola",
        "cuchillo",
        "blade",
        "axe",
        "hatchet",
        "knifes",
        "wepon",
        "wepons",
        "firearms",
        "pistol in",
        "escopeta",
    ),
    "violence": (
        "hitting",
        "fighting",
        "fight",
        "assault",
        "assaulting",
        "attacking",
        "attacked",
        "punched",
        "punching",
        "stabbed",
        "stabbing",
        "shooting",
        "shots fired",
        "beating",
        "violent",
        "choking her",
        "choking him",
        "golpeando",
        "choking",
        "strangling",
        "hands around",
        "hands around her neck",
        "hands around his neck",
        "hands around their neck",
        "threatening to kill",
        "threatening to hit",
        "threatening to stab",
        "threatening to shoot",
        "threatening people",
        "threatening her",
        "threatening him",
        "threatened to kill",
        "pegando",
        "pegándole",
        "shot at",
        "beating her",
        "beating him",
    ),
    "crime": (
        "break in",
        "breaking in",
        "robbery",
        "robbing",
        "burglary",
        "stealing",
        "carjacking",
    ),
    "not_breathing": (
        "not breathing",
        "stopped breathing",
        "isn't breathing",
        "no respira",
        "barely breathing",
        "blue lips",
        "lips are blue",
        "turning blue",
        "breathng shallow",
        "breathing shallow",
        "barely breathin",
        "labios azules",
        "lips dusky",
        "gurgling",
        "no está respirando",
        "no esta respirando",
    ),
    "unconscious": (
        "unconscious",
        "unresponsive",
        "won't wake up",
        "wont wake up",
        "can't wake",
        "cant wake",
        "passed out",
        "nodding out",
        "no responde",
        "inconsciente",
        "unconsious",
        "unconcious",
        "unconscous",
        "unresposive",
        "unresponive",
        "not responding",
        "not respond",
        "wont respond",
        "won't respond",
        "not waking up",
        "no despierta",
        "slumped",
        "man down",
        "person down",
        "someone down",
        "desmayado",
        "desmayada",
    ),
    "overdose": (
        "overdose",
        "overdosed",
        "overdosing",
        "od",
        "od'd",
        "od'ing",
        "oding",
        "ods",
        "sobredosis",
        "overdoes",
        "gave narcan",
        "doses narcan",
        "dose of narcan",
        "narcan given",
        "overdos",
        "overdosis",
    ),
    "opioid": (
        "fentanyl",
        "fent",
        "heroin",
        "opioid",
        "opioids",
        "oxy",
        "oxycodone",
        "percocet",
        "percs",
        "blues",
        "dope",
        "pinpoint",
        "nodding",
        "narcan",
        "naloxone",
        "fentanilo",
        "fentynal",
        "fentanil",
        "herion",
        "heroine",
        "pressed pills",
        "shooting up",
        "needle",
        "perc",
    ),
    "medical": (
        "bleeding",
        "seizure",
        "seizing",
        "chest pain",
        "injured",
        "hurt badly",
        "head injury",
        "not moving",
        "sangrando",
        "convulsion",
        "bleding",
        "blood",
        "lot of blood",
        "cut his wrists",
        "cut her wrists",
        "cut his wrist",
        "cut her wrist",
        "cut bad",
        "shot himself",
        "shot herself",
        "gunshot",
        "one person down",
        "herido",
        "herida",
        "seizre",
        "siezing",
        "siezure",
        "stabbed",
        "fell off",
    ),
    "pills_taken": (
        "took pills",
        "took a bottle",
        "swallowed pills",
        "took all",
        "ate pills",
        "tomó pastillas",
        "tomo pastillas",
        "took the whole bottle",
        "whole bottle",
        "swallowed",
        "took a bunch",
        "muchas pastillas",
        "tomó muchas",
        "tomo muchas",
        "took all her",
        "took all his",
    ),
    "suicidal": (
        "suicide",
        "suicidal",
        "kill himself",
        "kill herself",
        "kill myself",
        "kill themselves",
        "end his life",
        "end her life",
        "end my life",
        "want to die",
        "wants to die",
        "suicidarse",
        "matarse",
        "sucidal",
        "suicdal",
        "end it all",
        "to end it",
        "quiere morir",
        "kill him self",
    ),
    "ledge": (
        "ledge",
        "on the bridge",
        "on a bridge",
        "on the roof",
        "jump off",
        "going to jump",
        "threatening to jump",
        "overpass",
    ),
    "mental_health": (
        "voises",
        "voces",
        "escuchando voces",
        "oye voces",
        "flashback",
        "ptsd",
        "paranoya",
        "paranoico",
        "paranoica",
        "persiguen",
        "halucinating",
        "hallucinations",
        "alucinando",
        "confundida",
        "confundido",
        "desorientado",
        "desorientada",
        "psychosis",
        "psychotic",
        "hallucinating",
        "hearing voices",
        "paranoid",
        "manic",
        "mental health",
        "crisis",
        "schizophrenic",
        "schizophrenia",
        "bipolar",
        "talking to himself",
        "talking to herself",
        "confused",
        "panic attack",
        "delusional",
        "off his meds",
        "off her meds",
        "desperate",
        "crying",
        "screaming",
        "agitated",
    ),
    "substance": (
        "detoxing",
        "detox",
        "alchol",
        "alcohol withdrawal",
        "shakey",
        "tweaking",
        "borracha",
        "bender",
        "coming down",
        "abstinencia",
        "cruda",
        "drunk",
        "intoxicated",
        "high",
        "meth",
        "drinking",
        "using",
        "fiending",
        "withdrawal",
        "dope sick",
        "dopesick",
        "cocaine",
        "crack",
        "borracho",
        "drogas",
        "alcohol",
        "xans",
        "xanax",
        "benzos",
        "using drugs",
        "drogado",
        "drogada",
    ),
    "children": (
        "kid",
        "kids",
        "child",
        "children",
        "baby",
        "toddler",
        "infant",
        "niño",
        "niños",
        "niña",
        "bebé",
        "little boy",
        "little girl",
        "newborn",
    ),
}


@dataclass
class Finding:
    present: bool
    evidence: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)


# Punctuation and contrast words end a clause, and with it any negation.
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\n]+|\b(?:but|pero|and then|y luego)\b")


def _clauses(text: str) -> list[list[str]]:
    text = text.lower().replace("\u2019", "'")  # typographic apostrophe
    return [re.findall(r"[\w']+", clause) for clause in _CLAUSE_BREAK.split(text) if clause]


def _is_negated(tokens: list[str], start: int) -> bool:
    window = tokens[max(0, start - _WINDOW) : start]
    return any(t in NEGATORS or t.endswith(_NEGATING_SUFFIX) for t in window)


# First word of each phrase → (finding, phrase, words): one pass over the
# narrative's tokens instead of one scan per phrase.
_BY_FIRST_WORD: dict[str, list[tuple[str, str, tuple[str, ...]]]] = {}
for _name, _phrases in LEXICON.items():
    for _phrase in dict.fromkeys(_phrases):
        _words = tuple(_phrase.split())
        _BY_FIRST_WORD.setdefault(_words[0], []).append((_name, _phrase, _words))


# Words whose meaning changes with the next word: "shooting up" is injecting,
# not a shooting; "high school" is not intoxication.
_NOT_WHEN_FOLLOWED_BY: dict[str, frozenset[str]] = {
    "shooting": frozenset({"up"}),
    "high": frozenset({"school", "chair", "fever"}),
    "using": frozenset({"the", "a", "his", "her", "my"}),
}


def _meaning_changed(tokens: list[str], start: int, words: tuple[str, ...]) -> bool:
    after = start + len(words)
    return (
        len(words) == 1
        and after < len(tokens)
        and tokens[after] in _NOT_WHEN_FOLLOWED_BY.get(words[0], frozenset())
    )


def read_narrative(narrative: str) -> dict[str, Finding]:
    found = {name: Finding(present=False) for name in LEXICON}
    for tokens in _clauses(narrative):
        for start, token in enumerate(tokens):
            for name, phrase, words in _BY_FIRST_WORD.get(token, ()):
                if tuple(tokens[start : start + len(words)]) != words:
                    continue
                if _meaning_changed(tokens, start, words):
                    continue
                finding = found[name]
                # Phrases that carry their own negation ("not breathing") are positive.
                self_negating = words[0] in NEGATORS or "'" in words[0]
                if not self_negating and _is_negated(tokens, start):
                    finding.negated.append(f'"{phrase}" (negated)')
                else:
                    finding.present = True
                    finding.evidence.append(f'"{phrase}"')
    return found


def from_answers(answers: Answers) -> dict[str, bool | None]:
    """The protocol answers in finding names (True / False / None = unknown)."""
    return {
        "weapon": answers.weapons,
        "violence": _any_true(answers.violence, answers.threat_to_others),
        "crime": answers.crime_in_progress,
        "not_breathing": None if answers.breathing is None else not answers.breathing,
        "unconscious": None if answers.conscious is None else not answers.conscious,
        "overdose": answers.overdose_suspected,
        "medical": answers.injury,
        "suicidal": answers.suicidal,
        "substance": answers.substance_use,
        "children": answers.children_present,
    }


def _any_true(*values: bool | None) -> bool | None:
    if any(v is True for v in values):
        return True
    if all(v is False for v in values):
        return False
    return None
