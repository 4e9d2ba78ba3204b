"""Uploads under load, through the HTTP API: a burst of concurrent uploads while a reader
keeps asking for /health and a page of sites, and a sustained stream of uploads.

    make bench-upload_load ARGS="--burst 30 --files 200"

Serves this service with uvicorn (``--workers``, 1 by default like ``opportunity
serve``) over a throwaway database of the embedded cluster with the reference layers,
and prints, each with the machine:

* read latency (p50/p95) at rest, then during a burst of ``--burst`` concurrent uploads
  by one signed-in account, and the burst's uploads per second and statuses;
* end-to-end intake over HTTP (multipart upload, parse, validate, store, enrich,
  commit) for ``--files`` distinct workbooks with ``--clients`` concurrent clients.

Uploads are the sample workbooks of data/sample with numbered site names (every one is
really stored), sent by a staff account (staff may upload for any proponent).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy.orm import Session

from app.accounts.auth import create_user, issue_token
from app.core.database import make_engine
from bench.api_load import server
from bench.ingest import variants
from bench.machine import describe
from bench.scratch import scratch_catalogue

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PORT = 8741


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class Reader(threading.Thread):
    """Asks for /health and a page of sites in turn, recording latency in ms."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.latencies, self.failures = base, [], 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            while not self.stop.is_set():
                for path in ("/health", "/collections/sites/items?limit=10"):
                    started = time.perf_counter()
                    try:
                        ok = client.get(path).status_code == 200
                    except httpx.HTTPError:
                        ok = False
                    self.latencies.append((time.perf_counter() - started) * 1000)
                    self.failures += not ok


def read_for(base: str, seconds: float) -> Reader:
    reader = Reader(base)
    reader.start()
    time.sleep(seconds)
    reader.stop.set()
    reader.join()
    return reader


def upload_all(base: str, headers: dict[str, str], files: list[bytes], clients: int) -> tuple[list[int], float]:
    def upload(data: bytes) -> int:
        with httpx.Client(base_url=base, timeout=120) as client:
            return client.post("/intake/candidacies", headers=headers,
                               files={"file": ("candidatura.xlsx", data, XLSX)}).status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        statuses = list(pool.map(upload, files))
    return statuses, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description="Uploads under load")
    parser.add_argument("--burst", type=int, default=30)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # one signing key for the token issued here and the server that checks it
    os.environ["OPPORTUNITY_AUTH_SECRET_KEY"] = secrets.token_urlsafe(48)
    with scratch_catalogue() as url:
        engine = make_engine(url)
        with Session(engine) as db:
            staff = create_user(db, "bench@invest-lombardy.example", secrets.token_urlsafe(16), "staff")
            db.flush()
            headers = {"Authorization": f"Bearer {issue_token(staff)[0]}"}
            db.commit()
        engine.dispose()
        files = variants(args.burst + args.files + 4)
        with tempfile.TemporaryDirectory() as data_dir:
            env = {"DATABASE_URL": url, "OPPORTUNITY_DATA_DIR": data_dir, "OPPORTUNITY_LIMIT_UPLOADS": "100000"}
            command = [sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory", "--port", str(PORT),
                       "--workers", str(args.workers), "--log-level", "warning"]
            with server(command, env, PORT, "/health") as base:
                upload_all(base, headers, files[:4], 2)  # warm-up: imports, caches, prepared statements
                idle = read_for(base, 5)
                burst_reader = Reader(base)
                burst_reader.start()
                burst, burst_s = upload_all(base, headers, files[4:4 + args.burst], args.burst)
                burst_reader.stop.set()
                burst_reader.join()
                stream, stream_s = upload_all(base, headers, files[4 + args.burst:], args.clients)
    print(f"machine: {describe()}  date: {dt.date.today()}  workers: {args.workers}")
    print(f"reads at rest: p50 {statistics.median(idle.latencies):.1f} ms, p95 {percentile(idle.latencies, .95):.1f} ms "
          f"({len(idle.latencies)} reads, {idle.failures} failed)")
    print(f"burst of {args.burst} concurrent uploads: {args.burst / burst_s:.1f} uploads/s "
          f"({burst_s:.2f} s; statuses {sorted(set(burst))}, {burst.count(201)} stored)")
    print(f"reads during the burst: p50 {statistics.median(burst_reader.latencies):.1f} ms, "
          f"p95 {percentile(burst_reader.latencies, .95):.1f} ms, max {max(burst_reader.latencies):.1f} ms "
          f"({len(burst_reader.latencies)} reads, {burst_reader.failures} failed)")
    print(f"end-to-end intake over HTTP, {args.clients} clients: {len(stream) / stream_s:.1f} files/s "
          f"({len(stream)} files, {stream.count(201)} stored)")


if __name__ == "__main__":
    main()
