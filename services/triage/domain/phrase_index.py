"""The lexicon's phrases compiled into a word trie, built once per lexicon.

Reading a narrative walks the trie from each word, so only phrases whose every
word is there come out. A lookup by a phrase's first two words handed back
every phrase sharing them ("in the ..." starts dozens), each then compared word
by word, at most words of every call: most of the reading time.
"""

from typing import NamedTuple


class Phrase(NamedTuple):
    """One lexicon phrase with what reading it needs, worked out once at load."""

    order: int  # its place in the lexicon: matches at one word come out in this order
    name: str  # the finding it shows
    text: str  # as the lexicon spells it, for the evidence
    words: tuple[str, ...]  # folded and tokenised
    contextual: bool  # its meaning depends on its neighbours (see findings._meaning_changed)
    self_negating: bool  # "not breathing": positive although its first word negates
    literal_only: bool  # violence words that may be figurative ("fighting his addiction")
    claimable: bool  # a crime someone may only claim ("saying people are stealing her mail")
    # The evidence as quoted, formatted once rather than at every match.
    said: str
    possible: str
    negated: str
    claimed: str


class Node:
    """The phrases ending at one word of the trie, and the words that may follow."""

    __slots__ = ("next", "phrases")

    def __init__(self) -> None:
        self.next: dict[str, Node] = {}
        self.phrases: list[Phrase] = []


class PhraseIndex:
    """Every phrase of a lexicon, found by walking its words from any token."""

    def __init__(self) -> None:
        # By first word: a token not here starts nothing; a token whose next word is
        # not in its node's ``next`` starts only the node's one-word phrases.
        self.first: dict[str, Node] = {}

    def add(self, phrase: Phrase) -> None:
        first, *rest = phrase.words  # never empty: the lexicon refuses an empty phrase
        node = self.first.setdefault(first, Node())
        for word in rest:
            node = node.next.setdefault(word, Node())
        node.phrases.append(phrase)

    def at(self, tokens: list[str], start: int) -> list[Phrase]:
        """The phrases spelt by ``tokens`` from ``start``: one-word phrases first, then
        longer ones, each group in lexicon order (the order evidence is quoted in)."""
        node = self.first[tokens[start]]
        longer: list[Phrase] = []
        depths = 0
        level = node.next
        for i in range(start + 1, len(tokens)):
            step = level.get(tokens[i])
            if step is None:
                break
            if step.phrases:
                longer += step.phrases
                depths += 1
            level = step.next
        if not longer:
            return node.phrases
        if depths > 1:
            longer.sort()  # by order, the first field: phrases of two lengths interleave
        return node.phrases + longer
