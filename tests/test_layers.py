"""The generic layer loader on good and bad files. All features here are synthetic."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point, box
from sqlalchemy import Connection, text

from app.reference.layers import LayerFileOptions, load_layer_file
from geo.layers import CsvColumns, LayerError, read_layer

# Synthetic points near Milano (not real motorway exits).
SYNTHETIC = [("SYN-1", "Synthetic exit A", 9.10, 45.50), ("SYN-2", "Synthetic exit B", 9.30, 45.45)]


def _geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    body: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        body["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(body))
    return path


def _points(coordinates: list[tuple[str, str, float, float]]) -> list[dict]:
    return [
        {"type": "Feature", "properties": {"id": i, "name": n},
         "geometry": {"type": "Point", "coordinates": [x, y]}}
        for i, n, x, y in coordinates
    ]


def test_reads_geojson_in_wgs84(tmp_path: Path) -> None:
    frame = read_layer(_geojson(tmp_path / "exits.geojson", _points(SYNTHETIC)))
    assert frame.crs.to_epsg() == 4326 and len(frame) == 2


def test_reprojects_a_utm_geopackage(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"name": ["Synthetic terminal"]}, geometry=[Point(9.2, 45.47)], crs=4326
    ).to_crs(32632)
    path = tmp_path / "terminals.gpkg"
    frame.to_file(path)
    back = read_layer(path)
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[0].distance(Point(9.2, 45.47)) < 1e-6


def test_metres_declared_as_degrees_are_refused(tmp_path: Path) -> None:
    utm = [("SYN-1", "Synthetic exit", 507_000.0, 5_036_000.0)]
    with pytest.raises(LayerError, match=r"fall outside Italy.*probably wrong") as info:
        read_layer(_geojson(tmp_path / "wrong.geojson", _points(utm)))
    assert "fuori dall'Italia" in info.value.message_it


def test_missing_geometry_is_refused(tmp_path: Path) -> None:
    features = _points(SYNTHETIC)
    features[1]["geometry"] = None
    with pytest.raises(LayerError, match=r"1 of 2 features have no geometry \(rows 2\)"):
        read_layer(_geojson(tmp_path / "holes.geojson", features))


@pytest.mark.parametrize("name, content", [
    ("notes.geojson", b"these are not coordinates"),
    ("table.xlsx", b"PK\x03\x04 not really a workbook"),
    ("scan.pdf", b"%PDF-1.4"),
])
def test_not_a_geo_file_is_refused(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(LayerError, match=r"is not a geographic layer"):
        read_layer(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"File not found: absent.geojson"):
        read_layer(tmp_path / "absent.geojson")


def test_csv_with_lon_lat(tmp_path: Path) -> None:
    path = tmp_path / "exits.csv"
    path.write_text("id;nome;lon;lat\nSYN-1;Synthetic A;9,10;45,50\nSYN-2;Synthetic B;9.30;45.45\n")
    frame = read_layer(path)
    assert list(frame["nome"]) == ["Synthetic A", "Synthetic B"]
    assert frame.geometry.iloc[0].equals(Point(9.1, 45.5))


def test_csv_with_xy_needs_a_crs(tmp_path: Path) -> None:
    path = tmp_path / "exits_utm.csv"
    path.write_text("name,x,y\nSynthetic A,507000,5036000\n")
    with pytest.raises(LayerError, match=r"X/Y coordinates without a coordinate reference system"):
        read_layer(path)
    frame = read_layer(path, crs="32632")
    assert 9.0 < frame.geometry.iloc[0].x < 9.2


def test_csv_without_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_text("name,comune\nSynthetic A,Milano\n")
    with pytest.raises(LayerError, match=r"no coordinate columns.*found name, comune"):
        read_layer(path)


def test_csv_custom_columns(tmp_path: Path) -> None:
    path = tmp_path / "custom.csv"
    path.write_text("name,E,N\nSynthetic A,9.1,45.5\n")
    frame = read_layer(path, columns=CsvColumns("E", "N"))
    assert frame.geometry.iloc[0].equals(Point(9.1, 45.5))


def test_shapefile_without_prj_needs_a_crs(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame({"name": ["Synthetic"]}, geometry=[Point(507000, 5036000)], crs=32632)
    path = tmp_path / "exits.shp"
    frame.to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(LayerError, match=r"does not say which coordinate reference system"):
        read_layer(path)
    assert read_layer(path, crs="EPSG:32632").crs.to_epsg() == 4326


def test_unknown_crs(tmp_path: Path) -> None:
    with pytest.raises(LayerError, match=r"Unknown coordinate reference system 'EPSG:999999'"):
        read_layer(_geojson(tmp_path / "a.geojson", _points(SYNTHETIC)), crs="EPSG:999999")


def test_load_layer_file_is_idempotent(reference_loaded: list, conn: Connection, tmp_path: Path) -> None:
    path = _geojson(tmp_path / "synthetic_exits.geojson", _points(SYNTHETIC))
    options = LayerFileOptions(layer_type="motorway_exit", source="synthetic exits")
    first = load_layer_file(conn, path, options)
    assert first.changed and first.features == 2
    rows = conn.execute(
        text("SELECT source_id, name FROM infrastructure WHERE layer_type = 'motorway_exit' "
             "AND source = 'synthetic exits' ORDER BY 1")
    ).all()
    assert [tuple(r) for r in rows] == [("SYN-1", "Synthetic exit A"), ("SYN-2", "Synthetic exit B")]
    second = load_layer_file(conn, path, options)
    assert not second.changed and second.features == 2


def test_zone_layer_from_polygons(reference_loaded: list, conn: Connection, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"id": ["Z1"], "name": ["Synthetic ZIS"]}, geometry=[box(9.1, 45.4, 9.2, 45.5)], crs=4326
    )
    path = tmp_path / "zis.gpkg"
    frame.to_file(path)
    result = load_layer_file(conn, path, LayerFileOptions(layer_type="zis", category="zone"))
    assert result.features == 1
    assert conn.execute(text("SELECT count(*) FROM policy_zones WHERE zone_type = 'zis'")).scalar() == 1


def test_zone_layer_needs_polygons(reference_loaded: list, conn: Connection, tmp_path: Path) -> None:
    path = _geojson(tmp_path / "points.geojson", _points(SYNTHETIC))
    with pytest.raises(LayerError, match=r"a zone layer needs polygons"):
        load_layer_file(conn, path, LayerFileOptions(layer_type="zis", category="zone"))


@pytest.mark.parametrize("layer_type", ["Motorway Exit", "1exit", "exit;drop", ""])
def test_bad_layer_type(conn: Connection, tmp_path: Path, layer_type: str) -> None:
    path = _geojson(tmp_path / "a.geojson", _points(SYNTHETIC))
    with pytest.raises(LayerError, match=r"is not valid: use lowercase letters"):
        load_layer_file(conn, path, LayerFileOptions(layer_type=layer_type))


def test_bad_name_field(conn: Connection, tmp_path: Path) -> None:
    path = _geojson(tmp_path / "a.geojson", _points(SYNTHETIC))
    with pytest.raises(LayerError, match=r"Column 'denominazione' is not in the file"):
        load_layer_file(conn, path, LayerFileOptions(layer_type="port", name_field="denominazione"))
