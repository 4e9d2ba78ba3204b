"""From evidence pixels to sites: the unit staff review is a site, not a pixel fragment.

Two ways to get there:

* **an object layer** (productive land-use polygons, cadastral parcels, building
  footprints, an industrial-areas layer): every object is scored by the share of its
  clear pixels showing the disuse signal; the object itself is the candidate;
* **segmentation** when there is none: evidence pixels closer than ``merge_distance_m``
  are joined (a morphological closing), holes are filled, and each connected object
  (8-connectivity, as the pixels were labelled) is one candidate.

Tiles report per-object counts and sums; they are added up across tiles, so the result
does not depend on the tile size. Areas come from the polygons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rasterio import features
from rasterio.transform import Affine
from scipy import ndimage
from shapely import STRtree
from shapely.geometry import MultiPolygon, Polygon, box, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from geo import morphology
from geo.params import DetectionParams


@dataclass
class Region:
    """What one tile saw of one object: its outline there (segmentation) or its id in the
    object layer, its pixels, how many show the signal, and the sums of the measures over
    those."""

    geometry: BaseGeometry | None
    pixels: int
    sums: dict[str, float]
    zoned_pixels: int = 0
    evidence: int | None = None  # None: every pixel of the region is evidence
    object_id: int | None = None
    # the region reaches its tile's border, so a neighbouring tile may hold the rest of it;
    # only these are dissolved across tiles (the others are whole already)
    edge: bool = True
    # the built pixels of the region that are not evidence, and measures summed over them
    context_pixels: int = 0
    context_sums: dict[str, float] = field(default_factory=dict)

    @property
    def evidence_pixels(self) -> int:
        return self.pixels if self.evidence is None else self.evidence


@dataclass
class Context:
    """Pixels of a tile that are not evidence but tell about the site (its built surfaces
    that did not green), and measures to sum over them per region."""

    where: np.ndarray
    values: dict[str, np.ndarray]

    def sums(self, flat: np.ndarray, size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        at = flat[self.where.ravel()]
        return np.bincount(at, minlength=size), {
            k: np.bincount(at, weights=v.ravel()[self.where.ravel()], minlength=size) for k, v in self.values.items()}


@dataclass
class Candidate:
    geometry: BaseGeometry  # in the raster's CRS
    area_m2: float
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)


def regions_of(evidence: np.ndarray, values: dict[str, np.ndarray], zoning: np.ndarray | None,
               transform: Affine, objects: np.ndarray | None = None, context: Context | None = None) -> list[Region]:
    """Connected objects of a tile (8-connectivity): ``objects`` is the segmented mask
    (evidence joined across small gaps), or the evidence itself."""
    outline = evidence if objects is None else objects | evidence
    labels, count = ndimage.label(outline, structure=np.ones((3, 3)))
    if not count:
        return []
    flat, hits = labels.ravel(), evidence.ravel()
    pixels = np.bincount(flat, minlength=count + 1)
    signal, sums = _evidence_sums(flat, hits, values, count + 1)
    zoned = np.bincount(flat, weights=zoning.ravel(), minlength=count + 1) if zoning is not None else pixels
    parts: dict[int, list[BaseGeometry]] = {}
    for geometry, value in features.shapes(labels.astype(np.int32), mask=labels > 0, transform=transform,
                                           connectivity=8):
        parts.setdefault(int(value), []).append(shape(geometry))
    border = set(np.unique(np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])).tolist())
    regions = [Region(unary_union(p), int(pixels[label]), {k: float(s[label]) for k, s in sums.items()},
                      int(zoned[label]), int(signal[label]), edge=label in border) for label, p in parts.items()]
    _add_context(regions, list(parts), context, flat, count + 1)
    return regions


def _add_context(regions: list[Region], labels: list[int], context: Context | None, flat: np.ndarray,
                 size: int) -> None:
    if context is None:
        return
    counts, sums = context.sums(flat, size)
    for region, label in zip(regions, labels, strict=True):
        region.context_pixels = int(counts[label])
        region.context_sums = {k: float(s[label]) for k, s in sums.items()}


def _evidence_sums(flat: np.ndarray, hits: np.ndarray, values: dict[str, np.ndarray],
                   size: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per label: how many evidence pixels, and each measure summed over them only (a few
    percent of a tile, not all of it)."""
    at = flat[hits]
    sums = {k: np.bincount(at, weights=np.nan_to_num(v.ravel()[hits]), minlength=size) for k, v in values.items()}
    return np.bincount(at, minlength=size), sums


def object_regions(evidence: np.ndarray, valid: np.ndarray, values: dict[str, np.ndarray],
                   ids: np.ndarray, context: Context | None = None) -> list[Region]:
    """Per object of the layer (``ids``: 0 outside, else index + 1) in one tile: its clear
    pixels, its evidence pixels and the sums of the measures over them."""
    present = np.unique(ids[ids > 0])
    if not len(present):
        return []
    flat, size = ids.ravel(), int(ids.max()) + 1
    clear = np.bincount(flat[valid.ravel()], minlength=size)
    signal, sums = _evidence_sums(flat, (evidence & valid).ravel(), values, size)
    regions = [Region(None, int(clear[i]), {k: float(s[i]) for k, s in sums.items()}, int(clear[i]), int(signal[i]),
                      int(i) - 1) for i in present]
    _add_context(regions, [int(i) for i in present], context, flat, size)
    return regions


def filled(geometry: BaseGeometry) -> BaseGeometry:
    """The outline without holes: a roof inside an overgrown yard belongs to the site."""
    parts = [Polygon(p.exterior) for p in getattr(geometry, "geoms", [geometry]) if p.geom_type == "Polygon"]
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


TWO_DATES = "two dates: low confidence"
TIME_SERIES = "time series"


def score(share: float, gain: float, area: float, params: DetectionParams) -> float:
    """0-1, two dates: 40% how much of the site shows the signal (saturating at 30%, the
    middle of what disused plants show), 40% how strong the vegetation gain is (0.5 at
    the threshold, 1 at 0.15 above it), 20% size (saturating at four times the minimum)."""
    return round(0.4 * _share_term(share) + 0.4 * _strength(gain, params) + 0.2 * _size(area, params), 4)


def series_score(share: float, gain: float, area: float, persistence: float, activity: float,
                 params: DetectionParams) -> float:
    """0-1, time series: what separates a disused plant from an active one with new
    landscaping weighs as much as the greening itself. 30% share of the site with the
    signal (a lawn is a small part of a working plant), 20% gain, 20% persistence
    (share of the dates since the greening began that stayed green, from the minimum
    to all), 20% dormancy of the built surfaces left (1 when they never change, 0 at
    ``max_activity``: roofs and yards still in use), 10% size."""
    lasting = min(1.0, max(0.0, (persistence - params.min_persistence) / max(1e-9, 1 - params.min_persistence)))
    dormant = 1.0 - min(1.0, max(0.0, activity) / params.max_activity)  # below the scene's floor: dormant
    return round(0.3 * _share_term(share) + 0.2 * _strength(gain, params) + 0.2 * lasting + 0.2 * dormant
                 + 0.1 * _size(area, params), 4)


def _share_term(share: float) -> float:
    return min(1.0, share / 0.3)


def _strength(gain: float, params: DetectionParams) -> float:
    return min(1.0, max(0.0, (gain - params.gain_min) / 0.3 + 0.5))


def _size(area: float, params: DetectionParams) -> float:
    return min(1.0, area / (4 * params.min_area_m2))


def merge_regions(regions: list[Region], pixel_area: float, params: DetectionParams,
                  exclusions: list[BaseGeometry] | None = None,
                  dates: tuple[dt.date | None, ...] = (None, None),
                  zoned_by_layer: bool = False, objects: list[BaseGeometry] | None = None,
                  evidence_from: str = TWO_DATES, activity_floor: float = 0.0) -> list[Candidate]:
    """Add up what the tiles saw of each object and keep the sites that pass. Regions with
    an ``object_id`` are scored as their object; the others are segmented sites (no object
    layer, or inside an object too large to be one site). Sites that overlap
    ``exclusions`` (catalogue sites, a register) stay, flagged "already known" and ranked
    below every new one. The share in productive land is evidence only when a land-use
    layer was given (``zoned_by_layer``). ``evidence_from`` says what the evidence rests
    on: a time series (``TIME_SERIES``: scored with persistence and the activity of the
    built surfaces left, less ``activity_floor``, the scene's own) or two dates
    (``TWO_DATES``: labelled low confidence)."""
    if not regions:
        return []
    by_object = [r for r in regions if r.object_id is not None]
    segments = [r for r in regions if r.object_id is None]
    groups = [(g, m, True) for g, m in (_by_object(by_object, objects) if objects is not None and by_object else [])]
    groups += [(g, m, False) for g, m in (_by_outline(segments) if segments else [])]
    known = STRtree(exclusions) if exclusions else None
    candidates = []
    for geometry, members, whole_object in groups:
        evidence = sum(m.evidence_pixels for m in members)
        clear = sum(m.pixels for m in members)
        area = geometry.area
        if not evidence or not clear:
            continue  # nothing seen, or hidden by clouds at either date
        share = evidence / clear if whole_object else min(1.0, evidence * pixel_area / area)
        if (area < params.min_area_m2 or evidence * pixel_area < params.min_evidence_m2
                or share < (params.min_object_share if whole_object else params.min_segment_share)):
            continue
        if not whole_object and share > params.crop_share and area >= params.crop_min_m2:
            continue  # a field sown between the dates
        means = {k: round(sum(m.sums[k] for m in members) / evidence, 4) for k in members[0].sums}
        context = sum(m.context_pixels for m in members)
        activity = sum(m.context_sums.get("activity", 0.0) for m in members) / context - activity_floor \
            if context else 0.0
        if evidence_from == TIME_SERIES:
            if activity > params.max_activity:
                continue  # roofs and yards still changing: a plant in use, whatever grew in it
            value = series_score(share, means["gain"], area, means.get("persistence", 1.0), activity, params)
        else:
            value = score(share, means["gain"], area, params)
        overlap = _known_overlap(geometry, known, exclusions)
        zoned = sum(m.zoned_pixels for m in members) / max(1, clear)
        candidates.append(Candidate(geometry, area, value, {
            "area_m2": round(area, 1), "pixels": clear, "evidence_pixels": evidence,
            "share_with_signal": round(share, 3), **means,
            **({"activity_of_built_surfaces": round(activity, 4)} if evidence_from == TIME_SERIES else {}),
            **({"share_in_productive_land": round(zoned, 3)} if zoned_by_layer else {}),
            **({"site_from": "object" if whole_object else "segmented inside a large object"}
               if objects is not None else {}),
            "already_known": overlap > 0, **({"known_overlap": round(overlap, 3)} if overlap else {}),
            "dates": [d.isoformat() if d else None for d in dates],
            "signal": "vegetation growing over a formerly sealed or bare surface",
            "confidence": evidence_from,
        }))
    return rank(candidates)


def rank(candidates: list[Candidate]) -> list[Candidate]:
    """New sites before known ones, time-series evidence before two dates, then by score."""
    return sorted(candidates, key=lambda c: (c.evidence.get("already_known", False),
                                             c.evidence.get("confidence") != TIME_SERIES, -c.score,
                                             c.geometry.centroid.x, c.geometry.centroid.y))


def split_objects(objects: list[BaseGeometry], params: DetectionParams) -> tuple[list[int], list[int]]:
    """(objects scored whole, objects segmented inside): an industrial district or a
    zoning polygon is larger than any plant in it, and as one candidate it would be the
    whole zone (IoU with any plant at most 0.1) scored by a few percent of signal."""
    small = [i for i, g in enumerate(objects) if g.area <= params.max_object_m2]
    large = [i for i, g in enumerate(objects) if g.area > params.max_object_m2]
    return small, large


def _by_outline(regions: list[Region]) -> list[tuple[BaseGeometry, list[Region]]]:
    """Sites from the tiles' regions. A region away from its tile's border is a whole site;
    only regions on a border are joined with what touches them across it (union-find over
    an STRtree, then one small union per group). Cost grows with the number of regions,
    not with its square: a union of every region of a scene took 197 of 202 CPU-seconds."""
    out = [(filled(r.geometry).normalize(), [r]) for r in regions if not r.edge]
    edges = [r for r in regions if r.edge]
    for group in _touching_groups([r.geometry for r in edges]):
        members = [edges[i] for i in group]
        merged = unary_union([m.geometry for m in members]) if len(members) > 1 else members[0].geometry
        out.append((filled(merged).normalize(), members))  # one vertex order whatever the tiling
    return out


def _touching_groups(geometries: list[BaseGeometry]) -> list[list[int]]:
    """Indexes of geometries grouped by touching or overlapping (corners included, as
    8-connected pixels are one object)."""
    parent = list(range(len(geometries)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tree = STRtree(geometries)
    for i, geometry in enumerate(geometries):
        for j in tree.query(geometry, predicate="intersects"):
            parent[root(int(j))] = root(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(geometries)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _by_object(regions: list[Region], objects: list[BaseGeometry]) -> list[tuple[BaseGeometry, list[Region]]]:
    grouped: dict[int, list[Region]] = {}
    for region in regions:
        grouped.setdefault(int(region.object_id), []).append(region)
    return [(objects[i], members) for i, members in sorted(grouped.items())]


def _known_overlap(geometry: BaseGeometry, tree: STRtree | None, known: list[BaseGeometry] | None) -> float:
    if tree is None or known is None:
        return 0.0
    hits = [known[i] for i in tree.query(geometry, predicate="intersects")]
    return min(1.0, unary_union(hits).intersection(geometry).area / geometry.area) if hits else 0.0


def object_ids(objects: list[BaseGeometry], shape_: tuple[int, int], transform: Affine) -> np.ndarray:
    """The object layer burnt into a tile: 0 outside, else the object's index + 1."""
    if not objects:
        return np.zeros(shape_, dtype=np.int32)
    return features.rasterize(((g, i + 1) for i, g in enumerate(objects)), out_shape=shape_,
                              transform=transform, fill=0, dtype="int32")


def segment(evidence: np.ndarray, radius_px: int, built: np.ndarray | None = None, grow_px: int = 0) -> np.ndarray:
    """Sites from evidence: patches joined across gaps up to ``2 * radius_px`` pixels (a
    closing whose erosion treats the tile's outside as set, so borders do not eat
    objects), then grown up to ``grow_px`` pixels through ``built`` (sealed or bare at
    the first date): the unchanged roofs and yards of the same plant."""
    if not evidence.any():
        return evidence
    sites = evidence
    if radius_px == 1:  # a disk of radius 1 is the cross (10 m pixels, merge_distance_m 20)
        sites = morphology.erode(morphology.dilate(evidence, square=False), square=False, border=True) | evidence
    elif radius_px > 1:
        sites = morphology.erode_disk(morphology.dilate_disk(evidence, radius_px), radius_px) | evidence
    if built is not None and grow_px > 0:  # geodesic: each step stays inside built land
        sites = morphology.geodesic_dilation(sites, built, grow_px)
    return sites


_INDEXES: dict[int, tuple[list[BaseGeometry], DetectionParams, STRtree, list[int], list[int]]] = {}


def objects_near(objects: list[BaseGeometry], params: DetectionParams,
          bounds: tuple[float, float, float, float]) -> tuple[list[int], list[int]]:
    """(small, large) objects touching a tile, by index into ``objects``. The split and
    an STRtree are made once per object list and kept for the run's tiles: burning every
    object of a region-wide layer into every tile made the object path's cost grow with
    tiles x objects."""
    key = id(objects)
    cached = _INDEXES.get(key)
    if cached is None or cached[0] is not objects or cached[1] != params:
        small, large = split_objects(objects, params)
        if len(_INDEXES) >= 4:
            _INDEXES.pop(next(iter(_INDEXES)))
        cached = _INDEXES[key] = (objects, params, STRtree(objects), small, large)
    _, _, tree, small, large = cached
    hits = set(tree.query(box(*bounds)).tolist())
    return [i for i in small if i in hits], [i for i in large if i in hits]
