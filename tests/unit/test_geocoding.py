"""Offline geocoding, pure: the normaliser, the parser and the matcher on a few address points."""

import pytest

from services.dispatch.domain.geocoding import (
    AddressPoint,
    AddressQuery,
    best_of,
    house_number_value,
    locate,
    normalise_city,
    normalise_street,
    parse_address,
    similar_streets,
)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("Bannock Street", "bannock st"),
        ("BANNOCK ST.", "bannock st"),
        ("bannock st", "bannock st"),
        ("North Broadway", "n broadway"),
        ("N. Broadway", "n broadway"),
        ("E Colfax Avenue", "e colfax ave"),
        ("East Colfax Ave.", "e colfax ave"),
        ("Speer Boulevard", "speer blvd"),
        ("O'Neil Court", "oneil ct"),
        ("First Avenue", "1st ave"),
        ("  Martin  Luther King Jr.   Blvd ", "martin luther king jr blvd"),
    ],
)
def test_street_names_are_normalised_alike(typed: str, key: str) -> None:
    assert normalise_street(typed) == key


def test_city_names_are_normalised_and_empty_is_none() -> None:
    assert normalise_city("St. Paul") == "st paul"
    assert normalise_city("DENVER") == "denver"
    assert normalise_city("") is None
    assert normalise_city(None) is None


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("1437 Bannock St", AddressQuery("1437", 1437, "bannock st", None)),
        ("1437 Bannock Street, Denver", AddressQuery("1437", 1437, "bannock st", "denver")),
        (
            "1437 Bannock St Apt 4, Denver, CO 80202",
            AddressQuery("1437", 1437, "bannock st", "denver"),
        ),
        ("1437 Bannock St #4, Denver CO", AddressQuery("1437", 1437, "bannock st", "denver")),
        ("1437 Bannock St Denver", AddressQuery("1437", 1437, "bannock st", "denver")),
        ("200 Main St N", AddressQuery("200", 200, "main st n", None)),
        ("12B Elm Ct", AddressQuery("12b", 12, "elm ct", None)),
        ("Colfax Ave, Denver", AddressQuery(None, None, "colfax ave", "denver")),
    ],
)
def test_typed_addresses_are_parsed(typed: str, parsed: AddressQuery) -> None:
    assert parse_address(typed) == parsed


@pytest.mark.parametrize("typed", ["", " , ", "1437", "#4"])
def test_no_street_is_no_address(typed: str) -> None:
    assert parse_address(typed) is None


def test_house_numbers_have_a_value() -> None:
    assert house_number_value("1437") == 1437
    assert house_number_value("1437A") == 1437
    assert house_number_value("12-14") == 12
    assert house_number_value("rear") is None


def _point(number: str, lat: float, city: str | None = "denver") -> AddressPoint:
    return AddressPoint(number, house_number_value(number), "bannock st", city, lat, -104.9903)


BANNOCK = [
    _point("1401", 39.7380),
    _point("1437", 39.7392),
    _point("1441", 39.7394),
    _point("1420", 39.7385),
    _point("1460", 39.7400),
    _point("1437", 39.5000, city="englewood"),
]


def _query(number: str | None, city: str | None = "denver") -> AddressQuery:
    value = house_number_value(number) if number else None
    return AddressQuery(number, value, "bannock st", city)


def test_the_exact_number_on_the_street_in_the_city_is_certain() -> None:
    found = locate(_query("1437"), BANNOCK)
    assert found is not None
    assert (found.lat, found.confidence, found.method) == (39.7392, 1.0, "exact")
    assert found.source == "address_points"


def test_the_same_number_in_two_towns_without_a_town_is_less_certain() -> None:
    found = locate(_query("1437", city=None), BANNOCK)
    assert found is not None
    assert found.method == "exact"
    assert found.confidence < 1.0


def test_a_missing_number_is_interpolated_between_neighbours_on_its_side() -> None:
    found = locate(_query("1440"), BANNOCK)  # between 1420 and 1460, even side
    assert found is not None
    assert found.method == "interpolated"
    assert found.lat == pytest.approx(39.73925)
    assert 0.5 < found.confidence < 1.0


def test_past_the_last_number_the_nearest_is_used() -> None:
    near = locate(_query("1471"), BANNOCK)
    far = locate(_query("1999"), BANNOCK)
    assert near is not None
    assert far is not None
    assert near.method == far.method == "nearest number"
    assert (near.lat, far.lat) == (39.7400, 39.7400)  # 1460, the highest number
    assert far.confidence < near.confidence


def test_without_a_number_the_middle_of_the_street_is_a_weak_answer() -> None:
    found = locate(_query(None), BANNOCK)
    assert found is not None
    assert found.method == "street"
    assert found.confidence < 0.5


def test_a_city_that_does_not_match_lowers_the_confidence() -> None:
    found = locate(_query("1401", city="aurora"), BANNOCK)
    assert found is not None
    assert found.method == "exact"
    assert found.confidence < 1.0


def test_a_misspelt_street_is_found_by_similarity() -> None:
    streets = ["bannock st", "broadway", "cherokee st", "bannock ct"]
    query = parse_address("1437 Banock Stret")
    assert query is not None
    [(street, score)] = similar_streets(query, streets)
    assert street == "bannock st"
    assert 0.8 <= score < 1.0
    assert similar_streets(AddressQuery("1", 1, "zzz qqq"), streets) == []


def test_ambiguity_lowers_the_best_placement() -> None:
    one = locate(_query("1437"), BANNOCK)
    other = locate(_query("1401"), BANNOCK, street_score=0.9)
    best = best_of([one, other], ambiguous=True)
    assert best is not None
    assert one is not None
    assert best.lat == one.lat
    assert best.confidence < one.confidence
    assert best_of([None]) is None
