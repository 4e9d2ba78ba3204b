"""PostgreSQL killed (SIGKILL, no shutdown) in the middle of a burst of uploads, on a
dedicated, durable test cluster: afterwards every upload whose client heard "stored"
is in the catalogue with its file, every other one left nothing, and no file, temp
file or half-stored candidacy remains."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from app.api.main import create_app
from app.core import migrations, settings
from app.core.embedded_db import EmbeddedCluster
from app.core.errors import DatabaseSetupError
from app.reference.sources import load_all
from tests.conftest import ROOT, SHARED_DATA, free_port, signed_in
from tests.live import serving
from tests.workbooks import OWNER_COMPANY, valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UPLOADS = 24


def _kill(cluster: EmbeddedCluster) -> list[int]:
    """SIGKILL the postmaster and every backend: a crash, not a shutdown."""
    pid = cluster.status().pid
    assert pid is not None
    victims = [pid, *(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return victims


def _wait_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{p}").exists() for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_killing_postgres_mid_upload_leaves_no_orphan_and_no_half_candidacy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = ROOT / "var" / "test-crash-pg"
    shutil.rmtree(root, ignore_errors=True)
    cluster = EmbeddedCluster(root, free_port(), database="crash")  # durable: fsync on
    try:
        cluster.start()
    except DatabaseSetupError as exc:
        pytest.skip(f"cannot start a PostGIS test cluster: {exc.message}")
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("OPPORTUNITY_LIMIT_UPLOADS", "1000")
    settings.storage_settings.cache_clear()
    settings.limit_settings.cache_clear()
    url = cluster.url()
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        migrations.upgrade(url)
        with engine.begin() as conn:
            load_all(conn, SHARED_DATA if SHARED_DATA.is_dir() else None)
        headers = signed_in(engine, "crash@esempio-test.example", tax_id=OWNER_COMPANY[1])
        books = [valid_writer(name=f"Sito crash {i}").to_bytes() for i in range(UPLOADS)]
        first_stored = threading.Event()
        with serving(create_app(url)) as base, httpx.Client(base_url=base, timeout=60) as client:
            def upload(data: bytes) -> int:
                status = client.post("/intake/candidacies", headers=headers,
                                     files={"file": ("c.xlsx", data, XLSX)}).status_code
                if status == 201:
                    first_stored.set()
                return status

            with ThreadPoolExecutor(4) as workers:
                futures = [workers.submit(upload, data) for data in books]
                assert first_stored.wait(60), [f.result() for f in futures if f.done()]
                killed = _kill(cluster)
                statuses = [f.result() for f in futures]
        assert 201 in statuses and any(s != 201 for s in statuses), statuses
        assert set(statuses) <= {201, 503}, statuses

        _wait_gone(killed)
        cluster.start()  # crash recovery
        store = tmp_path / "uploads"
        digests = {hashlib.sha256(d).hexdigest(): s for d, s in zip(books, statuses, strict=True)}
        with engine.connect() as conn:
            stored = set(conn.execute(text("SELECT file_sha256 FROM candidacies")).scalars())
            half = conn.execute(text("""
                SELECT count(*) FROM candidacies c
                LEFT JOIN sites s ON s.lineage_id = c.lineage_id AND s.candidacy_id = c.id
                WHERE s.id IS NULL OR NOT EXISTS (SELECT 1 FROM audit_events a
                    WHERE a.entity_type = 'candidacy' AND a.entity_id = c.id::text)""")).scalar()
        assert stored == {d for d, s in digests.items() if s == 201}
        assert half == 0
        files = sorted(p.name for p in store.rglob("*") if p.is_file())
        assert files == sorted(f"{d}.xlsx" for d in stored)
    finally:
        settings.storage_settings.cache_clear()
        settings.limit_settings.cache_clear()
        engine.dispose()
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
