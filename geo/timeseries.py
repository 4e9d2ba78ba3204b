"""Trends in an NDVI time series: vegetation slowly taking over a formerly sealed yard
is the commonest trace of disuse (SARSAR, Petit et al. 2022, monitor exactly this).

Per pixel: one growing-season composite a year (a high percentile of the clear
observations from May to September), then the Theil-Sen slope through the composites
(the median of the pairwise slopes) with the spread of those slopes as its uncertainty.

Why not a least-squares line (even with annual harmonics) through every date: on the real
Slovenian series (68 dates, July 2015 to December 2017) it reads -0.037/year in stable
forest, because the series ends in a winter, clouds that slip through the mask pull
single dates down, and a single harmonic does not follow a flat summer and a deep winter.
A growing-season composite compares like with like, a high percentile ignores the low
outliers clouds and shadows leave, and the Theil-Sen median ignores an odd year: the
same forest reads a median |slope| of 0.009/year (tests/test_detection.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import rasterio
from rasterio.windows import transform as window_transform
from shapely.geometry.base import BaseGeometry

from geo.detect import tiles
from geo.evidence import zoning_mask
from geo.params import DEFAULT_PARAMS, DetectionParams
from geo.sites import TIME_SERIES, Candidate, Region, merge_regions, regions_of


@dataclass(frozen=True)
class TrendParams:
    """How a greening trend is measured and when it counts, with the reason for each value."""

    season_months: tuple[int, int] = (5, 9)  # May-September: the growing season in Lombardy
    percentile: float = 75.0  # of the season's clear observations: above cloud-shadow lows
    min_years: int = 2  # composites needed for a slope (3+ to have a spread)
    # 3x the median |slope| of stable forest on the real Slovenian series (0.009/year):
    # a yard greening at 0.05/year passes, noise in stable cover does not
    slope_min: float = 0.03
    start_max: float = 0.35  # first season: sealed or bare (NDVI of artificial surfaces)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


DEFAULT_TREND = TrendParams()


def years_since(dates: Sequence[dt.datetime | dt.date]) -> np.ndarray:
    first = dates[0]
    return np.array([(d - first).days / 365.25 for d in dates], dtype=np.float64)


def seasonal_composites(series: np.ndarray, dates: Sequence[dt.date | dt.datetime],
                        params: TrendParams = DEFAULT_TREND) -> tuple[np.ndarray, np.ndarray]:
    """(composites, their times in years since the first date): one growing-season
    composite per calendar year that has clear observations in its season."""
    years = years_since(dates)
    first, last = params.season_months
    in_season = np.array([first <= d.month <= last for d in dates])
    calendar = np.array([d.year for d in dates])
    composites, times = [], []
    for year in sorted(set(calendar[in_season].tolist())):
        chosen = in_season & (calendar == year)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a pixel cloudy all season
            composites.append(np.nanpercentile(series[chosen], params.percentile, axis=0))
        times.append(years[chosen].mean())
    shape = (0, *series.shape[1:])
    return (np.array(composites, dtype=np.float32) if composites else np.empty(shape, np.float32),
            np.array(times, dtype=np.float64))


def theil_sen(values: np.ndarray, times: np.ndarray, min_points: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(slope, spread) per pixel of a (time, rows, cols) stack: the median and half the
    range of the pairwise slopes between points that are both finite."""
    pairs = [(i, j) for i in range(len(times)) for j in range(i + 1, len(times))]
    if not pairs:
        nan = np.full(values.shape[1:], np.nan, dtype=np.float32)
        return nan, nan.copy()
    slopes = np.stack([(values[j] - values[i]) / (times[j] - times[i]) for i, j in pairs])
    enough = np.isfinite(values).sum(axis=0) >= min_points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        slope = np.nanmedian(slopes, axis=0)
        spread = (np.nanmax(slopes, axis=0) - np.nanmin(slopes, axis=0)) / 2
    return np.where(enough, slope, np.nan).astype(np.float32), np.where(enough, spread, np.nan).astype(np.float32)


def trend(series: np.ndarray, dates: Sequence[dt.date | dt.datetime],
          params: TrendParams = DEFAULT_TREND) -> tuple[np.ndarray, np.ndarray]:
    """(slope per year, its uncertainty) of each pixel's growing-season NDVI."""
    composites, times = seasonal_composites(series, dates, params)
    return theil_sen(composites, times, params.min_years)


def greening(series: np.ndarray, dates: Sequence[dt.date | dt.datetime],
             params: TrendParams = DEFAULT_TREND) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Pixels sealed or bare in their first growing season that green up steadily."""
    composites, times = seasonal_composites(series, dates, params)
    slope, spread = theil_sen(composites, times, params.min_years)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        finite = np.isfinite(composites)
        first_index = np.argmax(finite, axis=0)
        last_index = len(times) - 1 - np.argmax(finite[::-1], axis=0)
        start = np.take_along_axis(composites, first_index[None], axis=0)[0] if len(times) else slope
        end = np.take_along_axis(composites, last_index[None], axis=0)[0] if len(times) else slope
        mask = (start < params.start_max) & (slope > params.slope_min)
    values = {"ndvi_before": start, "ndvi_after": end, "gain": end - start, "slope_per_year": slope,
              "slope_uncertainty": spread}
    return mask & np.isfinite(slope), values


def detect_trend(path: str, dates: Sequence[dt.date | dt.datetime], params: DetectionParams = DEFAULT_PARAMS,
                 zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
                 trend_params: TrendParams = DEFAULT_TREND) -> list[Candidate]:
    """Candidates from a single-band-per-date NDVI series (bands in ``dates`` order)."""
    with rasterio.open(path) as src:
        if src.count != len(dates):
            raise ValueError(f"{path} has {src.count} bands but {len(dates)} dates were given.")
        width, height, transform = src.width, src.height, src.transform
        pixel_area = abs(transform.a * transform.e)
        regions: list[Region] = []
        for window in tiles(width, height, params.tile_size):
            series = src.read(window=window).astype(np.float32)
            if src.nodata is not None and not np.isnan(src.nodata):
                series[series == src.nodata] = np.nan
            mask, values = greening(series, dates, trend_params)
            tile_transform = window_transform(window, transform)
            zones = zoning_mask(zoning, tile_transform, mask.shape)
            if zones is not None:
                mask &= zones
            regions += regions_of(mask, values, zones, tile_transform)
    # a surface greening year after year is no crop sown between two dates: no crop rule
    steady = dataclasses.replace(params, crop_share=1.0)
    candidates = merge_regions(regions, pixel_area, steady, exclusions, (dates[0], dates[-1]), zoning is not None,
                               evidence_from=TIME_SERIES)
    for candidate in candidates:
        candidate.evidence["signal"] = "growing-season NDVI rising steadily over a surface that started bare or sealed"
        candidate.evidence["trend"] = trend_params.to_dict()
    return candidates
