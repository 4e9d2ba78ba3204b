"""Excel intake speed: parse+validate alone (openpyxl and python-calamine side by side)
and end-to-end with storage (read, validate, store the original and the records, enrich,
commit), on the sample workbooks.

    make bench-ingest ARGS="--files 200"

Runs in a throwaway database of the embedded cluster with the reference layers loaded
(../shared/data is needed for the cadastral sheets of the samples). Each end-to-end file
is a distinct workbook (a sample with its site renamed), so every one is really stored.
End-to-end runs use the service's own engine settings (a connection pool), once with one
uploader at a time and once with as many at once as the service has parsing slots per
worker (``OPPORTUNITY_UPLOAD_CONCURRENCY``, 2 by default).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import tempfile
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from app.candidacies.intake import check_workbook, submit
from app.core.database import make_engine
from app.core.settings import upload_settings
from bench.machine import describe
from bench.scratch import scratch_catalogue
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
    with scratch_catalogue() as url:
        engine = make_engine(url)
        files = variants(args.files * 2)
        size_kib = statistics.mean(len(f) for f in files) / 1024
        results = {}
        with Session(engine) as session:
            for reader in ("openpyxl", "calamine"):
                timed(session, files[:8], reader)  # warm-up: imports, caches
                results[reader] = timed(session, files[: args.files], reader)
            memory = {r: peak_memory_mib(session, files[0], r) for r in ("openpyxl", "calamine")}
        slots = upload_settings().concurrency
        end_to_end = {}
        with tempfile.TemporaryDirectory() as uploads:
            def store(data: bytes) -> None:
                with Session(engine) as session:
                    submit(session, data, uploads_dir=Path(uploads), engine="calamine")

            for workers, batch in ((1, files[: args.files]), (slots, files[args.files:])):
                start = time.perf_counter()
                with ThreadPoolExecutor(workers) as pool:
                    list(pool.map(store, batch))
                end_to_end[workers] = (len(batch), time.perf_counter() - start)
        engine.dispose()
    print(f"machine: {describe()}  date: {dt.date.today()}  files: {args.files} (mean {size_kib:.0f} KiB)")
    for reader, times in results.items():
        print(f"parse+validate {reader:<9} median {statistics.median(times):6.1f} ms  "
              f"p95 {sorted(times)[int(len(times) * 0.95)]:6.1f} ms  "
              f"{len(times) / (sum(times) / 1000):6.1f} files/s  peak Python memory {memory[reader]:.1f} MiB")
    for workers, (count, seconds) in end_to_end.items():
        print(f"end-to-end calamine, {workers} uploader(s) at once (read, validate, store, enrich; "
              f"one transaction per file): {count / seconds:5.1f} files/s ({count} files)")


if __name__ == "__main__":
    main()
