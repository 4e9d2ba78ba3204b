"""The restore drill, end to end through the commands an operator types: load data, back
up, change more, destroy the cluster (and lose an original), restore to a point in time,
and find candidacies, versions, audit events and uploaded files in agreement."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine

from app.core.embedded_db import EmbeddedCluster
from app.core.storage import check_store, path_for
from tests.conftest import ROOT

SAMPLES = ROOT / "data" / "sample"
BATCHES = {"before-backup": ["01_area_libera_cremona.xlsx", "02_edificio_dismesso_sesto.xlsx"],
           "before-target": ["03_progetto_investimento_brescia.xlsx"],
           "after-target": ["04_delegato_lettera_c_viadana.xlsx"]}


@pytest.fixture(scope="module")
def drill(shared_data: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A cluster of its own, durable and archiving (the test clusters are neither), under
    var/ where the postgres user can reach it."""
    root = ROOT / "var" / "restore-drill"
    shutil.rmtree(root, ignore_errors=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "OPPORTUNITY_DB_OWNER_URL")}
    env.update(OPPORTUNITY_DATA_DIR=str(root), OPPORTUNITY_DB_EMBEDDED_PORT=str(port),
               OPPORTUNITY_SHARED_DATA_DIR=str(shared_data), COLUMNS="300")  # rich wraps at 80
    for name, files in BATCHES.items():
        (root / name).mkdir(parents=True)
        for file in files:
            shutil.copy(SAMPLES / file, root / name / file)
    yield root, env
    EmbeddedCluster(root / "pg", port).stop()
    shutil.rmtree(root, ignore_errors=True)


def opportunity(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "app.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    if ok:
        assert done.returncode == 0, output
    return done.__class__(done.args, done.returncode, output, "")


def _state(url: str) -> dict[str, list[tuple]]:
    with psycopg.connect(url) as conn:
        return {
            "candidacies": conn.execute("SELECT id, version, status, file_sha256 FROM candidacies ORDER BY id").fetchall(),
            "audit": conn.execute("SELECT id, action, entity_id FROM audit_events ORDER BY id").fetchall(),
            "sites": conn.execute("SELECT id, lineage_id FROM sites WHERE lineage_id IS NOT NULL ORDER BY id").fetchall(),
        }


def test_restore_drill_to_a_point_in_time(drill: tuple[Path, dict[str, str]]) -> None:
    root, env = drill
    port = int(env["OPPORTUNITY_DB_EMBEDDED_PORT"])
    cluster = EmbeddedCluster(root / "pg", port)
    uploads = root / "uploads"
    stopped = opportunity(env, "db", "backup", ok=False)
    assert stopped.returncode == 1 and "not running: start it (opportunity db start) first" in stopped.stdout
    opportunity(env, "db", "start")
    opportunity(env, "db", "migrate")
    opportunity(env, "reference", "load")
    refused = opportunity(env, "db", "restore", "--yes", ok=False)
    assert refused.returncode == 1 and "no base backup to restore" in refused.stdout

    assert "stored v1" in opportunity(env, "intake", "import", str(root / "before-backup")).stdout
    backed_up = opportunity(env, "db", "backup").stdout
    assert "2 new uploaded originals copied" in backed_up
    assert "1 base backups" in opportunity(env, "db", "backups").stdout
    opportunity(env, "intake", "import", str(root / "before-target"))
    url = cluster.url(driver="postgresql")
    time.sleep(0.5)
    with psycopg.connect(url) as conn:
        target = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    at_target = _state(url)
    time.sleep(0.5)
    opportunity(env, "intake", "import", str(root / "after-target"))
    after = _state(url)
    assert len(after["candidacies"]) == len(at_target["candidacies"]) + 1 == 4
    with psycopg.connect(url, autocommit=True) as conn:  # what archive_timeout would do within a minute
        conn.execute("SELECT pg_switch_wal()")
        deadline = time.monotonic() + 30
        while conn.execute("SELECT last_archived_wal IS NULL OR last_archived_wal < "
                           "pg_walfile_name(pg_current_wal_lsn()) FROM pg_stat_archiver").fetchone()[0]:
            assert time.monotonic() < deadline, "the WAL was not archived"
            time.sleep(0.2)

    # disaster: the server dies, its data folder goes, and one original is lost with it
    os.kill(cluster.status().pid or 0, 9)
    shutil.rmtree(cluster.data_dir)
    lost = path_for(uploads, at_target["candidacies"][0][3])
    lost.chmod(0o600)
    lost.unlink()

    no_offset = opportunity(env, "db", "restore", "--to", "2026-12-04T18:00:00", "--yes", ok=False)
    assert no_offset.returncode == 1 and "has no UTC offset" in no_offset.stdout
    unconfirmed = opportunity(env, "db", "restore", ok=False)
    assert unconfirmed.returncode == 1 and "repeat with --yes" in unconfirmed.stdout
    too_early = opportunity(env, "db", "restore", "--to", "2020-01-01T00:00:00+00:00", "--yes", ok=False)
    assert too_early.returncode == 1 and "No base backup finished before 2020-01-01" in too_early.stdout

    restored = opportunity(env, "db", "restore", "--to", target.isoformat(), "--yes").stdout
    assert "1 uploaded originals brought back, 1 set aside" in restored, restored
    assert _state(url) == at_target
    assert lost.exists()
    set_aside = next(root.glob("uploads.set-aside-*"))
    assert len([p for p in set_aside.rglob("*.xlsx")]) == 1  # the later upload's file, kept, not deleted
    engine = create_engine(cluster.url())
    try:
        with engine.connect() as conn:
            found = check_store(conn, uploads, dt.timedelta(0))
    finally:
        engine.dispose()
    assert found.orphans == [] and found.missing == []
    assert "0 orphan files" in opportunity(env, "storage", "check", "--older-than-minutes", "0").stdout

    # the restored cluster takes new work and archives it on its new timeline
    assert "stored v1" in opportunity(env, "intake", "import", str(root / "after-target")).stdout
    wal = sorted((root / "backups" / "wal").iterdir())
    assert "base backup" in opportunity(env, "db", "backup", "--keep", "1").stdout
    assert "1 base backups" in opportunity(env, "db", "backups").stdout  # the older one is pruned
    assert wal[0].name not in {p.name for p in (root / "backups" / "wal").iterdir()}  # with the WAL only it needed
