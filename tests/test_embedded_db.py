"""The embedded PostGIS cluster: create, restart with the same data, stale pid, stop."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import psycopg
import pytest

from app.core.embedded_db import EmbeddedCluster
from app.core.errors import DatabaseSetupError
from tests.conftest import ROOT, free_port


@pytest.fixture
def cluster() -> EmbeddedCluster:
    root = ROOT / "var" / f"test-cluster-{os.getpid()}"
    shutil.rmtree(root, ignore_errors=True)
    cluster = EmbeddedCluster(root, free_port(), database="catalogue", fast=True)
    try:
        yield cluster
    finally:
        try:
            cluster.stop()
        except DatabaseSetupError:
            pass
        shutil.rmtree(root, ignore_errors=True)


def _query(cluster: EmbeddedCluster, statement: str) -> list[tuple]:
    with psycopg.connect(cluster.url(driver="postgresql"), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else []


@pytest.mark.db
def test_start_creates_cluster_with_postgis(cluster: EmbeddedCluster) -> None:
    assert not cluster.status().initialised
    status = cluster.start()
    assert status.running and status.pid
    assert _query(cluster, "SELECT extname FROM pg_extension WHERE extname = 'postgis'") == [
        ("postgis",)
    ]
    assert (cluster.password_file.stat().st_mode & 0o777) == 0o600


@pytest.mark.db
def test_restart_keeps_data_and_stop_is_clean(cluster: EmbeddedCluster) -> None:
    cluster.start()
    _query(cluster, "CREATE TABLE kept (value int); INSERT INTO kept VALUES (42)")
    assert cluster.stop() is True
    assert not cluster.status().running
    assert not (cluster.data_dir / "postmaster.pid").exists()
    assert cluster.stop() is False
    cluster.start()
    assert _query(cluster, "SELECT value FROM kept") == [(42,)]


@pytest.mark.db
def test_stale_pid_file_is_handled(cluster: EmbeddedCluster) -> None:
    cluster.start()
    cluster.stop()
    pid_file = cluster.data_dir / "postmaster.pid"
    # a pid file left by a crash, naming a process that is not a postgres server
    pid_file.write_text(f"{os.getpid()}\n{cluster.data_dir}\n")
    assert not cluster.status().running
    assert cluster.start().running
    assert _query(cluster, "SELECT 1") == [(1,)]


def test_unreachable_folder_is_reported(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root hands the cluster to the postgres user")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    cluster = EmbeddedCluster(locked / "pg", free_port())
    tmp_path.chmod(0o700)
    with pytest.raises(DatabaseSetupError, match=r"cannot enter"):
        cluster.init()


@pytest.mark.db
def test_refuses_a_foreign_data_directory(cluster: EmbeddedCluster) -> None:
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "notes.txt").write_text("not a cluster")
    with pytest.raises(DatabaseSetupError, match=r"not a PostgreSQL cluster"):
        cluster.init()


@pytest.mark.db
def test_invalid_database_name_is_refused(cluster: EmbeddedCluster) -> None:
    cluster.start()
    with pytest.raises(DatabaseSetupError, match=r"Invalid database name"):
        cluster.create_database("Robert'); DROP TABLE x;--")


@pytest.mark.db
def test_the_api_connects_as_a_least_privilege_role_after_migration(cluster: EmbeddedCluster) -> None:
    from app.core import migrations

    cluster.start()
    migrations.upgrade(cluster.url())
    assert (cluster.service_password_file.stat().st_mode & 0o777) == 0o600
    with psycopg.connect(cluster.service_url(driver="postgresql"), autocommit=True) as conn:
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone() == (False,)
        assert conn.execute("SELECT count(*) FROM sites").fetchone() == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="audit_events"):
            conn.execute("DELETE FROM audit_events")
    cluster.stop()
    cluster.start()  # a restart keeps the password the running service was given
    with psycopg.connect(cluster.service_url(driver="postgresql"), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("opportunity_app",)
