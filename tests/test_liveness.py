"""Uploads never freeze the service: 30 concurrent signed-in uploads and a workbook
with 500,000 rows in its instructions sheet, on a real uvicorn server, while a reader
keeps asking for /health and a page of sites. Every read is answered within the
client's 10 s; every upload ends with a status its client received, and the catalogue
and the upload folder agree with what each client was told."""

from __future__ import annotations

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from app.api.main import create_app
from app.core import settings
from tests.conftest import remove_uploaded_candidacies, signed_in
from tests.live import serving
from tests.workbooks import OWNER_COMPANY, rebuild_zip, valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
UPLOADS = 30
STORED, NOT_STORED = {200, 201}, {422, 429, 503}


def instructions_bomb(rows: int = 500_000) -> bytes:
    """A valid candidacy whose 'Istruzioni' sheet (never read by the parser) holds
    ``rows`` rows: the file that once froze the service for 22.6 s."""
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, rows + 1))
    sheet = f'<worksheet xmlns="{NS}"><sheetData>{body}</sheetData></worksheet>'.encode()
    return rebuild_zip(valid_writer(name="Istruzioni enormi").to_bytes(), {"xl/worksheets/sheet4.xml": sheet})


def test_reads_stay_answered_during_an_upload_burst(database_url: str, catalogue: list[int], engine: Engine,
                                                    tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    bomb = instructions_bomb()
    assert len(bomb) < upload_limit()
    headers = signed_in(engine, "burst@esempio-test.example", tax_id=OWNER_COMPANY[1])
    books = [valid_writer(name=f"Sito raffica {i}").to_bytes() for i in range(UPLOADS)]
    reads: list[tuple[str, int | str, float]] = []
    done = threading.Event()
    try:
        with serving(create_app(database_url)) as base:
            def reader() -> None:
                with httpx.Client(base_url=base, timeout=10) as client:
                    while not done.is_set():
                        for path in ("/health", "/collections/sites/items?limit=10"):
                            started = time.perf_counter()
                            try:
                                status: int | str = client.get(path).status_code
                            except httpx.HTTPError as exc:
                                status = type(exc).__name__
                            reads.append((path, status, time.perf_counter() - started))

            def upload(data: bytes) -> int:
                with httpx.Client(base_url=base, timeout=120) as client:
                    return client.post("/intake/candidacies", headers=headers,
                                       files={"file": ("c.xlsx", data, XLSX)}).status_code

            def annotate_bomb() -> httpx.Response:
                with httpx.Client(base_url=base, timeout=120) as client:
                    return client.post("/intake/validate/annotated", files={"file": ("big.xlsx", bomb, XLSX)})

            watcher = threading.Thread(target=reader)
            watcher.start()
            time.sleep(0.3)
            with ThreadPoolExecutor(UPLOADS + 1) as pool:
                bomb_answer = pool.submit(annotate_bomb)
                statuses = list(pool.map(upload, books))
                refused = bomb_answer.result()
            time.sleep(0.3)
            done.set()
            watcher.join()
        failed_reads = [r for r in reads if r[1] != 200]
        assert reads and not failed_reads, failed_reads[:5]
        assert max(seconds for _, _, seconds in reads) < 10
        assert refused.status_code == 422 and refused.json()["error"]["code"] == "too_many_rows"
        assert "Istruzioni" in refused.json()["error"]["message"]
        assert set(statuses) <= STORED | NOT_STORED, statuses
        assert STORED & set(statuses)
        digests = {hashlib.sha256(d).hexdigest(): s for d, s in zip(books, statuses, strict=True)}
        with engine.connect() as conn:
            in_catalogue = set(conn.execute(text("SELECT file_sha256 FROM candidacies")).scalars())
        assert {d for d, s in digests.items() if s in STORED} <= in_catalogue
        assert not {d for d, s in digests.items() if s in NOT_STORED} & in_catalogue
        on_disk = {p.name.removesuffix(".xlsx") for p in (tmp_path / "uploads").rglob("*.xlsx")}
        assert on_disk == {d for d, s in digests.items() if s in STORED}
    finally:
        settings.storage_settings.cache_clear()
        remove_uploaded_candidacies(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = 'burst@esempio-test.example'"))


def upload_limit() -> int:
    return settings.upload_settings().max_bytes
