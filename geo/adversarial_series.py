"""The adversarial family (``geo.adversarial``) as a SYNTHETIC time series: four dates a
year (March, May, July, September, a few days' jitter) over three years. Nothing here is
a real place.

Each class follows a trajectory rather than two states, with every distractor built to
look like disuse on some pair of dates:

* disused plants: sealed until a month of the first year; from then on,
  year, patches of 15-45% of the yard green up over 8 to 18 months to NDVI 0.45-0.75,
  a little lower in winter; roofs and the rest of the yard unchanged;
* active plants: a lawn of 5-15% laid out in one go in the second year and kept; the
  yard in use (on every date a third of it looks different: vehicles, stock, skips);
* sown fields: fallow and bare (NDVI 0.24-0.29) the whole first year, then sown each
  spring and harvested each summer (peak 0.70-0.84, back to soil), in strips; stable
  crops do the same from the first year;
* greenhouses, solar farms (meadow then panels), construction sites (vegetation
  cleared), quarries (edges greening a little); haze on two dates over a third of the
  scene, an unflagged thin cloud on one, a flagged cloud and its shadow on two; a third of the
  dates misregistered by one pixel; Landsat's reflectance scale declared; an object layer
  of 2-6 km² districts.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from rasterio import features
from rasterio.transform import from_origin
from scipy import ndimage
from shapely import affinity
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from geo.adversarial import KINDS, ORIGIN, PIXEL, _plant, _write, _zones, bands_from
from geo.scenes import SeriesScene, season


def dates(rng: np.random.Generator, first_year: int = 2020, years: int = 3) -> list[dt.date]:
    return [dt.date(y, m, 1) + dt.timedelta(days=int(rng.integers(0, 25)))
            for y in range(first_year, first_year + years) for m in (3, 5, 7, 9)]


def crop(day: dt.date, sow: int) -> float:
    """0-1 crop cover: sown on day ``sow`` of the year, full 70 days later, harvested
    at 120 days (back to soil)."""
    age = day.timetuple().tm_yday - sow
    return 0.0 if age < 0 or age > 120 else min(1.0, age / 70)


class _Targets:
    """Per-date NDVI, NDBI and NIR targets of every pixel, painted class by class."""

    def __init__(self, size: int, days: list[dt.date], rng: np.random.Generator) -> None:
        self.size, self.days, self.rng = size, days, rng
        self.transform = from_origin(*ORIGIN, PIXEL, PIXEL)
        grow = np.array([season(d) for d in days], np.float32)[:, None, None]
        shape = (len(days), size, size)
        self.ndvi = np.broadcast_to(0.45 + 0.25 * grow, shape).copy()  # meadow
        self.ndbi = np.broadcast_to(-0.15 - 0.12 * grow, shape).copy()
        self.nir = np.full(shape, 0.3, np.float32)

    def mask(self, geometry: BaseGeometry) -> np.ndarray:
        return features.geometry_mask([geometry], (self.size, self.size), self.transform, invert=True)

    def set(self, t: int, where: np.ndarray, ndvi: object, ndbi: object, nir: object) -> None:
        self.ndvi[t][where], self.ndbi[t][where], self.nir[t][where] = ndvi, ndbi, nir

    def stable(self, where: np.ndarray, ndvi: tuple[float, float], ndbi: tuple[float, float],
               nir: tuple[float, float] = (0.16, 0.24)) -> None:
        n = int(where.sum())
        base = [self.rng.uniform(*r, n).astype(np.float32) for r in (ndvi, ndbi, nir)]
        for t in range(len(self.days)):
            self.set(t, where, *(b + self.rng.normal(0, 0.01, n).astype(np.float32) for b in base))

    def patches(self, inside: np.ndarray, share: float, blob_px: int) -> np.ndarray:
        smooth = ndimage.uniform_filter(self.rng.random((self.size, self.size)).astype(np.float32), size=blob_px)
        values = smooth[inside]
        return inside & (smooth >= np.quantile(values, 1 - share)) if values.size else inside

    def cropped(self, where: np.ndarray, from_year: int, peak: tuple[float, float]) -> None:
        """Bare until ``from_year`` (index), then sown and harvested every year."""
        n, sow = int(where.sum()), int(self.rng.integers(80, 110))
        top = self.rng.uniform(*peak, n).astype(np.float32)
        bare = self.rng.uniform(0.24, 0.29, n).astype(np.float32)
        for t, day in enumerate(self.days):
            cover = crop(day, sow) if day.year - self.days[0].year >= from_year else 0.0
            self.set(t, where, bare + cover * (top - bare), 0.02 - cover * 0.35, 0.22 + cover * 0.12)


def _years(days: list[dt.date], day: dt.date) -> np.ndarray:
    return np.array([(d - day).days / 365.25 for d in days], np.float32)


def generate_series(folder: Path, size: int = 1000, disused: int = 6, active: int = 6, fields: int = 14,
                    seed: int = 0) -> SeriesScene:
    """Write one stack (Landsat scale, declared) and one SCL per date; return the truth."""
    rng = np.random.default_rng(20_000 + seed)
    days = dates(rng)
    layers = _Targets(size, days, rng)
    extent = size * PIXEL
    placed: list[BaseGeometry] = []
    distractors: dict[str, list[BaseGeometry]] = {k: [] for k in KINDS}

    def put(span: tuple[float, float], make=_plant) -> BaseGeometry | None:
        size_m = float(rng.uniform(*span))
        for _ in range(200):
            x, y = ORIGIN[0] + rng.uniform(size_m, extent - size_m), ORIGIN[1] - rng.uniform(size_m, extent - size_m)
            if not any(box(x - size_m, y - size_m, x + size_m, y + size_m).intersects(p) for p in placed):
                geometry = make(rng, (x, y), size_m)
                placed.append(geometry.buffer(30))
                return geometry
        return None

    for ndvi, ndbi, count in (((0.12, 0.25), (0.0, 0.12), 10), ((0.78, 0.86), (-0.45, -0.3), 8)):
        for _ in range(count):  # urban fabric, woods
            c = (ORIGIN[0] + rng.uniform(0, extent), ORIGIN[1] - rng.uniform(0, extent))
            layers.stable(layers.mask(affinity.rotate(box(c[0], c[1], c[0] + rng.uniform(200, 700), c[1]
                                                          + rng.uniform(200, 700)), float(rng.uniform(0, 90)))),
                          ndvi, ndbi)
    truth, plants = [], []
    for role in ["disused"] * disused + ["active"] * active:
        plant = put((120, 320))
        if plant is None:
            continue
        inside = layers.mask(plant)
        roofs = layers.patches(inside, float(rng.uniform(0.3, 0.5)), 9)
        layers.stable(roofs, (0.04, 0.12), (0.08, 0.18), (0.14, 0.2))
        yard = inside & ~roofs
        layers.stable(yard, (0.08, 0.2), (0.02, 0.14), (0.18, 0.24))
        plants.append(plant)
        if role == "disused":
            grown = layers.patches(yard, float(rng.uniform(0.15, 0.45)), int(rng.integers(3, 8)))
            n = int(grown.sum())
            onset = days[0] + dt.timedelta(days=int(rng.integers(30, 365)))
            ramp, top = rng.uniform(0.7, 1.5), rng.uniform(0.45, 0.75, n).astype(np.float32)
            start = layers.ndvi[0][grown].copy()
            for t, g in enumerate(np.clip(_years(days, onset) / ramp, 0, 1)):
                cover = g * (0.75 + 0.25 * season(days[t]))
                layers.set(t, grown, start + cover * (top - start), 0.08 - cover * 0.4, 0.21 + cover * 0.09)
            truth.append(plant)
        else:
            park = layers.patches(yard, float(rng.uniform(0.05, 0.15)), 25)
            laid = days[0] + dt.timedelta(days=int(rng.integers(400, 700)))
            lawn = rng.uniform(0.6, 0.8, int(park.sum())).astype(np.float32)
            busy = yard & ~park
            for t, day in enumerate(days):
                if day >= laid:
                    layers.set(t, park, lawn, -0.32, 0.31)
                used = busy & (rng.random(busy.shape) < 0.33)  # vehicles, stock, skips
                layers.ndbi[t][used] += rng.uniform(-0.12, 0.12, int(used.sum())).astype(np.float32)
                layers.nir[t][used] *= rng.uniform(0.6, 1.5, int(used.sum())).astype(np.float32)
            distractors["active_with_park"].append(plant)
    for _ in range(fields):
        field = put((170, 450), lambda r, c, s: affinity.rotate(box(c[0] - s, c[1] - s * 0.6, c[0] + s, c[1] + s * 0.6),
                                                                float(r.uniform(0, 90))))
        if field is None:
            continue
        inside = layers.mask(field)
        strips = inside & ((np.indices(inside.shape)[1] // int(rng.integers(2, 5))) % 2 == 0)
        layers.cropped(inside & ~strips, 1, (0.70, 0.84))  # fallow the first year, then sown
        layers.cropped(strips, 1, (0.55, 0.7))
        distractors["sown_field"].append(field)
    for _ in range(12):  # stable crops: sown and harvested every year
        field = put((150, 350), lambda r, c, s: box(c[0] - s, c[1] - s * 0.7, c[0] + s, c[1] + s * 0.7))
        if field is not None:
            layers.cropped(layers.mask(field), 0, (0.65, 0.85))
    _others(layers, put, distractors, days, rng)
    return _write_series(folder, layers, days, rng, put, distractors, truth, plants)


def _others(layers: _Targets, put, distractors: dict[str, list[BaseGeometry]], days: list[dt.date],
            rng: np.random.Generator) -> None:
    """Greenhouses, solar farms, construction sites and quarries, each changing once."""
    for kind, before, after, count in (("greenhouse", (0.02, 0.1, 0.1), (0.02, 0.1, 0.1), 3),
                                       ("solar_farm", (0.6, -0.25, 0.3), (0.12, 0.05, 0.2), 2),
                                       ("construction", (0.65, -0.25, 0.3), (0.15, 0.1, 0.22), 3),
                                       ("quarry", (0.1, 0.15, 0.22), (0.1, 0.15, 0.22), 2)):
        for _ in range(count):
            site = put((100, 300))
            if site is None:
                continue
            inside = layers.mask(site)
            change = days[0] + dt.timedelta(days=int(rng.integers(100, 900)))
            edge = inside & ~ndimage.binary_erosion(inside, iterations=2) if kind == "quarry" else None
            for t, day in enumerate(days):
                ndvi, ndbi, nir = after if day >= change else before
                layers.set(t, inside, ndvi + rng.normal(0, 0.02, int(inside.sum())), ndbi, nir)
                if edge is not None:  # a quarry's edges green a little, year after year
                    layers.ndvi[t][edge] += 0.1 * max(0.0, (day - days[0]).days / 365.25)
            distractors[kind].append(site)


def _write_series(folder: Path, layers: _Targets, days: list[dt.date], rng: np.random.Generator, put,
                  distractors: dict[str, list[BaseGeometry]], truth: list[BaseGeometry],
                  plants: list[BaseGeometry]) -> SeriesScene:
    size = layers.size
    hazy = set(rng.choice(len(days), 2, replace=False).tolist())
    thin = int(rng.integers(len(days)))
    clouded = set(rng.choice(len(days), 2, replace=False).tolist())
    x, y = ORIGIN[0] + rng.uniform(400, size * PIXEL - 900), ORIGIN[1] - rng.uniform(400, size * PIXEL - 700)
    cloud = box(x - 350, y - 250, x + 350, y + 250)  # over whatever lies there
    distractors["cloud"].append(cloud)
    folder.mkdir(parents=True, exist_ok=True)
    stacks, scls = [], []
    for t, day in enumerate(days):
        stack = bands_from(layers.ndvi[t], layers.ndbi[t], layers.nir[t])
        stack += np.random.default_rng(t).normal(0, 0.004, stack.shape).astype(np.float32)
        scl = np.full((size, size), 4, np.uint8)
        if t in hazy:
            for i, extra in enumerate((0.04, 0.03, 0.025, 0.015, 0.008, 0.005)):
                stack[i][:, : size // 3] += extra
        if t == thin:
            band = np.zeros((size, size), bool)
            band[size // 2: size // 2 + 300] = True
            stack[:, band] = stack[:, band] * 0.94 + 0.03
            distractors["thin_cloud"].append(box(ORIGIN[0], ORIGIN[1] - (size // 2 + 300) * PIXEL,
                                                 ORIGIN[0] + size * PIXEL, ORIGIN[1] - size // 2 * PIXEL))
        if t in clouded:
            inside, shadow = layers.mask(cloud), layers.mask(affinity.translate(cloud, 500, -300))
            stack[:, inside] = stack[:, inside] * 0.6 + 0.2
            stack[:, shadow] *= 0.45
            scl[inside], scl[shadow] = 9, 3
        # a third of the dates misregistered by one pixel, along either axis
        shift = (int(rng.integers(-1, 2)), int(rng.integers(-1, 2))) if t and rng.random() < 1 / 3 else (0, 0)
        stack, scl = np.roll(stack, shift, axis=(1, 2)), np.roll(scl, shift, axis=(0, 1))
        stacks.append(_write(folder / f"{day:%Y%m%d}.tif", stack, layers.transform, declared=True))
        scls.append(_write(folder / f"{day:%Y%m%d}_scl.tif", scl[None], layers.transform, declared=False))
    return SeriesScene(stacks, scls, days, _zones(rng, truth + plants), truth, distractors)
