"""APCO code tables for CAD interop, loaded from data: ``apco_codes.yaml`` beside this module.

Data, not logic: ``eido_mapping`` reads EIDOs and writes them with these tables. The file is
validated in full when loaded, so a bad edit stops the service at start naming the file and
the key, instead of quietly sending a partner CAD a code it rejects:

- an unknown key (a misspelt table, category, disposition or answer) is refused;
- a key written twice in one mapping is refused (YAML would otherwise keep the last one);
- an incident type listed twice, or a disposition code used but not declared, is refused;
- every incident type used must be in the APCO ANS 2.103.1 enumeration the file carries;
- every triage category, disposition and sent assignment status must have a row.
"""

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from schemas.calls import Answers
from schemas.vocabulary import AssignmentStatus, Category, Disposition

CODES_FILE = Path(__file__).with_name("apco_codes.yaml")

# Offers nobody took are not resources of an incident: they need no unit status.
NOT_SENT = frozenset(
    {AssignmentStatus.DECLINED, AssignmentStatus.EXPIRED, AssignmentStatus.CANCELLED}
)


class ApcoCodesError(ValueError):
    """The code tables do not validate: the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Finding(_Strict):
    answers: Answers
    why: str


class Coded(_Strict):
    code: str
    why: str


class Escalations(_Strict):
    suicide_attempt: str
    violence_with_weapons: str


class ApcoCodes(_Strict):
    """The tables of ``apco_codes.yaml``, checked against each other."""

    incident_types: tuple[str, ...]
    disposition_codes: dict[str, str]
    import_findings: dict[str, Finding]
    export_types: dict[Category, Coded]
    export_escalations: Escalations
    untriaged: str
    dispositions: dict[Disposition, Coded]
    unit_statuses: dict[AssignmentStatus, str]

    @model_validator(mode="after")
    def _consistent(self) -> "ApcoCodes":
        seen: set[str] = set()
        for index, code in enumerate(self.incident_types):
            if code in seen:
                raise ValueError(f"incident_types[{index}]: {code} is listed twice")
            seen.add(code)
        used = [
            *((f"import_findings.{code}", code) for code in self.import_findings),
            *((f"export_types.{k.value}.code", v.code) for k, v in self.export_types.items()),
            ("export_escalations.suicide_attempt", self.export_escalations.suicide_attempt),
            (
                "export_escalations.violence_with_weapons",
                self.export_escalations.violence_with_weapons,
            ),
            ("untriaged", self.untriaged),
        ]
        for where, code in used:
            if code not in seen:
                raise ValueError(f"{where}: {code} is not an APCO incident type (incident_types)")
        for disposition, coded in self.dispositions.items():
            if coded.code not in self.disposition_codes:
                raise ValueError(
                    f"dispositions.{disposition.value}.code: {coded.code} is not in "
                    "disposition_codes"
                )
        for table, keys, expected in (
            ("export_types", set(self.export_types), set(Category)),
            ("dispositions", set(self.dispositions), set(Disposition)),
            ("unit_statuses", set(self.unit_statuses), set(AssignmentStatus) - NOT_SENT),
        ):
            if missing := sorted(k.value for k in expected - keys):
                raise ValueError(f"{table}: no row for {', '.join(missing)}")
        if extra := sorted(s.value for s in set(self.unit_statuses) & NOT_SENT):
            raise ValueError(f"unit_statuses: {', '.join(extra)} is never sent to a CAD")
        return self


class _UniqueKeyLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """``yaml.safe_load`` that refuses a key written twice in one mapping."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in keys:
            raise ApcoCodesError(f"line {key_node.start_mark.line + 1}: key {key!r} written twice")
        keys.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load_codes(path: Path = CODES_FILE) -> ApcoCodes:
    """Read and validate a code-table file; any problem is an ``ApcoCodesError`` naming it."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except ApcoCodesError as exc:
        raise ApcoCodesError(f"{path}: {exc}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise ApcoCodesError(f"{path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ApcoCodesError(f"{path}: expected a mapping of code tables")
    try:
        return ApcoCodes.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ApcoCodesError(
            f"{path}: {message}" if where == "(top level)" else f"{path}: {where}: {message}"
        ) from None


@lru_cache(maxsize=1)
def default_codes() -> ApcoCodes:
    return load_codes()
