"""A second family of SYNTHETIC two-date scenes, written apart from geo/scenes.py and
adversarial by design: every distractor sits near one of the detector's cuts. Nothing
here is a real place.

Pixels are made from target index values, not from fixed spectra: for each class and
date a target NDVI and NDBI (with per-pixel noise) are turned into six bands, so a
distractor can be put exactly where a threshold is. Distractors (after the issue 26
report on scenes someone else wrote):

* sown fields crossing both cuts: bare at date 1 (NDVI 0.24-0.29, under the 0.3 sealed
  cut, with a bare signature) and green at date 2 (NDVI 0.70-0.84, under the 0.85 cap),
  in sowing strips, 3-20 ha;
* active plants with a new park: sealed and stable but for one contiguous lawn of 5-15%
  of the plant;
* greenhouses (bright and stable), solar farms (meadow turned dark), construction sites
  (vegetation removed), quarries (bare, edges greening a little);
* haze on date 2 over a third of the scene, a thin cloud on date 1 that the SCL does not
  flag, a real cloud and its shadow that it does;
* a one-pixel misregistration of date 2 and another sensor's reflectance scale
  (Landsat Collection 2: DN x 0.0000275 - 0.2, declared in the file);
* an object layer of zone-sized industrial districts (2-6 km²), not parcels.

Disused plants (the truth): mostly sealed (roofs and yards) at date 1, with 15-45% of the
yard overgrown in patches by date 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import rasterio
from rasterio import features
from rasterio.transform import from_origin
from scipy import ndimage
from shapely import affinity
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from geo.scenes import BenchmarkScene

BANDS = ("B02", "B03", "B04", "B08", "B11", "B12")
PIXEL = 10.0
ORIGIN = (520_000.0, 5_060_000.0)  # UTM 32N, synthetic
SCALE, OFFSET = 0.0000275, -0.2  # reflectance = DN * SCALE + OFFSET (Landsat Collection 2)
DATES = (dt.date(2020, 6, 18), dt.date(2024, 6, 21))
KINDS = ("sown_field", "active_with_park", "greenhouse", "solar_farm", "construction", "quarry",
         "thin_cloud", "cloud")


def bands_from(ndvi: np.ndarray, ndbi: np.ndarray, nir: np.ndarray) -> np.ndarray:
    """Six bands (B02, B03, B04, B08, B11, B12) whose NDVI and NDBI are the targets."""
    red = nir * (1 - ndvi) / (1 + ndvi)
    swir1 = nir * (1 + ndbi) / (1 - ndbi)
    blue, green, swir2 = 0.75 * red + 0.01, 0.5 * (red + nir) * 0.45 + 0.02, 0.8 * swir1
    return np.stack([blue, green, red, nir, swir1, swir2]).astype(np.float32)


class _Layers:
    """Per-pixel targets of both dates, painted polygon by polygon."""

    def __init__(self, size: int, rng: np.random.Generator) -> None:
        self.size, self.rng = size, rng
        self.transform = from_origin(*ORIGIN, PIXEL, PIXEL)
        shape = (size, size)
        self.ndvi = [np.full(shape, 0.62, np.float32), np.full(shape, 0.64, np.float32)]  # meadow
        self.ndbi = [np.full(shape, -0.25, np.float32), np.full(shape, -0.26, np.float32)]
        self.nir = [np.full(shape, 0.30, np.float32), np.full(shape, 0.31, np.float32)]

    def mask(self, geometry: BaseGeometry) -> np.ndarray:
        return features.geometry_mask([geometry], (self.size, self.size), self.transform, invert=True)

    def paint(self, where: np.ndarray, date: int, ndvi: tuple[float, float], ndbi: tuple[float, float],
              nir: tuple[float, float]) -> None:
        n = int(where.sum())
        for target, (low, high) in ((self.ndvi, ndvi), (self.ndbi, ndbi), (self.nir, nir)):
            target[date][where] = self.rng.uniform(low, high, n)

    def both(self, where: np.ndarray, ndvi: tuple[float, float], ndbi: tuple[float, float],
             nir: tuple[float, float]) -> None:
        for date in (0, 1):
            self.paint(where, date, ndvi, ndbi, nir)

    def built(self, plant: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
        """A plant painted as it stands at both dates: roofs and a sealed yard; (its
        pixels, its yard)."""
        inside = self.mask(plant)
        roofs = self.patches(inside, float(self.rng.uniform(0.3, 0.5)), 9)
        self.both(roofs, *ROOF)
        self.both(inside & ~roofs, *SEALED)
        return inside, inside & ~roofs

    def patches(self, inside: np.ndarray, share: float, blob_px: int) -> np.ndarray:
        """Random blobs covering about ``share`` of ``inside``."""
        noise = self.rng.random((self.size, self.size)).astype(np.float32)
        smooth = ndimage.uniform_filter(noise, size=blob_px)
        values = smooth[inside]
        if not values.size:
            return inside
        cut = np.quantile(values, 1 - share)
        return inside & (smooth >= cut)


SEALED, ROOF = ((0.08, 0.2), (0.02, 0.14), (0.18, 0.24)), ((0.04, 0.12), (0.08, 0.18), (0.14, 0.2))
OVERGROWN = ((0.45, 0.75), (-0.35, -0.15), (0.26, 0.34))


def _plant(rng: np.random.Generator, centre: tuple[float, float], size_m: float) -> BaseGeometry:
    blocks = []
    for _ in range(int(rng.integers(1, 4))):
        w, h = rng.uniform(0.5, 1.0) * size_m, rng.uniform(0.4, 0.9) * size_m
        dx, dy = rng.uniform(-0.3, 0.3, 2) * size_m
        blocks.append(box(centre[0] + dx - w / 2, centre[1] + dy - h / 2, centre[0] + dx + w / 2,
                          centre[1] + dy + h / 2))
    return affinity.rotate(unary_union(blocks), float(rng.uniform(0, 90)), origin="centroid").buffer(0)


def generate(folder: Path, size: int = 1000, disused: int = 6, active: int = 6, fields: int = 14,
             seed: int = 0) -> BenchmarkScene:
    """Write the two dates (DN in the Landsat scale, declared) and their SCLs; the truth."""
    rng = np.random.default_rng(10_000 + seed)
    layers = _Layers(size, rng)
    extent = size * PIXEL
    placed: list[BaseGeometry] = []
    distractors: dict[str, list[BaseGeometry]] = {k: [] for k in KINDS}

    def free(radius: float) -> tuple[float, float] | None:
        for _ in range(200):
            x = ORIGIN[0] + rng.uniform(radius, extent - radius)
            y = ORIGIN[1] - rng.uniform(radius, extent - radius)
            probe = box(x - radius, y - radius, x + radius, y + radius)
            if not any(probe.intersects(p) for p in placed):
                return x, y
        return None

    def put(kind_size: tuple[float, float], shape=None) -> BaseGeometry | None:
        size_m = float(rng.uniform(*kind_size))
        at = free(size_m * 0.9)
        if at is None:
            return None
        geometry = (shape or _plant)(rng, at, size_m)
        placed.append(geometry.buffer(30))
        return geometry

    # background: urban fabric blocks, woods, stable crops
    for _kind, ndvi, ndbi, count in (("urban", (0.12, 0.25), (0.0, 0.12), 10), ("wood", (0.78, 0.88), (-0.45, -0.3), 8),
                                    ("crop", (0.55, 0.72), (-0.3, -0.2), 12)):
        for _ in range(count):
            c = (ORIGIN[0] + rng.uniform(0, extent), ORIGIN[1] - rng.uniform(0, extent))
            layers.both(layers.mask(affinity.rotate(box(c[0], c[1], c[0] + rng.uniform(200, 700),
                                                        c[1] + rng.uniform(200, 700)), float(rng.uniform(0, 90)))),
                        ndvi, ndbi, (0.22, 0.32))
    truth, changed, active_plants = [], [], []
    for _ in range(disused):
        plant = put((120, 320))
        if plant is None:
            continue
        inside, yard = layers.built(plant)
        share = float(rng.uniform(0.15, 0.45))
        grown = layers.patches(yard, share, int(rng.integers(3, 8)))
        layers.paint(grown, 1, *OVERGROWN)
        truth.append(plant)
        changed.append(share * yard.sum() / max(1, inside.sum()))
    for _ in range(active):
        plant = put((120, 320))
        if plant is None:
            continue
        _, yard = layers.built(plant)
        park = layers.patches(yard, float(rng.uniform(0.05, 0.15)), 25)  # one contiguous lawn
        layers.paint(park, 1, (0.6, 0.8), (-0.4, -0.25), (0.28, 0.34))
        distractors["active_with_park"].append(plant)
        active_plants.append(plant)
    for _ in range(fields):
        field = put((170, 450), lambda r, c, s: affinity.rotate(box(c[0] - s, c[1] - s * 0.6, c[0] + s, c[1] + s * 0.6),
                                                                float(r.uniform(0, 90))))
        if field is None:
            continue
        inside = layers.mask(field)
        layers.paint(inside, 0, (0.24, 0.29), (-0.04, 0.06), (0.2, 0.26))  # bare, just under the sealed cut
        strips = inside & ((np.indices(inside.shape)[1] // int(rng.integers(2, 5))) % 2 == 0)
        layers.paint(inside, 1, (0.70, 0.84), (-0.4, -0.25), (0.3, 0.4))  # green, just under the cap
        layers.paint(strips, 1, (0.55, 0.7), (-0.3, -0.15), (0.28, 0.36))
        distractors["sown_field"].append(field)
    for kind, ndvi0, ndvi1, ndbi0, ndbi1, count in (
            ("greenhouse", (0.02, 0.1), (0.02, 0.1), (0.05, 0.15), (0.05, 0.15), 3),
            ("solar_farm", (0.55, 0.7), (0.08, 0.18), (-0.3, -0.2), (0.0, 0.1), 2),
            ("construction", (0.6, 0.75), (0.1, 0.2), (-0.3, -0.2), (0.05, 0.15), 3),
            ("quarry", (0.05, 0.15), (0.1, 0.22), (0.1, 0.2), (0.05, 0.15), 2)):
        for _ in range(count):
            site = put((100, 300))
            if site is None:
                continue
            inside = layers.mask(site)
            layers.paint(inside, 0, ndvi0, ndbi0, (0.2, 0.3))
            layers.paint(inside, 1, ndvi1, ndbi1, (0.2, 0.3))
            distractors[kind].append(site)
    before = bands_from(layers.ndvi[0], layers.ndbi[0], layers.nir[0])
    after = bands_from(layers.ndvi[1], layers.ndbi[1], layers.nir[1])
    # haze on date 2 over a third of the scene: more in blue, less in the infrared
    haze = np.zeros((size, size), bool)
    haze[:, : size // 3] = True
    for i, extra in enumerate((0.04, 0.03, 0.025, 0.015, 0.008, 0.005)):
        after[i][haze] += extra
    # a thin cloud on date 1 the SCL does not flag, and a real cloud with its shadow on date 2
    scl = [np.full((size, size), 4, np.uint8), np.full((size, size), 4, np.uint8)]
    for date, kind, strength, flagged in ((0, "thin_cloud", 0.06, False), (1, "cloud", 0.4, True)):
        c = free(400)
        if c is None:
            continue
        cloud = box(c[0] - 350, c[1] - 250, c[0] + 350, c[1] + 250)
        inside = layers.mask(cloud)
        stack = before if date == 0 else after
        stack[:, inside] = stack[:, inside] * (1 - strength) + strength * 0.5
        if flagged:
            scl[date][inside] = 9
            shadow = layers.mask(affinity.translate(cloud, 600, -300))
            stack[:, shadow] *= 0.45
            scl[date][shadow] = 3
        distractors[kind].append(cloud)
    after = np.roll(after, 1, axis=2)  # one pixel east: misregistration
    scl[1] = np.roll(scl[1], 1, axis=1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: _write(folder / f"{name}.tif", data, layers.transform, declared=name in ("before", "after"))
             for name, data in (("before", before), ("after", after), ("before_scl", scl[0][None]),
                                ("after_scl", scl[1][None]))}
    zones = _zones(rng, truth + active_plants)
    return BenchmarkScene(paths["before"], paths["after"], paths["before_scl"], paths["after_scl"], zones, truth,
                          distractors, changed, DATES)


def _zones(rng: np.random.Generator, plants: list[BaseGeometry]) -> list[BaseGeometry]:
    """Industrial districts of 2-6 km², each around some plants, as a zoning plan draws them."""
    zones = []
    for plant in plants:
        if any(z.contains(plant) for z in zones):
            continue
        side = float(rng.uniform(1400, 2400))
        c = plant.centroid
        zones.append(box(c.x - side / 2 + rng.uniform(-200, 200), c.y - side / 2 + rng.uniform(-200, 200),
                         c.x + side / 2, c.y + side / 2))
    return zones


def _write(path: Path, data: np.ndarray, transform, declared: bool) -> Path:
    if declared:  # reflectance in another sensor's scale, said in the file
        values = np.clip(np.round((data - OFFSET) / SCALE), 1, 65535).astype(np.uint16)
    else:
        values = data
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
               "dtype": values.dtype, "crs": "EPSG:32632", "transform": transform, "compress": "deflate",
               "tiled": True, "blockxsize": 256, "blockysize": 256}
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values)
        if declared:
            dst.scales = [SCALE] * data.shape[0]
            dst.offsets = [OFFSET] * data.shape[0]
    return path
