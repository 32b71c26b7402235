"""Cover: a policy may ask for more than one unit of a role when triage sets a flag
(weapons → two police units); the role is filled only once that many have accepted."""

import pytest
from pydantic import ValidationError

from schemas.policy import DispatchPolicy
from services.dispatch.domain.roles import RoleState, needed_by_role, role_covers, unfilled

POLICY = DispatchPolicy.model_validate(
    {"cover": {"weapons": {"police": 2}, "violence": {"police": 3}}}
)


def test_the_largest_count_of_the_calls_flags_wins_and_one_is_the_least() -> None:
    assert POLICY.units_needed("police", ["weapons"]) == 2
    assert POLICY.units_needed("police", ["weapons", "violence", "medical"]) == 3
    assert POLICY.units_needed("emt", ["weapons"]) == 1
    assert POLICY.units_needed("police", []) == 1
    assert DispatchPolicy().units_needed("police", ["weapons"]) == 1  # no cover by default


@pytest.mark.parametrize(
    "cover", [{"guns": {"police": 2}}, {"weapons": {"swat": 2}}, {"weapons": {"police": 9}}]
)
def test_a_cover_rule_naming_an_unknown_flag_role_or_count_is_refused(cover: object) -> None:
    with pytest.raises(ValidationError, match="cover"):
        DispatchPolicy.model_validate({"cover": cover})


def _police(assignments: list[tuple[str, str]], needed: int = 2) -> tuple[RoleState, int]:
    [cover] = role_covers(
        ["police"], [("police", s, c) for s, c in assignments], {"police": needed}
    )
    return cover.state, cover.missing


def test_a_role_needing_two_units_is_filled_only_by_two() -> None:
    assert _police([]) == (RoleState.UNFILLED, 2)
    assert _police([("accepted", "1A21")]) == (RoleState.UNFILLED, 1)
    assert _police([("accepted", "1A21"), ("offered", "1A22")]) == (RoleState.OFFERED, 0)
    assert _police([("en_route", "1A21"), ("accepted", "1A22")]) == (RoleState.FILLED, 0)
    assert _police([("accepted", "1A21"), ("declined", "1A22")]) == (RoleState.UNFILLED, 1)


def test_one_unit_needed_reads_as_before() -> None:
    assert _police([("offered", "1A21")], needed=1) == (RoleState.OFFERED, 0)
    assert _police([("accepted", "1A21"), ("offered", "1A22")], needed=1) == (
        RoleState.FILLED,
        0,
    )


def test_unfilled_roles_name_a_role_short_of_its_cover() -> None:
    entries: list[dict[str, object]] = [{"role": "police", "needed": 2}, {"role": "emt"}]
    covers = role_covers(
        ["police", "emt"],
        [("police", "accepted", "1A21"), ("emt", "accepted", "M4")],
        needed_by_role(entries),
    )
    assert unfilled(covers) == ["police"]
    assert covers[0].call_signs == ("1A21",)
