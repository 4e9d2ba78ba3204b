"""Each form C is its own delegation record; a renewal links to the one before.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04

A later upload used to reuse an earlier delegation row when owner, delegate, comune,
foglio and ID document number matched, so the row showed another form's expiry, signing
date and legal representative. Now a form C that differs in anything is a new row whose
``previous_id`` is the latest earlier delegation of the same owner and delegate for the
same site; the same form uploaded again with a corrected candidacy keeps its row.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("delegations", sa.Column("previous_id", sa.Integer(), nullable=True))
    op.create_foreign_key("fk_delegations_previous_id_delegations", "delegations", "delegations",
                          ["previous_id"], ["id"])


def downgrade() -> None:
    op.drop_constraint("fk_delegations_previous_id_delegations", "delegations", type_="foreignkey")
    op.drop_column("delegations", "previous_id")
