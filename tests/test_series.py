"""Time-series detection (geo/series.py): the phenology and persistence rules on
hand-made NDVI trajectories and on the real Slovenian series with injected yards and crop
pixels, sites and ranking on SYNTHETIC series of both families, and series that cannot
give an answer refused with a message and nothing stored."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from geo.detect import SCL_CLOUDY, Scene, detect
from geo.params import SERIES_PARAMS, DetectionParams
from geo.raster import Reflectance, declared_reflectance
from geo.scenes import BANDS, SeriesScene, generate_series, series_dates
from geo.series import check_series, detect_series, rules
from geo.sites import TIME_SERIES, TWO_DATES

runner = CliRunner()
P = DetectionParams()


def _trajectory(days: list[dt.date], value) -> np.ndarray:
    return np.array([value(d) for d in days], np.float32)[:, None, None]


def _grows(d: dt.date) -> float:
    """A yard: sealed (0.15) until June 2019, then vegetation taking over for a year."""
    return 0.15 + 0.45 * min(1.0, max(0.0, (d - dt.date(2019, 6, 1)).days / 365))


def _crop(d: dt.date, first_year: int = 2019) -> float:
    """Bare (0.22) until sown in April, full in June, harvested at the end of July."""
    if d.year < first_year:
        return 0.25
    age = d.timetuple().tm_yday - 100
    return 0.22 + (0.58 * min(1.0, age / 60) if 0 <= age <= 110 else 0.0)


@pytest.mark.parametrize(("name", "value", "passes", "why"), [
    ("a yard overgrowing", _grows, True, None),
    ("a field sown and harvested every year", _crop, False, "peak_before"),
    ("a fallow field sown from the second year", lambda d: _crop(d, 2020), False, "low_after"),
    ("a lawn laid out in one go", lambda d: 0.12 if d < dt.date(2020, 3, 1) else 0.72, True, None),
    ("a stable wood", lambda d: 0.8, False, "ndvi_before"),
    ("a sealed yard that never changes", lambda d: 0.14, False, "gain"),
    ("a yard under snow every winter", lambda d: 0.02 if d.month in (1, 2, 12) else _grows(d), True, None),
])
def test_the_rules_on_trajectories(name: str, value, passes: bool, why: str | None) -> None:
    days = series_dates() + [dt.date(y, 1, 20) for y in (2020, 2021)]
    days.sort()
    mask, values = rules(_trajectory(days, value), days, P)
    assert bool(mask[0, 0]) is passes, (name, {k: float(v[0, 0]) for k, v in values.items()})
    limits = {"peak_before": ("<", P.peak_ndvi_max), "low_after": (">", P.reset_ndvi_max),
              "ndvi_before": ("<", P.sealed_ndvi_max), "gain": (">", P.gain_min)}
    if why:  # the rule that rejects it is the one named
        op, limit = limits[why]
        value_ = float(values[why][0, 0])
        assert (value_ >= limit) if op == "<" else (value_ <= limit), (name, why, value_)


def _slovenia(shared_data: Path) -> tuple[list[dt.date], np.ndarray, np.ndarray]:
    folder = shared_data / "raster/slovenia_ndvi_timeseries"
    stamps = [dt.datetime.fromisoformat(t).date() for t in json.loads((folder / "timestamps.json").read_text())]
    with rasterio.open(folder / "ndvi_2015-2017.tif") as src:
        series = src.read().astype(np.float32)
    with rasterio.open(folder / "lulc.tif") as src:
        cover = src.read(1)
    return stamps, series, cover


def test_the_real_slovenian_series_with_injected_yards_and_crop_pixels(shared_data: Path) -> None:
    """Real Sentinel-2 NDVI, 68 dates from July 2015 to December 2017 (real cloud gaps,
    real winter lows of 0.0-0.1): no real pixel (forest, grassland, fields, artificial
    surfaces) passes; a 9 x 9 yard greening from July 2016 with 30% of the real
    pixels' swings passes; the same block as a fallow field sown and harvested from 2016
    (real swings too) and as a copy of the real fields' trajectory does not."""
    days, series, cover = _slovenia(shared_data)
    mask, _ = rules(series, days, P)
    assert not mask.any(), f"{int(mask.sum())} real pixels taken for overgrown yards"
    block = series[:, 40:49, 40:49]
    with np.errstate(all="ignore"):
        swing = 0.3 * (block - np.nanmedian(block, axis=0))
    fields = np.nanmedian(series[:, cover == 1], axis=1)[:, None, None]
    injected = {
        "yard": _trajectory(days, lambda d: 0.15 + 0.4 * min(1.0, max(0.0, (d - dt.date(2016, 7, 1)).days / 365))),
        "fallow then cropped": _trajectory(days, lambda d: _crop(d, 2016)),
        "real fields": fields,
    }
    found = {}
    for name, values in injected.items():
        planted = series.copy()
        planted[:, 40:49, 40:49] = values + swing * np.isfinite(values)
        mask, _ = rules(planted, days, P)
        found[name] = int(mask[40:49, 40:49].sum())
        assert mask[:40].sum() + mask[49:].sum() == 0
    assert found["yard"] >= 0.9 * 81 and found["fallow then cropped"] == 0 and found["real fields"] == 0, found


@pytest.fixture(scope="module")
def adversarial(tmp_path_factory: pytest.TempPathFactory) -> SeriesScene:
    from geo.adversarial_series import generate_series as adversarial_series

    return adversarial_series(tmp_path_factory.mktemp("adversarial-series"), size=600, disused=4, active=4,
                              fields=6, seed=5)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> SeriesScene:
    return generate_series(tmp_path_factory.mktemp("scenes-series"), size=600, disused=4, active=4, seed=5)


def _dated(s: SeriesScene) -> list[Scene]:
    return [Scene(str(p), BANDS, d, declared_reflectance(p) or Reflectance(), cloud_mask=str(c),
                  cloud_classes=SCL_CLOUDY) for p, c, d in zip(s.stacks, s.scls, s.dates, strict=True)]


@pytest.mark.parametrize("family", ["scenes", "adversarial"])
def test_series_candidates_are_disused_plants_and_rank_above_active_ones(
        family: str, request: pytest.FixtureRequest) -> None:
    """SYNTHETIC series of either family: candidates say they rest on a time series, none
    lies on a sown field, most disused plants are found, and every candidate on an active
    plant with new landscaping ranks below every one on a disused plant."""
    s: SeriesScene = request.getfixturevalue(family)
    params = SERIES_PARAMS
    candidates = detect_series(_dated(s), params)
    assert candidates and {c.evidence["confidence"] for c in candidates} == {TIME_SERIES}
    fields = s.distractors.get("sown_field", []) + s.distractors.get("field", [])
    assert not [c for c in candidates if any(c.geometry.intersection(f).area > 0.5 * c.area_m2 for f in fields)]
    on_truth = [i for i, c in enumerate(candidates) if any(c.geometry.intersects(t) for t in s.truth)]
    active = s.distractors.get("active_with_park", []) + s.distractors.get("active_plant", [])
    on_active = [i for i, c in enumerate(candidates) if any(c.geometry.intersects(a) for a in active)
                 and i not in on_truth]
    assert len({t for t in range(len(s.truth)) for i in on_truth if candidates[i].geometry.intersects(s.truth[t])}) \
        >= len(s.truth) - 1
    assert all(t < a for t in on_truth for a in on_active)
    for candidate in candidates:
        assert 0 <= candidate.evidence["persistence"] <= 1 and "activity_of_built_surfaces" in candidate.evidence


def test_two_dates_are_labelled_low_confidence_and_rank_below_series_evidence(scenes: SeriesScene) -> None:
    from geo.sites import Region, merge_regions

    pair = scenes.pair()
    two = detect(Scene(str(pair.before), BANDS, pair.dates[0], cloud_mask=str(pair.before_scl),
                       cloud_classes=SCL_CLOUDY),
                 Scene(str(pair.after), BANDS, pair.dates[1], cloud_mask=str(pair.after_scl),
                       cloud_classes=SCL_CLOUDY), P)
    assert two and {c.evidence["confidence"] for c in two} == {TWO_DATES}
    site = two[0].geometry
    weak = Region(site, 400, {"gain": 0.2 * 60}, evidence=60, edge=False)
    strong = Region(site, 400, {"gain": 0.9 * 200}, evidence=200, edge=False)
    pixel = site.area / 400
    mixed = merge_regions([strong], pixel, P) + merge_regions([weak], pixel, P, evidence_from=TIME_SERIES)
    assert mixed[0].score > mixed[1].score  # the two-date one scores higher...
    from geo.sites import rank

    assert [c.evidence["confidence"] for c in rank(mixed)] == [TIME_SERIES, TWO_DATES]  # ...and ranks lower


@pytest.mark.parametrize(("case", "message"), [
    ("one date", "A time series needs several dates; got 1"),
    ("out of order", "Dates out of order: scene 3 (2019-05-15) is not later than scene 2 (2019-06-15)"),
    ("same date", "Dates out of order: scene 2 (2019-03-15) is not later than scene 1 (2019-03-15)"),
    ("one season", "The series spans 214 days (2019-03-15 to 2019-10-15): it must cover two growing seasons"),
    ("winter only", "The series needs dates in the growing season (months 4-10)"),
    ("undated", "Scene(s) 2 have no date"),
])
def test_series_that_cannot_give_an_answer_are_refused(scenes: SeriesScene, case: str, message: str) -> None:
    dated = _dated(scenes)
    if case == "one date":
        dated = dated[:1]
    elif case == "out of order":
        dated[1], dated[2] = dated[2], dated[1]
    elif case == "same date":
        dated[1] = replace(dated[1], date=dated[0].date)
    elif case == "one season":
        dated = dated[:5]
    elif case == "winter only":
        dated = [replace(d, date=dt.date(2019 + i, 1, 10 + j)) for i in range(3) for j, d in enumerate(dated[:2])]
    else:
        dated[1] = replace(dated[1], date=None)
    with pytest.raises(ValueError) as error:
        check_series(dated)
    assert message in str(error.value)


def test_a_series_with_no_clear_pixel_is_refused(scenes: SeriesScene, tmp_path: Path) -> None:
    cloudy = tmp_path / "cloud.tif"
    with rasterio.open(scenes.scls[0]) as src:
        profile, data = src.profile, src.read()
    with rasterio.open(cloudy, "w", **profile) as dst:
        dst.write(np.full_like(data, 9))
    dated = [replace(d, cloud_mask=str(cloudy)) for d in _dated(scenes)]
    with pytest.raises(ValueError, match="No pixel is clear"):
        detect_series(dated, P)


def _store_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM detection_runs")).scalar_one()


def test_the_command_reads_a_series_and_refuses_bad_ones_storing_nothing(
        scenes: SeriesScene, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``detect run`` with every date of the series (dates from the file names, one SCL
    per scene): time-series evidence, stored; with the dates out of order, or --clouds
    and --dates that do not match the scenes: a message, nothing stored."""
    from app.core import settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    stacks = [str(p) for p in scenes.stacks]
    masks = [a for p in scenes.scls for a in ("--clouds", str(p))]
    common = ["--bands", ",".join(BANDS), "--scl"]
    try:
        before = _store_count(engine)
        result = runner.invoke(cli, ["detect", "run", *stacks, *masks, *common])
        said = " ".join(result.output.split())
        assert result.exit_code == 0, said
        assert f"from a time series of {len(stacks)} dates" in said and "stored as detection run" in said
        assert _store_count(engine) == before + 1
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT evidence->>'confidence' FROM detection_candidates WHERE run_id = "
                                       "(SELECT max(id) FROM detection_runs)")).scalars().all()
        assert stored and set(stored) == {TIME_SERIES}
        for args, expected in (
                ([stacks[1], stacks[0], *stacks[2:], *common], "Dates out of order: scene 2"),
                ([*stacks, *masks[:4], *common], f"--clouds is given 2 times for {len(stacks)} scenes"),
                ([*stacks, "--dates", "2019-03-15,2019-05-15", *common], f"--dates gives 2 dates for {len(stacks)}"),
                ([stacks[0], *common], "or two dates; got 1")):
            result = runner.invoke(cli, ["detect", "run", *args])
            assert result.exit_code == 1 and expected in " ".join(result.output.split()), result.output
        assert _store_count(engine) == before + 1
    finally:
        settings.database_settings.cache_clear()


def test_dask_and_single_process_agree_on_a_series(scenes: SeriesScene) -> None:
    from dask.distributed import Client, LocalCluster

    from geo.distributed import detect_series_with_dask

    params = replace(SERIES_PARAMS, tile_size=256)
    single = detect_series(_dated(scenes), params)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        spread = detect_series_with_dask(_dated(scenes), params, client=client)
    assert single and [(c.geometry.wkt, c.score) for c in spread] == [(c.geometry.wkt, c.score) for c in single]


def test_the_same_series_candidates_whatever_the_tile_size(adversarial: SeriesScene) -> None:
    """Activity is read with a halo as wide as its neighbourhood and its floor is added up
    from the tiles' histograms: 200 px tiles give what one 1024 px tile gives."""
    params = SERIES_PARAMS
    whole = detect_series(_dated(adversarial), params)
    tiled = detect_series(_dated(adversarial), replace(params, tile_size=200))
    assert whole and [(c.geometry.normalize().wkt, c.evidence["activity_of_built_surfaces"]) for c in tiled] == \
        [(c.geometry.normalize().wkt, c.evidence["activity_of_built_surfaces"]) for c in whole]
