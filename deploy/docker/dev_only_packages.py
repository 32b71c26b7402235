"""Print the installed packages the ``corespond`` distribution does not need at runtime.

The image's build stage installs the whole ``requirements.lock`` (hash-checked: the
lock also holds the dev and build tools, ~300 MB of pytest, mypy, playwright...),
then corespond, then removes what this prints:

    pip uninstall -y $(python deploy/docker/dev_only_packages.py)

What is needed is walked from corespond's own installed metadata (``Requires-Dist``
without the ``dev`` extra), following the extras each requirement asks for
(``uvicorn[standard]`` keeps uvloop), so it cannot drift from pyproject.toml.
Standard library and ``packaging`` only (a runtime dependency, via aiokafka).
"""

import importlib.metadata
import sys

from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

# The installer itself stays; it is not in the lock.
KEEP = {canonicalize_name("pip")}


def _requires(name: str, extras: frozenset[str]) -> list[Requirement]:
    needed = []
    for text in importlib.metadata.distribution(name).requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or any(
            requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras}
        ):
            needed.append(requirement)
    return needed


def runtime_closure(root: str = "corespond") -> set[NormalizedName]:
    """``root`` and everything it needs on this platform, with the extras asked for."""
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    todo = [Requirement(root)]
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        todo.extend(_requires(requirement.name, key[1]))
    return {name for name, _ in seen}


def dev_only(root: str = "corespond") -> list[str]:
    installed = {canonicalize_name(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    return sorted(installed - runtime_closure(root) - KEEP)


if __name__ == "__main__":
    sys.stdout.write("\n".join(dev_only()) + "\n")
