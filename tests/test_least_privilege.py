"""The API's database role can do its job and no more: it appends to the audit log but
cannot rewrite, delete, truncate or unprotect it, owns no table, and refreshes the map
clusters only through the function lent to it (migration 0007). The whole API test
suite runs as such a role (the ``api`` fixture)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.core.embedded_db import SERVICE_GROUP


def _connect(url: str) -> psycopg.Connection:
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
                           autocommit=True)


@pytest.mark.parametrize("statement, refusal", [
    ("UPDATE audit_events SET reason = 'rewritten'", "permission denied for table audit_events"),
    ("DELETE FROM audit_events", "permission denied for table audit_events"),
    ("TRUNCATE audit_events", "permission denied for table audit_events"),
    ("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only", "must be owner of table audit_events"),
    ("DROP TABLE sites", "must be owner of table sites"),
    ("REFRESH MATERIALIZED VIEW site_clusters", "must be owner of materialized view site_clusters"),
    ("UPDATE alembic_version SET version_num = '0001'", "permission denied for table alembic_version"),
    ("CREATE TABLE loot (x int)", "permission denied for schema public"),
])
def test_the_service_role_cannot(service_url: str, statement: str, refusal: str) -> None:
    with _connect(service_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege, match=refusal):
        conn.execute(statement)


def test_the_service_role_appends_to_the_audit_log_and_refreshes_clusters(service_url: str) -> None:
    with _connect(service_url) as conn:
        with conn.transaction(force_rollback=True):
            row = conn.execute("INSERT INTO audit_events (actor, action, entity_type) "
                               "VALUES ('test', 'test.append', 'test') RETURNING id").fetchone()
            assert conn.execute("SELECT action FROM audit_events WHERE id = %s", row).fetchone() == ("test.append",)
        conn.execute("SELECT refresh_site_clusters()")
        superuser, member = conn.execute(
            "SELECT rolsuper, pg_has_role(current_user, %s, 'member') FROM pg_roles WHERE rolname = current_user",
            (SERVICE_GROUP,)).fetchone()
    assert (superuser, member) == (False, True)
