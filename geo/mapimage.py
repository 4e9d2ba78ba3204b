"""A small location map as SVG, drawn from the catalogue's own geometries (no web tiles):
comuni, policy-zone comuni, motorways, railways, the site with its perimeter, and the
nearest motorway exit, station and airport, each labelled.

Drawn in UTM 32N (metres, true shape in Lombardy) with matplotlib's object API: no pyplot,
so no global figure state is shared between the threads that render exposés. Features
outside the frame (a far airport) get an arrow at the frame's edge with their distance.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import shapely
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path as MplPath
from pyproj import Transformer
from shapely import Geometry, box
from shapely.geometry import Point

_TO_UTM = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
_TO_WGS84 = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)


def _reproject(geometry: Geometry, transformer: Transformer) -> Geometry:
    return shapely.transform(geometry, transformer.transform, interleaved=False)


MIN_HALF_WIDTH_M = 1_500.0
MAX_HALF_WIDTH_M = 15_000.0
COLOURS = {"site": "#c0392b", "motorway_exit": "#1f5fa8", "railway_station": "#2e7d32", "airport": "#6a1b9a"}
MARKERS = {"motorway_exit": "s", "railway_station": "^", "airport": "P"}


@dataclass(frozen=True)
class Place:
    """A named point to mark: ``kind`` picks its colour and symbol."""

    kind: str
    label: str
    geometry: Point


@dataclass
class MapContent:
    """Everything a location map shows, in WGS84 (EPSG:4326)."""

    site: Point
    perimeter: Geometry | None = None
    places: list[Place] = field(default_factory=list)
    comuni: list[Geometry] = field(default_factory=list)
    zone_comuni: list[Geometry] = field(default_factory=list)
    motorways: list[Geometry] = field(default_factory=list)
    railways: list[Geometry] = field(default_factory=list)


ASPECT = 0.5  # height / width of every map: a strip that leaves the page room for the facts


def _view(site: Point, places: list[Place], perimeter: Geometry | None) -> Geometry:
    """The map's frame in UTM: the site and its perimeter, plus the places that lie within
    ``MAX_HALF_WIDTH_M`` (a far airport is an arrow, not a reason to zoom out)."""
    centre = _reproject(site, _TO_UTM)
    half = MIN_HALF_WIDTH_M
    if perimeter is not None:
        x0, y0, x1, y1 = _reproject(perimeter, _TO_UTM).bounds
        half = max(half, 1.3 * max(abs(x0 - centre.x), abs(x1 - centre.x),
                                   abs(y0 - centre.y) / ASPECT, abs(y1 - centre.y) / ASPECT))
    for place in places:
        p = _reproject(place.geometry, _TO_UTM)
        reach = 1.25 * max(abs(p.x - centre.x), abs(p.y - centre.y) / ASPECT)
        if reach <= MAX_HALF_WIDTH_M:
            half = max(half, reach)
    return box(centre.x - half, centre.y - half * ASPECT, centre.x + half, centre.y + half * ASPECT)


def frame(site: Point, places: list[Place], perimeter: Geometry | None = None) -> tuple[float, float, float, float]:
    """The map's extent in WGS84, to fetch what lies in it."""
    return _reproject(_view(site, places, perimeter).segmentize(500), _TO_WGS84).bounds


def render_svg(content: MapContent, width_mm: float = 182) -> str:
    """The map as an SVG document ``width_mm`` wide, for an HTML page printed to PDF."""
    figure = Figure(figsize=(width_mm / 25.4, width_mm * ASPECT / 25.4))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_axis_off()
    centre = _reproject(content.site, _TO_UTM)
    view = _view(content.site, content.places, content.perimeter)
    x0, y0, x1, y1 = view.bounds
    axes.set_xlim(x0, x1)
    axes.set_ylim(y0, y1)
    axes.set_aspect("equal")
    axes.add_patch(PathPatch(MplPath(list(view.exterior.coords), closed=True), facecolor="#f6f4ef", edgecolor="none",
                             zorder=0))

    # one compound path per layer: a single SVG element each, which keeps printing fast
    _draw(axes, content.zone_comuni, facecolor="#fde9b5", edgecolor="none", zorder=1)
    _draw(axes, content.comuni, facecolor="none", edgecolor="#9e9e9e", linewidth=0.4, zorder=2)
    _draw(axes, content.railways, facecolor="none", edgecolor="#424242", linewidth=0.9, linestyle=(0, (4, 2)),
          zorder=3)
    _draw(axes, content.motorways, facecolor="none", edgecolor="#e07b00", linewidth=1.8, capstyle="round",
          joinstyle="round", zorder=4)
    if content.perimeter is not None:
        _draw(axes, [content.perimeter], facecolor="#c0392b33", edgecolor=COLOURS["site"], linewidth=1.2, zorder=5)
    axes.plot([centre.x], [centre.y], marker="o", markersize=8, color=COLOURS["site"], markeredgecolor="white",
              zorder=7)
    for place in content.places:
        _place(axes, place, view, centre)
    _scale_bar(axes, view)
    axes.text(x1 - 0.03 * (x1 - x0), y1 - 0.05 * (y1 - y0), "N ↑", fontsize=8, ha="right", va="top", zorder=9)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _path(geometries: list[Geometry]) -> MplPath:
    """Polygons (holes included, even-odd filling) and lines of any number of geometries,
    in UTM, as one matplotlib path."""
    vertices: list[tuple[float, float]] = []
    codes: list[int] = []
    for geometry in geometries:
        for part in shapely.get_parts(_reproject(geometry, _TO_UTM)):
            if part.is_empty:
                continue
            closed = part.geom_type == "Polygon"
            for ring in [part.exterior, *part.interiors] if closed else [part]:
                coords = list(ring.coords)
                vertices += coords
                codes += [MplPath.MOVETO] + [MplPath.LINETO] * (len(coords) - 1)
                if closed:
                    codes[-1] = MplPath.CLOSEPOLY
    return MplPath(vertices or [(0, 0)], codes or [MplPath.MOVETO])


def _draw(axes, geometries: list[Geometry], **style) -> None:
    if geometries:
        axes.add_patch(PathPatch(_path(geometries), **style))


def _place(axes, place: Place, view: Geometry, centre: Point) -> None:
    p = _reproject(place.geometry, _TO_UTM)
    colour = COLOURS.get(place.kind, "#333333")
    x0, y0, x1, y1 = view.bounds
    if view.contains(p):
        axes.plot([p.x], [p.y], marker=MARKERS.get(place.kind, "o"), markersize=7, color=colour,
                  markeredgecolor="white", zorder=8)
        right = p.x < (x0 + x1) / 2
        axes.annotate(place.label, (p.x, p.y), xytext=(6 if right else -6, 4), textcoords="offset points",
                      fontsize=6.5, color=colour, ha="left" if right else "right", zorder=9,
                      bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})
        return
    # outside the frame: an arrow on the edge, pointing at it
    angle = math.atan2(p.y - centre.y, p.x - centre.x)
    reach = min((x1 - x0) / 2 / max(abs(math.cos(angle)), 1e-9), (y1 - y0) / 2 / max(abs(math.sin(angle)), 1e-9))
    edge = (centre.x + 0.9 * reach * math.cos(angle), centre.y + 0.9 * reach * math.sin(angle))
    tail = (centre.x + 0.75 * reach * math.cos(angle), centre.y + 0.75 * reach * math.sin(angle))
    axes.annotate("", xy=edge, xytext=tail, zorder=8,
                  arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.2})
    axes.annotate(place.label, tail, xytext=(0, -8 if math.sin(angle) > 0 else 8), textcoords="offset points",
                  fontsize=6.5, color=colour, ha="center", va="center", zorder=9,
                  bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8})


def _scale_bar(axes, view: Geometry) -> None:
    x0, y0, x1, y1 = view.bounds
    target = (x1 - x0) / 5
    length = max(s for s in (100, 200, 500, 1000, 2000, 5000, 10000) if s <= max(target, 100))
    left, base = x0 + 0.03 * (x1 - x0), y0 + 0.05 * (y1 - y0)
    axes.plot([left, left + length], [base, base], color="black", linewidth=2, solid_capstyle="butt", zorder=9)
    label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    axes.text(left + length / 2, base + 0.015 * (y1 - y0), label, fontsize=6, ha="center", va="bottom", zorder=9)
