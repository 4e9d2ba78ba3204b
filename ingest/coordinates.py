"""Coordinates as owners write them: decimal or DMS latitude/longitude, or X/Y in one
of the CRSs used in Lombardy, plus perimeters as WKT or a list of vertices.

Everything comes out in WGS84 longitude/latitude. Transformers are cached: building one
costs far more than transforming a point.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pyproj import Transformer
from shapely import wkt
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from ingest.values import ValueProblem, parse_number

# EPSG codes accepted for X/Y, with the names owners know them by.
SUPPORTED_EPSG = {
    4326: "WGS84 (latitudine/longitudine)",
    32632: "WGS84 / UTM 32N",
    7791: "RDN2008 / UTM 32N (E-N)",
    6707: "RDN2008 / UTM 32N (N-E)",
    3003: "Monte Mario / Gauss-Boaga fuso Ovest",
}
# Rough extent of each CRS's coordinates around Lombardy, to catch swapped or wrong values.
_PLAUSIBLE = {
    4326: ((6.0, 19.0), (35.0, 48.0)),
    32632: ((300_000, 800_000), (4_900_000, 5_300_000)),
    7791: ((300_000, 800_000), (4_900_000, 5_300_000)),
    6707: ((300_000, 800_000), (4_900_000, 5_300_000)),
    3003: ((1_300_000, 1_800_000), (4_900_000, 5_300_000)),
}

_DMS = re.compile(
    r"""^\s*(?P<hemi1>[NSEWO])?\s*
        (?P<deg>\d{1,3}(?:[.,]\d+)?)\s*(?:°|º|d|\s)\s*
        (?:(?P<min>\d{1,2}(?:[.,]\d+)?)\s*(?:'|′|m|\s)\s*)?
        (?:(?P<sec>\d{1,2}(?:[.,]\d+)?)\s*(?:"|″|''|s)?\s*)?
        (?P<hemi2>[NSEWO])?\s*$""",
    re.VERBOSE | re.IGNORECASE,
)


def parse_angle(value: Any, axis: str) -> float:
    """Decimal degrees ('45,4642', 45.4642) or DMS ('45°27'51.1"N'). ``axis``: lat or lon."""
    limit = 90 if axis == "lat" else 180
    expected = ("a latitude such as 45.4642 or 45°27'51\"N", "una latitudine come 45,4642 o 45°27'51\"N") \
        if axis == "lat" else \
        ("a longitude such as 9.1900 or 9°11'24\"E", "una longitudine come 9,1900 o 9°11'24\"E")
    if isinstance(value, int | float) and not isinstance(value, bool):
        degrees = float(value)
    else:
        text = str(value).strip()
        try:
            degrees = float(text.replace(",", "."))
        except ValueError:
            match = _DMS.match(text)
            if not match or not (match["min"] or match["sec"] or match["hemi1"] or match["hemi2"]):
                raise ValueProblem(*expected) from None
            parts = [float((match[k] or "0").replace(",", ".")) for k in ("deg", "min", "sec")]
            if parts[1] >= 60 or parts[2] >= 60:
                raise ValueProblem(*expected) from None
            degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
            hemisphere = (match["hemi1"] or match["hemi2"] or "").upper()
            if hemisphere in ("S", "W", "O"):
                degrees = -degrees
            if (axis == "lat" and hemisphere in ("E", "W", "O")) or (
                axis == "lon" and hemisphere in ("N", "S")
            ):
                raise ValueProblem(*expected) from None
    if not -limit <= degrees <= limit:
        raise ValueProblem(*expected)
    return degrees


@lru_cache(maxsize=16)
def _to_wgs84(epsg: int) -> Transformer:
    return Transformer.from_crs(epsg, 4326, always_xy=True)


def parse_epsg(value: Any) -> int:
    text = re.sub(r"(?i)^epsg\s*:?\s*", "", str(value).strip())
    text = text.split()[0] if text else text
    try:
        code = int(float(text))
    except ValueError:
        code = -1
    if code not in SUPPORTED_EPSG:
        codes = ", ".join(str(c) for c in SUPPORTED_EPSG)
        raise ValueProblem(f"one of the EPSG codes {codes}", f"uno dei codici EPSG {codes}")
    return code


def xy_to_lonlat(x: float, y: float, epsg: int) -> tuple[float, float]:
    """Project X/Y of ``epsg`` to WGS84 lon/lat. EPSG:6707 is northing-first by definition,
    so owners who give it write Y (north) and X (east) as in 7791: we read X as easting."""
    (x_range, y_range) = _PLAUSIBLE[epsg]
    if not (x_range[0] <= x <= x_range[1] and y_range[0] <= y <= y_range[1]):
        if x_range[0] <= y <= x_range[1] and y_range[0] <= x <= y_range[1]:
            raise ValueProblem(
                f"X as the easting and Y as the northing (they look swapped for EPSG:{epsg})",
                f"X come coordinata Est e Y come Nord (sembrano invertite per EPSG:{epsg})",
            )
        raise ValueProblem(
            f"X/Y within the range of EPSG:{epsg} in northern Italy "
            f"(X {x_range[0]:,}..{x_range[1]:,}, Y {y_range[0]:,}..{y_range[1]:,})",
            f"X/Y nell'intervallo di EPSG:{epsg} per il Nord Italia "
            f"(X {x_range[0]:,}..{x_range[1]:,}, Y {y_range[0]:,}..{y_range[1]:,})",
        )
    if epsg == 4326:
        return x, y
    source = 7791 if epsg == 6707 else epsg
    lon, lat = _to_wgs84(source).transform(x, y)
    return float(lon), float(lat)


def parse_xy(x: Any, y: Any, epsg: int) -> tuple[float, float]:
    return xy_to_lonlat(parse_number(x, "length_m"), parse_number(y, "length_m"), epsg)


def polygon_from_vertices(vertices: list[tuple[float, float]]) -> MultiPolygon:
    """Vertices (lon, lat) in order -> a valid polygon; the ring is closed if needed."""
    if len(vertices) < 3:
        raise ValueProblem("at least 3 vertices", "almeno 3 vertici")
    ring = vertices if vertices[0] == vertices[-1] else [*vertices, vertices[0]]
    return _valid_multipolygon(Polygon(ring))


def parse_wkt_perimeter(value: Any) -> MultiPolygon:
    """A POLYGON or MULTIPOLYGON in WKT, longitude first, WGS84."""
    try:
        geometry = wkt.loads(str(value))
    except (ShapelyError, ValueError) as exc:
        raise ValueProblem(
            "a WKT polygon such as POLYGON((9.18 45.46, 9.19 45.46, 9.19 45.47, 9.18 45.46))",
            "un poligono WKT come POLYGON((9.18 45.46, 9.19 45.46, 9.19 45.47, 9.18 45.46))",
        ) from exc
    if not isinstance(geometry, Polygon | MultiPolygon):
        raise ValueProblem(
            f"a POLYGON or MULTIPOLYGON, not a {geometry.geom_type}",
            f"un POLYGON o MULTIPOLYGON, non un {geometry.geom_type}",
        )
    minx, miny, maxx, maxy = geometry.bounds
    if not (6 <= minx and maxx <= 19 and 35 <= miny and maxy <= 48):
        raise ValueProblem(
            "WGS84 longitude/latitude, longitude first (e.g. 9.18 45.46)",
            "longitudine/latitudine WGS84, prima la longitudine (es. 9.18 45.46)",
        )
    return _valid_multipolygon(geometry)


# GEOS says why a polygon is invalid in its own words ("Self-intersection[10.02 45.13]");
# owners read plain ones
GEOS_REASONS = {
    "ring self-intersection": ("its outline crosses itself", "il contorno si interseca"),
    "self-intersection": ("its outline crosses itself", "il contorno si interseca"),
    "too few points": ("it has fewer than three distinct vertices", "ha meno di tre vertici distinti"),
    "hole lies outside shell": ("a hole lies outside the outline", "un foro è fuori dal contorno"),
    "nested shells": ("one outline lies inside another", "un contorno è dentro un altro"),
    "nested holes": ("one hole lies inside another", "un foro è dentro un altro"),
    "interior is disconnected": ("its holes split it into pieces", "i fori lo dividono in parti"),
    "duplicate rings": ("the same ring appears twice", "lo stesso anello compare due volte"),
    "invalid coordinate": ("a vertex has no valid coordinates", "un vertice non ha coordinate valide"),
    "ring is not closed": ("its outline is not closed", "il contorno non è chiuso"),
}
_WHERE = re.compile(r"\[\s*([-\d.eE+]+)\s+([-\d.eE+]+)\s*\]")


def plain_invalidity(reason: str) -> tuple[str, str]:
    """A GEOS validity reason in plain English and Italian, with where it happens."""
    kind = reason.split("[")[0].strip().lower()
    en, it = GEOS_REASONS.get(kind, ("its geometry is not valid", "la geometria non è valida"))
    where = _WHERE.search(reason)
    if where:
        lon, lat = float(where.group(1)), float(where.group(2))
        en += f" near longitude {lon:.5f}, latitude {lat:.5f}"
        it += f" vicino a longitudine {lon:.5f}, latitudine {lat:.5f}".replace(".", ",")
    return en, it


def _valid_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if not geometry.is_valid:
        en, it = plain_invalidity(explain_validity(geometry))
        raise ValueProblem(
            f"a valid polygon (this one is not: {en}); redraw or correct the vertices",
            f"un poligono valido (questo non lo è: {it}); ridisegnare o correggere i vertici",
        )
    if geometry.area == 0:
        raise ValueProblem("a polygon with an area", "un poligono con un'area")
    return geometry if isinstance(geometry, MultiPolygon) else MultiPolygon([geometry])
