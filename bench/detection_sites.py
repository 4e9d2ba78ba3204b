"""Site-level accuracy of brownfield detection on SYNTHETIC scenes of two families, scored
site by site (geo/evaluate.site_scores) and averaged over many seeds.

    make bench-detection_sites ARGS="--seeds 20"            # the defaults, on seeds 0-19
    make bench-detection_sites ARGS="--seeds 20 --tune"     # how the defaults were chosen
    make bench-detection_sites ARGS="--seeds 10 --tune --tune-on adversarial"   # the other way

Two scene families: geo/scenes.py and geo/adversarial.py (written apart, every distractor
near a cut). ``--tune`` searches the segmentation and object-layer parameters on seeds
1000+ of ``--tune-on``, then reports on seeds 0+ of every family of ``--report-on``: the
family not tuned on is the honest figure. Matches are counted at IoU >= 0.3, and again
with the coverage clause (a candidate covering half a plant). Prints the machine.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import statistics
import tempfile
from pathlib import Path
from typing import NamedTuple

from bench.machine import describe
from geo import adversarial, adversarial_series
from geo.detect import SCL_CLOUDY, Scene, detect_tile, grid_of, tiles
from geo.evaluate import SiteScores, site_scores
from geo.params import SERIES_PARAMS, DetectionParams
from geo.raster import Reflectance, declared_reflectance
from geo.scenes import BANDS, BenchmarkScene, SeriesScene, generate, generate_series
from geo.series import activity_floor, series_tile
from geo.sites import TIME_SERIES, Region, merge_regions

SEGMENT_GRID = {"merge_distance_m": (20.0, 40.0, 60.0), "grow_m": (40.0, 60.0, 100.0), "opening": (True, False)}
SEGMENT_MERGE_GRID = {"crop_share": (0.4, 0.5, 0.6, 0.8), "min_segment_share": (0.05, 0.1, 0.15)}
OBJECT_GRID = {"min_object_share": (0.02, 0.03, 0.05, 0.08, 0.1)}


SERIES_GRID = {"merge_distance_m": (20.0, 40.0), "grow_m": (60.0, 100.0), "opening": (True, False)}
SERIES_MERGE_GRID = {"max_activity": (0.01, 0.02, 0.03, 0.05, 1.0), "min_segment_share": (0.05, 0.1, 0.15),
                     "crop_share": (0.6, 1.0)}
SERIES_OBJECT_GRID = {"max_activity": (0.01, 0.02, 0.03, 0.05, 1.0), "min_object_share": (0.02, 0.05, 0.1)}

FAMILIES = {"scenes": generate, "adversarial": adversarial.generate}
SERIES_FAMILIES = {"scenes": generate_series, "adversarial": adversarial_series.generate_series}

Scenes = BenchmarkScene | SeriesScene


def scenes(folder: Path, seeds: range, family: str = "scenes", series: bool = False) -> list[Scenes]:
    make = (SERIES_FAMILIES if series else FAMILIES)[family]
    return [make(folder / f"{family}-{seed}", seed=seed) for seed in seeds]


def _dates(scene: BenchmarkScene) -> tuple[Scene, Scene]:
    """Both dates, read with the reflectance scale their files declare (the adversarial
    family uses Landsat's) as the command does."""
    return tuple(Scene(str(path), BANDS, date, declared_reflectance(path) or Reflectance(),
                       cloud_mask=str(scl), cloud_classes=SCL_CLOUDY)
                 for path, scl, date in ((scene.before, scene.before_scl, scene.dates[0]),
                                         (scene.after, scene.after_scl, scene.dates[1])))  # type: ignore[return-value]


def _series(scene: SeriesScene) -> list[Scene]:
    return [Scene(str(path), BANDS, date, declared_reflectance(path) or Reflectance(), cloud_mask=str(scl),
                  cloud_classes=SCL_CLOUDY) for path, scl, date in zip(scene.stacks, scene.scls, scene.dates, strict=True)]


class Tiled(NamedTuple):
    """What the tiles of one scene gave: regions, pixel area and (series) activity floor."""

    regions: list[Region]
    pixel_area: float
    floor: float = 0.0


def regions(scene: Scenes, params: DetectionParams, objects: bool) -> Tiled:
    """The tiles' regions: from every date of a series, or from the two dates of a pair."""
    layer = scene.land_use if objects else None
    if isinstance(scene, SeriesScene):
        dated = _series(scene)
        width, height, transform, pixel_area, _ = grid_of(dated[0])
        results = [series_tile(dated, w, transform, params, None, layer) for w in tiles(width, height, params.tile_size)]
        return Tiled([r for t in results for r in t.regions], pixel_area, activity_floor([t.activity for t in results]))
    before, after = _dates(scene)
    width, height, transform, pixel_area, _ = grid_of(before)
    found: list[Region] = []
    for window in tiles(width, height, params.tile_size):
        found += detect_tile(before, after, window, transform, params, None, layer).regions
    return Tiled(found, pixel_area)


def score(scene: Scenes, found: Tiled, params: DetectionParams, objects: bool,
          min_cover: float | None = 0.5) -> SiteScores:
    """Site-level scores; ``min_cover`` None: matched at IoU >= 0.3 only (no coverage clause)."""
    return site_scores([c.geometry for c in candidates_of(scene, found, params, objects)], scene.truth,
                       scene.distractors, min_cover=min_cover)


def candidates_of(scene: Scenes, found: Tiled, params: DetectionParams, objects: bool):
    kind = {"evidence_from": TIME_SERIES, "activity_floor": found.floor} if isinstance(scene, SeriesScene) else {}
    return merge_regions(found.regions, found.pixel_area, params, objects=scene.land_use if objects else None, **kind)


def ranked_right(scene: Scenes, candidates: list) -> tuple[int, int]:
    """(pairs ordered right, pairs): every candidate on a disused plant against every
    candidate on an active plant; right when the disused one ranks higher."""
    active = scene.distractors.get("active_with_park", []) + scene.distractors.get("active_plant", [])
    ranks = [(i, any(c.geometry.intersects(t) for t in scene.truth), any(c.geometry.intersects(a) for a in active))
             for i, c in enumerate(candidates)]
    disused = [i for i, on_truth, _ in ranks if on_truth]
    working = [i for i, on_truth, on_active in ranks if on_active and not on_truth]
    return sum(d < w for d in disused for w in working), len(disused) * len(working)


def summary(scores: list[SiteScores]) -> dict[str, float]:
    return {"precision": statistics.mean(s.precision for s in scores),
            "recall": statistics.mean(s.recall for s in scores), "f1": statistics.mean(s.f1 for s in scores),
            "candidates_per_site": statistics.mean(s.candidates_per_site for s in scores if s.candidates_per_site)
            if any(s.candidates_per_site for s in scores) else 0.0}


def tune(tuning: list[Scenes]) -> dict[bool, DetectionParams]:
    """Per mode (objects: True, segmentation: False), the parameters with the best mean
    F1 at most 1.5 candidates per true site."""
    best: dict[bool, DetectionParams] = {}
    series = isinstance(tuning[0], SeriesScene)
    grids = ((True, {"opening": (True, False)}, SERIES_OBJECT_GRID), (False, SERIES_GRID, SERIES_MERGE_GRID)) \
        if series else ((True, {"opening": (True, False)}, OBJECT_GRID), (False, SEGMENT_GRID, SEGMENT_MERGE_GRID))
    for objects, grid, merge_grid in grids:
        results = []
        for tile_values in itertools.product(*grid.values()):
            params = dataclasses.replace(DetectionParams(), **dict(zip(grid, tile_values, strict=True)))
            computed = [regions(scene, params, objects) for scene in tuning]
            for merge_values in itertools.product(*merge_grid.values()):
                chosen = dataclasses.replace(params, **dict(zip(merge_grid, merge_values, strict=True)))
                s = summary([score(scene, found, chosen, objects) for scene, found in zip(tuning, computed, strict=True)])
                results.append((s["candidates_per_site"] <= 1.5, s["f1"], chosen, s))
        # on a tie (values the family cannot tell apart) the strictest thresholds are kept
        _, f1, chosen, _ = max(results, key=lambda r: (r[0], round(r[1], 4), _strictness(r[2])))
        keys = list(grid) + list(merge_grid)
        label = "object layer" if objects else "segmentation"
        print(f"tuned ({label}, {len(tuning)} scenes): " + ", ".join(f"{k}={getattr(chosen, k)}" for k in keys)
              + f"  F1 {f1:.3f}", flush=True)
        best[objects] = chosen
    return best


def _strictness(params: DetectionParams) -> float:
    return params.min_object_share + params.min_segment_share - params.max_activity


def report(scenes_: list[Scenes], params: dict[bool, DetectionParams], label: str = "") -> None:
    planted = sum(len(s.truth) for s in scenes_)
    print(f"{label}{len(scenes_)} synthetic scenes, {planted} disused plants", flush=True)
    for objects, mode in ((True, "objects"), (False, "segmentation")):
        computed = [regions(scene, params[objects], objects) for scene in scenes_]
        for min_cover, rule in ((None, "IoU>=0.3"), (0.5, "IoU>=0.3 or covers>=50%")):
            per_scene = [score(scene, found, params[objects], objects, min_cover)
                         for scene, found in zip(scenes_, computed, strict=True)]
            s = summary(per_scene)
            right = [ranked_right(scene, candidates_of(scene, found, params[objects], objects))
                     for scene, found in zip(scenes_, computed, strict=True)]
            ordered = f"{sum(r for r, _ in right)}/{sum(n for _, n in right)}"
            false_positives: dict[str, int] = {}
            for one in per_scene:
                for kind, count in one.false_positives.items():
                    false_positives[kind] = false_positives.get(kind, 0) + count
            print(f"{label}site-level {mode:<12} {rule:<24} precision {s['precision']:.3f}  recall {s['recall']:.3f}  "
                  f"F1 {s['f1']:.3f}  candidates per found site {s['candidates_per_site']:.2f}  "
                  f"disused above active (pairs) {ordered}  "
                  f"false positives by kind {false_positives or 'none'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--tune", action="store_true", help="search the parameters on seeds 1000+ first")
    parser.add_argument("--tune-on", choices=sorted(FAMILIES), default="scenes")
    parser.add_argument("--report-on", default="scenes,adversarial", help="families to report on, comma-separated")
    parser.add_argument("--series", action="store_true",
                        help="time series (several dates a year over three years): tune and report on the series, "
                             "and report the two-date detector on a pair of its summers")
    args = parser.parse_args()
    print(f"machine: {describe()}")
    with tempfile.TemporaryDirectory() as tmp:
        defaults = SERIES_PARAMS if args.series else DetectionParams()
        params = {True: defaults, False: defaults}
        two = {True: DetectionParams(), False: DetectionParams()}
        if args.tune:
            tuning = scenes(Path(tmp) / "tune", range(1000, 1000 + args.seeds), args.tune_on, args.series)
            params = tune(tuning)
            two = tune([s.pair() for s in tuning]) if args.series else params  # two summers, tuned on the same
        tuned = f"tuned on {args.tune_on}" if args.tune else "defaults"
        for family in args.report_on.split(","):
            reported = scenes(Path(tmp) / "report", range(args.seeds), family, args.series)
            report(reported, params, f"[{tuned}, {'time series, ' if args.series else ''}reported on {family}] ")
            if args.series:  # the same places, two summers only
                report([s.pair() for s in reported], two, f"[{tuned}, two dates of the series, reported on {family}] ")


if __name__ == "__main__":
    main()
