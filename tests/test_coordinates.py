"""Coordinates: decimal and DMS angles, X/Y in Lombardy's CRSs, perimeters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer

from ingest.coordinates import (
    parse_angle,
    parse_epsg,
    parse_wkt_perimeter,
    polygon_from_vertices,
    xy_to_lonlat,
)
from ingest.values import ValueProblem

lombardy_lon = st.floats(min_value=8.5, max_value=11.4)
lombardy_lat = st.floats(min_value=44.7, max_value=46.6)


@pytest.mark.parametrize("text, axis, expected", [
    ("45.4642", "lat", 45.4642),
    ("45,4642", "lat", 45.4642),
    (45.4642, "lat", 45.4642),
    ("45°27'51.1\"N", "lat", 45 + 27 / 60 + 51.1 / 3600),
    ("45° 27' 51\" N", "lat", 45 + 27 / 60 + 51 / 3600),
    ("N 45 27 51", "lat", 45 + 27 / 60 + 51 / 3600),
    ("9°11'24\"E", "lon", 9 + 11 / 60 + 24 / 3600),
    ("9°11'24\"O", "lon", -(9 + 11 / 60 + 24 / 3600)),
    ("45°30'", "lat", 45.5),
])
def test_angles(text: object, axis: str, expected: float) -> None:
    assert parse_angle(text, axis) == pytest.approx(expected)


@pytest.mark.parametrize("text, axis", [
    ("95", "lat"), ("45°70'", "lat"), ("9°11'24\"N", "lon"), ("a nord", "lat"), ("200", "lon"),
])
def test_angles_refused(text: str, axis: str) -> None:
    with pytest.raises(ValueProblem, match=r"latitude|longitude"):
        parse_angle(text, axis)


@given(st.floats(min_value=0, max_value=89.9999))
def test_dms_round_trips(value: float) -> None:
    total = round(value * 36_000_000)  # in ten-thousandths of a second
    minutes, rest = divmod(total, 600_000)
    degrees, minutes = divmod(minutes, 60)
    text = f"{degrees}°{minutes}'{rest // 10_000}.{rest % 10_000:04d}\"N"
    assert parse_angle(text, "lat") == pytest.approx(value, abs=1e-6)


@pytest.mark.parametrize("epsg", [32632, 7791, 6707, 3003])
@given(lon=lombardy_lon, lat=lombardy_lat)
def test_projected_coordinates_round_trip(epsg: int, lon: float, lat: float) -> None:
    forward = Transformer.from_crs(4326, 7791 if epsg == 6707 else epsg, always_xy=True)
    x, y = forward.transform(lon, lat)
    back = xy_to_lonlat(x, y, epsg)
    assert back == pytest.approx((lon, lat), abs=1e-6)


def test_milano_duomo_in_gauss_boaga() -> None:
    # the Duomo in Monte Mario / Gauss-Boaga West (EPSG:3003), transformed with PROJ
    x, y = Transformer.from_crs(4326, 3003, always_xy=True).transform(9.1916, 45.4641)
    assert 1_510_000 < x < 1_520_000 and 5_030_000 < y < 5_040_000
    lon, lat = xy_to_lonlat(x, y, 3003)
    assert (lon, lat) == pytest.approx((9.1916, 45.4641), abs=1e-6)


def test_swapped_xy_is_explained() -> None:
    with pytest.raises(ValueProblem, match=r"look swapped for EPSG:32632"):
        xy_to_lonlat(5_036_000, 514_000, 32632)


def test_out_of_range_xy() -> None:
    with pytest.raises(ValueProblem, match=r"within the range of EPSG:3003"):
        xy_to_lonlat(514_000, 5_036_000, 3003)


@pytest.mark.parametrize("text, code", [
    ("32632", 32632), ("EPSG:7791", 7791), ("3003 - Monte Mario / Gauss-Boaga Ovest", 3003), (6707, 6707),
])
def test_epsg_codes(text: object, code: int) -> None:
    assert parse_epsg(text) == code


def test_unsupported_epsg() -> None:
    with pytest.raises(ValueProblem, match=r"one of the EPSG codes 4326, 32632, 7791, 6707, 3003"):
        parse_epsg("3857")


def test_wkt_perimeter() -> None:
    shape = parse_wkt_perimeter("POLYGON((9.18 45.46, 9.19 45.46, 9.19 45.47, 9.18 45.46))")
    assert shape.geom_type == "MultiPolygon" and shape.is_valid


@pytest.mark.parametrize("text, message", [
    ("POINT(9.18 45.46)", "a POLYGON or MULTIPOLYGON, not a Point"),
    ("POLYGON((45.46 9.18, 45.46 9.19, 45.47 9.19, 45.46 9.18))", "longitude first"),
    ("POLYGON((9.18 45.46, 9.19 45.47, 9.19 45.46, 9.18 45.47, 9.18 45.46))", "a valid polygon"),
    ("poligono", "a WKT polygon"),
])
def test_bad_wkt(text: str, message: str) -> None:
    with pytest.raises(ValueProblem, match=message):
        parse_wkt_perimeter(text)


def test_vertices_close_the_ring() -> None:
    shape = polygon_from_vertices([(9.18, 45.46), (9.19, 45.46), (9.19, 45.47)])
    assert shape.area > 0
    with pytest.raises(ValueProblem, match=r"at least 3 vertices"):
        polygon_from_vertices([(9.18, 45.46), (9.19, 45.46)])
