"""Where a ``POST /match`` spends its time, in-process (no HTTP), on the benchmark
catalogue: N different requirements (bench/requirements.py) timed one by one, then run
again under cProfile with the top functions by cumulative and own time.

    make bench-profile_match ARGS="--sites 100000 --requirements 300"
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

import orjson
from sqlalchemy import text

from app.core.database import make_engine
from app.scouting import matching
from app.scouting.requirements import Requirement
from app.scouting.snapshot import get_snapshot
from bench.catalogue import ensure
from bench.machine import describe
from bench.requirements import requirements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--requirements", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    engine = make_engine(ensure(args.sites))  # the service's engine: JSON columns parsed by orjson
    print(f"machine: {describe()}  sites: {args.sites}  requirements: {args.requirements}")
    with engine.connect() as conn:
        points = [tuple(p) for p in conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM sites ORDER BY id"))]
        bodies = [Requirement.model_validate(r) for r in requirements(args.requirements, points, args.seed)]
        get_snapshot(conn)
        for r in bodies[:10]:  # warm-up
            matching.match(conn, r)
        times = []
        for r in bodies:
            start = time.perf_counter()
            orjson.dumps(matching.match(conn, r))
            times.append(1000 * (time.perf_counter() - start))
        times.sort()
        print(f"one match, in-process, serialised: mean {statistics.mean(times):.2f} ms, "
              f"p50 {statistics.median(times):.2f}, p95 {times[int(len(times) * 0.95) - 1]:.2f}")
        profiler = cProfile.Profile()
        profiler.enable()
        for r in bodies:
            orjson.dumps(matching.match(conn, r))
        profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
