"""A SYNTHETIC two-date Sentinel-2-like scene with known truth, for testing and
benchmarking brownfield detection. Nothing here is a real place.

The scene is a patchwork of fields (green, ploughed, or changing between the dates)
with industrial zones holding active plants (sealed at both dates), construction sites
(vegetation removed), quarries (bare at both dates) and the planted disused sites
(sealed, then partly overgrown). A cloud covers part of the second date. Reflectances
follow typical spectra of each surface with noise; bands are B02 B03 B04 B08 B11 B12 as
L2A digital numbers (reflectance x 10000).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
SPECTRA = {  # reflectance per band, in BANDS order
    "vegetation": (0.03, 0.06, 0.04, 0.36, 0.18, 0.09),
    "soil": (0.08, 0.11, 0.14, 0.20, 0.28, 0.22),
    "sealed": (0.11, 0.12, 0.13, 0.16, 0.23, 0.21),
    "cloud": (0.45, 0.46, 0.47, 0.50, 0.40, 0.35),
}
ORIGIN = (500_000.0, 5_050_000.0)  # UTM 32N, synthetic
PIXEL = 10.0


@dataclass
class SyntheticScene:
    before: Path
    after: Path
    zoning: list[BaseGeometry]
    truth: list[BaseGeometry]
    distractors: dict[str, list[BaseGeometry]]
    dates: tuple[dt.date, dt.date] = (dt.date(2019, 7, 1), dt.date(2023, 7, 1))


def _paint(image: np.ndarray, rows: slice, cols: slice, surface: str | np.ndarray) -> None:
    spectrum = np.array(SPECTRA[surface] if isinstance(surface, str) else surface, dtype=np.float32)
    image[:, rows, cols] = spectrum[:, None, None]


def _mix(a: str, b: str, share_b: float) -> np.ndarray:
    return (1 - share_b) * np.array(SPECTRA[a]) + share_b * np.array(SPECTRA[b])


def generate(folder: Path, size: int = 600, sites: int = 12, seed: int = 3) -> SyntheticScene:
    """Write before.tif and after.tif (``size`` x ``size`` px) and return the truth."""
    rng = np.random.default_rng(seed)
    before = np.zeros((len(BANDS), size, size), dtype=np.float32)
    after = np.zeros_like(before)
    # fields in 30 x 30 px blocks: green, ploughed, or changing between the dates; a
    # ploughed field with an emerging crop looks exactly like an overgrown yard, which is
    # why detection needs the productive-land layer
    for r in range(0, size, 30):
        for c in range(0, size, 30):
            kinds = rng.choice(["vegetation", "soil", "emerging"], size=2, p=[0.5, 0.3, 0.2])
            _paint(before, slice(r, r + 30), slice(c, c + 30),
                   "soil" if kinds[0] == "emerging" else kinds[0])
            _paint(after, slice(r, r + 30), slice(c, c + 30),
                   _mix("soil", "vegetation", 0.55) if kinds[1] == "emerging" else kinds[1])
    transform = from_origin(ORIGIN[0], ORIGIN[1], PIXEL, PIXEL)

    def geometry(r0: int, c0: int, h: int, w: int) -> BaseGeometry:
        x0, y0 = transform.c + c0 * transform.a, transform.f + r0 * transform.e
        return box(x0, y0 - h * PIXEL, x0 + w * PIXEL, y0)

    zoning, truth = [], []
    distractors: dict[str, list[BaseGeometry]] = {"active_plant": [], "construction": [], "quarry": [], "cloud": []}
    zone_size = 120
    zone_origins = [(r, c) for r in range(30, size - zone_size, zone_size + 60)
                    for c in range(30, size - zone_size, zone_size + 60)]
    planted = 0
    for zr, zc in zone_origins:
        zoning.append(geometry(zr, zc, zone_size, zone_size))
        _paint(before, slice(zr, zr + zone_size), slice(zc, zc + zone_size), "sealed")
        _paint(after, slice(zr, zr + zone_size), slice(zc, zc + zone_size), "sealed")
        # four plots per zone, 40-50 px apart: disused, active, construction, quarry
        plots = [(zr + 5, zc + 5), (zr + 5, zc + 65), (zr + 65, zc + 5), (zr + 65, zc + 65)]
        roles = ["disused", "active_plant", "construction", "quarry"]
        rng.shuffle(roles)
        for (pr, pc), role in zip(plots, roles, strict=True):
            h, w = rng.integers(22, 50, size=2)
            rows, cols = slice(pr, pr + h), slice(pc, pc + w)
            shape_ = geometry(pr, pc, h, w)
            if role == "disused" and planted < sites:
                _paint(before, rows, cols, "sealed")
                _paint(after, rows, cols, _mix("sealed", "vegetation", rng.uniform(0.45, 0.7)))
                truth.append(shape_)
                planted += 1
            elif role == "construction":
                _paint(before, rows, cols, "vegetation")
                _paint(after, rows, cols, "soil")
                distractors["construction"].append(shape_)
            elif role == "quarry":
                _paint(before, rows, cols, "soil")
                _paint(after, rows, cols, "soil")
                distractors["quarry"].append(shape_)
            else:
                distractors["active_plant"].append(shape_)
    # a cloud over part of the second date
    cr, cc = size // 2, size // 3
    _paint(after, slice(cr, cr + 60), slice(cc, cc + 90), "cloud")
    distractors["cloud"].append(geometry(cr, cc, 60, 90))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in (("before", before), ("after", after)):
        noisy = image + rng.normal(0, 0.008, image.shape).astype(np.float32)
        dn = np.clip(noisy * 10_000, 1, 65_534).astype(np.uint16)
        path = folder / f"{name}.tif"
        with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=len(BANDS),
                           dtype="uint16", crs="EPSG:32632", transform=transform, nodata=65535,
                           tiled=True, blockxsize=256, blockysize=256, compress="deflate") as dst:
            dst.write(dn)
            dst.descriptions = BANDS
        paths.append(path)
    return SyntheticScene(paths[0], paths[1], zoning, truth, distractors)
