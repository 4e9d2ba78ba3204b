"""Find candidate disused (brownfield) areas from two dates of multispectral imagery.

Spectral indices alone find almost nothing (anchors.md: 0 of 352 registered brownfields
for a bare-soil threshold; most "persistently bare" hits were active plants). What this
module looks for is a change with context:

* the surface was sealed or bare at the first date (low NDVI, high NDBI or BSI),
* vegetation grew on it by the second date (NDVI rose) without becoming a field,
* inside productive land (an industrial zoning layer), when one is given,
* not under a cloud at either date, not already known (exclusion polygons).

Construction sites (vegetation removed), active plants (stable sealed), quarries
(stable bare) and fields (vegetated or changing outside productive land) do not pass.
Processing is tile by tile with bounded memory: each tile is thresholded, sieved,
labelled and polygonised with per-region sums; regions cut by tile borders are dissolved
afterwards and their sums added, so results do not depend on the tile size.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window
from shapely.geometry.base import BaseGeometry

from geo.evidence import TileEvidence, TileResult, halo, tile_regions, widen
from geo.params import DEFAULT_PARAMS, DetectionParams
from geo.raster import COMMON, NEEDED, Reflectance, index, registration_tolerant
from geo.raster import SCL_CLOUDY as SCL_CLOUDY
from geo.raster import stack_bands as stack_bands
from geo.sites import Candidate, Region, merge_regions

# what the two-date detector measures per pixel (a trend run measures slopes instead)
STATS = ("ndvi_before", "ndvi_after", "ndbi_before", "ndbi_after", "bsi_before", "gain")



@dataclass(frozen=True)
class Scene:
    """One date, read as reflectance: a band stack (``path`` and its ``bands`` in order)
    or one file per band (``files``: band id -> path, GeoTIFF or JP2, any resolution or
    CRS: every band is warped onto the grid of ``grid_band``)."""

    path: str | None
    bands: tuple[str, ...] = ()
    date: dt.date | None = None
    reflectance: Reflectance = field(default_factory=Reflectance)
    cloud_mask: str | None = None  # raster with True/1 where cloudy, on the scene's grid
    # the mask is a Sentinel-2 L2A Scene Classification Layer: these classes are cloudy
    cloud_classes: tuple[int, ...] | None = None
    files: tuple[tuple[str, str], ...] = ()
    grid_band: str = "B04"

    @property
    def grid_path(self) -> str:
        return dict(self.files)[self.grid_band] if self.files else str(self.path)




Grid = tuple[Any, Affine, int, int]  # crs, transform, width, height


def raster_grid(path: str) -> Grid:
    src = _dataset(path)  # kept open: asking again costs nothing, and a replaced file is seen
    return src.crs, src.transform, src.width, src.height


def _band_window(src: Any, grid: Grid, window: Window, indexes: list[int]) -> np.ndarray:
    """Read from ``src``, warped (bilinear) onto ``grid`` when it lies on another one."""
    crs, transform, width, height = grid
    if (src.crs, src.transform, src.width, src.height) == grid:
        return src.read(indexes, window=window)
    aligned = _integer_factor(src, grid)
    if aligned:
        # a coarser band aligned on the grid (Sentinel-2's 20 m bands): repeat its pixels,
        # as a nearest-neighbour warp would, without warping
        factor, ox, oy = aligned
        col, row = window.col_off + ox, window.row_off + oy  # in fine pixels from the coarse origin
        c0, r0 = col // factor, row // factor
        c1, r1 = -(-(col + window.width) // factor), -(-(row + window.height) // factor)
        coarse = src.read(indexes, window=Window(c0, r0, c1 - c0, r1 - r0), boundless=True,
                          fill_value=src.nodata or 0)
        fine = coarse.repeat(factor, axis=1).repeat(factor, axis=2)
        dr, dc = row - r0 * factor, col - c0 * factor
        return fine[:, dr:dr + window.height, dc:dc + window.width]
    with WarpedVRT(src, crs=crs, transform=transform, width=width, height=height,
                   resampling=Resampling.bilinear, src_nodata=src.nodata) as vrt:
        return vrt.read(indexes, window=window)


def _integer_factor(src: Any, grid: Grid) -> tuple[int, int, int] | None:
    """(k, ox, oy) when ``src`` has the grid's CRS, k times its pixel size and an origin a
    whole number of grid pixels away (ox, oy: grid pixels from src's origin); else None."""
    crs, transform, _, _ = grid
    t = src.transform
    if src.crs != crs or t.b or t.d or transform.b or transform.d:
        return None
    k = t.a / transform.a
    if k < 2 or abs(k - round(k)) > 1e-9 or abs(t.e / transform.e - k) > 1e-9:
        return None
    ox, oy = (transform.c - t.c) / transform.a, (transform.f - t.f) / transform.e
    if min(ox, oy) < 0 or abs(ox - round(ox)) > 1e-6 or abs(oy - round(oy)) > 1e-6:
        return None
    return round(k), round(ox), round(oy)


_OPEN = threading.local()
GDAL_CACHE_MB = 64


def _dataset(path: str) -> Any:
    """An open dataset per file and thread, kept across tiles: a tile's halo reaches into
    its neighbours' blocks, and GDAL keeps decoded blocks only while the file is open
    (reopening per tile decoded about twice the pixels). Threads never share a handle."""
    handles = getattr(_OPEN, "handles", None)
    if handles is None:
        handles = _OPEN.handles = {}
    try:  # a file replaced at the same path (a long-lived Dask worker) is opened anew
        status = os.stat(path)
        key = (path, status.st_ino, status.st_mtime_ns)
    except OSError:
        key = (path, 0, 0)  # a URL GDAL reads
    if key not in handles:
        for stale in [k for k in handles if k[0] == path]:
            handles.pop(stale).close()
        if len(handles) >= 16:
            handles.pop(next(iter(handles))).close()
        handles[key] = rasterio.open(path)
    return handles[key]


def close_datasets() -> None:
    """Close this thread's kept datasets (at the end of a run: files may change after)."""
    for handle in getattr(_OPEN, "handles", {}).values():
        handle.close()
    _OPEN.handles = {}


def _cloudy(mask: np.ndarray, classes: tuple[int, ...] | None) -> np.ndarray:
    if not classes:
        return mask.astype(bool)
    if mask.dtype == np.uint8:  # an SCL: a lookup table instead of np.isin
        table = np.zeros(256, dtype=bool)
        table[list(classes)] = True
        return table[mask]
    return np.isin(mask, classes)


def read_window(scene: Scene, window: Window, grid: Grid | None = None) -> dict[str, np.ndarray]:

    wanted = tuple(COMMON[c] for c in NEEDED)
    grid = grid or raster_grid(scene.grid_path)
    if scene.files:
        bands = _read_files(scene, wanted, window, grid)
    else:
        src = _dataset(str(scene.path))
        indexes = [scene.bands.index(b) + 1 for b in wanted]
        data = _band_window(src, grid, window, indexes)
        bands = {b: scene.reflectance.apply(data[i], src.nodata) for i, b in enumerate(wanted)}
    if scene.cloud_mask:
        mask = _band_window(_dataset(scene.cloud_mask), grid, window, [1])[0]
        cloudy = _cloudy(mask, scene.cloud_classes)
        for array in bands.values():
            array[cloudy] = np.nan
    return bands


def _read_files(scene: Scene, wanted: tuple[str, ...], window: Window, grid: Grid) -> dict[str, np.ndarray]:
    """Per-band files, each warped onto ``grid`` when it lies on another one (20 m bands)."""
    files = dict(scene.files)
    out = {}
    for band in wanted:
        src = _dataset(files[band])
        out[band] = scene.reflectance.apply(_band_window(src, grid, window, [1])[0], src.nodata)
    return out


def tiles(width: int, height: int, size: int, within: Window | None = None) -> Iterator[Window]:
    """Tiles of ``size`` over the raster, or over the part ``within`` it."""
    c0, r0 = (int(within.col_off), int(within.row_off)) if within is not None else (0, 0)
    c1, r1 = (c0 + int(within.width), r0 + int(within.height)) if within is not None else (width, height)
    for row in range(r0, r1, size):
        for col in range(c0, c1, size):
            yield Window(col, row, min(size, c1 - col), min(size, r1 - row))


def bbox_window(scene: Scene, bbox: tuple[float, float, float, float] | None) -> Window | None:
    """The part of the first date's grid under ``bbox`` (lon/lat), whole pixels, outward;
    None for the whole raster. A bbox beside the raster is refused."""
    if bbox is None:
        return None
    from rasterio.warp import transform_bounds
    from rasterio.windows import from_bounds

    crs, transform, width, height = raster_grid(scene.grid_path)
    left, bottom, right, top = transform_bounds("EPSG:4326", crs, *bbox)
    window = from_bounds(left, bottom, right, top, transform)
    c0, r0 = max(0, math.floor(window.col_off)), max(0, math.floor(window.row_off))
    c1 = min(width, math.ceil(window.col_off + window.width))
    r1 = min(height, math.ceil(window.row_off + window.height))
    if c1 <= c0 or r1 <= r0:
        raise ValueError(f"The bbox {','.join(f'{v:g}' for v in bbox)} is outside the scenes.")
    return Window(c0, r0, c1 - c0, r1 - r0)


def signal(before: dict[str, np.ndarray], after: dict[str, np.ndarray], params: DetectionParams,
           masked: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Boolean mask of pixels that look like vegetation taking over a sealed surface, the
    per-pixel values the evidence is made of, and what was sealed or bare at the first
    date (where segmentation grows a site)."""
    values = {
        "ndvi_before": registration_tolerant(index("NDVI", before), params.registration_px),
        "ndvi_after": registration_tolerant(index("NDVI", after), params.registration_px),
        "ndbi_before": index("NDBI", before), "ndbi_after": index("NDBI", after),
        "bsi_before": index("BSI", before),
    }
    values["gain"] = values["ndvi_after"] - values["ndvi_before"]
    cloud = np.zeros(values["gain"].shape, dtype=bool) if masked else (
        (before["B02"] > params.cloud_blue_min) | (after["B02"] > params.cloud_blue_min))
    with np.errstate(invalid="ignore"):
        sealed = (values["ndvi_before"] < params.sealed_ndvi_max) & (
            (values["ndbi_before"] > params.sealed_ndbi_min) | (values["bsi_before"] > 0)
        )
        mask = sealed & (values["gain"] > params.gain_min) & (values["ndvi_after"] < params.field_ndvi_max) & ~cloud
    mask &= np.all([np.isfinite(v) for v in values.values()], axis=0)
    return mask, values, sealed


def detect_tile(before: Scene, after: Scene, window: Window, transform: Affine, params: DetectionParams,
                zoning: list[BaseGeometry] | None = None, objects: list[BaseGeometry] | None = None) -> TileResult:
    """Regions of one tile (a pure function of its inputs: the unit of work for Dask):
    per object of ``objects`` when given (segmented inside the objects too large to be
    one site), else per segmented site."""
    grid = raster_grid(before.grid_path)  # the first date's grid is the common grid
    _, _, width, height = grid
    wide = widen(window, halo(params, abs(transform.a)), width, height)
    b, a = read_window(before, wide, grid), read_window(after, wide, grid)
    mask, values, built = signal(b, a, params, masked=bool(before.cloud_mask and after.cloud_mask))
    return tile_regions(TileEvidence(mask, values, built, window, wide, transform), params, zoning, objects)


def check_inputs(before: Scene, after: Scene) -> None:
    """Refuse what cannot give an answer, before any tile is read: one date twice or dates
    in the wrong order, a raster without a CRS, rasters that do not overlap. (Rasters on
    different grids or CRSs that overlap are fine: the second is warped onto the first.)"""
    if before.date and after.date and after.date <= before.date:
        raise ValueError(f"The second date ({after.date}) must be later than the first ({before.date}); "
                         "a change needs two different dates, in order.")
    crs, transform, width, height = raster_grid(before.grid_path)
    other_crs, other_transform, other_width, other_height = raster_grid(after.grid_path)
    if crs is None or other_crs is None:
        raise ValueError("A raster has no coordinate reference system: georeference it (gdal_edit.py -a_srs).")
    from rasterio.coords import disjoint_bounds
    from rasterio.transform import array_bounds
    from rasterio.warp import transform_bounds

    other = transform_bounds(other_crs, crs, *array_bounds(other_height, other_width, other_transform))
    if disjoint_bounds(array_bounds(height, width, transform), other):
        raise ValueError("The two dates do not overlap: they cover different places (check the tiles and CRS).")


def grid_of(scene: Scene) -> tuple[int, int, Affine, float, Any]:
    """(width, height, transform, pixel area, crs) of the scene's grid."""
    crs, transform, width, height = raster_grid(scene.grid_path)
    return width, height, transform, abs(transform.a * transform.e), crs


def detect(before: Scene, after: Scene, params: DetectionParams = DEFAULT_PARAMS,
           zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
           progress: Any = None, objects: list[BaseGeometry] | None = None,
           bbox: tuple[float, float, float, float] | None = None) -> list[Candidate]:
    """Candidates over the whole scene (or the part under ``bbox``, lon/lat), single
    process, tile by tile.

    ``zoning`` (productive land), ``exclusions`` (known sites: flagged, ranked last) and
    ``objects`` (the sites to score: parcels, footprints, land-use polygons) are
    geometries in the first date's CRS. The second date is warped onto the first date's
    grid when it lies on another grid or CRS.
    """
    check_inputs(before, after)
    width, height, transform, pixel_area, _ = grid_of(before)
    regions: list[Region] = []
    clear = 0
    windows = list(tiles(width, height, params.tile_size, bbox_window(before, bbox)))
    try:
        # decoded blocks are reused by the next tile's halo only: a small cache bounds the
        # memory of a Lombardy-wide run (GDAL's default is 5% of RAM)
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_MB * 1024 * 1024):
            for window in windows:
                result = detect_tile(before, after, window, transform, params, zoning, objects)
                regions += result.regions
                clear += result.clear_pixels
                if progress is not None:
                    progress()
    finally:
        close_datasets()
    require_clear(clear)
    return merge_regions(regions, pixel_area, params, exclusions, (before.date, after.date),
                         zoning is not None, objects)


def require_clear(clear_pixels: int) -> None:
    if not clear_pixels:
        raise ValueError("No pixel is clear at both dates (cloud, shadow or no data everywhere): choose "
                         "other acquisitions.")
