"""Findings read from the call: the protocol answers plus what the narrative says.

A finding is a fact with its evidence (the answer or the words that showed it).
The narrative is read by category, not only by listed phrase:

- phrases from the lexicon, matched on word boundaries after misspelling
  correction (two edits on words of five letters or more, one on four; never to
  a different finding, never changing a real word such as "sitting");
- a threat is a harm verb with intent and a target ("wants to kill his boss",
  "I'll shoot you all"); aimed at oneself it is suicidal talk instead;
- an attack with any object is a weapon ("came at him with a rake",
  "swinging a shovel"), whatever the object, unless it is a fist or a foot;
- a child's age ("6yo", "9 yr old", "niños de 2 y 5 años") is a child present;
- a temperature at or below freezing or above 95 °F is exposure.

Negation is understood within a short window ("no weapons", "denies taking
anything", "hasn't hurt anyone") that never reaches past its clause: in
"yelling at nobody, waving a gun" or "no gun but a knife" the weapon stands.
Phrases such as "not breathing" or "won't wake up" are themselves positive.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache
from operator import methodcaller

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from schemas.calls import Answers
from services.triage.domain.lexicon import Lexicon, default_lexicon, fold
from services.triage.domain.phrase_index import Phrase, PhraseIndex

_NEGATING_SUFFIX = "n't"
_ENDS_NEGATING = methodcaller("endswith", _NEGATING_SUFFIX)
_WINDOW = 4
_HEDGE_WINDOW = 5  # "not sure if he has a gun": the hedge sits further back than a "no"
_THREAT_WINDOW = 5  # "going to come over and hurt me": intent a few words before the verb
_ATTACK_REACH = 8  # "hit him over the head with a pan": the object a few words after the verb


@dataclass
class Finding:
    present: bool
    evidence: list[str] = field(default_factory=list)
    negated: list[str] = field(default_factory=list)
    hedged: list[str] = field(default_factory=list)

    def add(self, phrase: str) -> None:
        self.present = True
        self.evidence.append(f'"{phrase}"')


_NOTHING = Finding(present=False)


class Findings(dict[str, Finding]):
    """Findings by name; one never found reads as absent (built only when found)."""

    def __missing__(self, name: str) -> Finding:
        return _NOTHING

    def get_or_add(self, name: str) -> Finding:
        finding = self.get(name)
        if finding is None:
            finding = self[name] = Finding(present=False)
        return finding


# Punctuation and contrast words end a clause, and with it any negation.
_BREAK_WORDS = r"(?:but|pero|and then|y luego)\b"
_TOKEN = re.compile(r"\w+(?:'\w+)*")
# Clause breaks and tokens in one scan of the text: group 1 a break, group 2 a token.
# A token's "'s" or "'t" never swallows a contrast word ("x'but" is "x", then a
# break), as splitting into clauses first and tokenising each never did.
_PIECES = re.compile(
    r"([.,;:!?()\n]+|\b" + _BREAK_WORDS + r")|(\w+(?:'(?!" + _BREAK_WORDS + r")\w+)*)"
)

# "won't stop bleeding", "can't stop shaking": the negation is of the stopping.
_NEGATION_ENDS_AT = frozenset({"stop", "stops", "stopping", "quit"})

_CUT_THINGS = frozenset(
    {"vegetables", "onions", "food", "the", "hair", "grass", "wood", "paper", "bread", "meat", "up"}
    | {"a", "his", "her", "class", "school", "back", "down", "off", "out", "corners", "lines"}
)
# Words whose meaning changes with the next word: "shooting up" is injecting,
# not a shooting; "high school" is not intoxication.
_NOT_WHEN_FOLLOWED_BY: dict[str, frozenset[str]] = {
    "shooting": frozenset({"up"}),
    "hit my": frozenset({"head"}),
    "rig": frozenset({"site", "crew", "worker", "workers"}),
    "used": frozenset({"to", "car"}),
    "pipe": frozenset({"burst", "broke", "leak", "leaking"}),
    "high": frozenset({"school", "chair", "fever"}),
    "using": frozenset({"the", "a", "his", "her", "my", "it"}),
    "safe": frozenset({"to", "place"}),
    "liquor": frozenset({"store", "shop"}),
    "beer": frozenset({"store", "garden"}),
    "check on": frozenset({"arrival"}),
    "tower": frozenset({"apartments", "apts", "apt", "building"}),
    "punched": frozenset({"walls", "wall", "holes"}),
    "punching": frozenset({"walls", "wall", "holes", "cars", "parked", "things", "doors"}),
    # "choking on a grape" is an airway emergency, not an assault.
    "choking": frozenset({"on"}),
    "choked": frozenset({"on"}),
    "hit him": frozenset({"head", "w", "with"}),
    "hitting his": frozenset({"own", "head"}),
    "hitting her": frozenset({"own", "head"}),
    "hit her": frozenset({"head", "w", "with"}),
    "kicking": frozenset(
        {"car", "cars", "door", "doors", "in", "down", "over", "trash", "wall", "walls"}
    ),
    "end it": frozenset({"with"}),
    "dts": frozenset({"before", "in"}),
    "screaming for help": frozenset({"from"}),
    # "an old man down the road": a place, not a person down.
    "man down": frozenset({"the", "by", "near", "there", "here", "a"}),
    "person down": frozenset({"the", "by", "near", "there", "here", "a"}),
    "someone down": frozenset({"the", "by", "near", "there", "here", "a"}),
    # "was cutting vegetables" is cooking, not self-harm.
    "is cutting": _CUT_THINGS,
    "was cutting": _CUT_THINGS,
    "been cutting": _CUT_THINGS,
    "keeps cutting": _CUT_THINGS,
    "started cutting": _CUT_THINGS,
    "in the river": frozenset(
        {"walk", "trail", "path", "park", "district", "area", "front", "view"}
    ),
    "cold": frozenset(
        {"medicine", "meds", "sore", "sores", "turkey", "water", "case", "call", "calls", "brew"}
        | {"feet", "shoulder", "sweat", "sweats", "pizza", "drink", "beer", "hands", "night", "out"}
        | {"day", "morning", "evening", "front", "snap"}
    ),
    "not answering": frozenset({"her", "his", "the", "phone", "calls", "texts", "my", "their"}),
    # "amenazando con tirarse" threatens the self: suicidal talk, not a threat to others.
    "amenazando": frozenset({"con"}),
    "amenaza con": frozenset(
        {"tirarse", "matarse", "suicidarse", "aventarse", "colgarse", "cortarse"}
    ),
    "fell": frozenset({"asleep", "apart", "behind", "for", "in", "off", "out", "through"}),
    "broke down": frozenset({"crying", "in", "and"}),
    "ending it": frozenset({"with"}),
}
# Words whose meaning changes with the word before: "under the bridge" is a
# place to sleep, not a ledge; "he works" is a job, not a syringe kit.
_NOT_WHEN_PRECEDED_BY: dict[str, frozenset[str]] = {
    "railing": frozenset({"stair", "porch", "deck", "the"}),
    "cliff": frozenset({"near"}),
    "freeway": frozenset({"near", "off", "by", "past"}),
    "interstate": frozenset({"near", "off", "by", "past", "the"}),
    "tower": frozenset({"cell", "radio", "clock", "the"}),
    "in the river": frozenset({"lives", "fishing", "swimming"}),
    "limp": frozenset({"a", "with"}),
    "episode": frozenset({"tv", "an", "this"}),
    # Tools and toys: "nail gun", "glue gun", "water gun" are not firearms.
    "gun": frozenset(
        {"nail", "glue", "heat", "staple", "spray", "paint", "water", "caulk", "massage"}
    ),
    "guns": frozenset({"nail", "glue", "heat", "staple", "spray", "paint", "water", "caulk"}),
    "shelter": frozenset({"the", "at", "from", "in", "bus"}),
    # "the dog attacked him": an animal bite, a medical call, not an assault.
    "attacked": frozenset({"dog", "bull", "cat", "animal", "perro", "dogs", "raccoon", "coyote"}),
    "bit him": frozenset({"dog", "bull", "cat", "animal", "perro", "dogs"}),
    "bit her": frozenset({"dog", "bull", "cat", "animal", "perro", "dogs"}),
    "bars": frozenset({"behind", "the", "monkey", "gay", "sports", "candy", "granola"}),
    "cut herself": frozenset({"to"}),
    "cut himself": frozenset({"to"}),
    "cut myself": frozenset({"to"}),
    # "thoughts of not waking up", "wishes he wouldn't wake up": passive suicidal
    # ideation, not a person who is unresponsive now.
    "not waking up": frozenset({"of", "about", "wish", "wishes", "hopes"}),
    "wouldn't wake up": frozenset({"of", "about", "wish", "wishes", "hopes"}),
    "not wake up": frozenset({"of", "about", "wish", "wishes", "hopes", "and"}),
    "al rio": frozenset({"junto", "cerca"}),
    "cold": frozenset({"a", "the", "has", "had", "head", "common", "stone", "out"}),
    # "wants to OD tonight" is suicidal talk, not an overdose (yet).
    "od": frozenset({"to"}),
    "overdose": frozenset({"to"}),
}
# A threat against oneself is suicidal talk, not a threat to others.
_REFLEXIVE = frozenset({"himself", "herself", "myself", "themselves", "yourself", "self"})
_NOT_FOLLOWED_BY_FOR: dict[str, frozenset[str]] = {"threat": _REFLEXIVE, "violence": _REFLEXIVE}
# "thoughts of not waking up", "wishes he wouldn't wake up": wishes, not a person down now.
_NOT_PRECEDED_BY_FOR: dict[str, frozenset[str]] = {
    "unconscious": frozenset({"of", "about", "wish", "wishes", "hopes", "dreams"})
}
# Phrases whose meaning depends on what follows within two words (see _meaning_changed).
_TWO_AHEAD = frozenset({"punched", "punching", "punch", "kicked", "kicking", "hit", "hitting"})
# After an attack verb, these mean the verb was not aimed at anyone
# ("chased it with vodka", "beat up the car").
_NOT_AIMED = frozenset({"it", "up", "out", "off", "down", "back", "over", "con", "with", "w"})
# "weapons unknown", "kids unk": the call-taker is saying it is not known, which
# is neither yes nor no (principle 4).
_UNKNOWN = frozenset(
    {"unknown", "unk", "unkn", "unclear", "uncertain", "desconocido", "desconocidas", "known"}
)
# "might have a gun", "not sure if he is armed": a suspicion, not a fact, and not a no.
_HEDGES = frozenset(
    {"might", "may", "maybe", "possibly", "possible", "could", "sure", "unsure", "whether", "if"}
)
_WITH = frozenset({"with", "con", "w"})
_DETERMINERS = frozenset(
    {"a", "an", "the", "his", "her", "their", "my", "some", "that", "this", "un", "una", "el"}
)
_ATTACK_AIM = frozenset({"at", "after", "toward", "towards"})
# "threatening to burn the house with everyone inside": people are not weapons.
_PEOPLE = frozenset(
    {"everyone", "everybody", "someone", "somebody", "people", "him", "her", "them", "us", "me"}
    | {"you", "kids", "children", "family", "friends", "others", "todos", "nadie", "nobody"}
)
# "throwing rocks at geese", "yelling at cars": not an attack on a person.
_NOT_PEOPLE = frozenset(
    {"geese", "birds", "ducks", "pigeons", "squirrels", "cars", "car", "windows", "window"}
    | {"walls", "wall", "trees", "tree", "water", "river", "lake", "ground", "sky", "tv", "door"}
    | {"doors", "buses", "traffic", "nothing", "nobody"}
)
_APPROACH = frozenset({"came", "coming", "went", "going", "charged", "charging", "ran", "running"})

# A child's age: "6yo", "9 yr old", "12 year old", "niños de 2 y 5 años", "8 months old".
# "3 years sober" is a duration: an age needs "old", "yo" or "de N años".
_AGE = re.compile(
    r"\b(\d{1,2})\s*(?:-|\s)?(?:yo|y/o|yrs? old|years? olds?|year-olds?|months? old|mo old)\b"
    r"|\b(?:de|tiene)\s+(\d{1,2})\s+(?:años|anos|meses)\b"
)
# "my daughter is 16", "su hija de 12": a child named with an age.
_AGE_OF = re.compile(
    r"\b(?:daughter|son|kid|child|boy|girl|grandson|granddaughter|brother|sister|hija|hijo|nieto|nieta)"
    r"\s*(?:is|es|de|who is|,)\s*(\d{1,2})\b"
)
# CAD shorthand: "juv male 15", "female 16": a sex or "juv" followed by the age.
_AGE_CAD = re.compile(
    r"\b(?:juv|juvenile|male|female|teen)\s*,?\s*(\d{1,2})\b"
    r"(?!\s*(?:min|mins|minutes|hours|hrs|days|am|pm|st|th|nd|rd))"
)
_AGE_LIST = re.compile(r"\b(\d{1,2})\s*(?:y|and|,)\s*(\d{1,2})\s*(?:años|anos|years?|yrs?)\b")
_ADULT_AGE = 18
_ELDER_AGE = 65
# "her mother (82)", "son (24)": an age in brackets after the person.
_AGE_IN_BRACKETS = re.compile(r"\((\d{1,3})\)")
# "15°F", "-5 degrees", "105 degrees": exposure weather.
_TEMPERATURE = re.compile(r"(-?\d{1,3})\s*(?:°|º|deg\b|degrees?\b)\s*(f\b|c\b)?")
_FREEZING_F, _HOT_F = 32, 95
_DIGIT = re.compile(r"\d")


def _is_negator(token: str, negators: frozenset[str]) -> bool:
    return token in negators or token.endswith(_NEGATING_SUFFIX)


class Reader:
    """Reads narratives with one lexicon; built once per lexicon and cached."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.names = tuple(lexicon.findings)
        self.negators = frozenset(fold(n) for n in lexicon.negators)
        self._classes = {k: frozenset(fold(w) for w in v) for k, v in lexicon.classes.items()}
        self._phrase_index = PhraseIndex()
        meanings: dict[str, set[str]] = {}
        listed = ((name, p) for name, phrases in lexicon.findings.items() for p in phrases)
        for order, (name, phrase) in enumerate(listed):
            words = tuple(_TOKEN.findall(fold(phrase)))
            key = " ".join(words)
            # Worked out once here, not at every match: whether the phrase's
            # meaning depends on its neighbours, and whether it negates itself.
            contextual = (
                key in _TWO_AHEAD
                or key in _NOT_WHEN_FOLLOWED_BY
                or key in _NOT_WHEN_PRECEDED_BY
                or name in _NOT_FOLLOWED_BY_FOR
                or name in _NOT_PRECEDED_BY_FOR
            )
            self._phrase_index.add(
                Phrase(
                    order=order,
                    name=name,
                    text=phrase,
                    words=words,
                    contextual=contextual,
                    self_negating=_is_negator(words[0], self.negators),
                    literal_only=name in _LITERAL_ONLY,
                    claimable=name == "crime",
                    said=f'"{phrase}"',
                    possible=f'"{phrase}" (possible)',
                    negated=f'"{phrase}" (negated)',
                    claimed=f'"{phrase}" (claimed)',
                )
            )
            for word in words:
                meanings.setdefault(word, set()).add(name)
        # Word classes are vocabulary too: "kill" or "shovel" typed wrong still count.
        for cls, words_of in self._classes.items():
            if cls == "not_misspellings":
                continue
            for word in words_of:
                meanings.setdefault(word, set()).add(f"class:{cls}")
        self._vocabulary = frozenset(meanings)
        self._meanings = {w: frozenset(m) for w, m in meanings.items()}
        # Misspelling targets, grouped by first letter: typists rarely get the
        # first letter wrong, and a small group keeps the fuzzy search cheap.
        self._targets: dict[str, list[str]] = {}
        for word in self._vocabulary:
            if len(word) >= 4 and word.isalpha():
                self._targets.setdefault(word[0], []).append(word)
        self._attack_objects = frozenset(
            w
            for name in ("attack_object", "weapon")
            for p in lexicon.findings.get(name, ())
            for w in _TOKEN.findall(fold(p))
        )
        self._weapons = frozenset(
            w for p in lexicon.findings.get("weapon", ()) for w in _TOKEN.findall(fold(p))
        )
        self._attack_starts = self._classes["attack_verbs"] | _APPROACH
        self.canonical = lru_cache(maxsize=65_536)(self._canonical)

    def _canonical(self, token: str) -> str:
        """The lexicon word a misspelt token stands for, or the token itself."""
        if token.endswith("'s") and token[:-2] not in _PRONOUNS:
            # "her husband's oxy's", "the dealer's": the word itself.
            base = token[:-2]
            if base in self._vocabulary:
                return base
            token = base
        if (
            token in self._vocabulary
            or len(token) < 4
            or not token.isalpha()
            or token in self._classes["not_misspellings"]
            or token in self.lexicon.known_words
        ):
            return token
        edits = 1 if len(token) == 4 else 2
        choices = [w for w in self._targets.get(token[0], ()) if abs(len(w) - len(token)) <= edits]
        near = extract(token, choices, scorer=OSA.distance, score_cutoff=edits, limit=8)
        if not near:
            return token
        best = min(score for _w, score, _i in near)
        candidates = sorted(w for w, score, _i in near if score == best)
        # Short targets take one edit only ("kill" is not "bill" twice over).
        candidates = [w for w in candidates if len(w) >= 5 or best <= 1]
        # Ambiguous corrections are kept only when every candidate shares a meaning.
        if not candidates or not frozenset.intersection(*(self._meanings[w] for w in candidates)):
            return token
        return candidates[0]

    def _clauses(self, text: str) -> list[list[str]]:
        """The text's clauses, each as its canonical tokens (clauses without words left out)."""
        canonical = self.canonical
        clauses: list[list[str]] = []
        tokens: list[str] = []
        for _break, token in _PIECES.findall(text):
            if token:
                tokens.append(canonical(token))
            elif tokens:
                clauses.append(tokens)
                tokens = []
        if tokens:
            clauses.append(tokens)
        return clauses

    def _is_negated(self, tokens: list[str], start: int) -> bool:
        if start and tokens[start - 1] in _NEGATION_ENDS_AT:
            return False
        window = tokens[max(0, start - _WINDOW) : start]
        if not self.negators.isdisjoint(window):
            return True
        # map with a methodcaller, not a generator: this runs at every match.
        return any(map(_ENDS_NEGATING, window))

    def read(self, narrative: str) -> Findings:
        found = Findings()
        folded = fold(narrative)
        # Each pattern starts only at its trigger words: a clause with none is skipped
        # with one C-speed set test instead of a scan in Python.
        threat_starts, attack_starts = self._classes["harm_verbs"], self._attack_starts
        for tokens in self._clauses(folded):
            self._phrases(tokens, found)
            if not threat_starts.isdisjoint(tokens):
                self._threats(tokens, found)
            if not attack_starts.isdisjoint(tokens):
                self._attacks(tokens, found)
            if not _LET.isdisjoint(tokens):
                _confinement(tokens, found, self.negators)
            if not _SWALLOWED.isdisjoint(tokens):
                _ingestion(tokens, found)
        if _DIGIT.search(folded):  # ages and temperatures need a number
            _ages(folded, found)
            _temperatures(folded, found)
        return found

    def _phrases(self, tokens: list[str], found: Findings) -> None:
        index = self._phrase_index
        first = index.first
        following = len(tokens)
        # Most words start no phrase: pick the few that do in one C-speed pass.
        starts = [i for i, t in enumerate(tokens) if t in first]
        if not starts:
            return
        # A clause with no hedge or negating word anywhere has none in any window:
        # two set tests here spare a window test at every match.
        hedgy = not _HEDGES.isdisjoint(tokens)
        negatable = not self.negators.isdisjoint(tokens) or any(map(_ENDS_NEGATING, tokens))
        last = following - 1
        for start in starts:
            node = first[tokens[start]]
            # Walk the trie only when the next word continues a phrase (few do).
            if start < last and tokens[start + 1] in node.next:
                phrases = index.at(tokens, start)
            else:
                phrases = node.phrases
            for phrase in phrases:
                n = len(phrase.words)
                if phrase.contextual and _meaning_changed(phrase.name, tokens, start, phrase.words):
                    continue
                if phrase.literal_only and not _FIGURATIVE.isdisjoint(
                    tokens[start + n : start + n + 3]
                ):
                    continue  # "fighting his addiction", "shot a video": not violence
                if start + n < following and tokens[start + n] in _UNKNOWN:
                    continue  # "weapons unknown": neither a finding nor a negation
                finding = found.get(phrase.name)
                if finding is None:
                    finding = found[phrase.name] = Finding(present=False)
                # Phrases that carry their own negation ("not breathing") are positive.
                if phrase.self_negating:
                    finding.present = True
                    finding.evidence.append(phrase.said)
                elif phrase.claimable and not _CLAIMS.isdisjoint(
                    tokens[max(0, start - _HEDGE_WINDOW) : start]
                ):
                    # "saying people are stealing her mail": a claim to look into, not a
                    # crime in progress.
                    finding.hedged.append(phrase.claimed)
                elif hedgy and _is_hedged(tokens, start):
                    # Checked before negation: "not sure if he has a gun" is a maybe.
                    finding.hedged.append(phrase.possible)
                elif negatable and self._is_negated(tokens, start):
                    finding.negated.append(phrase.negated)
                else:
                    finding.present = True
                    finding.evidence.append(phrase.said)

    def _threats(self, tokens: list[str], found: Findings) -> None:
        """A harm verb with intent before it and someone after it is a threat."""
        harm, intent = self._classes["harm_verbs"], self._classes["intent"]
        targets, reflexive = self._classes["threat_targets"], self._classes["reflexive"]
        for i in [i for i, t in enumerate(tokens) if t in harm]:
            if i + 1 >= len(tokens):
                continue
            before = tokens[max(0, i - _THREAT_WINDOW) : i]
            willing = [t for t in before if t in intent or t.endswith(("'ll", "'d"))]
            if not willing:
                continue
            target = tokens[i + 1]
            quote = " ".join(tokens[max(0, i - 3) : i + 3])
            subject = tokens[i - 1].split("'")[0] if i else ""
            part = tokens[i + 2] if i + 2 < len(tokens) else ""
            own_body = _OWN.get(subject) == target and part in _BODY
            if target in reflexive or own_body:
                found.get_or_add("suicidal").add(quote)
            elif target in targets:
                if self._is_negated(tokens, i - len(before)) or _is_hedged(tokens, i):
                    found.get_or_add("threat").negated.append(f'"{quote}" (negated)')
                else:
                    found.get_or_add("threat").add(quote)

    def _attacks(self, tokens: list[str], found: Findings) -> None:
        """An attack verb with an object ("hit him with a rake") is a weapon."""
        attack, wield = self._classes["attack_verbs"], self._classes["wield_verbs"]
        body = self._classes["body_parts"]
        for i in [i for i, t in enumerate(tokens) if t in self._attack_starts]:
            token = tokens[i]
            aimed = token in _APPROACH and i + 1 < len(tokens) and tokens[i + 1] in _ATTACK_AIM
            if token not in attack and not aimed:
                continue
            if self._is_negated(tokens, i):
                continue
            reach = tokens[i + 1 : i + 1 + _ATTACK_REACH]
            thing = ""
            aimed_at = False
            if token in wield and reach:
                # "swinging a skateboard at people", "throwing furniture at staff":
                # whatever is swung or thrown at someone.
                at = next((j for j, w in enumerate(reach[:4]) if w in _ATTACK_AIM), None)
                named = reach[1] if reach[0] in _DETERMINERS and len(reach) > 1 else reach[0]
                aimed_at = (
                    at is not None
                    and at > 0
                    and (at + 1 >= len(reach) or reach[at + 1] not in _NOT_PEOPLE)
                )
                if named in self._attack_objects or aimed_at:
                    thing = reach[at - 1] if aimed_at and at is not None else named
            elif reach and reach[0] not in _NOT_AIMED:
                for j, word in enumerate(reach):
                    if word in _WITH and j + 1 < len(reach):
                        rest = reach[j + 1 :]
                        thing = rest[1] if rest[0] in _DETERMINERS and len(rest) > 1 else rest[0]
                        break
            if reach and reach[0] in self._classes["reflexive"]:
                # "stabbing herself with a pen": self-harm, a weapon only if it is one.
                found.get_or_add("suicidal").add(" ".join(tokens[i : i + 2]))
                found.get_or_add("medical").add(" ".join(tokens[i : i + 2]))
                if thing not in self._weapons:
                    continue
            # "amenazando con tirarse": a Spanish infinitive is a threat of an act, not a weapon.
            if (
                not thing
                or thing in body
                or thing in _DETERMINERS
                or thing in _PEOPLE
                or thing.endswith("rse")
            ):
                continue
            quote = " ".join(tokens[i : i + 1 + reach.index(thing) + 1])
            found.get_or_add("weapon").add(quote)
            threat_only = token.startswith(("threat", "amenaz"))
            if not threat_only and token not in wield and token not in _APPROACH:
                # "hit him with a bat", "le está pegando con un palo": the attack itself.
                found.get_or_add("violence").add(quote)
            # "beaten with a pipe": the pipe was a weapon, not paraphernalia.
            gear = found.get("paraphernalia")
            if gear is not None and gear.evidence == [f'"{thing}"']:
                del found["paraphernalia"]
            if aimed_at:
                found.get_or_add("violence").add(" ".join(tokens[i : i + 4]))


_SWALLOWED = frozenset({"took", "swallowed", "ate", "downed", "tomo", "trago", "popped"})
_TABLETS = frozenset(
    {"pills", "tablets", "meds", "medication", "medications", "capsules", "pastillas"}
    | {"medicinas", "lithium", "tylenol", "xanax", "seroquel", "oxycodone", "insulin"}
)


def _ingestion(tokens: list[str], found: Findings) -> None:
    """ "Took his sleeping pills", "swallowed 20 of her meds": pills taken, whatever kind."""
    for i in [i for i, t in enumerate(tokens) if t in _SWALLOWED]:
        if not _TABLETS.isdisjoint(tokens[i + 1 : i + 6]):
            found.get_or_add("pills_taken").add(" ".join(tokens[i : i + 5]))


_LET = frozenset({"let", "letting"})


def _confinement(tokens: list[str], found: Findings, negators: frozenset[str]) -> None:
    """ "Won't let her leave", "not letting me leave": someone held against their will."""
    for i in [i for i, t in enumerate(tokens) if t in _LET]:
        near = tokens[i + 1 : i + 4]
        before = tokens[max(0, i - 2) : i]
        if "leave" in near and any(_is_negator(t, negators) for t in before):
            quote = " ".join(tokens[max(0, i - 1) : i + 4])
            found.get_or_add("aggression").add(quote)
            found.get_or_add("crime").add(quote)  # held against one's will


def _ages(folded: str, found: Findings) -> None:
    ages = [int(m.group(1) or m.group(2)) for m in _AGE.finditer(folded)]
    ages += [int(n) for m in _AGE_LIST.finditer(folded) for n in m.groups()]
    ages += [int(m.group(1)) for m in _AGE_OF.finditer(folded)]
    ages += [int(m.group(1)) for m in _AGE_CAD.finditer(folded)]
    ages += [int(m.group(1)) for m in _AGE_IN_BRACKETS.finditer(folded)]
    young = [a for a in ages if a < _ADULT_AGE]
    if young:
        found.get_or_add("children").add(f"age {young[0]}")
    old = [a for a in ages if a >= _ELDER_AGE]
    if old:
        found.get_or_add("elderly").add(f"age {old[0]}")


def _temperatures(folded: str, found: Findings) -> None:
    for m in _TEMPERATURE.finditer(folded):
        value, unit = int(m.group(1)), m.group(2)
        fahrenheit = value * 9 / 5 + 32 if unit == "c" else value
        if fahrenheit <= _FREEZING_F or fahrenheit >= _HOT_F:
            found.get_or_add("exposure").add(m.group(0).strip())


def _followed_by(tokens: list[str], start: int, words: tuple[str, ...]) -> str:
    after = start + len(words)
    return tokens[after] if after < len(tokens) else ""


_NONE: frozenset[str] = frozenset()
_CLAIMS = frozenset({"saying", "claims", "claiming", "believes", "convinced", "accuses", "thinks"})
# "she cut her arm", "he'll hurt his leg": the harm is to the speaker's own body.
_OWN = {"she": "her", "he": "his", "i": "my", "ella": "su", "el": "su"}
_BODY = frozenset(
    {"arm", "arms", "wrist", "wrists", "leg", "legs", "throat", "neck", "face", "hand", "hands"}
    | {"head", "stomach", "chest", "skin", "thigh", "thighs", "brazo", "brazos", "munecas"}
)
# Violence words used figuratively: "fighting his addiction", "shot a video of himself".
_LITERAL_ONLY = frozenset({"violence", "weapon", "threat", "wounded"})
_FIGURATIVE = frozenset(
    {"addiction", "demons", "depression", "urges", "cravings", "illness", "cancer", "habit"}
    | {"video", "photo", "picture", "selfie", "pic", "bottom", "time", "sleep", "anxiety"}
    | {"pool", "hoops", "baskets", "darts", "breeze", "photos", "film"}
)
_PRONOUNS = frozenset({"he", "she", "it", "that", "what", "who", "there", "here", "where", "let"})


# "punched a hole in the wall", "kicking the car door": the blow hit a thing, not a person.
_HIT_THINGS = frozenset(
    {"hole", "holes", "wall", "walls", "door", "doors", "window", "windows", "mirror", "car"}
    | {"cars", "tv", "fridge", "locker", "sign", "table", "dashboard", "trash", "garbage"}
    | {"dumpster", "bench", "pole", "tree", "can", "machine", "vending", "furniture"}
    | {"own", "himself", "herself", "myself"}
)
_HIT_VERBS = frozenset({"punched", "punching", "punch", "kicked", "kicking", "hit", "hitting"})


def _meaning_changed(name: str, tokens: list[str], start: int, words: tuple[str, ...]) -> bool:
    phrase = " ".join(words) if len(words) > 1 else words[0]
    following = _followed_by(tokens, start, words)
    if phrase in _HIT_VERBS and not _HIT_THINGS.isdisjoint(tokens[start + 1 : start + 3]):
        return True
    if following in _NOT_WHEN_FOLLOWED_BY.get(phrase, _NONE):
        return True
    if start and tokens[start - 1] in _NOT_WHEN_PRECEDED_BY.get(phrase, _NONE):
        return True
    if start and tokens[start - 1] in _NOT_PRECEDED_BY_FOR.get(name, _NONE):
        return True
    return following in _NOT_FOLLOWED_BY_FOR.get(name, _NONE)


def _is_hedged(tokens: list[str], start: int) -> bool:
    return not _HEDGES.isdisjoint(tokens[max(0, start - _HEDGE_WINDOW) : start])


_READERS: dict[int, Reader] = {}


def reader_for(lexicon: Lexicon | None = None) -> Reader:
    """The reader of a lexicon (the shipped one by default), built once."""
    lexicon = lexicon or default_lexicon()
    key = id(lexicon)
    if key not in _READERS:
        _READERS[key] = Reader(lexicon)
    return _READERS[key]


def read_narrative(narrative: str, lexicon: Lexicon | None = None) -> Findings:
    return reader_for(lexicon).read(narrative)


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
