"""Detection, this checkout against another commit, side by side in one run.

    make bench-detection_ab ARGS="--against fe89ef5"

The machines here are noisy (the same command varies by 10% from one run to the next),
so a change to the detector's speed is measured against the commit before it in the
same run: the two-date SYNTHETIC scene of bench/detection.py tiled to 36 Mpx per date,
the whole command (`opportunity detect run --no-store`) in a fresh process, alternating
this checkout and the other commit (a temporary git worktree) ``--runs`` times each. Prints
each run's CPU seconds and candidates (they must agree), then the medians.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.detection import tile_raster, two_date_arguments
from bench.machine import describe
from geo.scenes import generate

ROOT = Path(__file__).resolve().parents[1]

# the command from ``tree`` (its modules first on the path), as `opportunity` runs it
COMMAND = """
import runpy, sys
sys.path.insert(0, sys.argv.pop(1))
sys.argv = ["opportunity", *sys.argv[1:]]
runpy.run_module("app.cli", run_name="__main__")
"""


def run_once(tree: Path, paths: dict[str, Path]) -> tuple[float, str]:
    """CPU seconds of one fresh command from ``tree`` and its last line (the candidates)."""
    args = [sys.executable, "-c", COMMAND, str(tree), *two_date_arguments(paths)]
    process = subprocess.Popen(args, cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "GDAL_NUM_THREADS": "1", "COLUMNS": "200"})
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise RuntimeError(f"{tree}: {output[-2000:]}")
    return usage.ru_utime + usage.ru_stime, output.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the commit to compare with (hash or ref)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating")
    parser.add_argument("--repeat", type=int, default=6, help="scene copies per side: 6 = 36 Mpx per date")
    args = parser.parse_args()
    print(f"machine: {describe()}  date: {dt.date.today()}")
    (ROOT / "var").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "var") as tmp:
        folder, other = Path(tmp), Path(tmp) / "other"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(other), args.against],
                       check=True)
        try:
            base = generate(folder / "base", size=1000, disused=12, active=12, seed=7)
            paths = {name: folder / f"{name}.tif" for name in ("before", "after", "before_scl", "after_scl")}
            for name, path in paths.items():
                tile_raster(getattr(base, name), path, args.repeat)
            trees = {"this checkout": ROOT, args.against: other}
            seconds: dict[str, list[float]] = {label: [] for label in trees}
            for run in range(args.runs):
                for label, tree in trees.items():
                    cpu, last = run_once(tree, paths)
                    seconds[label].append(cpu)
                    print(f"run {run + 1} {label:<14} {cpu:6.2f} CPU s  {last}", flush=True)
            pixels = (1000 * args.repeat) ** 2 / 1e6
            for label, values in seconds.items():
                median = statistics.median(values)
                print(f"{label:<14} median {median:6.2f} CPU s, {pixels / median:4.1f} Mpx per CPU second "
                      f"({pixels:.0f} Mpx per date, two dates, segmentation)")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(other)], check=False)


if __name__ == "__main__":
    main()
