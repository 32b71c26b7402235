"""``corespond faults`` fails its run on anything lost or repeated, and says which."""

from services.cli.faults import Outcome


def _clean(calls: int = 10) -> Outcome:
    outcome = Outcome("broker restarted", calls)
    outcome.accepted = [f"i{n}" for n in range(calls)]
    outcome.texted = calls
    outcome.incidents_made = calls
    outcome.offers = 14
    return outcome


def test_a_clean_run_passes_and_reports_every_figure() -> None:
    outcome = _clean()
    outcome.resent = {"triage": 3.0, "offer": 1.0}
    outcome.recovered_s = 12.34
    assert not outcome.failed
    report = outcome.report()
    assert "10 (lost 0)" in report
    assert "offer 1, triage 3" in report
    assert "12.3 s" in report


def test_a_lost_call_fails_the_run() -> None:
    outcome = _clean()
    outcome.texted = 9
    assert outcome.failed
    assert "9 (lost 1)" in outcome.report()


def test_an_incident_made_twice_fails_the_run() -> None:
    outcome = _clean()
    outcome.incidents_made = 11
    assert outcome.failed
    assert "(extra: 1)" in outcome.report()


def test_a_decision_or_sms_repeated_fails_the_run() -> None:
    twice_triaged, twice_texted = _clean(), _clean()
    twice_triaged.triaged_twice = 1
    twice_texted.sms_twice = 1
    assert twice_triaged.failed
    assert twice_texted.failed
