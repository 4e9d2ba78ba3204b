"""Detection runs through the CLI into the catalogue, reviewed through the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from app.core import settings
from geo.scenes import BANDS, BenchmarkScene, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> BenchmarkScene:
    """SYNTHETIC (geo/scenes.py), in Lombardy's UTM zone near Cremona."""
    return generate(tmp_path_factory.mktemp("synthetic-run"), size=700, disused=5, active=5, seed=3)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, accounts: dict) -> Iterator[dict]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    yield accounts["staff"]
    settings.database_settings.cache_clear()


def _layer(shapes: list, path: Path) -> Path:
    gpd.GeoDataFrame(geometry=shapes, crs=32632).to_crs(4326).to_file(path)
    return path


def test_detect_store_list_review_and_evaluate(env: dict, scene: BenchmarkScene, tmp_path: Path,
                                               api: TestClient, engine: Engine) -> None:
    from geo.detect import SCL_CLOUDY, Scene, detect
    from geo.params import DetectionParams

    objects = _layer(scene.land_use, tmp_path / "land_use.geojson")
    out = tmp_path / "candidates.geojson"
    result = runner.invoke(cli, ["detect", "run", str(scene.before), str(scene.after), "--bands", ",".join(BANDS),
                                 "--before-date", "2019-07-10", "--after-date", "2023-07-12",
                                 "--before-clouds", str(scene.before_scl), "--after-clouds", str(scene.after_scl),
                                 "--scl", "--objects", str(objects), "--out", str(out), "--tile-size", "256"])
    assert result.exit_code == 0, result.output
    expected = detect(Scene(str(scene.before), BANDS, cloud_mask=str(scene.before_scl), cloud_classes=SCL_CLOUDY),
                      Scene(str(scene.after), BANDS, cloud_mask=str(scene.after_scl), cloud_classes=SCL_CLOUDY),
                      DetectionParams(), objects=scene.land_use)
    assert len(expected) >= 2 and f"{len(expected)} candidates" in result.output
    run_id = int(result.output.strip().split("stored as detection run ")[1].split()[0])
    assert len(json.loads(out.read_text())["features"]) == len(expected)

    truth = _layer(scene.truth, tmp_path / "truth.geojson")
    scored = runner.invoke(cli, ["detect", "evaluate", str(run_id), str(truth)])
    site_level = json.loads(scored.output)
    assert scored.exit_code == 0 and site_level["precision"] == 1.0 and site_level["recall"] >= 0.8
    assert site_level["candidates_per_site"] == 1.0

    assert api.get(f"/detection/runs/{run_id}/candidates").status_code == 401
    answer = api.get(f"/detection/runs/{run_id}/candidates", headers=env)
    # the type it answers is the one the OpenAPI document gives (the schema test found it undocumented)
    documented = api.get("/api").json()["paths"]["/detection/runs/{run_id}/candidates"]["get"]["responses"]["200"]
    assert answer.headers["content-type"] == "application/geo+json" and "application/geo+json" in documented["content"]
    listing = answer.json()
    assert len(listing["features"]) == len(expected)
    first, second = listing["features"][0]["id"], listing["features"][1]["id"]
    evidence = listing["features"][0]["properties"]["evidence"]
    assert evidence["dates"] == ["2019-07-10", "2023-07-12"] and 0 < evidence["share_with_signal"] <= 1

    confirmed = api.post(f"/detection/candidates/{first}/review", json={"decision": "confirm"}, headers=env).json()
    assert confirmed["review_status"] == "confirmed" and confirmed["site_id"]
    again = api.post(f"/detection/candidates/{first}/review", json={"decision": "reject", "reason": "x"}, headers=env)
    assert again.status_code == 409 and "already reviewed" in again.json()["error"]["message"]
    no_reason = api.post(f"/detection/candidates/{second}/review", json={"decision": "reject"}, headers=env)
    assert no_reason.status_code == 422 and "Say why" in no_reason.json()["error"]["message"]
    rejected = api.post(f"/detection/candidates/{second}/review",
                        json={"decision": "reject", "reason": "active plant, seen on site"}, headers=env).json()
    assert rejected["review_status"] == "rejected"
    with engine.begin() as conn:
        site = conn.execute(text("SELECT origin, status, site_type, comune_istat FROM sites WHERE id = :i"),
                            {"i": confirmed["site_id"]}).one()
        assert (site.origin, site.status, site.site_type) == ("detection", "draft", "area_dismessa")
        assert site.comune_istat is not None  # enriched: the synthetic scene lies in Lombardy
        conn.execute(text("DELETE FROM sites WHERE origin = 'detection'"))
        conn.execute(text("DELETE FROM detection_runs WHERE id = :r"), {"r": run_id})


def test_detect_reports_bad_input(env: dict, scene: BenchmarkScene, tmp_path: Path) -> None:
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"not a raster")
    result = runner.invoke(cli, ["detect", "run", str(scene.before), str(broken), "--bands", ",".join(BANDS),
                                 "--no-store"])
    assert result.exit_code == 1 and "broken.tif" in result.output


def test_trend_command_on_the_real_series(env: dict, shared_data: Path) -> None:
    folder = shared_data / "raster/slovenia_ndvi_timeseries"
    result = runner.invoke(cli, ["detect", "trend", str(folder / "ndvi_2015-2017.tif"),
                                 str(folder / "timestamps.json"), "--no-store"])
    assert result.exit_code == 0, result.output
    assert "candidates" in result.output
    wrong = runner.invoke(cli, ["detect", "trend", str(folder / "ndvi_2015-2017.tif"),
                                str(shared_data / "reference/zones/zls_lombardia.csv"), "--no-store"])
    assert wrong.exit_code == 1
    # the real land cover of the same grid as zoning: a raster needs its classes
    series, cover = str(folder / "ndvi_2015-2017.tif"), str(folder / "lulc.tif")
    unclassed = runner.invoke(cli, ["detect", "trend", series, str(folder / "timestamps.json"), "--zoning", cover,
                                    "--no-store"])
    assert unclassed.exit_code == 1 and "lulc.tif is a raster: say which of its class values are wanted" in \
        " ".join(unclassed.output.split())
    artificial = runner.invoke(cli, ["detect", "trend", series, str(folder / "timestamps.json"), "--zoning", cover,
                                     "--classes", "8", "--no-store"])
    assert artificial.exit_code == 0 and "candidates" in artificial.output, artificial.output


def test_land_use_rasters_need_their_classes(env: dict, scene: BenchmarkScene, tmp_path: Path) -> None:
    """A land-use map is a raster: its productive classes become the objects (or zoning);
    without --classes, or with classes it does not hold, the message says what to change."""
    import numpy as np
    import rasterio
    from rasterio import features

    with rasterio.open(scene.before) as src:
        profile = {**src.profile, "count": 1, "dtype": "uint8", "nodata": 0}
        classes = features.rasterize(((g, 121) for g in scene.land_use), out_shape=(src.height, src.width),
                                     transform=src.transform, fill=211, dtype="uint8")
    land_use = tmp_path / "dusaf.tif"
    with rasterio.open(land_use, "w", **profile) as dst:
        dst.write(np.asarray(classes)[None])
    base = ["detect", "run", str(scene.before), str(scene.after), "--bands", ",".join(BANDS), "--before-clouds",
            str(scene.before_scl), "--after-clouds", str(scene.after_scl), "--scl", "--no-store"]
    worked = runner.invoke(cli, [*base, "--objects", str(land_use), "--classes", "121"])
    assert worked.exit_code == 0 and " candidates" in worked.output, worked.output
    cases = [(["--objects", str(land_use)], "dusaf.tif is a raster: say which of its class values are wanted"),
             (["--zoning", str(land_use), "--classes", "999"], "dusaf.tif has no pixel of class 999"),
             (["--objects", str(land_use), "--classes", "industrial"], "--classes takes whole numbers"),
             (["--objects", str(tmp_path / "missing.gpkg")], "missing.gpkg not found")]
    for args, message in cases:
        result = runner.invoke(cli, [*base, *args])
        assert result.exit_code == 1 and message in " ".join(result.output.split()), result.output
