"""One GiST index on (layer type, geography) for the nearest-feature search.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Enrichment asks, per site and per layer type, for the nearest features. With separate
indexes the planner filters on the layer type and sorts every feature of that type by
distance: 44 ms per site once 5,558 railway pieces were loaded. With the layer type in
the GiST index (btree_gist) the search walks the index: 4.6 ms per site for all layers.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # a trusted extension: the owner may create it
    op.create_index("ix_infrastructure_type_geog", "infrastructure",
                    ["layer_type", sa.text("(geom::geography)")], postgresql_using="gist")


def downgrade() -> None:
    op.drop_index("ix_infrastructure_type_geog", table_name="infrastructure")
