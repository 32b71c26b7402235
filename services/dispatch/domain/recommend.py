"""Ranking the units that could fill a role: required fit, then ETA, then well-being, then ties.

The order, most important first:

1. **Required:** the unit can fill the role, and is within the policy's
   maximum ETA for it. A unit beyond the maximum is "far": it ranks after
   every near one, says so in its reasons, and is never offered automatically
   (a dispatcher may still send it). A unit from outside the incident's service
   area is *mutual aid*: it ranks after every near home unit, so it is offered only
   when no home unit is within the maximum ETA, and says so. A co-responder car
   (officer + clinician) filling the clinician role of a call triage sent no
   police to would bring an officer anyway, so it goes after every unit that
   would not (DOMAIN principle 3).
2. **ETA:** ETAs within the same two-minute band count as equally near (a
   straight-line estimate is not finer than that). Units without a known
   location rank after every located one. Telehealth needs no travel.
3. **Well-being:** fewer critical incidents (fatal overdoses, child-involved,
   violent) in the well-being window first, so exposure is spread.
4. **Tie-breakers:** the capabilities the call wants (naloxone for an
   overdose, CIT training for a behavioural call, a peer recovery coach), the
   telehealth tablet only where telehealth is planned, the caller's language
   (the same primary language: ``es`` serves ``es-MX``); then the exact ETA and
   the call sign, so the order is stable.

A tablet used to outrank distance; it no longer does: a unit three minutes
away without one beats one three hours away with one (a late tablet helps nobody).
"""

from dataclasses import dataclass, field
from typing import Any

from schemas.vocabulary import Capability, Category, Flag, Role
from services.dispatch.domain.areas import ServiceArea
from services.dispatch.domain.eta import EtaEstimator
from services.dispatch.domain.languages import spoken

ETA_BAND_SECONDS = 120
ON_SCENE = frozenset({Role.POLICE, Role.EMT})
BEHAVIOURAL = frozenset(
    {Category.MENTAL_HEALTH, Category.SUICIDE_RISK, Category.SUBSTANCE_USE, Category.WELFARE}
)


@dataclass(frozen=True)
class UnitCandidate:
    unit_id: str
    call_sign: str
    roles: frozenset[Role]
    lat: float | None
    lon: float | None
    version: int = 1
    capabilities: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    exposures: int = 0
    agency: str = ""
    # Where the unit is home; None: everywhere (a roster without service areas).
    area: ServiceArea | None = None


@dataclass(frozen=True)
class Requirement:
    """What the call asks of a unit beyond its role."""

    capabilities: frozenset[str] = frozenset()
    language: str | None = None
    # Telehealth is planned: whoever goes on scene must carry the tablet, and
    # that outranks distance (without it there is no video clinician at all).
    tablet_on_scene: bool = False
    # Triage sent no police: a co-responder car (officer + clinician) filling the
    # clinician role would bring an officer anyway, so it goes after every unit
    # that would not (DOMAIN principle 3), whatever the distance.
    police_needed: bool = True
    # The incident's jurisdiction: units whose service area does not hold the
    # incident are mutual aid (None: every unit is home).
    jurisdiction: str | None = None

    @classmethod
    def for_incident(
        cls,
        triage: dict[str, Any] | None,
        language: str | None = None,
        telehealth: bool = False,
        jurisdiction: str | None = None,
    ) -> "Requirement":
        if not triage:
            return cls(language=language, tablet_on_scene=telehealth, jurisdiction=jurisdiction)
        flags = set(triage.get("flags", []))
        wanted: set[str] = set()
        if Flag.NALOXONE.value in flags or Flag.OVERDOSE.value in flags:
            wanted.add(Capability.NALOXONE.value)
        if triage.get("category") in {c.value for c in BEHAVIOURAL}:
            wanted.add(Capability.CIT_TRAINED.value)
        if Flag.SUBSTANCE_USE.value in flags:
            wanted.add(Capability.PEER_RECOVERY_COACH.value)
        return cls(
            capabilities=frozenset(wanted),
            language=language,
            tablet_on_scene=telehealth,
            police_needed=Role.POLICE.value in triage.get("roles", []),
            jurisdiction=jurisdiction,
        )

    def counts_for(self, role: Role) -> frozenset[str]:
        """The capabilities that make a unit a better fit for ``role``: CIT training is
        an officer's; a peer recovery coach rides with a clinician; naloxone anyone."""
        return self.capabilities - _UNFIT[role]


_UNFIT: dict[Role, frozenset[str]] = {
    Role.POLICE: frozenset({Capability.PEER_RECOVERY_COACH.value}),
    Role.CLINICIAN: frozenset({Capability.CIT_TRAINED.value}),
    Role.EMT: frozenset({Capability.CIT_TRAINED.value, Capability.PEER_RECOVERY_COACH.value}),
    Role.TELEHEALTH: frozenset({Capability.CIT_TRAINED.value, Capability.NALOXONE.value}),
}


@dataclass(frozen=True)
class Ranked:
    candidate: UnitCandidate
    eta_seconds: int | None
    reasons: tuple[str, ...] = field(default=())
    # Beyond the policy's maximum ETA for the role: shown, never offered automatically.
    far: bool = False
    # From outside the incident's service area: offered only when no home unit is
    # within the maximum ETA, and flagged on the recommendation, offer and incident.
    mutual_aid: bool = False


def _eta(
    role: Role, unit: UnitCandidate, to_lat: float | None, to_lon: float | None, eta: EtaEstimator
) -> int | None:
    if role == Role.TELEHEALTH:
        return 0
    if unit.lat is None or unit.lon is None or to_lat is None or to_lon is None:
        return None
    return eta.eta_seconds(role, unit.lat, unit.lon, to_lat, to_lon)


def rank_for_role(
    role: Role,
    candidates: list[UnitCandidate],
    to_lat: float | None,
    to_lon: float | None,
    eta: EtaEstimator,
    need: Requirement = Requirement(),
    max_eta_seconds: int | None = None,
) -> list[Ranked]:
    """Candidates able to fill ``role``, best first, each with its ETA and reasons.

    ``max_eta_seconds``: the policy's limit for the role; units beyond it come
    last, marked ``far`` (None: no limit)."""
    scored: list[tuple[tuple[Any, ...], Ranked]] = []
    # One answer per area (the units of an agency share theirs): a polygon test per
    # unit would cost more than the rest of the ranking.
    home_by_area: dict[ServiceArea, bool] = {}
    wanted = need.counts_for(role)  # once per ranking: it is the same for every unit
    tablet_name = Capability.TELEHEALTH_TABLET.value
    for unit in candidates:
        if role not in unit.roles:
            continue
        eta_s = _eta(role, unit, to_lat, to_lon, eta)
        far = max_eta_seconds is not None and eta_s is not None and eta_s > max_eta_seconds
        mutual_aid = False
        if unit.area is not None:
            if unit.area not in home_by_area:
                home_by_area[unit.area] = unit.area.serves(need.jurisdiction, to_lat, to_lon)
            mutual_aid = not home_by_area[unit.area]
        fit = sorted(wanted & unit.capabilities)
        brings_police = not need.police_needed and Role.POLICE in unit.roles
        speaks = spoken(unit.languages, need.language)
        tablet = need.tablet_on_scene and role in ON_SCENE and tablet_name in unit.capabilities
        reasons = [
            f"can fill {role.value}",
            "ETA unknown (no location)"
            if eta_s is None
            else f"ETA {eta_s // 60} min {eta_s % 60} s",
        ]
        if far and max_eta_seconds is not None and eta_s is not None:
            reasons.append(
                f"far: {eta_s // 60} min is beyond the policy maximum of "
                f"{max_eta_seconds // 60} min for {role.value} (only a dispatcher can send it)"
            )
        if mutual_aid and unit.area is not None:
            reasons.append(
                f"mutual aid: {unit.agency or unit.call_sign} serves {unit.area.describe()}, "
                "not this incident's area (offered only when no home unit is within the "
                "policy maximum ETA)"
            )
        reasons.append(f"{unit.exposures} critical incidents in the well-being window")
        reasons += [f"has {c.replace('_', ' ')}" for c in fit]
        if tablet:
            reasons.append("carries the telehealth tablet")
        if speaks:
            reasons.append(f"speaks {speaks}")
        if brings_police:
            reasons.append("would bring an officer the call does not need")
        key = (
            # 1. required: near enough, home before mutual aid, and no officer the
            # call does not need
            far,
            mutual_aid,
            brings_police,
            # 2. ETA, in bands; unknown after every known one
            eta_s is None,
            (eta_s or 0) // ETA_BAND_SECONDS,
            # 3. well-being
            unit.exposures,
            # 4. tie-breakers
            -len(fit),
            not tablet,
            speaks is None,
            eta_s or 0,
            unit.call_sign,
        )
        scored.append((key, Ranked(unit, eta_s, tuple(reasons), far=far, mutual_aid=mutual_aid)))
    scored.sort(key=lambda item: item[0])
    return [ranked for _, ranked in scored]


def far_note(ranked: list[Ranked]) -> str | None:
    """Why nobody can be offered automatically although units exist: the nearest is far."""
    if not ranked or not all(r.far for r in ranked):
        return None
    nearest = ranked[0]
    assert nearest.eta_seconds is not None
    return (
        f"far: nearest {nearest.candidate.call_sign} is {nearest.eta_seconds // 60} min away, "
        "beyond the policy maximum; not offered automatically"
    )


def needs_telehealth(best_clinician: Ranked | None, max_eta_seconds: int) -> str | None:
    """Why telehealth must replace the in-person clinician, or None if one can come in time."""
    if best_clinician is None:
        return "no clinician is available"
    if best_clinician.eta_seconds is None and not best_clinician.far:
        return None  # unknown is not late: offer the clinician and let them say
    if best_clinician.eta_seconds is not None and (
        best_clinician.far or best_clinician.eta_seconds > max_eta_seconds
    ):
        minutes, limit = best_clinician.eta_seconds // 60, max_eta_seconds // 60
        return (
            f"nearest clinician {best_clinician.candidate.call_sign} is {minutes} min away "
            f"(policy maximum {limit} min)"
        )
    return None
