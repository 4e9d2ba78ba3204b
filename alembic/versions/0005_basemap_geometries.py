"""Web Mercator copies of comuni and provinces, for the map page's basemap tiles.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22

The basemap tiles (/tiles/base/{z}/{x}/{y}.pbf) clip and simplify these polygons in
EPSG:3857; keeping a generated, indexed copy spares a transform of every intersecting
polygon on every tile request.
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("comuni", "provinces"):
        op.execute(f"ALTER TABLE {table} ADD COLUMN geom_3857 geometry(MULTIPOLYGON, 3857) "
                   "GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED")
        op.execute(f"CREATE INDEX ix_{table}_geom_3857 ON {table} USING gist (geom_3857)")


def downgrade() -> None:
    for table in ("comuni", "provinces"):
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_geom_3857")
        op.execute(f"ALTER TABLE {table} DROP COLUMN geom_3857")
