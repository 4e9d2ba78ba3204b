"""Least privilege: the service's role may read and write the catalogue, but only append
to the audit log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The API connects as a member of ``opportunity_service``: it can SELECT and INSERT
``audit_events`` but never UPDATE, DELETE or TRUNCATE them, and it owns nothing, so it
cannot ALTER a table or disable the append-only trigger. Migrations and the command
line run as the owner role. The one owner-only action the service needs at run time,
refreshing the low-zoom clusters, goes through a SECURITY DEFINER function.

On a server where the migrating role may not create roles, an administrator creates
``opportunity_service`` first (see the README); the grants then apply.
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SERVICE_ROLE = "opportunity_service"


def upgrade() -> None:
    op.execute(f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
        BEGIN
            CREATE ROLE {SERVICE_ROLE} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE WARNING 'cannot create role {SERVICE_ROLE}: create it as an administrator, then migrate again';
        END;
    END IF;
END $$""")
    op.execute("""
CREATE OR REPLACE FUNCTION refresh_site_clusters() RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp
AS $$ REFRESH MATERIALIZED VIEW site_clusters $$""")
    op.execute("REVOKE ALL ON FUNCTION refresh_site_clusters() FROM PUBLIC")
    op.execute(f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
        GRANT USAGE ON SCHEMA public TO {SERVICE_ROLE};
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {SERVICE_ROLE};
        REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM {SERVICE_ROLE};
        REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {SERVICE_ROLE};
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {SERVICE_ROLE};
        GRANT EXECUTE ON FUNCTION refresh_site_clusters() TO {SERVICE_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {SERVICE_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {SERVICE_ROLE};
    END IF;
END $$""")


def downgrade() -> None:
    op.execute(f"""
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = '{SERVICE_ROLE}') THEN
        ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE, SELECT ON SEQUENCES FROM {SERVICE_ROLE};
        ALTER DEFAULT PRIVILEGES IN SCHEMA public
            REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {SERVICE_ROLE};
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {SERVICE_ROLE};
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {SERVICE_ROLE};
        REVOKE USAGE ON SCHEMA public FROM {SERVICE_ROLE};
    END IF;
END $$""")
    op.execute("DROP FUNCTION IF EXISTS refresh_site_clusters()")
