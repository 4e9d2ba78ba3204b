"""The arithmetic under matching, against the plain formulas it replaced: graded scores
and ranges (NaN is "not stated" and scores 0), and the top-k pick at catalogue size, where
the sampled cut-off is used (and where a sorted catalogue makes it fall back to the exact
one). Pure numpy: the end-to-end behaviour is in test_matching.py."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.scouting.criteria import graded_max, graded_min, range_clause
from app.scouting.matching import _pick
from app.scouting.requirements import Range

values = st.lists(st.one_of(st.floats(0, 1e7, allow_nan=False), st.just(float("nan"))), min_size=1, max_size=60)
bounds = st.floats(1, 1e6, allow_nan=False)


def _reference_range(v: np.ndarray, r: Range) -> np.ndarray:
    low = r.min if r.min is not None else -np.inf
    high = r.max if r.max is not None else np.inf
    out = []
    for x in v:
        if np.isnan(x):
            out.append(0.0)
        elif low <= x <= high:
            out.append(1.0)
        elif x < low:
            out.append(0.5 * x / r.min if r.min else 0.0)
        else:
            out.append(0.5 * r.max / x if r.max else 0.0)
    return np.array(out)


@settings(max_examples=200, deadline=None)
@given(v=values, limit=bounds)
def test_graded_scores_follow_their_formulas(v: list[float], limit: float) -> None:
    a = np.array(v)
    expected_max = [0.0 if np.isnan(x) else min(1.0, max(0.0, 1 - x / (2 * limit))) for x in a]
    expected_min = [0.0 if np.isnan(x) else 1.0 if x >= limit else 0.5 * x / limit for x in a]
    np.testing.assert_allclose(graded_max(a, limit), expected_max, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(graded_min(a, limit), expected_min, rtol=1e-12, atol=1e-15)


@settings(max_examples=300, deadline=None)
@given(v=values, low=st.one_of(st.none(), st.just(0.0), bounds), span=st.one_of(st.none(), st.just(0.0), bounds))
def test_range_scores_follow_the_formula(v: list[float], low: float | None, span: float | None) -> None:
    if low is None and span is None:
        low = 0.0
    high = None if span is None else (low or 0.0) + span
    r = Range(min=low, max=high)
    a = np.array(v)
    clause = range_clause("land_area_m2", a, r, "land area", "superficie")
    np.testing.assert_allclose(clause.score, _reference_range(a, r), rtol=1e-12, atol=1e-15)
    assert clause.passes.tolist() == [bool(not np.isnan(x) and (low is None or x >= low) and (high is None or x <= high))
                                      for x in a]


def _reference_pick(key: np.ndarray, ids: np.ndarray, mask: np.ndarray, count: int) -> list[int]:
    rows = np.flatnonzero(mask)
    return rows[np.lexsort((ids[rows], key[rows]))][:count].tolist()


@pytest.mark.parametrize("order", ["shuffled", "sorted", "reversed"])
@pytest.mark.parametrize("count", [1, 20, 100])
def test_pick_at_catalogue_size_equals_a_full_sort(order: str, count: int) -> None:
    rng = np.random.default_rng(count)
    n = 100_000
    score = np.round(rng.uniform(0, 100, n), 1)  # coarse: many ties across the cut
    if order != "shuffled":
        score.sort()
        score = score[::-1] if order == "reversed" else score
    ids = np.arange(n) * 3 + 7
    for mask in (rng.random(n) < 0.5, rng.random(n) < 0.001, np.ones(n, dtype=bool), np.zeros(n, dtype=bool)):
        assert _pick(-score, ids, mask, count).tolist() == _reference_pick(-score, ids, mask, count)
    fails = rng.integers(0, 4, n).astype(np.int16)
    near = (fails >= 1) & (fails <= 2)
    key = fails * 1000.0 - score
    assert _pick(key, ids, near, count).tolist() == _reference_pick(key, ids, near, count)


def test_pick_breaks_ties_at_the_cut_by_id() -> None:
    n = 50_000
    score = np.full(n, 80.0)
    score[:5] = 90.0
    ids = np.arange(n)[::-1].copy()  # the higher the position, the lower the id
    picked = _pick(-score, ids, np.ones(n, dtype=bool), 10)
    assert picked[:5].tolist() == [4, 3, 2, 1, 0]
    assert picked[5:].tolist() == [n - 1, n - 2, n - 3, n - 4, n - 5]


class _Points:
    """The two columns of a snapshot that within_polygon reads."""

    def __init__(self, lon: np.ndarray, lat: np.ndarray) -> None:
        self.lon, self.lat = lon, lat

    def __len__(self) -> int:
        return len(self.lon)


def test_within_polygon_counts_the_boundary_and_leaves_holes_out() -> None:
    """Against shapely's covers, point by point: vertices, edges, a hole, a multipolygon,
    random points inside and outside the bounds."""
    import shapely
    from shapely.geometry import MultiPolygon, Polygon

    from app.scouting.criteria import within_polygon

    ring = [(9.0, 45.0), (9.4, 45.0), (9.4, 45.4), (9.0, 45.4)]
    holed = Polygon(ring, [[(9.1, 45.1), (9.2, 45.1), (9.2, 45.2), (9.1, 45.2)]])
    shapes = [holed, MultiPolygon([holed, Polygon([(10.0, 45.0), (10.1, 45.0), (10.05, 45.1)])])]
    rng = np.random.default_rng(3)
    lon = np.concatenate([rng.uniform(8.8, 10.3, 3000), [9.0, 9.2, 9.4, 9.15, 9.1, 10.05, 9.3]])
    lat = np.concatenate([rng.uniform(44.8, 45.6, 3000), [45.0, 45.0, 45.2, 45.15, 45.15, 45.1, 45.4]])
    for polygon in shapes:
        expected = [polygon.covers(shapely.Point(x, y)) for x, y in zip(lon, lat, strict=True)]
        assert within_polygon(_Points(lon, lat), polygon).tolist() == expected
    assert within_polygon(_Points(lon, lat), holed)[-7:].tolist() == [True, True, True, False, True, False, True]
