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
from geo.synthetic import BANDS, SyntheticScene, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> SyntheticScene:
    return generate(tmp_path_factory.mktemp("synthetic-run"), size=400, seed=5)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, accounts: dict) -> Iterator[dict]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    yield accounts["staff"]
    settings.database_settings.cache_clear()


def _layer(shapes: list, path: Path) -> Path:
    gpd.GeoDataFrame(geometry=shapes, crs=32632).to_crs(4326).to_file(path)
    return path


def test_detect_store_list_review_and_evaluate(env: dict, scene: SyntheticScene, tmp_path: Path,
                                               api: TestClient, engine: Engine) -> None:
    zoning = _layer(scene.zoning, tmp_path / "zoning.geojson")
    out = tmp_path / "candidates.geojson"
    result = runner.invoke(cli, ["detect", "run", str(scene.before), str(scene.after), "--bands", ",".join(BANDS),
                                 "--before-date", "2019-07-01", "--after-date", "2023-07-01",
                                 "--zoning", str(zoning), "--out", str(out), "--tile-size", "128"])
    assert result.exit_code == 0, result.output
    assert f"{len(scene.truth)} candidates" in result.output
    run_id = int(result.output.strip().split("stored as detection run ")[1].split()[0])
    assert len(json.loads(out.read_text())["features"]) == len(scene.truth)

    truth = _layer(scene.truth, tmp_path / "truth.geojson")
    scored = runner.invoke(cli, ["detect", "evaluate", str(run_id), str(truth)])
    assert scored.exit_code == 0 and json.loads(scored.output)["f1"] == 1.0

    assert api.get(f"/detection/runs/{run_id}/candidates").status_code == 401
    listing = api.get(f"/detection/runs/{run_id}/candidates", headers=env).json()
    assert len(listing["features"]) == len(scene.truth)
    first, second = listing["features"][0]["id"], listing["features"][1]["id"]
    assert listing["features"][0]["properties"]["evidence"]["dates"] == ["2019-07-01", "2023-07-01"]

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


def test_detect_reports_bad_input(env: dict, scene: SyntheticScene, tmp_path: Path) -> None:
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
