"""Reading SMS replies: every documented word, the code, opt-out words, and no guessing."""

import pytest

from schemas.vocabulary import ReplyAnswer
from services.notify.domain.replies import Intent, read_reply


@pytest.mark.parametrize(
    ("text", "answer", "code"),
    [
        ("Y", ReplyAnswer.ACCEPT, None),
        ("y 4821", ReplyAnswer.ACCEPT, "4821"),
        ("Yes #4821", ReplyAnswer.ACCEPT, "4821"),
        ("ACCEPT 4821.", ReplyAnswer.ACCEPT, "4821"),
        ("n", ReplyAnswer.DECLINE, None),
        ("NO 4821", ReplyAnswer.DECLINE, "4821"),
        ("decline", ReplyAnswer.DECLINE, None),
        ("arrived 4821", ReplyAnswer.ARRIVED, "4821"),
        ("On scene 4821", ReplyAnswer.ARRIVED, "4821"),
        ("DONE", ReplyAnswer.DONE, None),
    ],
)
def test_answers_with_and_without_a_code(text: str, answer: ReplyAnswer, code: str | None) -> None:
    reply = read_reply(text)
    assert reply.intent == Intent.ANSWER
    assert reply.answer == answer
    assert reply.code == code


@pytest.mark.parametrize("text", ["STOP", "stop", "Unsubscribe", "QUIT", "cancel", "END"])
def test_twilio_opt_out_words_stop_messages(text: str) -> None:
    assert read_reply(text).intent == Intent.STOP


@pytest.mark.parametrize("text", ["START", "unstop"])
def test_opt_in_words(text: str) -> None:
    assert read_reply(text).intent == Intent.START


def test_yes_may_be_an_opt_in_for_an_opted_out_number() -> None:
    assert read_reply("YES").could_be_opt_in
    assert not read_reply("Y").could_be_opt_in


@pytest.mark.parametrize(
    "text", ["", "maybe", "Y 4821 4822", "Y tomorrow", "stop 4821 please", "on my way", "ok"]
)
def test_anything_else_is_unclear_never_a_guess(text: str) -> None:
    assert read_reply(text).intent == Intent.UNCLEAR


def test_help() -> None:
    assert read_reply("help").intent == Intent.HELP
