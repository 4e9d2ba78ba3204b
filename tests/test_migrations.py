"""The schema: up, down and up again; models and migration agree; constraints hold."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from geoalchemy2 import alembic_helpers
from sqlalchemy import Connection, create_engine, inspect, pool, text
from sqlalchemy.exc import DBAPIError, IntegrityError

import app.accounts.models
import app.candidacies.models
import app.catalogue.models
import app.detection.models
import app.reference.models
import app.scouting.models  # noqa: F401
from app.core import migrations
from app.core.schema import Base
from ingest import vocabulary
from tests.conftest import create_test_database, drop_test_database

CATALOGUE_TABLES = {
    "proponents", "owners", "delegations", "candidacies", "sites", "comuni", "provinces",
    "reference_layers", "infrastructure", "policy_zones", "cadastral_sheets",
    "detection_runs", "detection_candidates", "audit_events",
    "users", "api_keys", "notifications", "rate_limits", "revoked_sessions", "match_searches",
    "enquiries", "enquiry_alerts", "site_listings",
}


@pytest.fixture
def scratch_url(admin_url: str) -> Iterator[str]:
    url = create_test_database(admin_url)
    yield url
    drop_test_database(admin_url, url)


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys"}
    finally:
        engine.dispose()


@pytest.mark.db
def test_up_down_up(scratch_url: str) -> None:
    migrations.upgrade(scratch_url)
    assert CATALOGUE_TABLES | {"alembic_version"} == _tables(scratch_url)
    assert migrations.is_up_to_date(scratch_url)
    migrations.downgrade(scratch_url, "base")
    assert _tables(scratch_url) <= {"alembic_version"}
    assert not migrations.is_up_to_date(scratch_url)
    migrations.upgrade(scratch_url)
    assert CATALOGUE_TABLES <= _tables(scratch_url)


def test_models_match_the_migration(conn: Connection) -> None:
    context = MigrationContext.configure(
        conn,
        opts={"include_object": alembic_helpers.include_object, "compare_type": True},
    )
    assert compare_metadata(context, Base.metadata) == []


def test_audit_log_is_append_only(conn: Connection) -> None:
    conn.execute(
        text("INSERT INTO audit_events (action, entity_type, entity_id) VALUES ('upload', 'candidacy', '1')")
    )
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match=r"append-only"):
        conn.execute(text("UPDATE audit_events SET action = 'forged'"))
    savepoint.rollback()
    savepoint = conn.begin_nested()
    with pytest.raises(DBAPIError, match=r"append-only"):
        conn.execute(text("DELETE FROM audit_events"))
    savepoint.rollback()


def _insert_site(conn: Connection, **columns: object) -> None:
    values = {"kind": "A", "name": "synthetic site", "geom": "SRID=4326;POINT(9.2 45.48)", **columns}
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    conn.execute(text(f"INSERT INTO sites ({names}) VALUES ({params})"), values)


@pytest.mark.parametrize(
    "columns",
    [
        {"land_area_m2": -1},
        {"covered_area_m2": -0.5},
        {"price_eur": -100},
        {"site_type": "castle"},
        {"status": "approved"},
        {"sectors": ["ict", "astrology"]},
        {"completeness": 1.5},
        {"kind": "A", "investment_eur": 1_000_000},
    ],
)
def test_site_constraints_reject_bad_values(conn: Connection, columns: dict) -> None:
    savepoint = conn.begin_nested()
    with pytest.raises(IntegrityError):
        _insert_site(conn, **columns)
    savepoint.rollback()


def test_every_vocabulary_code_is_accepted(conn: Connection) -> None:
    for code in vocabulary.SITE_TYPES:
        _insert_site(conn, site_type=code)
    for code in vocabulary.CANDIDACY_STATUSES:
        _insert_site(conn, status=code)
    _insert_site(conn, sectors=list(vocabulary.SECTORS), constraints=list(vocabulary.CONSTRAINTS))
    count = conn.execute(text("SELECT count(*) FROM sites WHERE name = 'synthetic site'")).scalar()
    assert count == len(vocabulary.SITE_TYPES) + len(vocabulary.CANDIDACY_STATUSES) + 1


def test_geometries_are_wgs84_with_gist_indexes(conn: Connection) -> None:
    rows = conn.execute(
        text("SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
             "WHERE f_table_name IN (SELECT tablename FROM pg_tables)")  # not the cluster view
    ).all()
    srids = {(table, column): srid for table, column, srid in rows}
    assert srids.pop(("sites", "geom_3857")) == 3857  # the tile copy
    assert srids.pop(("sites", "geom_utm")) == 32632  # metres, for areas of interest
    assert srids.pop(("comuni", "geom_3857")) == srids.pop(("provinces", "geom_3857")) == 3857  # basemap
    assert set(srids.values()) == {4326}
    gist = conn.execute(
        text("SELECT tablename, indexdef FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")
    ).all()
    for table, column, _ in rows:
        assert any(t == table and f"({column}" in d for t, d in gist), f"{table}.{column} has no GiST index"
