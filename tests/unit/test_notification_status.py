"""Delivery reports arrive out of order; the rank says which one may overwrite another."""

import pytest

from schemas.vocabulary import NotificationStatus as N


@pytest.mark.parametrize("final", [N.DELIVERED, N.UNDELIVERED, N.FAILED, N.SKIPPED])
def test_a_final_state_outranks_queued_and_sent(final: N) -> None:
    assert final.final
    assert final.rank > N.SENT.rank > N.QUEUED.rank


def test_every_status_has_a_rank() -> None:
    assert {status.rank for status in N} == {0, 1, 2}
    assert not N.QUEUED.final
    assert not N.SENT.final
