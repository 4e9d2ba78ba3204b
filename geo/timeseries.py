"""Trends in an NDVI time series: vegetation slowly taking over a formerly sealed yard
is the commonest trace of disuse (SARSAR, Petit et al. 2022, monitor exactly this).

Per pixel, an ordinary least-squares slope of NDVI against time (per year) over the
valid (non-NaN: cloud-free) observations, vectorised over the whole window. Seasonal
swings average out over whole years; the series should span at least two.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Sequence

import numpy as np
import rasterio
from rasterio.windows import transform as window_transform
from shapely.geometry.base import BaseGeometry

from geo.detect import (
    DEFAULT_PARAMS,
    Candidate,
    DetectionParams,
    Region,
    _regions,
    merge_regions,
    tiles,
    zoning_mask,
)


def years_since(dates: Sequence[dt.datetime | dt.date]) -> np.ndarray:
    first = dates[0]
    return np.array([(d - first).days / 365.25 for d in dates], dtype=np.float64)


def trend(series: np.ndarray, years: np.ndarray, min_observations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """(slope per year, count of valid observations) for a (time, rows, cols) series.

    Each pixel gets its own least-squares fit of NDVI = a + b t + c sin 2πt + d cos 2πt
    over its valid observations: without the annual harmonic, seasons leak into the slope
    (a plain line through three seasons of a steady 0.1/year greening reads 0.066)."""
    time_steps, rows, cols = series.shape
    design = np.stack([np.ones_like(years), years, np.sin(2 * np.pi * years), np.cos(2 * np.pi * years)], axis=1)
    flat = series.reshape(time_steps, -1)
    weight = np.isfinite(flat).astype(np.float64)
    values = np.nan_to_num(flat.astype(np.float64))
    count = weight.sum(axis=0)
    xtx = np.einsum("tp,ti,tj->pij", weight, design, design)
    xty = np.einsum("tp,ti,tp->pi", weight, design, values)
    ok = count >= min_observations
    ok &= np.abs(np.linalg.det(xtx)) > 1e-9
    slope = np.full(flat.shape[1], np.nan, dtype=np.float32)
    if ok.any():
        slope[ok] = np.linalg.solve(xtx[ok], xty[ok][..., None])[:, 1, 0]
    return slope.reshape(rows, cols), count.reshape(rows, cols).astype(int)


def greening(series: np.ndarray, years: np.ndarray, start_max: float = 0.35, slope_min: float = 0.05,
             min_observations: int = 6) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Pixels low in NDVI during the first year that green up steadily afterwards."""
    slope, _ = trend(series, years, min_observations)
    first_year = years < min(1.0, years[-1] / 2)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels: median of nothing
        start = np.nanmedian(series[first_year], axis=0)
        end = np.nanmedian(series[years > years[-1] - 1.0], axis=0)
        mask = (start < start_max) & (slope > slope_min)
    values = {"ndvi_before": start, "ndvi_after": end, "gain": end - start, "slope_per_year": slope}
    return mask & np.isfinite(slope), values


def detect_trend(path: str, dates: Sequence[dt.date | dt.datetime], params: DetectionParams = DEFAULT_PARAMS,
                 zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
                 slope_min: float = 0.05) -> list[Candidate]:
    """Candidates from a single-band-per-date NDVI series (bands in ``dates`` order)."""
    years = years_since(dates)
    with rasterio.open(path) as src:
        if src.count != len(dates):
            raise ValueError(f"{path} has {src.count} bands but {len(dates)} dates were given")
        width, height, transform = src.width, src.height, src.transform
        pixel_area = abs(transform.a * transform.e)
        regions: list[Region] = []
        for window in tiles(width, height, params.tile_size):
            series = src.read(window=window).astype(np.float32)
            if src.nodata is not None and not np.isnan(src.nodata):
                series[series == src.nodata] = np.nan
            mask, values = greening(series, years, slope_min=slope_min)
            tile_transform = window_transform(window, transform)
            zones = zoning_mask(zoning, window, tile_transform, mask.shape)
            if zones is not None:
                mask &= zones
            regions += _regions(mask, values, zones, tile_transform)
    candidates = merge_regions(regions, pixel_area, params, exclusions, (dates[0], dates[-1]), zoning is not None)
    for candidate in candidates:
        candidate.evidence["signal"] = "NDVI rising steadily over a surface that started bare or sealed"
    return candidates



