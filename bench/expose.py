"""Exposé rendering time per site: the PDF profile of N published sites spread over the
region (each map drawn from the real reference layers around its own site), in Italian
and English, plus comparisons of five sites.

    make bench-expose ARGS="--sites 1000 --sample 40"

Runs on the benchmark catalogue of ``bench.catalogue`` (synthetic published sites, real
reference layers when ../shared/data is there). Prints the figures and the machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from sqlalchemy import create_engine, pool, text

from app.documents.pdf import comparison_pdf, expose_pdf
from bench.catalogue import ensure
from bench.machine import describe


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000, help="sites in the benchmark catalogue")
    parser.add_argument("--sample", type=int, default=40, help="sites printed (each in both languages)")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    engine = create_engine(ensure(args.sites), poolclass=pool.NullPool)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT id FROM sites WHERE status = 'published' ORDER BY id")).scalars().all()
        chosen = random.Random(args.seed).sample(ids, min(args.sample, len(ids)))
        expose_pdf(conn, chosen[0], "it")  # first print loads pango and the fonts: not timed
        times, sizes = [], []
        for site_id in chosen:
            for lang in ("it", "en"):
                start = time.perf_counter()
                sizes.append(len(expose_pdf(conn, site_id, lang)))
                times.append((time.perf_counter() - start) * 1000)
        compare = []
        for k in range(0, len(chosen) - 4, 5):
            start = time.perf_counter()
            comparison_pdf(conn, chosen[k:k + 5], "en")
            compare.append((time.perf_counter() - start) * 1000)
    print(f"machine: {describe()}")
    print(f"exposé per site ({len(times)} prints, {len(chosen)} sites x 2 languages): "
          f"median {statistics.median(times):.0f} ms, p95 {_quantile(times, 0.95):.0f} ms, "
          f"max {max(times):.0f} ms; median size {statistics.median(sizes) / 1024:.0f} KiB")
    if compare:
        print(f"comparison of 5 sites ({len(compare)} prints): median {statistics.median(compare):.0f} ms, "
              f"p95 {_quantile(compare, 0.95):.0f} ms")


if __name__ == "__main__":
    main()
