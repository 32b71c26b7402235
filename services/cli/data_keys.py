"""Where the CLI finds the master keys: ``CORESPOND_DATA_KEYS``, else ``<data dir>/data-keys``.

``corespond up`` writes that file on first run (readable only by you, like the
bootstrap token), so a developer never has to set anything; an operator sets
the variable, from their secret store, and the file is never written.
"""

import os
from pathlib import Path

from services.common.field_crypto import ENV_NAME, generate_key

KEYS_FILE = "data-keys"


def configured_keys(data_dir: Path) -> str | None:
    """The keys from the environment, or from the data folder's file; None if neither."""
    from_env = os.environ.get(ENV_NAME)
    if from_env:
        return from_env
    path = data_dir / KEYS_FILE
    if path.exists():
        return path.read_text().strip() or None
    return None


def keys_for_up(data_dir: Path) -> str:
    """The configured keys, or a new key kept in the data folder (mode 0600) on first run."""
    keys = configured_keys(data_dir)
    if keys:
        return keys
    key = generate_key()
    path = data_dir / KEYS_FILE
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key
