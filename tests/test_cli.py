"""The `opportunity` command: its user-facing refusals and layer loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core import settings

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, reference_loaded: list):
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    yield
    settings.database_settings.cache_clear()


def test_downgrade_needs_confirmation(env: None) -> None:
    result = runner.invoke(cli, ["db", "downgrade", "base"])
    assert result.exit_code == 1
    assert "repeat with --yes" in result.output


def test_db_start_refuses_with_external_database(env: None) -> None:
    result = runner.invoke(cli, ["db", "start"])
    assert result.exit_code == 1
    assert "DATABASE_URL is set" in result.output


def test_layer_command_reports_a_bad_file(env: None, tmp_path: Path) -> None:
    path = tmp_path / "exits.csv"
    path.write_text("name,comune\nSynthetic A,Milano\n")
    result = runner.invoke(cli, ["reference", "layer", str(path), "--type", "motorway_exit"])
    assert result.exit_code == 1
    assert "no coordinate columns" in result.output


def test_layer_command_loads_and_status_lists_it(env: None, tmp_path: Path) -> None:
    path = tmp_path / "synthetic_ports.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "P1", "name": "Synthetic port"},
         "geometry": {"type": "Point", "coordinates": [10.05, 45.12]}}]}))
    result = runner.invoke(cli, ["reference", "layer", str(path), "--type", "synthetic_port"])
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output
    again = runner.invoke(cli, ["reference", "layer", str(path), "--type", "synthetic_port"])
    assert "unchanged" in again.output
    status = runner.invoke(cli, ["reference", "status"])
    assert "infrastructure: synthetic_port" in status.output


def _synthetic_stack(path: Path, count: int, value: int = 1000) -> Path:
    """A synthetic uniform stack (no candidate in it): only its shape matters here."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="GTiff", width=32, height=32, count=count, dtype="uint16",
                       crs="EPSG:32632", transform=from_origin(550_000, 5_040_000, 10, 10)) as dst:
        dst.write(np.full((count, 32, 32), value, dtype="uint16"))
    return path


@pytest.mark.parametrize(("bands", "message"), [
    (None, "has 6 bands, not the 11 of the sen2r order; say which band is which with --bands"),
    ("B02,B03,B04", "has 6 bands but the band list names 3"),
    ("B02,B03,B04,B08,B11,B99", "Unknown band id(s) B99"),
    ("B02,B02,B04,B08,B11,B12", "A band is listed twice"),
    ("B01,B03,B04,B05,B06,B07", "need band(s) B02, B08, B11"),
])
def test_detect_says_what_is_wrong_with_the_bands(tmp_path: Path, bands: str | None, message: str) -> None:
    first, second = _synthetic_stack(tmp_path / "a.tif", 6), _synthetic_stack(tmp_path / "b.tif", 6)
    args = ["detect", "run", str(first), str(second), "--no-store", *(["--bands", bands] if bands else [])]
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and not isinstance(result.exception, (IndexError, NameError))
    assert message in " ".join(result.output.split())


def test_detect_refuses_unreadable_inputs_with_a_message(tmp_path: Path) -> None:
    first = _synthetic_stack(tmp_path / "a.tif", 6)
    six = ["--bands", "B02,B03,B04,B08,B11,B12", "--no-store"]
    text_file = tmp_path / "b.txt"
    text_file.write_text("not a raster")
    bad_zoning = tmp_path / "zones.geojson"
    bad_zoning.write_text("not geojson")
    cases = [([str(first), str(text_file), *six], "is not a raster GDAL can read"),
             ([str(first), str(tmp_path / "missing.tif"), *six], "missing.tif not found"),
             ([str(first), str(first), *six, "--zoning", str(bad_zoning)], "is not a geographic layer")]
    for args, message in cases:
        result = runner.invoke(cli, ["detect", "run", *args])
        assert result.exit_code == 1 and message in " ".join(result.output.split()), result.output


def test_detect_uses_the_offset_the_product_declares(tmp_path: Path) -> None:
    """A folder of band files under a SAFE whose MTD_MSIL2A.xml is broken: a message, not a
    traceback; a stack declaring GDAL scale/offset: the CLI says which reflectance it used."""
    import rasterio

    folder = tmp_path / "S2_MSIL2A.SAFE" / "IMG_DATA"
    folder.mkdir(parents=True)
    for band in ("B02", "B04", "B08", "B11"):  # DN 2000: reflectance 0.1 with the L2A offset, not 0
        _synthetic_stack(folder / f"T32TNR_{band}_10m.tif", 1, 2000)
    (tmp_path / "S2_MSIL2A.SAFE" / "MTD_MSIL2A.xml").write_text("<broken")
    broken = runner.invoke(cli, ["detect", "run", str(folder), str(folder), "--no-store"])
    assert broken.exit_code == 1 and "MTD_MSIL2A.xmlisnotreadableXML" in "".join(broken.output.split())
    given = runner.invoke(cli, ["detect", "run", str(folder), str(folder), "--no-store", "--offset", "-1000"])
    assert given.exit_code == 0, given.output  # an offset given wins over the metadata

    stack = _synthetic_stack(tmp_path / "declared.tif", 6, 2000)
    with rasterio.open(stack, "r+") as dst:
        dst.scales, dst.offsets = (0.0001,) * 6, (-0.1,) * 6
    result = runner.invoke(cli, ["detect", "run", str(stack), str(stack), "--bands", "B02,B03,B04,B08,B11,B12",
                                 "--no-store"])
    assert result.exit_code == 0, result.output
    assert "reflectance = (DN -1000) / 10000, as the product declares" in " ".join(result.output.split())


def test_candidates_claim_productive_land_only_when_a_land_use_layer_was_given() -> None:
    import numpy as np
    from shapely.geometry import box

    from geo.detect import Region, merge_regions
    from geo.params import DetectionParams

    region = Region(box(0, 0, 100, 100), pixels=100, zoned_pixels=100,
                    sums={k: 0.5 * 100 for k in ("ndvi_before", "ndvi_after", "ndbi_before", "ndbi_after",
                                                 "bsi_before", "gain")})
    params = DetectionParams(min_area_m2=100, crop_share=1.0)  # one uniform hectare: no crop rule here
    without = merge_regions([region], 100.0, params)
    with_layer = merge_regions([region], 100.0, params, zoned_by_layer=True)
    assert "share_in_productive_land" not in without[0].evidence
    assert with_layer[0].evidence["share_in_productive_land"] == 1.0
    assert np.isclose(without[0].area_m2, 10_000)
