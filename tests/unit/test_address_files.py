"""Address-point files: OpenAddresses CSV and GeoJSON read whole; every problem named by file,
line and field."""

import json
from pathlib import Path
from typing import Any

import pytest

from services.dispatch.adapters.address_files import AddressFileError, read_address_points

HEADER = "LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n"


def _feature(
    number: object, street: object, lon: object = -104.99, lat: object = 39.74
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"number": number, "street": street, "city": "DENVER", "postcode": 80202},
    }


def test_an_openaddresses_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "denver.csv"
    path.write_text(HEADER + "-104.9903,39.7392,1437,BANNOCK ST,,DENVER,,CO,80202,,abc\n")
    [point] = read_address_points(path)
    assert (point.lon, point.lat, point.number, point.street) == (
        -104.9903,
        39.7392,
        "1437",
        "BANNOCK ST",
    )
    assert point.unit is None  # an empty cell is no unit
    assert point.postcode == "80202"
    assert point.hash == "abc"


def test_csv_problems_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + "-104.99,39.74,1,MAIN ST,,,,,,,\n"
        + "-204.99,39.74,2,MAIN ST,,,,,,,\n"
        + "-104.99,39.74,3,,,,,,,,\n"
        + "-104.99,39.74,4,MAIN\u202eST,,,,,,,\n"
    )
    with pytest.raises(AddressFileError) as refused:
        read_address_points(path)
    message = str(refused.value)
    assert f"{path}: line 3: LON:" in message
    assert f"{path}: line 4: STREET:" in message
    assert f"{path}: line 5: STREET:" in message  # a bidi override is refused, not stored
    assert "line 2" not in message


def test_a_csv_without_the_required_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("X,Y,ADDRESS\n1,2,3 Main St\n")
    with pytest.raises(AddressFileError, match=r"wrong.csv: line 1: missing column LON, LAT"):
        read_address_points(path)


def test_an_empty_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER)
    with pytest.raises(AddressFileError, match="no address points"):
        read_address_points(empty)
    with pytest.raises(AddressFileError, match="cannot read"):
        read_address_points(tmp_path / "missing.csv")


def test_a_geojson_feature_collection_is_read_and_problems_name_lines(tmp_path: Path) -> None:
    good = tmp_path / "good.geojson"
    collection = {
        "type": "FeatureCollection",
        "features": [_feature("1437", "BANNOCK ST"), _feature("1401", "BANNOCK ST")],
    }
    good.write_text(json.dumps(collection, indent=2))
    points = read_address_points(good)
    assert [p.number for p in points] == ["1437", "1401"]
    assert points[0].postcode == "80202"  # a number in the file, kept as text

    bad = tmp_path / "bad.geojson"
    collection["features"] = [
        _feature("1437", "BANNOCK ST"),
        _feature("1401", "", lat=True),
    ]
    bad.write_text(json.dumps(collection, indent=2))
    with pytest.raises(AddressFileError) as refused:
        read_address_points(bad)
    message = str(refused.value)
    second = json.dumps(collection, indent=2).splitlines().index("    {", 5) + 1
    assert f"{bad}: line {second}: properties.street:" in message
    assert f"{bad}: line {second}: geometry.coordinates (lat):" in message


def test_line_delimited_geojson_is_read(tmp_path: Path) -> None:
    path = tmp_path / "oa.geojson"
    lines = [_feature("1437", "BANNOCK ST"), _feature("7", "ELM"), {"type": "Feature"}]
    path.write_text("\n".join(json.dumps(f) for f in lines) + "\n")
    with pytest.raises(AddressFileError, match=r"oa.geojson: line 3: geometry"):
        read_address_points(path)
    path.write_text("\n".join(json.dumps(f) for f in lines[:2]) + "\n")
    assert [p.street for p in read_address_points(path)] == ["BANNOCK ST", "ELM"]


def test_not_geojson_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"type": "Topology"}')
    with pytest.raises(AddressFileError, match="FeatureCollection"):
        read_address_points(path)
    path.write_text('{"type": ')
    with pytest.raises(AddressFileError, match="line 1: not valid JSON"):
        read_address_points(path)
