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


@dataclass
class SeriesScene:
    """A SYNTHETIC time series: one band stack and one SCL per date, oldest first."""

    stacks: list[Path]
    scls: list[Path]
    dates: list[dt.date]
    land_use: list[BaseGeometry]
    truth: list[BaseGeometry]
    distractors: dict[str, list[BaseGeometry]] = field(default_factory=dict)

    def pair(self) -> BenchmarkScene:
        """Two dates of the series for the two-date detector: the first and the last
        summer acquisitions (June to August), as one would choose them."""
        summer = [i for i, d in enumerate(self.dates) if 6 <= d.month <= 8]
        a, b = (summer[0], summer[-1]) if len(summer) >= 2 else (0, len(self.dates) - 1)
        return BenchmarkScene(self.stacks[a], self.stacks[b], self.scls[a], self.scls[b], self.land_use, self.truth,
                              self.distractors, [], (self.dates[a], self.dates[b]))


def season(day: dt.date) -> float:
    """0 in mid-January, 1 in mid-July: how far the growing season has come."""
    return float(0.5 - 0.5 * np.cos(2 * np.pi * (day.timetuple().tm_yday - 15) / 365.25))


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


def series_dates(first_year: int = 2019, years: int = 3) -> list[dt.date]:
    """Five acquisitions a year (March, May, June, August, October), mid-month."""
    return [dt.date(y, m, 15) for y in range(first_year, first_year + years) for m in (3, 5, 6, 8, 10)]


def _cycle(day: dt.date, sow: int) -> float:
    """Crop cover 0-1 of a field sown on day ``sow``: full after two months, harvested
    after three and a half (stubble, then soil)."""
    age = day.timetuple().tm_yday - sow
    return 0.0 if age < 0 or age > 105 else min(1.0, age / 60)


def generate_series(folder: Path, size: int = 1000, disused: int = 8, active: int = 8, seed: int = 0,
                    years: int = 3) -> SeriesScene:
    """The same kinds of places as ``generate``, followed over ``years`` years, five dates a
    year: disused plants overgrow from a date of the first year over 6-24 months; active
    plants keep their yards in use (a quarter of the yard looks different on each date:
    vehicles, containers, stock) and may lay out a lawn; fields are sown and harvested
    every year, some only from the second year on (fallow first); one or two clouds and
    their shadows a date, flagged in the SCL."""
    rng = np.random.default_rng(50_000 + seed)
    days = series_dates(years=years)
    n = len(days)
    canvas = _Canvas(size, rng)
    frames = np.zeros((n, len(BANDS), size, size), dtype=np.float32)
    grow = [season(d) for d in days]

    def mixed(where: np.ndarray, a: str, b: str, share: np.ndarray | float) -> np.ndarray:
        share = np.broadcast_to(np.asarray(share, np.float32), (int(where.sum()),))
        return (1 - share)[None] * _spectrum(a)[:, None] + share[None] * _spectrum(b)[:, None]

    distractors: dict[str, list[BaseGeometry]] = {k: [] for k in DISTRACTORS}
    step = int(rng.integers(30, 50))
    for r in range(0, size, step):
        for c in range(0, size, step):
            cell = np.zeros((size, size), bool)
            cell[r:r + step, c:c + step] = True
            kind = rng.choice(["wood", "grass", "field", "fallow_field"], p=[0.35, 0.25, 0.3, 0.1])
            sow = int(rng.integers(75, 120))
            for t, day in enumerate(days):
                if kind == "wood":
                    frames[t][:, cell] = mixed(cell, "grass", "vegetation", 0.6 + 0.4 * grow[t])
                elif kind == "grass":
                    frames[t][:, cell] = mixed(cell, "soil", "grass", 0.5 + 0.5 * grow[t])
                else:
                    cropped = kind == "field" or day.year > days[0].year
                    frames[t][:, cell] = mixed(cell, "soil", "vegetation", _cycle(day, sow) if cropped else 0.0)
            if kind == "fallow_field":
                x0, y0 = canvas.transform * (c, min(r + step, size))
                x1, y1 = canvas.transform * (min(c + step, size), r)
                distractors["field"].append(box(x0, y0, x1, y1))
    truth, land_use, placed = [], [], []

    def footprint(radius: float) -> tuple[BaseGeometry, np.ndarray] | None:
        for _ in range(200):
            p = Point(rng.uniform(radius, size * PIXEL - radius) + ORIGIN[0],
                      rng.uniform(radius, size * PIXEL - radius) + ORIGIN[1])
            if all(p.distance(q) > radius + 60 for q in placed):
                shape_ = _footprint(rng, p)
                placed.append(shape_)
                return shape_, canvas.mask(shape_)
        return None

    for role in ["disused"] * disused + ["active"] * active:
        found = footprint(260)
        if found is None:
            continue
        plant, inside = found
        roofs = _blob(rng, size, rng.uniform(0.4, 0.6), inside)
        yard = inside & ~roofs
        roof = "bright_roof" if rng.random() < 0.4 else "roof"
        frames[:, :, roofs] = _spectrum(roof)[None, :, None]
        frames[:, :, yard] = _spectrum("sealed")[None, :, None]
        land_use.append(plant)
        if role == "disused":
            overgrown = _blob(rng, size, min(0.95, rng.uniform(0.2, 0.4) * inside.sum() / max(1, yard.sum())), yard)
            top = rng.uniform(0.35, 0.95, int(overgrown.sum())).astype(np.float32)
            onset, ramp = rng.uniform(0.1, 1.0), rng.uniform(0.5, 2.0)
            for t, day in enumerate(days):
                progress = min(1.0, max(0.0, ((day - days[0]).days / 365.25 - onset) / ramp))
                frames[t][:, overgrown] = mixed(overgrown, "sealed", "vegetation", top * progress * (0.6 + 0.4 * grow[t]))
            truth.append(plant)
        else:
            lawn = _blob(rng, size, rng.uniform(0.0, 0.1), yard)
            laid = rng.uniform(0.5, 2.0)
            for t, day in enumerate(days):
                busy = yard & ~lawn & (rng.random((size, size)) < 0.25)
                frames[t][:, busy] = _spectrum(str(rng.choice(["roof", "bright_roof", "soil"])))[:, None]
                if (day - days[0]).days / 365.25 >= laid:
                    frames[t][:, lawn] = mixed(lawn, "grass", "vegetation", 0.6 + 0.3 * grow[t])
            distractors["active_plant"].append(plant)
    for kind, count in (("construction", 4), ("quarry", 3), ("park", 4)):
        for _ in range(count):
            found = footprint(200)
            if found is None:
                continue
            shape_, where = found
            change = rng.uniform(0.3, 2.5)
            edge = where & ~ndimage.binary_erosion(where, iterations=2)
            for t, day in enumerate(days):
                year = (day - days[0]).days / 365.25
                if kind == "construction":
                    frames[t][:, where] = _spectrum("soil" if year >= change else "vegetation")[:, None]
                elif kind == "quarry":
                    frames[t][:, where] = _spectrum("soil")[:, None]
                    frames[t][:, edge] = mixed(edge, "soil", "grass", min(0.4, 0.15 * year))
                else:
                    frames[t][:, where] = mixed(where, "grass", "vegetation", 0.3 + 0.6 * grow[t])
            distractors[kind].append(shape_)
    return _write_frames(folder, canvas, frames, days, rng, distractors, land_use, truth)


def _write_frames(folder: Path, canvas: _Canvas, frames: np.ndarray, days: list[dt.date], rng: np.random.Generator,
                  distractors: dict[str, list[BaseGeometry]], land_use: list[BaseGeometry],
                  truth: list[BaseGeometry]) -> SeriesScene:
    """Clouds and shadows on each date (flagged), noise, then one stack and SCL per date."""
    folder.mkdir(parents=True, exist_ok=True)
    stacks, scls, size = [], [], canvas.size
    for t, day in enumerate(days):
        image = frames[t]
        ndvi = (image[3] - image[2]) / (image[3] + image[2])
        scl = np.where(ndvi > 0.3, SCL["vegetation"], SCL["bare"]).astype(np.uint8)
        for _ in range(int(rng.integers(0, 3))):
            centre = Point(rng.uniform(0, size * PIXEL) + ORIGIN[0], rng.uniform(0, size * PIXEL) + ORIGIN[1])
            cloud = affinity.scale(centre.buffer(rng.uniform(150, 400)), rng.uniform(0.6, 1.6), 1.0)
            shade = canvas.mask(affinity.translate(cloud, 250, -150))
            image[:, shade] *= 0.35
            scl[shade] = SCL["shadow"]
            cover = canvas.mask(cloud)
            image[:, cover] = _spectrum("cloud")[:, None]
            scl[cover] = SCL["cloud"]
            distractors["cloud"].append(cloud)
        noisy = image + rng.normal(0, 0.006, image.shape).astype(np.float32)
        stacks.append(_write(folder / f"S2_{day:%Y%m%d}.tif",
                             np.clip(noisy * 10_000, 1, 65_534).astype(np.uint16), canvas.transform, 65535))
        scls.append(_write(folder / f"S2_{day:%Y%m%d}_SCL.tif", scl[None], canvas.transform, None))
    return SeriesScene(stacks, scls, days, land_use, truth, distractors)
