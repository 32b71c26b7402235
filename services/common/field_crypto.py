"""Envelope encryption of one personal field: a fresh data key per value, wrapped by master keys.

Every value gets its own random 256-bit data key and is sealed with AES-256-GCM
(``cryptography``'s ``AESGCM``). The data key is then wrapped (encrypted) by the
master keys from ``CORESPOND_DATA_KEYS``: comma-separated Fernet keys used
through ``MultiFernet``, where the first key wraps and every key unwraps. The
stored value is one line of text::

    enc1:<wrapped data key: a Fernet token>:<url-safe base64 of nonce || ciphertext+tag>

Rotation is cheap because of the envelope: putting a new master key first
makes new values use it, and :meth:`Keyring.rewrap` re-wraps a stored data key
under it without touching the ciphertext. Once every value has been re-wrapped
(``corespond keys rotate``) the old master key can be removed.

Errors (all :class:`DataKeyError`, so a caller can catch the family)::

    DataKeyError
    ├── MissingDataKeys     no key configured: the service refuses to start
    ├── InvalidDataKeys     a configured key is not a Fernet key
    └── UndecryptableValue  no configured key unwraps a stored value (wrong key,
                            or an old key removed before rotation finished)
"""

import base64
import binascii
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1"
ENV_NAME = "CORESPOND_DATA_KEYS"
# Binds every ciphertext to this format, so a future format cannot be fed one of these.
_AAD = b"corespond.field.enc1"
_NONCE_BYTES = 12
HOW_TO_GET_A_KEY = (
    f"set {ENV_NAME} to one or more comma-separated Fernet keys (the first encrypts, "
    "all decrypt); generate one with `corespond keys generate` "
    "(`corespond up` makes one on first run and keeps it in <data dir>/data-keys)"
)


class DataKeyError(Exception):
    """Something is wrong with the master keys or with a value they should open."""


class MissingDataKeys(DataKeyError):
    def __init__(self) -> None:
        super().__init__(
            f"no data encryption key: personal fields are encrypted at rest; {HOW_TO_GET_A_KEY}"
        )


class InvalidDataKeys(DataKeyError):
    """The message names the key's position in the list, never the key."""


class UndecryptableValue(DataKeyError):
    """A stored value that none of the configured master keys opens."""


def generate_key() -> str:
    """A new master key: 32 random bytes in url-safe base64 (``corespond keys generate``)."""
    return Fernet.generate_key().decode()


def parse_keys(setting: str | None) -> list[str]:
    """The keys of a ``CORESPOND_DATA_KEYS`` value, first (the encrypting one) first."""
    return [key.strip() for key in (setting or "").split(",") if key.strip()]


class Keyring:
    """The master keys of one service: seals new values, opens stored ones, re-wraps old ones."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise MissingDataKeys()
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except ValueError as exc:
                raise InvalidDataKeys(
                    f"{ENV_NAME}: key {position} of {len(keys)} is not a Fernet key "
                    "(32 bytes in url-safe base64, 44 characters); "
                    "generate one with `corespond keys generate`"
                ) from exc
        self._primary = fernets[0]
        self._all = MultiFernet(fernets)
        self.size = len(fernets)

    @classmethod
    def from_setting(cls, setting: str | None) -> "Keyring":
        return cls(parse_keys(setting))

    def seal(self, plaintext: bytes) -> str:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE_BYTES)
        sealed = AESGCM(data_key).encrypt(nonce, plaintext, _AAD)
        wrapped = self._primary.encrypt(data_key).decode()
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}:{wrapped}:{body}"

    def open(self, stored: str) -> bytes:
        wrapped, body = _split(stored)
        try:
            data_key = self._all.decrypt(wrapped.encode())
        except InvalidToken as exc:
            raise UndecryptableValue(
                f"no key in {ENV_NAME} unwraps this value: it was written under a key that is "
                "not in the list (a wrong key, or an old key removed before "
                "`corespond keys rotate` finished)"
            ) from exc
        try:
            raw = base64.urlsafe_b64decode(body)
            return AESGCM(data_key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _AAD)
        except (InvalidTag, binascii.Error) as exc:
            raise UndecryptableValue("a stored value's ciphertext has been altered") from exc

    def rewrap(self, stored: str) -> str | None:
        """The value with its data key wrapped by the first key; None if it already is.

        The ciphertext is kept byte for byte: only the small wrapped key changes.
        """
        wrapped, body = _split(stored)
        try:
            self._primary.decrypt(wrapped.encode())
            return None
        except InvalidToken:
            pass
        try:
            rewrapped = self._all.rotate(wrapped.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableValue(f"no key in {ENV_NAME} unwraps this value") from exc
        return f"{PREFIX}:{rewrapped}:{body}"


def _split(stored: str) -> tuple[str, str]:
    prefix, _, rest = stored.partition(":")
    wrapped, _, body = rest.partition(":")
    if prefix != PREFIX or not wrapped or not body:
        # Never echo the value: if it is plain text, it is personal data.
        raise UndecryptableValue(
            f"a stored value is not in the {PREFIX} format (written before encryption, "
            "or by something else)"
        )
    return wrapped, body
