"""``requirements.lock`` agrees with ``pyproject.toml``: every dependency pinned, hashed, complete.

``make install`` installs exactly the lock (``--require-hashes``), so a
dependency added to pyproject but not locked would simply be missing, and a
range tightened in pyproject but not re-locked would be ignored. These tests
say which, and ``make lock`` is the fix. Completeness is walked through the
installed packages' own metadata (the venv is installed from the lock), with
the extras pyproject asks for: ``sqlalchemy[asyncio]`` must bring ``greenlet``.
"""

import importlib.metadata
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).parents[2]
LOCK = ROOT / "requirements.lock"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    line: str
    requirement: Requirement
    hashes: tuple[str, ...]

    @property
    def version(self) -> Version | None:
        specs = list(self.requirement.specifier)
        if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
            return Version(specs[0].version)
        return None


def _logical_lines(text: str) -> Iterator[str]:
    """Requirement lines with their backslash continuations joined and comments dropped."""
    current = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            yield current.strip()
        current = ""
    if current.strip():
        yield current.strip()


def read_lock(text: str) -> dict[NormalizedName, Pin]:
    pins: dict[NormalizedName, Pin] = {}
    for line in _logical_lines(text):
        if line.startswith("-"):
            continue  # a pip option line (there should be none, but they are legal)
        requirement_text, *options = re.split(r"\s+(?=--)", line)
        requirement = Requirement(requirement_text)
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} is pinned twice in {LOCK.name}"
        pins[name] = Pin(line, requirement, tuple(o for o in options if HASH.fullmatch(o)))
    return pins


PINS = read_lock(LOCK.read_text())


def declared() -> list[tuple[str, Requirement]]:
    """Everything pyproject asks for: runtime, the dev extra, and the build backend."""
    project = PYPROJECT["project"]
    return [
        *(("dependencies", Requirement(r)) for r in project["dependencies"]),
        *(("dev", Requirement(r)) for r in project["optional-dependencies"]["dev"]),
        *(("build-system", Requirement(r)) for r in PYPROJECT["build-system"]["requires"]),
    ]


def test_every_declared_dependency_is_locked_within_its_range() -> None:
    problems = []
    for where, requirement in declared():
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue  # not for this platform
        pin = PINS.get(canonicalize_name(requirement.name))
        if pin is None or pin.version is None:
            problems.append(f"{where}: {requirement} is not pinned in {LOCK.name}")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{where}: {requirement} but {LOCK.name} pins {pin.version}")
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_every_pin_is_exact_and_carries_a_hash() -> None:
    assert PINS, f"{LOCK.name} pins nothing"
    inexact = [p.line for p in PINS.values() if p.version is None]
    unhashed = [str(p.requirement) for p in PINS.values() if not p.hashes]
    assert not inexact, f"not pinned with ==: {inexact}"
    assert not unhashed, f"no --hash=sha256: for {unhashed}"


def _needs(name: str, extras: frozenset[str]) -> list[Requirement]:
    """What ``name[extras]`` requires on this platform, from its installed metadata."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(f"{name} is locked but not installed: run `make install`")
    pin = PINS[canonicalize_name(name)]
    assert Version(distribution.version) == pin.version, (
        f"{name} {distribution.version} is installed but {pin.version} is locked: "
        "run `make install`"
    )
    needed = []
    for text in distribution.requires or []:
        requirement = Requirement(text)
        if requirement.marker is None or any(
            requirement.marker.evaluate({"extra": extra}) for extra in {"", *extras}
        ):
            needed.append(requirement)
    return needed


def _unmet(requirement: Requirement, needed_by: str) -> str | None:
    pin = PINS.get(canonicalize_name(requirement.name))
    if pin is None or pin.version is None:
        return f"{needed_by} needs {requirement}, which is not locked"
    if not requirement.specifier.contains(pin.version, prereleases=True):
        return f"{needed_by} needs {requirement}, but {pin.version} is locked"
    return None


@pytest.mark.parametrize(
    "requirement",
    [r for _, r in declared() if r.extras],
    ids=lambda r: str(r),
)
def test_extras_bring_what_they_need(requirement: Requirement) -> None:
    """``sqlalchemy[asyncio]`` is useless without greenlet, ``uvicorn[standard]`` without uvloop."""
    base = set(map(str, _needs(requirement.name, frozenset())))
    extra_only = [
        r for r in _needs(requirement.name, frozenset(requirement.extras)) if str(r) not in base
    ]
    assert extra_only, f"{requirement}: its extras add nothing; drop them from pyproject"
    problems = [p for r in extra_only if (p := _unmet(r, str(requirement)))]
    assert not problems, "run `make lock`:\n" + "\n".join(problems)


def test_the_lock_is_complete_and_holds_nothing_else() -> None:
    """Every dependency of every locked package is locked too, and nothing is left over."""
    problems: list[str] = []
    seen: set[tuple[NormalizedName, frozenset[str]]] = set()
    todo = [
        (r, "pyproject.toml")
        for _, r in declared()
        if not r.marker or r.marker.evaluate({"extra": ""})
    ]
    while todo:
        requirement, needed_by = todo.pop()
        if problem := _unmet(requirement, needed_by):
            problems.append(problem)
            continue
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        todo.extend((r, requirement.name) for r in _needs(requirement.name, key[1]))
    assert not problems, "run `make lock`:\n" + "\n".join(problems)
    leftovers = set(PINS) - {name for name, _ in seen}
    assert not leftovers, f"locked but needed by nothing: {sorted(leftovers)}"
