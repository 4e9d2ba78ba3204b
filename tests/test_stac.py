"""Imagery from STAC: a static catalogue built here from the real Sentinel-2 rasters of
../shared/data (Lago Barbellino, L2A 2017-07-03 and 2019-07-23, one file per band as STAC
assets are), searched by bbox and period, and the ways a catalogue goes wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pystac
import pytest
import rasterio
from rasterio.warp import transform_bounds
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from geo.detect import bbox_window
from geo.raster import SEN2R_BANDS, Reflectance
from geo.stac import StacError, choose, scene, search

runner = CliRunner()
DATES = {"20170703": dt.datetime(2017, 7, 3, 10, 20, tzinfo=dt.UTC),
         "20190723": dt.datetime(2019, 7, 23, 10, 20, tzinfo=dt.UTC)}
BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")


def _barbellino(shared_data: Path) -> Path:
    folder = shared_data / "raster" / "lombardy_s2_barbellino"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the shared reference data are not on this machine")
    return folder


def build_catalogue(shared_data: Path, folder: Path, cloud: dict[str, float] | None = None,
                    drop: dict[str, str] | None = None,
                    redated: dict[str, tuple[str, dt.datetime]] | None = None) -> Path:
    """A static catalogue: one item per date, one GeoTIFF asset per band (split from the
    real 11-band stacks), the SCL where the data has one; ``cloud`` sets eo:cloud_cover
    per date, ``drop`` removes one band's asset from a date. ``redated`` adds items whose
    pixels are one of the two real dates' under another date (SYNTHETIC dates: a series
    to assemble, not imagery of those days)."""
    source = _barbellino(shared_data)
    catalog = pystac.Catalog("barbellino", "Sentinel-2 L2A over Lago Barbellino (real, sen2r test data)")
    entries = [(stamp, stamp, when) for stamp, when in DATES.items()]
    entries += [(stamp, real, when) for stamp, (real, when) in (redated or {}).items()]
    for stamp, real, when in entries:
        stack = source / f"S2A2A_{real}_022_Barbellino_BOA_10.tif"
        item_dir = folder / stamp
        item_dir.mkdir(parents=True)
        with rasterio.open(stack) as src:
            profile = {**src.profile, "count": 1}
            bounds = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
            files = {}
            for band in BANDS:
                if drop and drop.get(stamp) == band:
                    continue
                target = item_dir / f"{band}.tif"
                with rasterio.open(target, "w", **profile) as dst:
                    dst.write(src.read(SEN2R_BANDS.index(band) + 1), 1)
                files[band] = target
        west, south, east, north = bounds
        item = pystac.Item(f"S2A_{stamp}_Barbellino", {"type": "Polygon", "coordinates": [[
            [west, south], [east, south], [east, north], [west, north], [west, south]]]},
            list(bounds), when, {"eo:cloud_cover": (cloud or {}).get(stamp, 4.0)})
        for band, path in files.items():
            item.add_asset(band, pystac.Asset(str(path), media_type=pystac.MediaType.GEOTIFF, roles=["data"]))
        scl = source / f"S2A2A_{real}_022_Barbellino_SCL_10.tif"
        if scl.exists():
            item.add_asset("SCL", pystac.Asset(str(scl), media_type=pystac.MediaType.GEOTIFF))
        catalog.add_item(item)
    catalog.normalize_hrefs(str(folder))
    catalog.save(catalog_type=pystac.CatalogType.SELF_CONTAINED)
    return folder / "catalog.json"


def _bbox(shared_data: Path) -> tuple[float, float, float, float]:
    with rasterio.open(_barbellino(shared_data) / "S2A2A_20190723_022_Barbellino_BOA_10.tif") as src:
        return transform_bounds(src.crs, "EPSG:4326", *src.bounds)


def test_a_static_catalogue_gives_the_two_dates_with_their_scl(shared_data: Path, tmp_path: Path) -> None:
    catalogue = build_catalogue(shared_data, tmp_path / "stac")
    items = search(str(catalogue), _bbox(shared_data), dt.date(2017, 1, 1), dt.date(2019, 12, 31))
    found = choose(items)
    assert found.items == ("S2A_20170703_Barbellino", "S2A_20190723_Barbellino")
    assert (found.before.date, found.after.date) == (dt.date(2017, 7, 3), dt.date(2019, 7, 23))
    assert [b for b, _ in found.after.files] == list(BANDS) and found.after.cloud_mask.endswith("SCL_10.tif")
    assert found.before.cloud_mask is None and found.skipped == []
    # the period and the place filter the items
    assert search(str(catalogue), _bbox(shared_data), dt.date(2018, 1, 1), dt.date(2019, 12, 31))[0].id.endswith(
        "20190723_Barbellino")
    assert search(str(catalogue), (12.0, 44.0, 12.1, 44.1), dt.date(2017, 1, 1), dt.date(2019, 12, 31)) == []


def test_the_command_runs_detection_from_the_catalogue(shared_data: Path, tmp_path: Path) -> None:
    catalogue = build_catalogue(shared_data, tmp_path / "stac")
    west, south, east, north = _bbox(shared_data)
    result = runner.invoke(cli, ["detect", "run", "--stac", str(catalogue), "--bbox", f"{west},{south},{east},{north}",
                                 "--from", "2017-01-01", "--to", "2019-12-31", "--no-store", "--tile-size", "16"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert ("reading two dates (low confidence): S2A_20170703_Barbellino (2017-07-03), S2A_20190723_Barbellino "
            "(2019-07-23)") in said
    assert "candidates" in said


def test_a_catalogue_with_several_dates_a_year_gives_a_time_series(shared_data: Path, tmp_path: Path) -> None:
    """Real pixels under SYNTHETIC dates: May to September 2017 and 2019, two scenes in
    July 2017 (the clearer is kept), one too cloudy. The series is the clearest scene of
    each month, oldest first, and the command reads it as a time series."""
    day = lambda y, m, d: dt.datetime(y, m, d, 10, 20, tzinfo=dt.UTC)  # noqa: E731
    redated = {"20170520": ("20170703", day(2017, 5, 20)), "20170720": ("20170703", day(2017, 7, 20)),
               "20170910": ("20170703", day(2017, 9, 10)), "20190515": ("20190723", day(2019, 5, 15)),
               "20190830": ("20190723", day(2019, 8, 30)), "20190912": ("20190723", day(2019, 9, 12))}
    cloud = {"20170720": 12.0, "20190830": 80.0}
    catalogue = build_catalogue(shared_data, tmp_path / "stac", cloud, redated=redated)
    found = choose(search(str(catalogue), _bbox(shared_data), dt.date(2017, 1, 1), dt.date(2019, 12, 31)))
    assert [s.date.isoformat() for s in found.scenes] == [
        "2017-05-20", "2017-07-03", "2017-09-10", "2019-05-15", "2019-07-23", "2019-09-12"]
    assert found.skipped == ["S2A_20190830_Barbellino: 80% cloud (over 20%)"]
    west, south, east, north = _bbox(shared_data)
    result = runner.invoke(cli, ["detect", "run", "--stac", str(catalogue), "--bbox", f"{west},{south},{east},{north}",
                                 "--from", "2017-01-01", "--to", "2019-12-31", "--no-store", "--tile-size", "16"])
    said = " ".join(result.output.split())
    assert result.exit_code == 0, said
    assert "reading a time series of 6 scenes: S2A_20170520_Barbellino (2017-05-20)" in said
    assert "from a time series of 6 dates" in said


@pytest.mark.parametrize(("case", "message"), [
    ("all_cloud", "None of the 2 scenes can be used: S2A_20170703_Barbellino: 100% cloud (over 20%)"),
    ("missing_band", "The usable scenes are all of 2017"),
    ("bad_url", "Cannot read the STAC catalogue at http://127.0.0.1:9/stac"),
    ("no_file", "Cannot read the STAC catalogue at"),
    ("elsewhere", "The catalogue has no scene over this bbox in this period"),
    ("one_year", "The usable scenes are all of 2019"),
    ("bad_bbox", "--bbox '9,45': give west,south,east,north in degrees"),
    ("no_period", "--stac needs --bbox, --from and --to"),
])
def test_catalogues_that_cannot_give_two_dates_are_refused_and_nothing_is_stored(
        shared_data: Path, tmp_path: Path, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch,
        case: str, message: str) -> None:
    from app.core import settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    cloud = {"20170703": 100.0, "20190723": 100.0} if case == "all_cloud" else None
    drop = {"20190723": "B11"} if case == "missing_band" else None
    catalogue = str(build_catalogue(shared_data, tmp_path / "stac", cloud, drop))
    west, south, east, north = _bbox(shared_data)
    bbox, start = f"{west},{south},{east},{north}", "2017-01-01"
    if case == "bad_url":
        catalogue = "http://127.0.0.1:9/stac"
    elif case == "no_file":
        catalogue = str(tmp_path / "nowhere" / "catalog.json")
    elif case == "elsewhere":
        bbox = "12.0,44.0,12.1,44.1"
    elif case == "one_year":
        start = "2018-01-01"
    elif case == "bad_bbox":
        bbox = "9,45"
    args = ["detect", "run", "--stac", catalogue, "--bbox", bbox, "--from", start, "--to", "2019-12-31"]
    if case == "no_period":
        args = args[:6]
    try:
        with engine.connect() as conn:
            runs = conn.execute(text("SELECT count(*) FROM detection_runs")).scalar_one()
        result = runner.invoke(cli, args)
        said = " ".join(result.output.split())
        assert result.exit_code == 1 and message in said, said
        if case == "missing_band":
            assert "S2A_20190723_Barbellino: no asset for band B11" in said
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM detection_runs")).scalar_one() == runs
    finally:
        settings.database_settings.cache_clear()


def test_assets_named_by_common_name_with_a_declared_scale(tmp_path: Path) -> None:
    """Earth Search's convention: 'red', 'nir', 'swir16'..., raster:bands scale and offset."""
    item = pystac.Item("x", None, None, dt.datetime(2024, 7, 1, tzinfo=dt.UTC), {})
    for key in ("blue", "green", "red", "nir", "swir16", "swir22", "scl"):
        item.add_asset(key, pystac.Asset(f"https://example.invalid/{key}.tif", extra_fields={
            "raster:bands": [{"scale": 0.0001, "offset": -0.1}]}))
    found = scene(item)
    assert dict(found.files)["B11"].endswith("swir16.tif") and found.cloud_mask.endswith("scl.tif")
    assert found.reflectance == Reflectance(scale=10_000, offset=-1_000)
    del item.assets["nir"]
    with pytest.raises(StacError, match="no asset for band B08"):
        scene(item)


def test_a_bbox_limits_the_tiles_read(shared_data: Path, tmp_path: Path) -> None:
    found = choose(search(str(build_catalogue(shared_data, tmp_path / "stac")), _bbox(shared_data),
                          dt.date(2017, 1, 1), dt.date(2019, 12, 31)))
    west, south, east, north = _bbox(shared_data)
    half = bbox_window(found.before, (west, south, (west + east) / 2, north))
    assert half is not None and 0 < half.width < 24 and (half.col_off, half.row_off, half.height) == (0, 0, 42)
    with pytest.raises(ValueError, match="is outside the scenes"):
        bbox_window(found.before, (12.0, 44.0, 12.1, 44.1))
