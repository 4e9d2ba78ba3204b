"""Multispectral imagery in, surface reflectance and spectral indices out.

Sentinel-2 comes as per-band files or stacks, in digital numbers: reflectance is
``(DN + offset) / scale`` (scale 10000; offset -1000 for L2A products of processing
baseline 04.00 and later, 0 before). Nodata pixels become NaN and stay NaN through every
index. Indices come from a formula table (the same formulas as spyndex's catalogue)
rather than ad-hoc expressions scattered around the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
from rasterio.windows import Window

# Band order of the stacks used here (sen2r BOA/TOA products: B09 and B10 are absent).
SEN2R_BANDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B11", "B12")
# Common names (spyndex convention) of the Sentinel-2 bands the indices use.
COMMON = {"B": "B02", "G": "B03", "R": "B04", "N": "B08", "S1": "B11", "S2": "B12"}

Bands = Mapping[str, np.ndarray]


def _ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    out[~np.isfinite(out)] = np.nan
    return out


@dataclass(frozen=True)
class Index:
    name: str
    bands: tuple[str, ...]  # common names
    formula: Callable[..., np.ndarray]
    description: str


INDICES: dict[str, Index] = {
    "NDVI": Index("NDVI", ("N", "R"), lambda N, R: _ratio(N - R, N + R),
                  "Normalized Difference Vegetation Index: vegetation vigour"),
    "NDBI": Index("NDBI", ("S1", "N"), lambda S1, N: _ratio(S1 - N, S1 + N),
                  "Normalized Difference Built-up Index: sealed and built surfaces"),
    "BSI": Index("BSI", ("S1", "R", "N", "B"), lambda S1, R, N, B: _ratio((S1 + R) - (N + B), (S1 + R) + (N + B)),
                 "Bare Soil Index: bare soil and exposed ground"),
}


def index(name: str, bands: Bands) -> np.ndarray:
    """Compute ``name`` from bands keyed by Sentinel-2 band id (B04...) or common name (R...)."""
    spec = INDICES[name]
    values = {}
    for common in spec.bands:
        key = common if common in bands else COMMON[common]
        if key not in bands:
            raise KeyError(f"{name} needs band {COMMON[common]} ({common})")
        values[common] = bands[key]
    return spec.formula(**values).astype(np.float32)


def registration_tolerant(values: np.ndarray, radius: int) -> np.ndarray:
    """``values`` as the mean of each pixel's (2 radius + 1)² neighbourhood, clear (finite)
    pixels only: a date misregistered by up to ``radius`` pixels then moves a pixel's
    value by a fraction of the contrast, not all of it, and cannot fake a change along
    every edge (on the adversarial scenes a one-pixel shift made most two-date false
    candidates)."""
    if radius < 1:
        return values
    from scipy import ndimage

    size = 2 * radius + 1
    clear = np.isfinite(values)
    total = ndimage.uniform_filter(np.where(clear, values, 0).astype(np.float32), size)
    weight = ndimage.uniform_filter(clear.astype(np.float32), size)
    return np.where(clear, total / np.maximum(weight, 1e-6), np.nan).astype(np.float32)


@dataclass(frozen=True)
class Reflectance:
    """How digital numbers become reflectance."""

    scale: float = 10_000.0
    offset: float = 0.0

    def apply(self, dn: np.ndarray, nodata: float | None) -> np.ndarray:
        if self.offset:
            out = dn.astype(np.float32)
            out += self.offset
            out *= np.float32(1 / self.scale)
        else:  # one pass: the same float32 values as converting, then scaling
            out = np.multiply(dn, np.float32(1 / self.scale), dtype=np.float32)
        if nodata is not None:
            out[dn == nodata] = np.nan
        if dn.dtype.kind == "f":
            out[~np.isfinite(dn)] = np.nan
        return out


def read_bands(path: str, names: tuple[str, ...] = SEN2R_BANDS, wanted: tuple[str, ...] | None = None,
               window: Window | None = None, reflectance: Reflectance = Reflectance()) -> dict[str, np.ndarray]:
    """Bands of a stack as reflectance (NaN for nodata), keyed by band id."""
    with rasterio.open(path) as src:
        if src.count != len(names):
            raise ValueError(f"{path} has {src.count} bands; the band list given has {len(names)}")
        picked = [n for n in names if wanted is None or n in wanted]
        indexes = [names.index(n) + 1 for n in picked]
        data = src.read(indexes, window=window)
        return {n: reflectance.apply(data[i], src.nodata) for i, n in enumerate(picked)}


def declared_reflectance(path: Path) -> Reflectance | None:
    """How a product says its digital numbers become reflectance, when it says so:
    GDAL scale and offset on the bands of a file (value = DN x scale + offset), or, for a
    folder of Sentinel-2 band files, the BOA_ADD_OFFSET and quantification value of the
    MTD_MSIL2A.xml found in it or above it (L2A processing baseline 04.00 and later)."""
    if path.is_file():
        try:
            with rasterio.open(path) as src:
                scales, offsets = set(src.scales), set(src.offsets)
        except rasterio.errors.RasterioIOError:
            return None  # not a raster: the band check says so, naming the file
        if len(scales) == 1 and len(offsets) == 1 and (scales, offsets) != ({1.0}, {0.0}):
            scale, offset = scales.pop(), offsets.pop()
            return Reflectance(scale=1 / scale, offset=offset / scale) if scale else None
        return None
    for folder in (path, *path.parents[:4]):
        found = sorted(folder.glob("MTD_MSIL2A.xml"))
        if found:
            return _safe_reflectance(found[0])
    return None


def _safe_reflectance(metadata: Path) -> Reflectance | None:
    import xml.etree.ElementTree as ET

    try:
        root = ET.parse(metadata).getroot()
    except ET.ParseError as exc:
        raise ValueError(f"{metadata} is not readable XML ({exc}); pass the offset with --offset.") from exc
    offsets = {e.text for e in root.iter() if e.tag.endswith("BOA_ADD_OFFSET")}
    quantification = [e.text for e in root.iter() if e.tag.endswith("BOA_QUANTIFICATION_VALUE")]
    if len(offsets) > 1:
        raise ValueError(f"{metadata} gives different offsets per band ({', '.join(sorted(offsets))}); "
                         "pass the one to use with --offset.")
    scale = float(quantification[0]) if quantification else 10_000.0
    offset = float(offsets.pop()) if offsets else 0.0
    return Reflectance(scale=scale, offset=offset)


# the bands the detector's indices need (common names)
NEEDED = sorted({b for name in ("NDVI", "NDBI", "BSI") for b in INDICES[name].bands})


# Scene Classification Layer (Sentinel-2 L2A) classes that hide the ground: no data,
# saturated or defective, cloud shadows, cloud medium and high probability, thin cirrus.
# Read as a plain mask, an SCL marks almost every pixel (vegetation is 4, bare soil 5).
SCL_CLOUDY = (0, 1, 3, 8, 9, 10)
S2_BAND_IDS = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12")


def stack_bands(path: str, given: tuple[str, ...] | None) -> tuple[str, ...]:
    """The band order of a stack file, checked before any pixel is read: band ids must be
    Sentinel-2's, listed once, as many as the file has, and include what the indices
    need. Raises ValueError with what to change."""
    from rasterio.errors import RasterioIOError

    try:
        with rasterio.open(path) as src:
            count = src.count
    except RasterioIOError as exc:
        raise ValueError(f"{path} is not a raster GDAL can read (GeoTIFF, JPEG 2000, ...).") from exc
    names = given or SEN2R_BANDS
    unknown = [b for b in names if b not in S2_BAND_IDS]
    if unknown:
        raise ValueError(f"Unknown band id(s) {', '.join(unknown)}: use Sentinel-2 ids ({', '.join(S2_BAND_IDS)}).")
    if len(set(names)) != len(names):
        raise ValueError(f"A band is listed twice in {','.join(names)}.")
    needed = [COMMON[c] for c in NEEDED]
    if count != len(names):
        if given:
            raise ValueError(f"{path} has {count} bands but the band list names {len(names)}: {','.join(names)}.")
        raise ValueError(f"{path} has {count} bands, not the {len(SEN2R_BANDS)} of the sen2r order; say which band "
                         "is which with --bands, e.g. --bands B02,B03,B04,B08,B11,B12 for a six-band stack "
                         f"(the indices need {', '.join(needed)}).")
    missing = [b for b in needed if b not in names]
    if missing:
        raise ValueError(f"The indices (NDVI, NDBI, BSI) need band(s) {', '.join(missing)}, which {path} does not have.")
    return names
