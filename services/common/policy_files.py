"""Reading policy files (``deploy/policies/*.yaml``): all valid, or a clear refusal.

A broken file is refused with an error naming the file, the field and what is
wrong, and the whole directory is refused with it: a service never runs with a
half-valid set of policies.
"""

from pathlib import Path

import yaml
from pydantic import ValidationError

from schemas.policy import Policy, PolicyBook

DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[2] / "deploy" / "policies"


class PolicyFileError(ValueError):
    """A policy file that cannot be used. The message names file, field and problem."""


def load_policy_file(path: Path, *, named_for_jurisdiction: bool = True) -> Policy:
    """One policy. Files in the policy directory must be named ``<jurisdiction>.yaml``;
    a what-if draft (``triage replay --policy``) may be named anything."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise PolicyFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise PolicyFileError(f"{path}: expected a mapping of policy fields at the top level")
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(part) for part in err["loc"]) or "(policy)"
            message = str(err["msg"]).removeprefix("Value error, ")
            if ": " not in message:
                problems.append(f"{field}: {message}")
            elif err["loc"]:  # a nested validator names its own sub-field
                problems.append(f"{field}.{message}")
            else:
                problems.append(message)
        raise PolicyFileError(f"{path}: " + "; ".join(problems)) from exc
    if named_for_jurisdiction and policy.jurisdiction != path.stem:
        raise PolicyFileError(
            f"{path}: jurisdiction: {policy.jurisdiction!r} does not match the file name "
            f"({path.stem!r}); name the file <jurisdiction>.yaml"
        )
    return policy


def load_policy_dir(directory: Path) -> PolicyBook:
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise PolicyFileError(f"{directory}: no policy files (*.yaml)")
    book = PolicyBook([load_policy_file(path) for path in files])
    if "default" not in book:
        raise PolicyFileError(f"{directory}: no default.yaml; calls without a jurisdiction need it")
    return book
