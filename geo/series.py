"""Brownfield candidates from a time series: several dates a year over two years or more.

Two dates cannot tell a yard overgrowing from a field sown between them, nor a disused
plant from a working one where a lawn was laid out (issue 26: 95% of the false
candidates on independent two-date scenes were sown fields). A series can, with rules
that each rest on published practice (docs/detection.md gives the sources):

* **phenology, first year**: a crop has a green peak every season; a sealed or bare yard
  has none. Evidence needs the first twelve months without a peak (``peak_ndvi_max``).
* **phenology, last year**: a field is sown and harvested within a season and falls back
  to soil after its peak; vegetation taking over a yard does not. After the highest
  clear NDVI of the last twelve months, none falls under bare (``reset_ndvi_max``).
* **persistence**: once a pixel has greened (gained ``gain_min``), it keeps at least half
  that gain on most clear dates after (``min_persistence``), as change detectors confirm
  a change only when it lasts.
* **activity** (a site measure): the built surfaces of the site that stayed sealed still
  change from date to date in a working plant (vehicles, stock, works) and not in a
  disused one; ``geo.sites.series_score`` weighs it, ``max_activity`` drops plants in use.

Reading, tiling, sites and ranking are the two-date detector's (``geo.evidence``).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import rasterio
from rasterio.windows import Window
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from geo.detect import (
    GDAL_CACHE_MB,
    Scene,
    bbox_window,
    check_inputs,
    close_datasets,
    grid_of,
    raster_grid,
    read_window,
    require_clear,
    tiles,
)
from geo.evidence import TileEvidence, TileResult, halo, tile_regions, widen
from geo.params import DEFAULT_PARAMS, SERIES_PARAMS, DetectionParams
from geo.raster import index, registration_tolerant
from geo.sites import TIME_SERIES, Candidate, Region, merge_regions

YEAR = dt.timedelta(days=365)
MIN_SPAN = dt.timedelta(days=300)  # two growing seasons at least: one to know the start, one the end
ACTIVITY_WINDOW = 61  # pixels: the neighbourhood a date's brightness is compared with


def check_series(scenes: Sequence[Scene], params: DetectionParams = DEFAULT_PARAMS) -> None:
    """Refuse a series that cannot give time-series evidence, naming what is wrong."""
    if len(scenes) < 2:
        raise ValueError(f"A time series needs several dates; got {len(scenes)}. Give several dates a year over "
                         "two years or more (or two dates for a low-confidence comparison).")
    undated = [i + 1 for i, s in enumerate(scenes) if s.date is None]
    if undated:
        raise ValueError(f"Scene(s) {', '.join(map(str, undated))} have no date: give --dates, or names that "
                         "contain the date (YYYYMMDD or YYYY-MM-DD).")
    for i in range(1, len(scenes)):
        if scenes[i].date <= scenes[i - 1].date:  # type: ignore[operator]
            raise ValueError(f"Dates out of order: scene {i + 1} ({scenes[i].date}) is not later than scene {i} "
                             f"({scenes[i - 1].date}). Give the scenes oldest first, one per date.")
    first, last = scenes[0].date, scenes[-1].date
    if len(scenes) > 2 and last - first < MIN_SPAN:  # type: ignore[operator]
        raise ValueError(f"The series spans {(last - first).days} days ({first} to {last}): it must cover two "  # type: ignore[operator]
                         "growing seasons or more, several dates a year.")
    if len(scenes) > 2:
        first_season, last_season = periods([s.date for s in scenes], params)  # type: ignore[misc]
        if not first_season.any() or not last_season.any():
            months = "-".join(str(m) for m in params.season_months)
            raise ValueError(f"The series needs dates in the growing season (months {months}) of its first and of "
                             "its last twelve months: winter dates alone (snow, bare fields) cannot tell a yard "
                             "from a field.")
    for scene in scenes[1:]:
        check_inputs(scenes[0], scene)


def in_season(dates: Sequence[dt.date], params: DetectionParams = DEFAULT_PARAMS) -> np.ndarray:
    low_month, high_month = params.season_months
    return np.array([low_month <= d.month <= high_month for d in dates])


def periods(dates: Sequence[dt.date], params: DetectionParams = DEFAULT_PARAMS) -> tuple[np.ndarray, np.ndarray]:
    """(first, last): boolean selections of the growing-season dates of the first and
    of the last twelve months (halved when the series is shorter than two years, so they
    never overlap). Winter dates are left out: on the real Slovenian series, grassland
    and fields read NDVI 0.0-0.1 in December and January (snow, low sun), which would
    look like a field falling back to soil."""
    span = dates[-1] - dates[0]
    window = min(YEAR, span / 2)
    season = in_season(dates, params)
    first = np.array([d - dates[0] <= window for d in dates]) & season
    last = np.array([dates[-1] - d <= window for d in dates]) & ~first & season
    return first, last


def rules(ndvi: np.ndarray, dates: Sequence[dt.date], params: DetectionParams,
          signature: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The phenology and persistence rules on an NDVI series (dates first, NaN where
    cloudy): (pixels that pass, the measures). ``signature``: where the first year looked
    built or bare (NDBI, BSI), when the bands are there to say."""
    first, last = periods(dates, params)
    season = in_season(dates, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pixels cloudy all year
        start, peak = np.nanmedian(ndvi[first], axis=0), np.nanmax(ndvi[first], axis=0)
        end = np.nanmedian(ndvi[last], axis=0)
        sealed = (start < params.sealed_ndvi_max) & (peak < params.peak_ndvi_max)
        if signature is not None:
            sealed &= signature
        low = _low_after_peak(ndvi[last])
        persistence = _persistence(ndvi[season], start + params.gain_min, start + params.gain_min / 2)
        gain = end - start
        mask = sealed & (gain > params.gain_min) & (end < params.field_ndvi_max) & (low > params.reset_ndvi_max) \
            & (persistence >= params.min_persistence)
    values = {"ndvi_before": start, "ndvi_after": end, "gain": gain, "peak_before": peak, "low_after": low,
              "persistence": persistence}
    finite = np.all([np.isfinite(v) for v in values.values()], axis=0)
    return mask & finite, values | {"sealed": sealed & finite}


def series_signal(bands_of: Callable[[int], dict[str, np.ndarray]], dates: Sequence[dt.date],
                  params: DetectionParams, masked: bool = False
                  ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray]]:
    """(evidence, measures per pixel, sealed or bare through the first year, context
    measures) from the bands of each date (``bands_of(i)``, NaN where cloudy). Dates are
    read one at a time and only the growing season's: what is kept of each is its NDVI
    (and the first year's NDBI and BSI, the last year's brightness), not its bands."""
    first, last = periods(dates, params)
    ndvi: np.ndarray | None = None
    built, bare, recent = [], [], []
    for i in np.flatnonzero(in_season(dates, params)):
        bands = bands_of(int(i))
        if ndvi is None:
            ndvi = np.full((len(dates), *bands["B04"].shape), np.nan, np.float32)
        ndvi[i] = registration_tolerant(_clear(index("NDVI", bands), bands, params, masked), params.registration_px)
        if first[i]:
            built.append(_clear(index("NDBI", bands), bands, params, masked))
            bare.append(_clear(index("BSI", bands), bands, params, masked))
        if last[i]:
            recent.append(_clear(_brightness(bands), bands, params, masked))
    if ndvi is None:
        raise ValueError("The series has no date in the growing season: nothing to read.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # pixels cloudy all year
        signature = (np.nanmedian(np.stack(built), axis=0) > params.sealed_ndbi_min) | (
            np.nanmedian(np.stack(bare), axis=0) > 0)
        mask, values = rules(ndvi, dates, params, signature)
        activity = _activity(recent, ndvi[last], params)
    sealed = values.pop("sealed")
    return mask, values, sealed, {"activity": activity}


def _clear(values: np.ndarray, bands: dict[str, np.ndarray], params: DetectionParams, masked: bool) -> np.ndarray:
    """Without a cloud mask, bright blue is cloud (as for two dates)."""
    if not masked:
        values = np.where(bands["B02"] > params.cloud_blue_min, np.nan, values).astype(np.float32)
    return values


def _brightness(bands: dict[str, np.ndarray]) -> np.ndarray:
    return ((bands["B02"] + bands["B04"] + bands["B08"] + bands["B11"]) / 4).astype(np.float32)


def _low_after_peak(stack: np.ndarray) -> np.ndarray:
    """Per pixel, the lowest clear value after the highest one (the highest itself when
    it is the last): a harvest or a ploughing falls back to soil after the peak, a yard
    greening further does not, however low its first dates were."""
    finite = np.isfinite(stack)
    peak = np.argmax(np.where(finite, stack, -np.inf), axis=0)
    after = (np.arange(len(stack))[:, None, None] >= peak[None]) & finite
    low = np.min(np.where(after, stack, np.inf), axis=0)
    return np.where(finite.any(axis=0), low, np.nan).astype(np.float32)


def _persistence(ndvi: np.ndarray, greened: np.ndarray, green: np.ndarray) -> np.ndarray:
    """Share of the clear dates from the first one above ``greened`` on that stay above
    ``green`` (0 where the pixel never greened)."""
    above = ndvi > greened[None]
    onset = np.argmax(above, axis=0)
    since = (np.arange(len(ndvi))[:, None, None] >= onset[None]) & np.isfinite(ndvi)
    stayed = (since & (ndvi > green)).sum(axis=0)
    total = since.sum(axis=0)
    return np.where(above.any(axis=0) & (total > 0), stayed / np.maximum(total, 1), 0.0).astype(np.float32)


def _activity(brightness: list[np.ndarray], ndvi: np.ndarray, params: DetectionParams) -> np.ndarray:
    """Per pixel that stayed sealed through the last year: the mean absolute deviation
    of its brightness over that year's dates from their median, each date's brightness
    divided by its neighbourhood's (about 600 m) so that haze over part of a scene does
    not read as activity. NaN where the pixel greened (vegetation changes with the
    season, not use). The scene's median (``activity_floor``) is taken off later."""
    relative = []
    for b in brightness:
        filled = np.where(np.isfinite(b), b, 0).astype(np.float32)
        weight = ndimage.uniform_filter(np.isfinite(b).astype(np.float32), ACTIVITY_WINDOW)
        local = ndimage.uniform_filter(filled, ACTIVITY_WINDOW) / np.maximum(weight, 1e-6)
        relative.append(b / np.maximum(local, 1e-3))
    stack = np.stack(relative)
    spread = np.nanmean(np.abs(stack - np.nanmedian(stack, axis=0)[None]), axis=0)
    stayed_sealed = np.nanmax(ndvi, axis=0) < params.sealed_ndvi_max
    return np.where(stayed_sealed, spread, np.nan).astype(np.float32)


ACTIVITY_BINS = np.linspace(0.0, 0.5, 501)  # 0.001 wide: the floor to a tenth of max_activity's grid


def activity_floor(histograms: Sequence[np.ndarray | None]) -> float:
    """The median activity of every sealed pixel of the scene, from the tiles'
    histograms: the noise of this sensor and series (most sealed surfaces are roads and
    roofs that do not change), taken off every site's activity. Added up over tiles, so
    it does not depend on the tiling."""
    counts = sum((h for h in histograms if h is not None), np.zeros(len(ACTIVITY_BINS) - 1))
    if not counts.sum():
        return 0.0
    middle = int(np.searchsorted(np.cumsum(counts), counts.sum() / 2))
    return float((ACTIVITY_BINS[middle] + ACTIVITY_BINS[middle + 1]) / 2)


def series_tile(scenes: Sequence[Scene], window: Window, transform: Any, params: DetectionParams,
                zoning: list[BaseGeometry] | None = None, objects: list[BaseGeometry] | None = None) -> TileResult:
    """Regions of one tile from every date of the series (a pure function: a Dask task),
    with the histogram of its sealed pixels' activity. The halo is wide enough for the
    activity's neighbourhood too, so a pixel's value does not depend on the tiling."""
    grid = raster_grid(scenes[0].grid_path)
    _, _, width, height = grid
    wide = widen(window, halo(params, abs(transform.a)) + ACTIVITY_WINDOW // 2, width, height)
    masked = all(scene.cloud_mask for scene in scenes)
    mask, values, built, context = series_signal(lambda i: read_window(scenes[i], wide, grid),
                                                 [s.date for s in scenes], params, masked)  # type: ignore[misc]
    result = tile_regions(TileEvidence(mask, values, built, window, wide, transform, context), params, zoning, objects)
    rows = slice(window.row_off - wide.row_off, window.row_off - wide.row_off + window.height)
    cols = slice(window.col_off - wide.col_off, window.col_off - wide.col_off + window.width)
    core = context["activity"][rows, cols]
    result.activity = np.histogram(core[np.isfinite(core)], ACTIVITY_BINS)[0]
    return result


def detect_series(scenes: Sequence[Scene], params: DetectionParams = SERIES_PARAMS,
                  zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
                  progress: Any = None, objects: list[BaseGeometry] | None = None,
                  bbox: tuple[float, float, float, float] | None = None) -> list[Candidate]:
    """Candidates from a dated series (oldest first), single process, tile by tile;
    every candidate says ``confidence: time series``. Arguments as ``geo.detect.detect``."""
    check_series(scenes, params)
    width, height, transform, pixel_area, _ = grid_of(scenes[0])
    regions: list[Region] = []
    clear, histograms = 0, []
    try:
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 1024 * 1024):
            for window in tiles(width, height, params.tile_size, bbox_window(scenes[0], bbox)):
                result = series_tile(scenes, window, transform, params, zoning, objects)
                regions += result.regions
                clear += result.clear_pixels
                histograms.append(result.activity)
                if progress is not None:
                    progress()
    finally:
        close_datasets()
    require_clear(clear)
    return merge_regions(regions, pixel_area, params, exclusions, tuple(s.date for s in scenes),
                         zoning is not None, objects, evidence_from=TIME_SERIES,
                         activity_floor=activity_floor(histograms))
