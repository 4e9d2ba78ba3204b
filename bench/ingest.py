"""Excel intake speed: parse+validate alone (openpyxl and python-calamine side by side)
and end-to-end with storage, on the sample workbooks.

    uv run python -m bench.ingest [--files 200]

Runs in a throwaway database of the embedded cluster with the reference layers loaded
(../shared/data is needed for the cadastral sheets of the samples). Each end-to-end file
is a distinct workbook (a sample with its site renamed), so every one is really stored;
half the files go through each reader.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import secrets
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app import migrations
from app.database import embedded_cluster, resolve_database_url
from app.intake import check_workbook, submit
from app.reference import load_all
from app.settings import storage_settings
from bench.machine import describe
from ingest.fields import SHEET_CANDIDACY

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "sample"


def variants(count: int) -> list[bytes]:
    """``count`` distinct valid workbooks: the valid samples with numbered site names."""
    sources = [p for p in sorted(SAMPLES.glob("0[1-4]_*.xlsx"))]
    files = []
    for i in range(count):
        book = load_workbook(sources[i % len(sources)])
        sheet = book[SHEET_CANDIDACY]
        for row in sheet.iter_rows(min_col=1, max_col=2):
            if isinstance(row[0].value, str) and row[0].value.startswith("Denominazione dell'opportunit"):
                row[1].value = f"{row[1].value} #{i}"
        buffer = io.BytesIO()
        book.save(buffer)
        files.append(buffer.getvalue())
    return files


def timed(session: Session, files: list[bytes], engine: str) -> list[float]:
    times = []
    for data in files:
        start = time.perf_counter()
        check_workbook(session, data, engine)
        times.append((time.perf_counter() - start) * 1000)
    return times


def peak_memory_mib(session: Session, data: bytes, engine: str) -> float:
    tracemalloc.start()
    check_workbook(session, data, engine)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description="Excel intake benchmark")
    parser.add_argument("--files", type=int, default=200)
    args = parser.parse_args()
    shared = storage_settings().shared_data_dir
    base = make_url(resolve_database_url())
    name = f"bench_{secrets.token_hex(4)}"
    cluster = embedded_cluster()
    cluster.create_database(name)
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.begin() as conn:
            load_all(conn, shared if shared.is_dir() else None)
        files = variants(args.files)
        size_kib = statistics.mean(len(f) for f in files) / 1024
        results = {}
        with Session(engine) as session:
            for reader in ("openpyxl", "calamine"):
                timed(session, files[:8], reader)  # warm-up: imports, caches
                results[reader] = timed(session, files, reader)
            memory = {r: peak_memory_mib(session, files[0], r) for r in ("openpyxl", "calamine")}
        end_to_end = {}
        for reader, batch in (("calamine", files[: len(files) // 2]), ("openpyxl", files[len(files) // 2:])):
            with Session(engine) as session, tempfile.TemporaryDirectory() as uploads:
                start = time.perf_counter()
                for data in batch:
                    submit(session, data, uploads_dir=Path(uploads), engine=reader)
                end_to_end[reader] = (len(batch), time.perf_counter() - start)
        engine.dispose()
    finally:
        cluster.drop_database(name)
    print(f"machine: {describe()}  date: {dt.date.today()}  files: {args.files} (mean {size_kib:.0f} KiB)")
    for reader, times in results.items():
        print(f"parse+validate {reader:<9} median {statistics.median(times):6.1f} ms  "
              f"p95 {sorted(times)[int(len(times) * 0.95)]:6.1f} ms  "
              f"{len(times) / (sum(times) / 1000):6.1f} files/s  peak Python memory {memory[reader]:.1f} MiB")
    for reader, (count, seconds) in end_to_end.items():
        print(f"end-to-end {reader:<9} (read, validate, store; one transaction per file): "
              f"{count / seconds:5.1f} files/s, {seconds / count * 1000:5.1f} ms per file ({count} files)")


if __name__ == "__main__":
    main()
