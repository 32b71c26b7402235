"""Reading a responder's SMS reply: what they mean, and which incident they mean it for.

``Y``, ``YES``, ``ACCEPT`` accept; ``N``, ``NO``, ``DECLINE`` decline;
``ARRIVED`` / ``ON SCENE`` say they are there; ``DONE`` clears; ``HELP`` asks
for help. Each may be followed by the incident's short code ("Y 4821"), which
picks the offer when a person has several open. Twilio's opt-out and opt-in
words are honoured. Anything else is unclear and gets a short clarifying
answer, never a guess.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from schemas.vocabulary import ReplyAnswer


class Intent(StrEnum):
    ANSWER = "answer"
    HELP = "help"
    STOP = "stop"
    START = "start"
    UNCLEAR = "unclear"


# Twilio's default opt-out and opt-in keywords (Messaging Services honour the same).
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
OPT_IN = frozenset({"START", "UNSTOP", "OPTIN"})
HELP = frozenset({"HELP", "INFO", "AYUDA"})
ANSWERS: dict[str, ReplyAnswer] = {
    "Y": ReplyAnswer.ACCEPT,
    "YES": ReplyAnswer.ACCEPT,
    "ACCEPT": ReplyAnswer.ACCEPT,
    "SI": ReplyAnswer.ACCEPT,
    "N": ReplyAnswer.DECLINE,
    "NO": ReplyAnswer.DECLINE,
    "DECLINE": ReplyAnswer.DECLINE,
    "ARRIVED": ReplyAnswer.ARRIVED,
    "ONSCENE": ReplyAnswer.ARRIVED,
    "DONE": ReplyAnswer.DONE,
    "CLEAR": ReplyAnswer.DONE,
}
_CODE = re.compile(r"^#?(\d{4,6})$")


@dataclass(frozen=True)
class Reply:
    intent: Intent
    answer: ReplyAnswer | None = None
    code: str | None = None
    # "YES" is also Twilio's opt-in word: it means "start" only from an opted-out number.
    could_be_opt_in: bool = False


def read_reply(text: str) -> Reply:
    words = re.sub(r"[^\w#\s]", " ", text.upper()).split()
    if not words:
        return Reply(Intent.UNCLEAR)
    # "ON SCENE 4821" reads as one keyword and a code.
    if len(words) >= 2 and words[0] == "ON" and words[1] == "SCENE":
        words = ["ONSCENE", *words[2:]]
    keyword, rest = words[0], words[1:]
    if len(words) == 1 and keyword in OPT_OUT:
        return Reply(Intent.STOP)
    if len(words) == 1 and keyword in OPT_IN:
        return Reply(Intent.START)
    if keyword in HELP and not rest:
        return Reply(Intent.HELP)
    if keyword not in ANSWERS or len(rest) > 1:
        return Reply(Intent.UNCLEAR)
    code = None
    if rest:
        match = _CODE.match(rest[0])
        if match is None:
            return Reply(Intent.UNCLEAR)
        code = match.group(1)
    return Reply(Intent.ANSWER, ANSWERS[keyword], code, could_be_opt_in=keyword == "YES")


HELP_TEXT = (
    "corespond: reply Y <code> to accept, N <code> to decline, ARRIVED <code> on scene, "
    "DONE <code> when clear. STOP to stop messages. Call dispatch for anything else."
)
UNCLEAR_TEXT = (
    "Sorry, not understood. Reply Y <code> to accept or N <code> to decline. HELP for help."
)
STOP_TEXT = "You will get no more corespond messages. Reply START to receive them again."
START_TEXT = "corespond messages are on again for this number."
NO_OFFER_TEXT = "No open corespond assignment for this number. Call dispatch if you need to."


def which_code_text(codes: list[str]) -> str:
    listed = ", ".join(sorted(codes))
    return f"You have several open: {listed}. Reply with the code, e.g. Y {sorted(codes)[0]}."


def acknowledgement(answer: ReplyAnswer, code: str) -> str:
    said = {
        ReplyAnswer.ACCEPT: "accept",
        ReplyAnswer.DECLINE: "decline",
        ReplyAnswer.ARRIVED: "arrived",
        ReplyAnswer.DONE: "done",
    }[answer]
    return f"Got it: {said} for #{code} sent to dispatch."
