"""Measure detected candidates against a reference layer (a brownfield register, DUSAF
class 134, or a synthetic scene's truth): object precision, recall, F1 and mean IoU.

A reference polygon counts as found when a candidate overlaps it with IoU >= ``min_iou``;
a candidate counts as correct when it overlaps some reference polygon that well.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shapely import STRtree
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    mean_iou: float
    candidates: int
    references: int

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def iou(a: BaseGeometry, b: BaseGeometry) -> float:
    union = a.union(b).area
    return a.intersection(b).area / union if union else 0.0


def evaluate(candidates: list[BaseGeometry], references: list[BaseGeometry], min_iou: float = 0.3) -> Scores:
    if not candidates or not references:
        return Scores(0.0, 0.0, 0.0, 0.0, len(candidates), len(references))
    tree = STRtree(references)
    best_for_reference = [0.0] * len(references)
    correct = 0
    for candidate in candidates:
        best = 0.0
        for i in tree.query(candidate, predicate="intersects"):
            value = iou(candidate, references[i])
            best = max(best, value)
            best_for_reference[i] = max(best_for_reference[i], value)
        correct += best >= min_iou
    found = [v for v in best_for_reference if v >= min_iou]
    precision = correct / len(candidates)
    recall = len(found) / len(references)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    mean_iou = sum(found) / len(found) if found else 0.0
    return Scores(round(precision, 4), round(recall, 4), round(f1, 4), round(mean_iou, 4),
                  len(candidates), len(references))
