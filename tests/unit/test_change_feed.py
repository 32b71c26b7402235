"""The live stream's cursor: nothing is skipped when ids commit out of order."""

from services.dispatch.domain.change_feed import (
    PENDING_POLLS,
    PENDING_SPAN,
    ChangeCursor,
    parse_event_id,
)


def test_the_position_moves_to_the_newest_row_seen() -> None:
    cursor = ChangeCursor(10).after([11, 12, 13])
    assert cursor.position == 13
    assert cursor.pending == {}
    assert cursor.event_id == "13"


def test_an_id_skipped_over_is_looked_for_again_until_it_commits() -> None:
    # 42 committed before 41: 41 is pending, then found and sent.
    cursor = ChangeCursor(40).after([42])
    assert cursor.position == 42
    assert cursor.pending == {41: PENDING_POLLS}
    cursor = cursor.after([41, 43])
    assert cursor.position == 43
    assert cursor.pending == {}


def test_a_gap_that_never_fills_ages_out() -> None:
    cursor = ChangeCursor(0).after([2])
    for _ in range(PENDING_POLLS):
        cursor = cursor.after([])
    assert cursor.pending == {}
    assert cursor.position == 2


def test_a_far_jump_tracks_only_the_holes_near_the_top() -> None:
    cursor = ChangeCursor(0).after([5_000_000])
    assert len(cursor.pending) == PENDING_SPAN
    assert min(cursor.pending) == 5_000_000 - PENDING_SPAN


def test_event_ids_are_read_strictly() -> None:
    assert parse_event_id("17") == 17
    assert parse_event_id(" 17 ") == 17
    assert parse_event_id(None) is None
    for bad in ("", "-1", "abc", "1e3", "9" * 40):
        assert parse_event_id(bad) is None
