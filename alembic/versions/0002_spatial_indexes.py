"""Indexes and derived columns for enrichment, tiles and matching.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21

- sites.geom_3857: Web Mercator copy (generated, stored) with a GiST index, so vector
  tiles need no per-request transform;
- geography GiST indexes on sites and infrastructure: KNN nearest feature and
  ST_DWithin in metres use them;
- comuni.centroid (point on surface, generated) with a geography index: the
  workforce catchment sums comuni whose point lies within 10/20/30 km;
- btree indexes on the most filtered site columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from geoalchemy2 import Geometry

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sites", sa.Column(
        "geom_3857",
        Geometry(geometry_type="POINT", srid=3857, spatial_index=False),
        sa.Computed("ST_Transform(geom, 3857)", persisted=True),
    ))
    op.create_index("ix_sites_geom_3857", "sites", ["geom_3857"], postgresql_using="gist")
    op.create_index("ix_sites_geog", "sites", [sa.text("(geom::geography)")], postgresql_using="gist")
    op.create_index("ix_sites_land_area", "sites", ["land_area_m2"])
    op.create_index("ix_sites_price", "sites", ["price_eur"])
    op.create_index("ix_infrastructure_geog", "infrastructure", [sa.text("(geom::geography)")],
                    postgresql_using="gist")
    op.add_column("comuni", sa.Column(
        "centroid",
        Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
        sa.Computed("ST_PointOnSurface(geom)", persisted=True),
    ))
    op.create_index("ix_comuni_centroid_geog", "comuni", [sa.text("(centroid::geography)")],
                    postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_comuni_centroid_geog", table_name="comuni")
    op.drop_column("comuni", "centroid")
    op.drop_index("ix_infrastructure_geog", table_name="infrastructure")
    op.drop_index("ix_sites_price", table_name="sites")
    op.drop_index("ix_sites_land_area", table_name="sites")
    op.drop_index("ix_sites_geog", table_name="sites")
    op.drop_index("ix_sites_geom_3857", table_name="sites")
    op.drop_column("sites", "geom_3857")
