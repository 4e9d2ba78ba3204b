"""Identity: owner confirmation per candidacy, possible duplicates, least-privilege grants.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Registry rows are no longer rewritten by someone else's upload, so what a delegate says
about an owner is kept with the candidacy (``record``) and stays "declared by the
delegate, not confirmed" until the owner's account confirms it (``owner_confirmed_at``).
An upload that looks like someone else's application becomes a new candidacy that staff
see flagged (``duplicate_of_id``) instead of a new version of it.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidacies", sa.Column("owner_confirmed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("candidacies", sa.Column(
        "duplicate_of_id", sa.Integer(), sa.ForeignKey("candidacies.id", ondelete="SET NULL"), nullable=True))
    op.create_index("ix_candidacies_duplicate_of_id", "candidacies", ["duplicate_of_id"],
                    postgresql_where=sa.text("duplicate_of_id IS NOT NULL"))
    # owners' own uploads count as confirmed; delegated ones wait for the owner
    op.execute("UPDATE candidacies SET owner_confirmed_at = created_at "
               "WHERE proponent_role IS DISTINCT FROM 'delegato'")
    # lookups every upload makes, which scanned whole tables
    op.create_index("ix_sites_comune_name", "sites", ["declared_comune_istat", sa.text("lower(btrim(name))")])
    op.create_index("ix_comuni_lower_name", "comuni", [sa.text("lower(name)")])


def downgrade() -> None:
    op.drop_index("ix_comuni_lower_name", table_name="comuni")
    op.drop_index("ix_sites_comune_name", table_name="sites")
    op.drop_index("ix_candidacies_duplicate_of_id", table_name="candidacies")
    op.drop_column("candidacies", "duplicate_of_id")
    op.drop_column("candidacies", "owner_confirmed_at")
