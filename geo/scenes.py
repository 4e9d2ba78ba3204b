"""SYNTHETIC two-date scenes for the site-level detection benchmark: nothing here is a
real place, and every figure measured on them says so.

Harder than the uniform rectangles the detector was first tested on, after what real
disused sites look like:

* plants have irregular footprints (two to four overlapping rotated blocks) with roofs
  (some bright: blue reflectance above 0.25, which a "bright blue is cloud" rule takes for
  cloud) and sealed yards;
* a disused plant changes only in part: 20-40% of its pixels, yard patches overgrown to an
  NDVI anywhere from 0.3 to 0.8, roofs never;
* active plants change too: a few yard patches (up to 10%) turn green;
* construction sites (vegetation cleared), quarries (bare, edges slightly revegetated),
  parks (vegetation at both dates), fields (stable, plus some ploughed at the first date
  and sown at the second), clouds with their shadows on either date, flagged in a
  Sentinel-2 Scene Classification Layer (SCL) per date.

The land-use layer is the plants' footprints (as a land-use map or cadastral parcels would
give them); construction sites and quarries are land-use classes of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features
from rasterio.transform import Affine, from_origin
from scipy import ndimage
from shapely import affinity
from shapely.geometry import Point, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
SPECTRA = {  # surface reflectance in BANDS order
    "vegetation": (0.03, 0.06, 0.04, 0.36, 0.18, 0.09),
    "grass": (0.04, 0.07, 0.06, 0.28, 0.20, 0.11),
    "soil": (0.08, 0.11, 0.14, 0.20, 0.28, 0.22),
    "sealed": (0.11, 0.12, 0.13, 0.16, 0.23, 0.21),
    "roof": (0.09, 0.10, 0.11, 0.13, 0.18, 0.16),
    "bright_roof": (0.28, 0.30, 0.32, 0.36, 0.40, 0.36),
    "cloud": (0.45, 0.46, 0.47, 0.50, 0.40, 0.35),
}
PIXEL = 10.0
ORIGIN = (600_000.0, 5_000_000.0)  # UTM 32N, synthetic
SCL = {"shadow": 3, "vegetation": 4, "bare": 5, "cloud": 9}
DISTRACTORS = ("active_plant", "construction", "quarry", "park", "field", "cloud")


@dataclass
class BenchmarkScene:
    before: Path
    after: Path
    before_scl: Path
    after_scl: Path
    land_use: list[BaseGeometry]  # plant footprints (disused and active)
    truth: list[BaseGeometry]  # disused plants
    distractors: dict[str, list[BaseGeometry]] = field(default_factory=dict)
    changed_share: list[float] = field(default_factory=list)  # per disused plant
    dates: tuple[dt.date, dt.date] = (dt.date(2019, 7, 10), dt.date(2023, 7, 12))


def _spectrum(name: str) -> np.ndarray:
    return np.array(SPECTRA[name], dtype=np.float32)


def _footprint(rng: np.random.Generator, centre: Point) -> BaseGeometry:
    """Two to four overlapping blocks, rotated together: an irregular plant, 0.6-4 ha."""
    blocks = []
    for _ in range(rng.integers(2, 5)):
        w, h = rng.uniform(60, 190, 2)
        dx, dy = rng.uniform(-60, 60, 2)
        blocks.append(box(centre.x + dx - w / 2, centre.y + dy - h / 2, centre.x + dx + w / 2, centre.y + dy + h / 2))
    return affinity.rotate(unary_union(blocks), rng.uniform(0, 90), origin=centre)


def _blob(rng: np.random.Generator, size: int, share: float, inside: np.ndarray) -> np.ndarray:
    """Patches covering ``share`` of the pixels of ``inside``: smoothed noise, thresholded."""
    noise = ndimage.gaussian_filter(rng.normal(size=(size, size)), sigma=rng.uniform(1.5, 3.0))
    values = noise[inside]
    if not len(values):
        return np.zeros_like(inside)
    return inside & (noise >= np.quantile(values, 1 - share))


class _Canvas:
    def __init__(self, size: int, rng: np.random.Generator):
        self.size, self.rng = size, rng
        self.transform: Affine = from_origin(ORIGIN[0], ORIGIN[1] + size * PIXEL, PIXEL, PIXEL)
        self.before = np.zeros((len(BANDS), size, size), dtype=np.float32)
        self.after = np.zeros_like(self.before)

    def mask(self, geometry: BaseGeometry) -> np.ndarray:
        return features.geometry_mask([geometry], (self.size, self.size), self.transform, invert=True)

    def paint(self, where: np.ndarray, before: np.ndarray | None, after: np.ndarray | None) -> None:
        if before is not None:
            self.before[:, where] = before[:, None]
        if after is not None:
            self.after[:, where] = after[:, None]

    def mix(self, where: np.ndarray, a: str, b: str, low: float, high: float) -> np.ndarray:
        """Per pixel, a share of ``b`` in ``a`` drawn between low and high."""
        share = self.rng.uniform(low, high, int(where.sum())).astype(np.float32)
        return (1 - share)[None] * _spectrum(a)[:, None] + share[None] * _spectrum(b)[:, None]


def generate(folder: Path, size: int = 1000, disused: int = 8, active: int = 8, seed: int = 0) -> BenchmarkScene:
    """Write the two dates (L2A digital numbers) and their SCL rasters; return the truth."""
    rng = np.random.default_rng(seed)
    canvas = _Canvas(size, rng)
    extent = size * PIXEL
    # fields in blocks of 300-500 m: green or bare at both dates, some sown in between
    distractors: dict[str, list[BaseGeometry]] = {k: [] for k in DISTRACTORS}
    step = int(rng.integers(30, 50))
    for r in range(0, size, step):
        for c in range(0, size, step):
            cell = (slice(None), slice(r, r + step), slice(c, c + step))
            kind = rng.choice(["vegetation", "grass", "soil", "sown"], p=[0.45, 0.25, 0.2, 0.1])
            if kind == "sown":
                canvas.before[cell] = _spectrum("soil")[:, None, None]
                share = rng.uniform(0.3, 0.6, canvas.before[cell].shape[1:]).astype(np.float32)
                canvas.after[cell] = (1 - share) * _spectrum("soil")[:, None, None] \
                    + share * _spectrum("vegetation")[:, None, None]
                x0, y0 = canvas.transform * (c, min(r + step, size))
                x1, y1 = canvas.transform * (min(c + step, size), r)
                distractors["field"].append(box(x0, y0, x1, y1))
            else:
                canvas.before[cell] = canvas.after[cell] = _spectrum(kind)[:, None, None]
    placed: list[BaseGeometry] = []

    def place(radius: float) -> Point | None:
        for _ in range(200):
            p = Point(rng.uniform(radius, extent - radius) + ORIGIN[0], rng.uniform(radius, extent - radius) + ORIGIN[1])
            if all(p.distance(q) > radius + 60 for q in placed):
                return p
        return None

    def footprint(radius: float) -> tuple[BaseGeometry, np.ndarray] | None:
        """A new irregular footprint clear of the others, and its pixels."""
        centre = place(radius)
        if centre is None:
            return None
        shape_ = _footprint(rng, centre)
        placed.append(shape_)
        return shape_, canvas.mask(shape_)

    truth, land_use, changed = [], [], []
    for role in ["disused"] * disused + ["active"] * active:
        found = footprint(260)
        if found is None:
            continue
        plant, inside = found
        roofs = _blob(rng, size, rng.uniform(0.4, 0.6), inside)
        yard = inside & ~roofs
        roof = "bright_roof" if rng.random() < 0.4 else "roof"
        canvas.paint(roofs, _spectrum(roof), _spectrum(roof))
        canvas.paint(yard, _spectrum("sealed"), _spectrum("sealed"))
        land_use.append(plant)
        if role == "disused":
            share = rng.uniform(0.2, 0.4)
            overgrown = _blob(rng, size, min(0.95, share * inside.sum() / max(1, yard.sum())), yard)
            canvas.after[:, overgrown] = canvas.mix(overgrown, "sealed", "vegetation", 0.35, 0.95)
            truth.append(plant)
            changed.append(float(overgrown.sum() / inside.sum()))
        else:
            lawn = _blob(rng, size, rng.uniform(0.0, 0.1), yard)
            canvas.after[:, lawn] = canvas.mix(lawn, "sealed", "vegetation", 0.4, 0.9)
            distractors["active_plant"].append(plant)
    for kind, count in (("construction", 4), ("quarry", 3), ("park", 4)):
        for _ in range(count):
            found = footprint(200)
            if found is None:
                continue
            shape_, where = found
            if kind == "construction":
                canvas.paint(where, _spectrum("vegetation"), _spectrum("soil"))
            elif kind == "quarry":
                canvas.paint(where, _spectrum("soil"), _spectrum("soil"))
                edge = where & ~ndimage.binary_erosion(where, iterations=2)
                canvas.after[:, edge] = canvas.mix(edge, "soil", "grass", 0.0, 0.4)
            else:
                canvas.paint(where, None, None)
                canvas.before[:, where] = canvas.mix(where, "grass", "vegetation", 0.3, 1.0)
                canvas.after[:, where] = canvas.mix(where, "grass", "vegetation", 0.3, 1.0)
            distractors[kind].append(shape_)
    scl = {}
    for name, image in (("before", canvas.before), ("after", canvas.after)):
        ndvi = (image[3] - image[2]) / (image[3] + image[2])
        scl[name] = np.where(ndvi > 0.3, SCL["vegetation"], SCL["bare"]).astype(np.uint8)
    for _ in range(int(rng.integers(2, 5))):  # clouds and their shadows, on either date
        date = "before" if rng.random() < 0.5 else "after"
        centre = Point(rng.uniform(0, extent) + ORIGIN[0], rng.uniform(0, extent) + ORIGIN[1])
        cloud = affinity.scale(centre.buffer(rng.uniform(150, 400)), rng.uniform(0.6, 1.6), 1.0)
        shadow = affinity.translate(cloud, 250, -150)
        image = canvas.before if date == "before" else canvas.after
        shade = canvas.mask(shadow)
        image[:, shade] *= 0.35
        scl[date][shade] = SCL["shadow"]
        cover = canvas.mask(cloud)
        image[:, cover] = _spectrum("cloud")[:, None]
        scl[date][cover] = SCL["cloud"]
        distractors["cloud"] += [cloud, shadow]
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, image in (("before", canvas.before), ("after", canvas.after)):
        noisy = image + rng.normal(0, 0.006, image.shape).astype(np.float32)
        paths[name] = _write(folder / f"{name}.tif", np.clip(noisy * 10_000, 1, 65_534).astype(np.uint16),
                             canvas.transform, 65535)
        paths[f"{name}_scl"] = _write(folder / f"{name}_scl.tif", scl[name][None], canvas.transform, None)
    return BenchmarkScene(paths["before"], paths["after"], paths["before_scl"], paths["after_scl"], land_use,
                          truth, distractors, changed)


def _write(path: Path, data: np.ndarray, transform: Affine, nodata: int | None) -> Path:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=data.dtype, crs="EPSG:32632", transform=transform, nodata=nodata, tiled=True,
                       blockxsize=256, blockysize=256, compress="deflate", interleave="band") as dst:
        # band-interleaved, as Sentinel-2 products come (one file or block per band)
        dst.write(data)
    return path
