"""Each personal field is sealed under its own data key; master keys rotate without re-sealing."""

import pytest

from services.common.field_crypto import (
    InvalidDataKeys,
    Keyring,
    MissingDataKeys,
    UndecryptableValue,
    generate_key,
)

NARRATIVE = "caller says her son is hearing voices, call back on +13035550100"


def _body(stored: str) -> str:
    return stored.rsplit(":", 1)[1]


def test_a_value_is_stored_sealed_and_opens_again() -> None:
    keyring = Keyring([generate_key()])
    stored = keyring.seal(NARRATIVE.encode())
    assert stored.startswith("enc1:")
    assert "voices" not in stored
    assert "3035550100" not in stored
    assert keyring.open(stored).decode() == NARRATIVE


def test_each_value_has_its_own_data_key() -> None:
    keyring = Keyring([generate_key()])
    first, second = keyring.seal(b"same words"), keyring.seal(b"same words")
    assert first != second
    assert first.split(":")[1] != second.split(":")[1]


def test_values_under_an_old_key_open_once_a_new_key_is_put_first() -> None:
    old, new = generate_key(), generate_key()
    stored = Keyring([old]).seal(NARRATIVE.encode())
    rotating = Keyring([new, old])
    assert rotating.open(stored).decode() == NARRATIVE
    # New values use the new key: the new key alone opens them.
    assert Keyring([new]).open(rotating.seal(b"new call")) == b"new call"


def test_rewrapping_changes_the_wrapped_key_only_and_frees_the_old_key() -> None:
    old, new = generate_key(), generate_key()
    stored = Keyring([old]).seal(NARRATIVE.encode())
    rotating = Keyring([new, old])
    rewrapped = rotating.rewrap(stored)
    assert rewrapped is not None
    assert _body(rewrapped) == _body(stored)  # the ciphertext is untouched
    assert Keyring([new]).open(rewrapped).decode() == NARRATIVE
    assert rotating.rewrap(rewrapped) is None  # already under the first key
    with pytest.raises(UndecryptableValue):
        Keyring([old]).open(rewrapped)


def test_a_wrong_key_cannot_open_or_rewrap() -> None:
    stored = Keyring([generate_key()]).seal(NARRATIVE.encode())
    stranger = Keyring([generate_key()])
    with pytest.raises(UndecryptableValue, match="CORESPOND_DATA_KEYS"):
        stranger.open(stored)
    with pytest.raises(UndecryptableValue):
        stranger.rewrap(stored)


def test_an_altered_or_plain_value_is_refused_without_echoing_it() -> None:
    keyring = Keyring([generate_key()])
    stored = keyring.seal(NARRATIVE.encode())
    body = _body(stored)
    flipped = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    with pytest.raises(UndecryptableValue, match="altered"):
        keyring.open(stored.replace(body, flipped))
    with pytest.raises(UndecryptableValue) as refused:
        keyring.open(NARRATIVE)
    assert "voices" not in str(refused.value)


def test_missing_and_malformed_keys_say_what_to_do_without_showing_the_key() -> None:
    with pytest.raises(MissingDataKeys) as missing:
        Keyring.from_setting(None)
    assert "CORESPOND_DATA_KEYS" in str(missing.value)
    assert "corespond keys generate" in str(missing.value)
    with pytest.raises(MissingDataKeys):
        Keyring.from_setting(" , ")
    with pytest.raises(InvalidDataKeys) as invalid:
        Keyring.from_setting(f"{generate_key()},not-a-fernet-key")
    assert "key 2 of 2" in str(invalid.value)
    assert "not-a-fernet-key" not in str(invalid.value)
