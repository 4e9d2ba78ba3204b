"""From one tile's evidence mask to its regions: the part every detector shares.

The two-date detector (``geo.detect``) and the time-series detector (``geo.series``)
decide differently which pixels are evidence; from there on the work is the same:
open away one-pixel strips, then either score the objects of a layer (segmenting inside
those too large to be one site) or segment sites, and report what the tile's core saw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio import features
from rasterio.transform import Affine, array_bounds
from rasterio.windows import Window
from rasterio.windows import transform as window_transform
from shapely.geometry.base import BaseGeometry

from geo import morphology
from geo.params import DetectionParams
from geo.sites import Context, Region, object_ids, object_regions, objects_near, regions_of, segment

# Pixels read around each tile so that opening and sieve see across tile borders: a
# component reaching the core from beyond the halo has at least HALO + 1 pixels there.
HALO = 3


def halo(params: DetectionParams, pixel_size: float) -> int:
    """Pixels read around a tile: the registration tolerance's neighbourhood, opening and
    sieve need HALO, the segmentation's closing twice its radius more and its growth as
    many as it takes steps, so that every tile sees what a single pass would."""
    return params.registration_px + HALO + 2 * radius(params, pixel_size) + round(params.grow_m / pixel_size)


def radius(params: DetectionParams, pixel_size: float) -> int:
    return round(params.merge_distance_m / 2 / pixel_size)


def widen(window: Window, margin: int, width: int, height: int) -> Window:
    """``window`` with ``margin`` pixels around it, inside the raster."""
    col0, row0 = max(0, window.col_off - margin), max(0, window.row_off - margin)
    col1 = min(width, window.col_off + window.width + margin)
    row1 = min(height, window.row_off + window.height + margin)
    return Window(col0, row0, col1 - col0, row1 - row0)


@dataclass
class TileResult:
    """What one tile gives back: its regions, and how many of its pixels were clear
    (a scene with none is an input error, not "no brownfields")."""

    regions: list[Region]
    clear_pixels: int
    activity: np.ndarray | None = None  # time series: histogram of the sealed pixels' activity


@dataclass
class TileEvidence:
    """One tile read with its halo (``wide``): the evidence, the measures, what was
    built or bare at the start (where sites grow), and optionally a context: measures
    summed over the built pixels that are not evidence (are they still in use?)."""

    mask: np.ndarray
    values: dict[str, np.ndarray]
    built: np.ndarray
    window: Window
    wide: Window
    transform: Affine  # of the whole raster
    context: dict[str, np.ndarray] | None = None


def zoning_mask(zoning: list[BaseGeometry] | None, transform: Affine, shape_: tuple[int, int]) -> np.ndarray | None:
    if zoning is None:
        return None
    if not zoning:
        return np.zeros(shape_, dtype=bool)
    return features.geometry_mask(zoning, out_shape=shape_, transform=transform, invert=True)


def tile_regions(tile: TileEvidence, params: DetectionParams, zoning: list[BaseGeometry] | None = None,
                 objects: list[BaseGeometry] | None = None) -> TileResult:
    """Regions of the tile's core: per object of ``objects`` when given (segmented
    inside the objects too large to be one site), else per segmented site."""
    window, wide = tile.window, tile.wide
    wide_transform = window_transform(wide, tile.transform)
    mask = tile.mask
    zones = zoning_mask(zoning, wide_transform, mask.shape)
    if zones is not None:
        mask = mask & zones
    if params.opening and mask.any():
        mask = morphology.opening(mask)
    # an opening by a 3 x 3 square leaves no component under 9 pixels: a sieve below that
    # would only cost time (a third of a tile's processing)
    if params.sieve_pixels > (9 if params.opening else 1) and mask.any():
        mask = features.sieve(mask.astype(np.uint8), size=min(params.sieve_pixels, HALO + 1),
                              connectivity=8).astype(bool)
    core = (slice(window.row_off - wide.row_off, window.row_off - wide.row_off + window.height),
            slice(window.col_off - wide.col_off, window.col_off - wide.col_off + window.width))
    values = {k: v[core] for k, v in tile.values.items()}
    core_transform = window_transform(window, tile.transform)
    valid = np.all([np.isfinite(v) for v in values.values()], axis=0)
    context = _context(tile, mask, core)
    pixel = abs(tile.transform.a)
    joined, grow = radius(params, pixel), round(params.grow_m / pixel)
    core_zones = zones[core] if zones is not None else None
    if objects is None:
        sites = segment(mask, joined, tile.built, grow)
        return TileResult(regions_of(mask[core], values, core_zones, core_transform, sites[core], context),
                          int(valid.sum()))
    small, large = objects_near(objects, params, array_bounds(*mask.shape, wide_transform))
    ids = object_ids([objects[i] for i in small], mask.shape, wide_transform)
    regions = object_regions(mask[core], valid, values, ids[core], context)
    for region in regions:
        region.object_id = small[region.object_id]  # back to the index in ``objects``
    if large:  # sites inside a district: segmented within it, clipped to it, around its parcels
        inside = (object_ids([objects[i] for i in large], mask.shape, wide_transform) > 0) & (ids == 0)
        within = mask & inside
        sites = segment(within, joined, tile.built & inside, grow) & inside
        regions += regions_of(within[core], values, core_zones, core_transform, sites[core], context)
    return TileResult(regions, int(valid.sum()))


def _context(tile: TileEvidence, mask: np.ndarray, core: tuple[slice, slice]) -> Context | None:
    if tile.context is None:
        return None
    where = (tile.built & ~mask)[core]
    values = {k: v[core] for k, v in tile.context.items()}
    for v in values.values():
        where &= np.isfinite(v)
    return Context(where, values)
