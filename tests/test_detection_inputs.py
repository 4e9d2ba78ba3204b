"""Detection: objects larger than a plant are segmented inside, and inputs that cannot
give an answer are refused with a message (nothing stored). SYNTHETIC scenes only
(geo/scenes.py)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine
from shapely.geometry import box
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.cli import cli
from geo.detect import SCL_CLOUDY, Scene, detect
from geo.evaluate import iou, site_scores
from geo.params import DetectionParams
from geo.scenes import BANDS, BenchmarkScene, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> BenchmarkScene:
    return generate(tmp_path_factory.mktemp("synthetic-zones"), size=700, disused=5, active=5, seed=3)


def _scenes(s: BenchmarkScene) -> tuple[Scene, Scene]:
    return (Scene(str(s.before), BANDS, s.dates[0], cloud_mask=str(s.before_scl), cloud_classes=SCL_CLOUDY),
            Scene(str(s.after), BANDS, s.dates[1], cloud_mask=str(s.after_scl), cloud_classes=SCL_CLOUDY))


def _zone(s: BenchmarkScene) -> box:
    with rasterio.open(s.before) as src:
        return box(*src.bounds)  # the whole synthetic scene: 7 x 7 km, an "industrial district"


def test_a_zone_sized_object_gives_plant_sized_candidates_inside_it(scene: BenchmarkScene) -> None:
    zone = _zone(scene)
    candidates = detect(*_scenes(scene), DetectionParams(), objects=[zone])
    assert candidates, "nothing found inside the district"
    assert all(not c.geometry.equals(zone) and c.area_m2 < 0.05 * zone.area for c in candidates)
    assert all(c.geometry.within(zone.buffer(1e-6)) for c in candidates)
    assert {c.evidence["site_from"] for c in candidates} == {"segmented inside a large object"}
    scores = site_scores([c.geometry for c in candidates], scene.truth, scene.distractors)
    plain = detect(*_scenes(scene), DetectionParams())  # segmentation without any layer
    assert scores.recall == site_scores([c.geometry for c in plain], scene.truth, scene.distractors).recall
    assert scores.recall > 0 and all(max(iou(c.geometry, p) for p in scene.truth) >= 0.3
                                     for c in candidates if any(c.geometry.intersects(p) for p in scene.truth))


def test_parcels_inside_a_district_keep_the_per_object_path(scene: BenchmarkScene) -> None:
    """The plants' footprints and the district around them: each footprint is scored whole,
    the district is segmented around them, and no plant is a candidate twice."""
    objects = [*scene.land_use, _zone(scene)]
    candidates = detect(*_scenes(scene), DetectionParams(), objects=objects)
    whole = [c for c in candidates if c.evidence["site_from"] == "object"]
    assert whole and all(any(c.geometry.equals(o) for o in scene.land_use) for c in whole)
    for plant in scene.truth:
        assert len([c for c in candidates if c.geometry.intersection(plant).area > 0.5 * plant.area]) <= 1


def test_the_size_above_which_objects_are_segmented_is_a_parameter(scene: BenchmarkScene) -> None:
    zone = _zone(scene)
    whole = detect(*_scenes(scene), DetectionParams(max_object_m2=zone.area + 1, min_object_share=0.0001),
                   objects=[zone])
    assert len(whole) == 1 and whole[0].geometry.equals(zone) and whole[0].evidence["site_from"] == "object"


def _copy(source: Path, target: Path, fill: int | None = None, **changes: object) -> Path:
    """A copy of a raster with profile ``changes`` (and every pixel ``fill`` when given)."""
    with rasterio.open(source) as src:
        data, profile = src.read(), src.profile
    profile.update(changes)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(np.full_like(data, fill) if fill is not None else data)
    return target


@pytest.mark.parametrize(("case", "message"), [
    ("reversed", "The second date (2019-07-10) must be later than the first (2023-07-12)"),
    ("same_date", "The second date (2019-07-10) must be later than the first (2019-07-10)"),
    ("elsewhere", "The two dates do not overlap"),
    ("no_crs", "A raster has no coordinate reference system"),
    ("all_cloud", "No pixel is clear at both dates"),
])
def test_inputs_that_cannot_give_an_answer_are_refused(scene: BenchmarkScene, tmp_path: Path, case: str,
                                                       message: str) -> None:
    before, after = _scenes(scene)
    if case == "reversed":
        before, after = replace(before, date=after.date), replace(after, date=before.date)
    elif case == "same_date":
        after = replace(after, date=before.date)
    elif case == "elsewhere":
        with rasterio.open(scene.after) as src:
            t = src.transform
        far = Affine(t.a, t.b, t.c + 500_000, t.d, t.e, t.f)  # 500 km east
        after = replace(after, path=str(_copy(scene.after, tmp_path / "far.tif", transform=far)), cloud_mask=None)
    elif case == "no_crs":
        after = replace(after, path=str(_copy(scene.after, tmp_path / "nocrs.tif", crs=None)), cloud_mask=None)
    else:
        cloudy = _copy(scene.after_scl, tmp_path / "cloud_scl.tif", fill=9)
        after = replace(after, cloud_mask=str(cloudy))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        detect(before, after, DetectionParams())


def test_the_command_refuses_dates_out_of_order_and_stores_nothing(
        scene: BenchmarkScene, engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core import settings

    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    try:
        with engine.connect() as conn:
            runs = conn.execute(text("SELECT count(*) FROM detection_runs")).scalar_one()
        result = runner.invoke(cli, ["detect", "run", str(scene.before), str(scene.after),
                                     "--bands", ",".join(BANDS), "--before-date", "2023-07-12",
                                     "--after-date", "2019-07-10"])
        assert result.exit_code == 1
        assert "must be later than the first (2023-07-12)" in " ".join(result.output.split())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM detection_runs")).scalar_one() == runs
    finally:
        settings.database_settings.cache_clear()


@pytest.mark.parametrize("seed", range(6))
def test_shifted_morphology_equals_scipy(seed: int) -> None:
    """geo/morphology.py against scipy.ndimage on random masks, borders included."""
    from scipy import ndimage

    from geo import morphology

    rng = np.random.default_rng(seed)
    mask = rng.random((61, 47)) < (0.2 + 0.12 * seed)
    within = rng.random(mask.shape) < 0.5
    square, cross = np.ones((3, 3), bool), ndimage.generate_binary_structure(2, 1)
    assert np.array_equal(morphology.opening(mask), ndimage.binary_opening(mask, structure=square))
    for shape, element in ((True, square), (False, cross)):
        assert np.array_equal(morphology.dilate(mask, shape), ndimage.binary_dilation(mask, structure=element))
        for border in (False, True):
            assert np.array_equal(morphology.erode(mask, shape, border),
                                  ndimage.binary_erosion(mask, structure=element, border_value=border))
    for steps in (1, 3, 6):
        expected = ndimage.binary_dilation(mask, structure=square, iterations=steps, mask=within | mask)
        assert np.array_equal(morphology.geodesic_dilation(mask, within, steps), expected)
    for radius in (2, 3, 5, 7):  # the joins of segmentation: a disk
        disk = np.hypot(*np.mgrid[-radius:radius + 1, -radius:radius + 1]) <= radius
        assert np.array_equal(morphology.dilate_disk(mask, radius), ndimage.binary_dilation(mask, structure=disk))
        assert np.array_equal(morphology.erode_disk(mask, radius),
                              ndimage.binary_erosion(mask, structure=disk, border_value=1))


def test_the_adversarial_family_puts_its_distractors_at_the_cuts(tmp_path: Path) -> None:
    """geo/adversarial.py (SYNTHETIC): sown fields just under the sealed cut at date 1 and
    the canopy cap at date 2, in another sensor's declared scale, with zone-sized objects."""
    from rasterio import features

    from bench.detection_sites import _dates
    from geo import adversarial
    from geo.detect import grid_of, read_window, signal
    from geo.raster import declared_reflectance

    s = adversarial.generate(tmp_path / "adv", size=500, disused=3, active=3, fields=6, seed=1)
    assert declared_reflectance(s.before) is not None  # Landsat's scale, said in the file
    before, after = _dates(s)
    width, height, transform, _, _ = grid_of(before)
    whole = rasterio.windows.Window(0, 0, width, height)
    _, values, _ = signal(read_window(before, whole), read_window(after, whole), DetectionParams(), masked=True)
    p = DetectionParams()
    for field in s.distractors["sown_field"]:
        inside = features.geometry_mask([field], (height, width), transform, invert=True)
        inside[:, :2] = False  # the misregistered edge column
        assert np.nanmedian(values["ndvi_before"][inside]) < p.sealed_ndvi_max
        assert np.nanpercentile(values["ndvi_after"][inside], 95) < p.field_ndvi_max
    assert min(z.area for z in s.land_use) > p.max_object_m2  # districts, not parcels
    assert s.truth and s.distractors["active_with_park"]
