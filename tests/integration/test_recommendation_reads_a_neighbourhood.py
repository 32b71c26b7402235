"""Recommending with thousands of units searches an index range, not every unit.

The figures themselves are `corespond bench --dispatch-only`'s job; here the
measurement runs small and the query plan is checked.
"""

from services.cli.bench_dispatch import measure_recommendation


def test_the_candidate_search_is_an_index_range_and_the_bench_reports_each_size() -> None:
    figures = measure_recommendation(sizes=(20, 400), calls=15)
    assert [s.units for s in figures.sizes] == [20, 400]
    assert all(len(s.per_recommendation_ms) == 15 for s in figures.sizes)
    assert "USING INDEX ix_units_status_lat (status=? AND lat>? AND lat<?)" in figures.query_plan
    assert "SCAN units" not in figures.query_plan
    assert "p99" in figures.report()
