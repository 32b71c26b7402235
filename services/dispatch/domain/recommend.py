"""Which available unit to offer for each role a call needs, with its ETA and the reasons.

First version: for each required role, the available unit that can fill it with
the shortest ETA; a unit is offered for one role per incident. Telehealth
needs no travel, so its ETA is 0. Units without a known location rank last.
"""

from dataclasses import dataclass

from schemas.vocabulary import Role
from services.dispatch.domain.eta import EtaEstimator


@dataclass(frozen=True)
class UnitCandidate:
    unit_id: str
    call_sign: str
    roles: frozenset[Role]
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class Recommendation:
    role: Role
    unit_id: str
    call_sign: str
    eta_seconds: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Unfilled:
    role: Role
    reason: str


def rank_for_role(
    role: Role,
    candidates: list[UnitCandidate],
    to_lat: float | None,
    to_lon: float | None,
    eta: EtaEstimator,
) -> list[tuple[int | None, UnitCandidate]]:
    """Candidates able to fill ``role``, nearest first (unknown ETA last, then by call sign)."""
    ranked: list[tuple[int | None, UnitCandidate]] = []
    for unit in candidates:
        if role not in unit.roles:
            continue
        if role == Role.TELEHEALTH:
            ranked.append((0, unit))
        elif unit.lat is None or unit.lon is None or to_lat is None or to_lon is None:
            ranked.append((None, unit))
        else:
            ranked.append((eta.eta_seconds(role, unit.lat, unit.lon, to_lat, to_lon), unit))
    ranked.sort(key=lambda item: (item[0] is None, item[0] or 0, item[1].call_sign))
    return ranked


def explain(role: Role, eta_s: int | None, rank: int, pool: int) -> tuple[str, ...]:
    where = (
        "ETA unknown (no location)" if eta_s is None else f"ETA {eta_s // 60} min {eta_s % 60} s"
    )
    return (
        f"can fill {role.value}",
        where,
        f"nearest of {pool} available" if rank == 0 else f"choice {rank + 1} of {pool}",
    )
