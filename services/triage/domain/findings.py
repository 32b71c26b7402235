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
        "bat",
        "baseball bat",
        "crowbar",
        "tire iron",
        "shots fired",
        "shooter",
        "navaja",
        "hammer",
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
        "pegando",
        "pegándole",
        "shot at",
        "beating her",
        "beating him",
        "swinging at",
        "pelea",
        "peleando",
        "shot at people",
        "fist fight",
        "fistfight",
        "brawl",
        "jumped him",
        "jumped her",
        "kicking",
        "slapping",
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
        "shot himself in",
        "nose bleeding",
        "bleeding bad",
        "herido",
        "hay un herido",
        "vomiting blood",
        "cut himself",
        "cut herself",
        "cutting himself",
        "cutting herself",
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
        "swallowed all",
        "took a handful",
        "took too many",
        "took too much",
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
        "wanted to die",
        "wanna die",
        "want to be dead",
        "better off dead",
        "no reason to live",
        "said goodbye",
        "saying goodbye",
        "texted goodbye",
        "goodbye note",
        "suicide note",
        "giving away his",
        "giving away her",
        "tonight is the night",
        "hang himself",
        "hang herself",
        "hang myself",
        "hanging himself",
        "hanging herself",
        "use it on himself",
        "use it on herself",
        "use it on myself",
        "shot himself",
        "shot herself",
        "swallowed all",
        "took the whole bottle",
        "took a bottle",
        "whole bottle of",
        "kill her self",
        "no quiere vivir",
        "quitarse la vida",
        "se quiere matar",
        "se cortó",
        "se corto",
        "cut his wrists",
        "cut her wrists",
        "slit his wrists",
        "slit her wrists",
        "active si",
        "si with plan",
        "endorses si",
        "endorsing si",
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
        "on the rail",
        "rail of",
        "over the railing",
        "legs over the side",
        "edge of the roof",
        "edge of roof",
        "edge of apt roof",
        "edge of the bridge",
        "on the edge of the",
        "puente",
        "saltar",
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
        "psych",
        "psych pt",
        "psych patient",
        "mentally ill",
        "mental illness",
        "delusions",
        "delusion",
        "demons",
        "demon",
        "the devil",
        "says hes jesus",
        "says he's jesus",
        "says he is jesus",
        "says she is god",
        "says he is god",
        "fbi",
        "cia",
        "spying on him",
        "spying on her",
        "thinks hes being followed",
        "thinks shes being followed",
        "thinks he is being followed",
        "thinks she is being followed",
        "thinks people are after",
        "being watched",
        "chip in his",
        "chip in her",
        "implant",
        "voices",
        "hablando solo",
        "hablando sola",
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
        "geeked",
        "geeked up",
        "weed",
        "marijuana",
        "cannabis",
        "edible",
        "edibles",
        "thc",
        "relapse",
        "relapsed",
        "bupe",
        "suboxone",
        "mota",
    ),
    # A threat to hurt someone (DOMAIN principle 1): police, but not violence in progress.
    "threat": (
        "threatening to kill",
        "threatening to hit",
        "threatening to stab",
        "threatening to shoot",
        "threatening to hurt",
        "threatening people",
        "threatening her",
        "threatening him",
        "threatened to kill",
        "threatened to stab",
        "threatened to shoot",
        "will hurt",
        "will kill",
        "will stab",
        "will shoot",
        "gonna kill",
        "gonna hurt",
        "gonna stab",
        "gonna shoot",
        "going to kill",
        "going to hurt",
        "going to stab",
        "going to shoot",
        "he'll kill",
        "she'll kill",
        "he'll hurt",
        "she'll hurt",
        "amenazando",
        "amenaza con",
        "va a matar",
    ),
    # Words that suggest aggression (principle 4: with weapons unknown, keep police).
    "aggression": (
        "aggressive",
        "combative",
        "agresivo",
        "agresiva",
        "knocked over",
        "throwing things",
        "throwing chairs",
        "breaking things",
        "smashing",
        "banging on",
        "kicking the door",
        "yelling at clerk",
        "yelling at the clerk",
        "yelling at customers",
        "yelling at people",
        "in peoples faces",
        "in people's faces",
        "clerk scared",
        "scared of him",
        "scared of her",
        "afraid of him",
        "afraid of her",
        "menacing",
        "chasing people",
    ),
    # Means of suicide at hand (principle 6: means and intent → priority 1).
    "means": (
        "pills lined up",
        "stockpiling pills",
        "stockpiled",
        "rope",
        "noose",
        "razor",
        "razor blade",
        "loaded",
        "cuerda",
    ),
    # The caller or the person is safe now (priority 3 when nothing else is urgent).
    "safe": (
        "safe",
        "is safe",
        "safe at home",
        "home and safe",
        "now safe",
        "safe now",
        "a salvo",
        "está a salvo",
    ),
    # Withdrawal is an urgent crisis (DOMAIN priority 2), even when help is asked for.
    "withdrawal": (
        "dope sick",
        "dopesick",
        "withdrawal",
        "withdrawals",
        "withdrawing",
        "detoxing",
        "the shakes",
        "shaking and sweating",
        "abstinencia",
        "temblando",
        "sudando",
        "dts",
        "delirium tremens",
    ),
    # Asking for a resource rather than reporting an emergency.
    "resource_request": (
        "asking for a detox",
        "asking for detox",
        "asking for shelter",
        "asking for a bed",
        "asking where",
        "asking for help finding",
        "wants treatment",
        "wants to start",
        "wants detox",
        "wants rehab",
        "looking for treatment",
        "looking for a bed",
        "looking for detox",
        "needs a ride to",
        "needs shelter",
        "resource",
        "resources",
        "referral",
        "quiere tratamiento",
        "busca tratamiento",
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
        "kiddo",
        "grandkids",
        "grandkid",
        "grandchildren",
        "grandchild",
        "toddlers",
        "babies",
        "infants",
        "bebe",
        "bebés",
        "bebes",
        "months old",
        "month old",
        "niñas",
        "hijos pequeños",
    ),
}


@dataclass
class Finding:
    present: bool
    evidence: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    hedged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


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
    "safe": frozenset({"to", "place"}),
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
    if len(words) == 1 and following in _NOT_WHEN_FOLLOWED_BY.get(words[0], frozenset()):
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
                    finding.unknown.append(f'"{phrase}" (unknown)')
                    continue
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
