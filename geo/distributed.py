"""Detection across many machines (or cores): one Dask task per tile.

``detect_tile`` (two dates) and ``series_tile`` (a time series) are pure functions of
file paths, a window and parameters, so they ship to any worker that can read the
rasters (shared storage or object store URLs that GDAL reads). The regions come back to
the client, which dissolves them exactly as the single-process path does: both give the
same candidates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.detect import Scene, bbox_window, check_inputs, detect_tile, grid_of, require_clear, tiles
from geo.evidence import TileResult
from geo.params import DEFAULT_PARAMS, SERIES_PARAMS, DetectionParams
from geo.sites import TIME_SERIES, Candidate, Region, merge_regions


def detect_with_dask(before: Scene, after: Scene, params: DetectionParams = DEFAULT_PARAMS,
                     zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
                     scheduler: str | None = None, client: Any = None, progress: Any = None,
                     objects: list[BaseGeometry] | None = None,
                     bbox: tuple[float, float, float, float] | None = None) -> list[Candidate]:
    """Two dates, tiles on a Dask cluster: ``scheduler`` is an address (tcp://host:8786),
    or None for a local cluster of this machine's cores; an existing ``client`` may be given."""
    check_inputs(before, after)
    width, height, transform, pixel_area, _ = grid_of(before)
    windows = list(tiles(width, height, params.tile_size, bbox_window(before, bbox)))
    regions = _map_tiles(detect_tile, [(before, after, w, transform, params, zoning, objects) for w in windows],
                         scheduler, client, progress)
    return merge_regions(regions, pixel_area, params, exclusions, (before.date, after.date), zoning is not None,
                         objects)


def detect_series_with_dask(scenes: Sequence[Scene], params: DetectionParams = SERIES_PARAMS,
                            zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
                            scheduler: str | None = None, client: Any = None, progress: Any = None,
                            objects: list[BaseGeometry] | None = None,
                            bbox: tuple[float, float, float, float] | None = None) -> list[Candidate]:
    """A time series, tiles on a Dask cluster (arguments as ``detect_with_dask``)."""
    from geo.series import activity_floor, check_series, series_tile

    check_series(scenes, params)
    width, height, transform, pixel_area, _ = grid_of(scenes[0])
    windows = list(tiles(width, height, params.tile_size, bbox_window(scenes[0], bbox)))
    histograms: list = []
    regions = _map_tiles(series_tile, [(list(scenes), w, transform, params, zoning, objects) for w in windows],
                         scheduler, client, progress, histograms)
    return merge_regions(regions, pixel_area, params, exclusions, tuple(s.date for s in scenes), zoning is not None,
                         objects, evidence_from=TIME_SERIES, activity_floor=activity_floor(histograms))


def _map_tiles(task: Callable[..., TileResult], calls: list[tuple], scheduler: str | None, client: Any,
               progress: Any, histograms: list | None = None) -> list[Region]:
    """Run ``task`` once per argument tuple on the cluster; the regions, once every pixel
    is known not to be all cloud (and each tile's activity histogram into ``histograms``)."""
    from dask.distributed import Client, LocalCluster, as_completed

    owned = None
    if client is None:
        owned = Client(scheduler) if scheduler else Client(LocalCluster(processes=False, dashboard_address=None))
        client = owned
    try:
        futures = client.map(task, *zip(*calls, strict=True), pure=True)
        regions: list[Region] = []
        clear = 0
        for future in as_completed(futures):
            result = future.result()
            regions += result.regions
            clear += result.clear_pixels
            if histograms is not None:
                histograms.append(result.activity)
            if progress is not None:
                progress()
    finally:
        if owned is not None:
            cluster = owned.cluster
            owned.close()
            if cluster is not None:
                cluster.close()
    require_clear(clear)
    return regions
