"""Reads through nginx with one API replica, then two, in the same run: requests per
second and latency, and their ratio.

    make bench-replicas ARGS="--sites 100000"

Starts the production profile (app/cli/production.py: nginx in front of uvicorn
processes, one worker each) on the benchmark catalogue (bench/catalogue.py), sends the
same seeded bbox pages and vector tiles as bench/api_load.py from a few concurrent
clients (aiohttp), and prints one line per endpoint and replica count. The load
generator runs on the same machine: on two cores it takes a share of the CPU the
replicas would use, which the printed CPU split shows.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

from app.cli.production import Stack
from bench.api_load import ROOT, run, workload
from bench.catalogue import ensure
from bench.machine import describe


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(stack: Stack, requests: list[tuple[str, str, dict | None]], concurrency: int) -> dict[str, Any]:
    pids = [r.process.pid for r in stack.members if r.process is not None]
    before = [_cpu_seconds(p) for p in pids]
    stats: dict[str, Any] = dict(asyncio.run(run(stack.base, requests, concurrency)))
    used = [_cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
    stats["replica_cpu_s"] = "/".join(f"{u:.1f}" for u in used)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=8740)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = ensure(args.sites)
    paths = workload(url, args.requests, args.seed)
    print(f"machine: {describe()}  date: {dt.date.today()}  sites: {args.sites}  concurrency: {args.concurrency}  "
          f"requests per endpoint: {args.requests}", flush=True)
    endpoints = {
        "bbox items (limit 100)": [("GET", p, None) for p in paths["bbox"]],
        "tiles z12-15": [("GET", f"/tiles/sites/{z}/{x}/{y}.pbf", None) for z, x, y in paths["detail"]],
    }
    env = {"DATABASE_URL": url, "OPPORTUNITY_DB_POOL_SIZE": "5", "OPPORTUNITY_DB_MAX_OVERFLOW": "0"}
    results: dict[tuple[str, int], dict[str, Any]] = {}
    for replicas in (1, 2):
        folder = ROOT / "var" / "bench-replicas"
        shutil.rmtree(folder, ignore_errors=True)
        stack = Stack("127.0.0.1", args.port, replicas, folder, env=env, log=open(os.devnull, "wb"))
        try:
            stack.start()
            asyncio.run(run(stack.base, endpoints["bbox items (limit 100)"][:50], args.concurrency))  # warm-up
            for name, requests in endpoints.items():
                stats = results[(name, replicas)] = measure(stack, requests, args.concurrency)
                print(f"{name:<24} {replicas} replica{'s' if replicas > 1 else ' '}  n={stats['n']:<5} "
                      f"p50 {stats['p50']:6.1f} ms  p95 {stats['p95']:6.1f} ms  {stats['rps']:7.1f} req/s  "
                      f"ok {stats['ok'] * 100:.0f}%  replicas' CPU s {stats['replica_cpu_s']}", flush=True)
        finally:
            stack.stop()
    for name in endpoints:
        one, two = results[(name, 1)], results[(name, 2)]
        print(f"{name:<24} 2 replicas / 1: {two['rps'] / one['rps']:.2f}x requests per second, "
              f"p95 {two['p95'] / one['p95']:.2f}x", flush=True)


if __name__ == "__main__":
    main()
