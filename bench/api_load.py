"""Load test on loopback: /match, bbox items and vector tiles at N synthetic sites, with
TiPg serving the same table and the same tiles in the same run. Every match request is a
different requirement (bench/requirements.py), so no answer can be served from memory.

    make bench-api_load ARGS="--sites 100000"

Builds (once) the benchmark catalogue (bench/catalogue.py), starts this service with
uvicorn and TiPg (installed by this script into var/tipg-venv from PyPI, never into the
project's environment), then for each endpoint sends a fixed, seeded list of requests
with a few concurrent clients and prints p50/p95 latency and requests per second.
Both servers get the same number of workers, database connections and keep-alive limit
(TiPg through bench/tipg_balanced.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from bench.catalogue import ensure
from bench.machine import describe
from bench.requirements import requirements

ROOT = Path(__file__).resolve().parent.parent
TIPG_VENV = ROOT / "var" / "tipg-venv"
TIPG_VERSION = "1.6.1"
# uv as make installs it (.tools/bin), or one on PATH
UV = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
TILE_PROPERTIES = "id,public_id,name,kind,site_type,condition,availability,land_area_m2,gross_floor_area_m2,price_eur,annual_rent_eur"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


def workload(url: str, count: int, seed: int) -> dict[str, list]:
    """Seeded requests around the catalogue's (synthetic) sites: bbox pages, tiles, and
    requirements that all differ (bench/requirements.py)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        points = [tuple(p) for p in conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM sites ORDER BY id"))]
    engine.dispose()
    rng = random.Random(seed)
    bboxes, detail, overview = [], [], []
    for _ in range(count):
        lon, lat = rng.choice(points)
        half = rng.uniform(0.02, 0.15)
        bboxes.append(f"/collections/sites/items?limit=100&bbox={lon - half:.4f},{lat - half:.4f},{lon + half:.4f},{lat + half:.4f}")
        z = rng.randint(12, 15)
        detail.append((z, *tile_of(lon, lat, z)))
        z = rng.randint(6, 11)
        overview.append((z, *tile_of(lon, lat, z)))
    return {"bbox": bboxes, "detail": detail, "overview": overview,
            "match": requirements(count, points, seed)}


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, probe: str):
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=5).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start: {process.stderr.read().decode()[-2000:]}")
            time.sleep(0.5)
        SERVERS[f"http://127.0.0.1:{port}"] = process.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


async def run(base: str, requests: list[tuple[str, str, dict | None]], concurrency: int) -> dict[str, float]:
    """The requests from ``concurrency`` clients on keep-alive connections. aiohttp (C
    HTTP parser) rather than httpx: the load generator shares the two cores with the
    servers, and httpx took 1.1-1.2 ms of CPU per request, as much as serving a tile."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = list(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(base, connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as client:
        async def worker() -> None:
            while queue:
                method, path, body = queue.pop()
                start = time.perf_counter()
                async with client.request(method, path, json=body) as response:
                    await response.read()
                latencies.append((time.perf_counter() - start) * 1000)
                statuses[response.status] = statuses.get(response.status, 0) + 1
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {"n": len(ordered), "p50": statistics.median(ordered), "p95": ordered[int(len(ordered) * 0.95) - 1],
            "rps": len(ordered) / elapsed, "ok": sum(v for k, v in statuses.items() if k < 400) / len(ordered)}


SERVERS: dict[str, int] = {}  # base URL -> pid of the uvicorn supervisor


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(base: str, requests: list[tuple[str, str, dict | None]], concurrency: int) -> dict[str, Any]:
    """``run``, plus how the server's workers shared the work (their CPU seconds): the
    kernel hands connections to whichever worker accepts first, and one worker serving
    every connection halves a server's capacity."""
    supervisor = SERVERS[base]
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = [int(p) for p in children if b"multiprocessing-fork" in Path(f"/proc/{p}/cmdline").read_bytes()]
    before = [_cpu_seconds(p) for p in workers]
    stats: dict[str, Any] = dict(asyncio.run(run(base, requests, concurrency)))
    used = [_cpu_seconds(p) - b for p, b in zip(workers, before, strict=True)]
    stats["split"] = "/".join(f"{100 * u / (sum(used) or 1):.0f}" for u in sorted(used, reverse=True))
    return stats


def ensure_tipg() -> Path:
    python = TIPG_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([UV, "venv", "-q", "--python", "3.11", str(TIPG_VENV)], check=True)
    subprocess.run([UV, "pip", "install", "-q", "--python", str(python), f"tipg=={TIPG_VERSION}", "uvicorn"],
                   check=True)
    return TIPG_VENV / "bin" / "uvicorn"


def report(name: str, stats: dict[str, Any]) -> None:
    print(f"{name:<44} n={stats['n']:<5} p50 {stats['p50']:7.1f} ms  p95 {stats['p95']:7.1f} ms  "
          f"{stats['rps']:7.1f} req/s  ok {stats['ok'] * 100:.0f}%  workers' CPU % {stats.get('split', '-')}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="API load test")
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1500,
                        help="per endpoint: a p95 from 400 moved by a third between runs on a shared machine")
    parser.add_argument("--tipg-overview-requests", type=int, default=200,
                        help="TiPg's z6-11 tiles carry every point and take seconds each")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tipg", action="store_true")
    parser.add_argument("--only", default="match,items,tiles", help="comma-separated: match, items, tiles")
    args = parser.parse_args()
    url = ensure(args.sites)
    paths = workload(url, args.requests, args.seed)
    print(f"machine: {describe()}  date: {dt.date.today()}  sites: {args.sites}  "
          f"concurrency: {args.concurrency}  workers: {args.workers}", flush=True)
    env = {"DATABASE_URL": url, "OPPORTUNITY_DB_POOL_SIZE": "5", "OPPORTUNITY_DB_MAX_OVERFLOW": "0"}
    ours = [sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory", "--port", "8731",
            "--workers", str(args.workers), "--log-level", "warning"]
    tiles = {kind: [("GET", f"/tiles/sites/{z}/{x}/{y}.pbf", None) for z, x, y in paths[kind]]
             for kind in ("detail", "overview")}
    with server(ours, env, 8731, "/health") as base:
        asyncio.run(run(base, [("GET", p, None) for p in paths["bbox"][:20]], args.concurrency))  # warm-up
        only = set(args.only.split(","))
        if "match" in only:
            match = [("POST", "/match", body) for body in paths["match"]]
            asyncio.run(run(base, [("POST", "/match", body) for body in requirements(20, [(9.19, 45.46)], 99)],
                            args.concurrency))
            report("opportunity /match", measured(base, match, args.concurrency))
        if "items" in only:
            ours_items = measured(base, [("GET", p, None) for p in paths["bbox"]], args.concurrency)
            report("opportunity bbox items (limit 100)", ours_items)
        if "tiles" in only:
            ours_detail = measured(base, tiles["detail"], args.concurrency)
            report("opportunity tiles z12-15 (single sites)", ours_detail)
            report("opportunity tiles z6-11 (clusters)", measured(base, tiles["overview"], args.concurrency))
    if args.no_tipg or only != {"match", "items", "tiles"}:
        return
    uvicorn = ensure_tipg()
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tipg_env = {
        "DATABASE_URL": dsn, "TIPG_DB_TABLES": '["public.sites"]', "TIPG_DB_MIN_CONN_SIZE": "5",
        "TIPG_DB_MAX_CONN_SIZE": "5", "TIPG_TILE_BUFFER": "64", "TIPG_MAX_FEATURES_PER_TILE": "1000000",
        "TIPG_TABLE_CONFIG__public_sites__GEOMCOL": "geom", "TIPG_TABLE_CONFIG__public_sites__PK": "id",
    }
    tipg_env["PYTHONPATH"] = str(ROOT)
    tipg = [str(uvicorn), "bench.tipg_balanced:app", "--port", "8732", "--workers", str(args.workers),
            "--log-level", "warning"]
    with server(tipg, tipg_env, 8732, "/collections") as base:
        def tipg_tiles(kind: str) -> list[tuple[str, str, None]]:
            return [("GET", f"/collections/public.sites/tiles/WebMercatorQuad/{z}/{x}/{y}"
                            f"?geom-column=geom&properties={TILE_PROPERTIES}", None) for z, x, y in paths[kind]]
        asyncio.run(run(base, tipg_tiles("detail")[:20], args.concurrency))
        # the same bbox pages from TiPg's OGC items endpoint (same table, same limit)
        tipg_paths = [("GET", p.replace("/collections/sites/items", "/collections/public.sites/items"), None)
                      for p in paths["bbox"]]
        asyncio.run(run(base, tipg_paths[:20], args.concurrency))
        tipg_items = measured(base, tipg_paths, args.concurrency)
        report(f"TiPg {TIPG_VERSION} bbox items (same boxes, limit 100)", tipg_items)
        tipg_detail = measured(base, tipg_tiles("detail"), args.concurrency)
        report(f"TiPg {TIPG_VERSION} tiles z12-15 (same tiles, same points)", tipg_detail)
        report(f"TiPg {TIPG_VERSION} tiles z6-11 (every point, no clusters)",
               measured(base, tipg_tiles("overview")[:args.tipg_overview_requests], args.concurrency))
    print(f"bbox items throughput ratio opportunity/TiPg: {ours_items['rps'] / tipg_items['rps']:.2f}  "
          f"p95 ratio TiPg/opportunity: {tipg_items['p95'] / ours_items['p95']:.2f}")
    print(f"tiles z12-15 p95 ratio TiPg/opportunity: {tipg_detail['p95'] / ours_detail['p95']:.2f}  "
          f"p50 ratio: {tipg_detail['p50'] / ours_detail['p50']:.2f}")


if __name__ == "__main__":
    main()
