"""Each role's state from its assignments: filled, offered or unfilled, and which units."""

from services.dispatch.domain.roles import RoleState, role_covers, unfilled


def test_a_role_is_filled_by_a_yes_offered_while_asked_and_unfilled_otherwise() -> None:
    covers = role_covers(
        ["police", "clinician", "emt"],
        [
            ("clinician", "declined", "STAR-1"),
            ("clinician", "accepted", "STAR-2"),
            ("emt", "expired", "M4"),
            ("emt", "offered", "E18"),
            ("police", "expired", "1A21"),
        ],
    )
    assert [(c.role, c.state, c.call_signs) for c in covers] == [
        ("police", RoleState.UNFILLED, ()),
        ("clinician", RoleState.FILLED, ("STAR-2",)),
        ("emt", RoleState.OFFERED, ("E18",)),
    ]
    assert unfilled(covers) == ["police"]


def test_a_unit_that_cleared_still_covers_its_role_and_a_cancelled_one_does_not() -> None:
    covers = role_covers(
        ["clinician", "police"],
        [("clinician", "cleared", "STAR-1"), ("police", "cancelled", "1A21")],
    )
    assert [c.state for c in covers] == [RoleState.FILLED, RoleState.UNFILLED]
    assert covers[0].assignment_status == "cleared"
