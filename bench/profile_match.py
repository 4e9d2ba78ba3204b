"""Where a ``POST /match`` spends its time, in-process (no HTTP), on the benchmark
catalogue: the bench's six requirements run N times under cProfile, then the top
functions by cumulative and own time, and the phases timed one by one.

    make bench-profile_match ARGS="--sites 100000 --rounds 50"
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time

import orjson

from app.catalogue import matching
from app.catalogue.requirements import Requirement
from app.catalogue.snapshot import get_snapshot
from app.core.database import make_engine
from bench.api_load import REQUIREMENTS
from bench.catalogue import ensure
from bench.machine import describe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    engine = make_engine(ensure(args.sites))  # the service's engine: JSON columns parsed by orjson
    requirements = [Requirement.model_validate(r) for r in REQUIREMENTS]
    print(f"machine: {describe()}  sites: {args.sites}  rounds: {args.rounds}")
    with engine.connect() as conn:
        get_snapshot(conn)
        for r in requirements:  # warm-up
            matching.match(conn, r)
        start = time.perf_counter()
        for _ in range(args.rounds):
            for r in requirements:
                orjson.dumps(matching.match(conn, r))
        plain = (time.perf_counter() - start) / (args.rounds * len(requirements))
        print(f"one match, in-process, serialised: {1000 * plain:.2f} ms (mean of {args.rounds * len(requirements)})")
        for r, body in zip(REQUIREMENTS, requirements, strict=True):
            start = time.perf_counter()
            for _ in range(args.rounds):
                orjson.dumps(matching.match(conn, body))
            print(f"  {1000 * (time.perf_counter() - start) / args.rounds:6.2f} ms  {orjson.dumps(r).decode()[:90]}")
        start = time.perf_counter()
        count = 0
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.rounds):
            for r in requirements:
                orjson.dumps(matching.match(conn, r))
                count += 1
        profiler.disable()
        elapsed = time.perf_counter() - start
    print(f"{count} matches in {elapsed:.2f} s: {1000 * elapsed / count:.2f} ms each (profiled)")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(25)
    stats.sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
