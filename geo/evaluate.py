"""Measure detected candidates against a reference layer (a brownfield register, DUSAF
class 134, or a synthetic scene's truth) site by site: precision, recall, F1, candidates
per found site, and the false positives by the kind of thing they landed on."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shapely import STRtree
from shapely.geometry.base import BaseGeometry


def iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union else 0.0


@dataclass(frozen=True)
class SiteScores:
    """Site by site: a true site is found by the first candidate that has IoU >= 0.3 with
    it or covers at least half of it; every other candidate (a second fragment of a found
    site included) is a false positive, counted under the distractor it overlaps most."""

    precision: float
    recall: float
    f1: float
    candidates: int
    sites: int
    candidates_per_site: float  # candidates overlapping a true site, per true site found
    false_positives: dict[str, int]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _matches(candidate: BaseGeometry, site: BaseGeometry, min_iou: float, min_cover: float | None) -> bool:
    """IoU at least ``min_iou``, or (the coverage clause, unless None) the candidate
    covering at least ``min_cover`` of the site."""
    if iou(candidate, site) >= min_iou:
        return True
    return min_cover is not None and candidate.intersection(site).area >= min_cover * site.area


def site_scores(candidates: list[BaseGeometry], sites: list[BaseGeometry],
                distractors: dict[str, list[BaseGeometry]] | None = None,
                min_iou: float = 0.3, min_cover: float | None = 0.5) -> SiteScores:
    tree = STRtree(sites) if sites else None
    found: set[int] = set()
    on_sites = 0
    false_positives: dict[str, int] = {}
    for candidate in candidates:
        near = [int(i) for i in tree.query(candidate, predicate="intersects")] if tree is not None else []
        on_sites += bool(near)
        hit = next((i for i in near if i not in found and _matches(candidate, sites[i], min_iou, min_cover)), None)
        if hit is not None:
            found.add(hit)
            continue
        kind = "fragment of a found site" if any(i in found for i in near) else _kind(candidate, distractors or {})
        false_positives[kind] = false_positives.get(kind, 0) + 1
    correct = len(found)
    precision = correct / len(candidates) if candidates else 0.0
    recall = correct / len(sites) if sites else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return SiteScores(round(precision, 4), round(recall, 4), round(f1, 4), len(candidates), len(sites),
                      round(on_sites / correct, 3) if correct else 0.0, dict(sorted(false_positives.items())))


# what lies over the ground rather than on it: a candidate is counted against one of these
# only when it lands on no ground distractor (a plant under a thin cloud is the plant)
ATMOSPHERIC = ("cloud", "thin_cloud", "haze")


def _kind(candidate: BaseGeometry, distractors: dict[str, list[BaseGeometry]]) -> str:
    best, kind = 0.0, "background"
    for ground in (True, False):
        for name, shapes in distractors.items():
            if (name in ATMOSPHERIC) == ground:
                continue
            for shape_ in shapes:
                overlap = candidate.intersection(shape_).area
                if overlap > best:
                    best, kind = overlap, name
        if best > 0:
            break
    return kind
