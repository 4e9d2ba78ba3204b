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


def _machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def measure(stack: Stack, requests: list[tuple[str, str, dict | None]], concurrency: int) -> dict[str, Any]:
    """The run's figures, with the CPU seconds each replica used and how busy the whole
    machine was (PostgreSQL, nginx and the load generator share it with the replicas)."""
    pids = [r.process.pid for r in stack.members if r.process is not None]
    before, machine = [_cpu_seconds(p) for p in pids], _machine_ticks()
    stats: dict[str, Any] = dict(asyncio.run(run(stack.base, requests, concurrency)))
    used = [_cpu_seconds(p) - b for p, b in zip(pids, before, strict=True)]
    busy, total = (now - then for now, then in zip(_machine_ticks(), machine, strict=True))
    stats["replica_cpu_s"] = "/".join(f"{u:.1f}" for u in used)
    stats["machine_busy"] = busy / max(1, total)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--match-requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
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
        "match (each requirement different)": [("POST", "/match", body) for body in paths["match"][:args.match_requests]],
    }
    env = {"DATABASE_URL": url, "OPPORTUNITY_DB_POOL_SIZE": "5", "OPPORTUNITY_DB_MAX_OVERFLOW": "0",
           "OPPORTUNITY_LIMIT_AREA_MATCHES": "1000000"}  # one client address sends every match
    results: dict[tuple[str, int], dict[str, Any]] = {}
    # 1, 2, then 1, 2 again, best of the two rounds for each: neither count gets the
    # database's warm caches alone
    for round_ in range(args.rounds):
        for replicas in (1, 2):
            folder = ROOT / "var" / "bench-replicas"
            shutil.rmtree(folder, ignore_errors=True)
            stack = Stack("127.0.0.1", args.port, replicas, folder, env=env, log=open(os.devnull, "wb"))
            try:
                stack.start()
                asyncio.run(run(stack.base, endpoints["bbox items (limit 100)"][:50], args.concurrency))  # warm-up
                for name, requests in endpoints.items():
                    stats = measure(stack, requests, args.concurrency)
                    print(f"round {round_ + 1}  {name:<36} {replicas} replica{'s' if replicas > 1 else ' '}  "
                          f"n={stats['n']:<5} p50 {stats['p50']:6.1f} ms  p95 {stats['p95']:6.1f} ms  "
                          f"{stats['rps']:7.1f} req/s  ok {stats['ok'] * 100:.0f}%  "
                          f"replicas' CPU s {stats['replica_cpu_s']}  machine CPU busy {stats['machine_busy'] * 100:.0f}%",
                          flush=True)
                    best = results.get((name, replicas))
                    if best is None or stats["rps"] > best["rps"]:
                        results[(name, replicas)] = stats
            finally:
                stack.stop()
    for name in endpoints:
        one, two = results[(name, 1)], results[(name, 2)]
        print(f"best of {args.rounds} rounds  {name:<36} 1 replica {one['rps']:.1f} req/s (p95 {one['p95']:.1f} ms), "
              f"2 replicas {two['rps']:.1f} req/s (p95 {two['p95']:.1f} ms): {two['rps'] / one['rps']:.2f}x "
              "requests per second", flush=True)


if __name__ == "__main__":
    main()
