"""Detection across many machines (or cores): one Dask task per tile.

``detect_tile`` is a pure function of file paths, a window and parameters, so it ships to
any worker that can read the rasters (shared storage or object store URLs that GDAL
reads). The regions come back to the client, which dissolves them exactly as the
single-process path does: both give the same candidates.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry.base import BaseGeometry

from geo.detect import Scene, bbox_window, check_inputs, detect_tile, grid_of, require_clear, tiles
from geo.params import DEFAULT_PARAMS, DetectionParams
from geo.sites import Candidate, merge_regions


def detect_with_dask(before: Scene, after: Scene, params: DetectionParams = DEFAULT_PARAMS,
                     zoning: list[BaseGeometry] | None = None, exclusions: list[BaseGeometry] | None = None,
                     scheduler: str | None = None, client: Any = None, progress: Any = None,
                     objects: list[BaseGeometry] | None = None,
                     bbox: tuple[float, float, float, float] | None = None) -> list[Candidate]:
    """Run the tiles on a Dask cluster: ``scheduler`` is an address (tcp://host:8786), or
    None for a local cluster of this machine's cores; an existing ``client`` may be given."""
    from dask.distributed import Client, LocalCluster, as_completed

    check_inputs(before, after)
    width, height, transform, pixel_area, _ = grid_of(before)
    owned = None
    if client is None:
        owned = Client(scheduler) if scheduler else Client(LocalCluster(processes=False, dashboard_address=None))
        client = owned
    try:
        windows = list(tiles(width, height, params.tile_size, bbox_window(before, bbox)))
        futures = client.map(detect_tile, [before] * len(windows), [after] * len(windows), windows,
                             [transform] * len(windows), [params] * len(windows), [zoning] * len(windows),
                             [objects] * len(windows), pure=True)
        regions, clear = [], 0
        for future in as_completed(futures):
            result = future.result()
            regions += result.regions
            clear += result.clear_pixels
            if progress is not None:
                progress()
    finally:
        if owned is not None:
            cluster = owned.cluster
            owned.close()
            if cluster is not None:
                cluster.close()
    require_clear(clear)
    return merge_regions(regions, pixel_area, params, exclusions, (before.date, after.date), zoning is not None,
                         objects)
