"""The building blocks of matching: a ``Clause`` per criterion (which sites pass, each
site's score, the value to report and how to say it in English and Italian), graded
scores, and geodesic distances to an area of interest. ``app.scouting.matching``
assembles them for a requirement and ranks the sites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from pyproj import Geod, Transformer
from shapely.geometry import shape

from app.scouting.figures import fmt, italian, versus
from app.scouting.requirements import AreaOfInterest, Range
from app.scouting.snapshot import Snapshot

Explain = Callable[[Any, bool, Any], tuple[str, str]]  # (value, passed, detail row) -> (en, it)


@dataclass(frozen=True)
class Clause:
    """One criterion made concrete for a requirement: which sites pass (a site that does
    not say fails), each site's score, the value to report, and how to say it."""

    name: str
    passes: np.ndarray
    score: np.ndarray
    value: np.ndarray | None
    explain: Explain
    # the reported value measured exactly at the snapshot positions an answer shows (when
    # ``value`` is screened with a cheaper metric away from the limit)
    exact: Callable[[np.ndarray], np.ndarray] | None = None


# Branch-free arithmetic throughout: at 100,000 sites np.where with a mixed mask, a masked
# assignment or np.nan_to_num each cost 200-400 µs, an arithmetic pass about 15 µs.
# np.fmax(x, 0) turns NaN ("not stated") into 0 in one pass.


def graded_max(v: np.ndarray, limit: float) -> np.ndarray:
    """1 at zero, 0.5 at the limit, 0 at twice the limit (one line: 1 - v / 2 limit,
    clipped); unknown scores 0."""
    score = np.minimum(1 - (0.5 / limit) * v, 1.0)
    return np.fmax(score, 0.0, out=score)


def graded_min(v: np.ndarray, minimum: float) -> np.ndarray:
    """1 from the minimum up, below it half at most in proportion; unknown scores 0.
    Below the minimum 0.5 v / minimum is under 0.5, from it up capped at 0.5, and the
    passing half is added."""
    with np.errstate(invalid="ignore"):
        score = np.minimum(0.5 * v / minimum, 0.5) + 0.5 * (v >= minimum)
    return np.fmax(score, 0.0, out=score)


def compare(v: np.ndarray, op: str, bound: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return v <= bound if op == "<=" else v >= bound  # NaN compares False: a fail


def boolean(name: str, passes: np.ndarray, yes: tuple[str, str], no: tuple[str, str]) -> Clause:
    return Clause(name, passes, passes.astype(float), None, lambda value, ok, row: yes if ok else no)


def max_distance(s: Snapshot, name: str, column: str, layer: str, limit: float,
                  what_en: str, what_it: str) -> Clause:
    """Straight-line distance to the nearest feature of ``layer`` at most ``limit`` km."""
    values = s.floats[column]

    def explain(value: Any, ok: bool, row: Any) -> tuple[str, str]:
        nearest = (row["site_nearest"] or {}).get(layer) if row is not None else None
        if not nearest:
            return (f"distance to the nearest {what_en} unknown (no such layer loaded), asked ≤ {fmt(limit, 'km')}",
                    f"distanza {what_it} sconosciuta (strato non caricato), richiesto ≤ {italian(fmt(limit, 'km'))}")
        name, code = nearest.get("name") or "", nearest.get("code") or ""
        label = f"{name} ({code})" if code.isalpha() and len(code) <= 4 and code != name else name  # IATA codes
        km, asked = versus(nearest.get("km"), limit, "km")
        return (f"{km} to the nearest {what_en} {label} (straight line), asked ≤ {asked}".replace("  ", " "),
                f"{italian(km)} {what_it} {label} (in linea d'aria), richiesto ≤ {italian(asked)}".replace("  ", " "))
    return Clause(name, compare(values, "<=", limit), graded_max(values, limit), values, explain)


def range_clause(name: str, values: np.ndarray, r: Range, what_en: str, what_it: str) -> Clause:
    low = r.min if r.min is not None else -np.inf
    high = r.max if r.max is not None else np.inf
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        passes = (values >= low) & (values <= high)
        # below the range half at most, in proportion (0.5 v / min), above it 0.5 max / v;
        # inside both terms are at least 0.5: capped at 0.5, the passing half is added
        below = (0.5 / r.min) * values if r.min else None
        above = 0.5 * r.max / values if r.max else None
        if r.max == 0 or (below is None and above is None):
            score = passes.astype(float)
        else:
            partial = below if above is None else above if below is None else np.minimum(below, above)
            score = np.minimum(partial, 0.5) + 0.5 * passes
            np.fmax(score, 0.0, out=score)
    asked = " – ".join(x for x in (f"≥ {fmt(r.min, 'm²', 0)}" if r.min is not None else "",
                                   f"≤ {fmt(r.max, 'm²', 0)}" if r.max is not None else "") if x)

    def explain(value: Any, ok: bool, row: Any) -> tuple[str, str]:
        bound = r.min if r.min is not None and value is not None and value < r.min else r.max
        shown = versus(value, bound, "m²", 0)[0] if bound is not None else fmt(value, "m²", 0)
        return (f"{what_en} {shown}, asked {asked}", f"{what_it} {italian(shown)}, richiesto {italian(asked)}")
    return Clause(name, passes, score, values, explain)


def limit_clause(name: str, values: np.ndarray, op: str, bound: float, graded: Callable[[np.ndarray, float], np.ndarray],
           label: tuple[str, str], unit: tuple[str, str]) -> Clause:
    sign = "≤" if op == "<=" else "≥"

    def explain(value: Any, ok: bool, row: Any) -> tuple[str, str]:
        shown, asked = versus(value, bound, unit[0], 0)
        shown_it, asked_it = versus(value, bound, unit[1], 0)
        return (f"{label[0]} {shown}, asked {sign} {asked}",
                f"{label[1]} {italian(shown_it)}, richiesto {sign} {italian(asked_it)}")
    return Clause(name, compare(values, op, bound), graded(values, bound), values, explain)



_TO_UTM = Transformer.from_crs(4326, 32632, always_xy=True)


_GEOD = Geod(ellps="WGS84")


# UTM 32N distances differ from the ellipsoid's by under 0.1% over Lombardy (scale factor
# 0.9996 on the central meridian, about 1.0004 at its eastern edge); a band three times
# as wide around the radius is measured on the ellipsoid, so no site is put on the wrong
# side of the limit
UTM_TOLERANCE = 0.003


def geodesic_km(s: Snapshot, lon: float, lat: float, radius: float) -> np.ndarray:
    """Distance from the point to every site, exact on the WGS84 ellipsoid wherever it
    decides which side of the radius a site falls. The rest keep their UTM distance (a
    score input only: what an answer reports is measured exactly, see ``Clause.exact``).
    Measuring all 100,000 sites on the ellipsoid cost 115 ms a request; the band costs
    well under one."""
    cx, cy = _TO_UTM.transform(lon, lat)
    distance = np.hypot(s.x_utm - cx, s.y_utm - cy) / 1000
    band = np.abs(distance - radius) <= radius * UTM_TOLERANCE + 0.01
    if band.any():
        distance[band] = exact_km(s, lon, lat, band)
    return distance


def exact_km(s: Snapshot, lon: float, lat: float, which: np.ndarray) -> np.ndarray:
    count = int(which.sum()) if which.dtype == bool else len(which)
    _, _, metres = _GEOD.inv(np.full(count, lon), np.full(count, lat), s.lon[which], s.lat[which])
    return metres / 1000


def area_clause(s: Snapshot, area: AreaOfInterest) -> Clause:
    if area.point is not None:
        radius = float(area.radius_km or 0)
        distance_km = geodesic_km(s, *area.point, radius)

        def explain(value: Any, ok: bool, row: Any) -> tuple[str, str]:
            km, asked = versus(value, radius, "km")
            return (f"{km} from the point of interest, asked ≤ {asked}",
                    f"{italian(km)} dal punto indicato, richiesto ≤ {italian(asked)}")
        return Clause("area", distance_km <= radius, graded_max(distance_km, radius), distance_km, explain,
                      exact=lambda at: exact_km(s, *area.point, at))
    inside = within_polygon(s, shape(area.polygon.model_dump()))
    return boolean("area", inside, ("inside the area of interest", "dentro l'area indicata"),
                    ("outside the area of interest", "fuori dall'area indicata"))


def within_polygon(s: Snapshot, polygon: Any) -> np.ndarray:
    """Sites inside the polygon or on its boundary. Only those within its bounds are
    tested, against the prepared polygon: making 100,000 points and asking each whether
    it touches the boundary took 120 ms a request."""
    x0, y0, x1, y1 = polygon.bounds
    candidates = np.flatnonzero((s.lon >= x0) & (s.lon <= x1) & (s.lat >= y0) & (s.lat <= y1))
    inside = np.zeros(len(s), dtype=bool)
    if len(candidates):
        shapely.prepare(polygon)
        inside[candidates] = shapely.intersects_xy(polygon, s.lon[candidates], s.lat[candidates])
    return inside
