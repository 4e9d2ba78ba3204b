"""Recorded investor searches, for unmet-demand analytics.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Every ``POST /match`` leaves one row: the resolved requirement, how many sites met it,
and which hard criteria its best near misses failed with the values found. No personal
data: no address, no account, only whether the caller was the public, a read-only
frontend or staff.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "match_searches",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("caller", sa.String(8), nullable=False),
        sa.Column("activity", sa.String(64)),
        sa.Column("provinces", ARRAY(sa.Text), server_default=sa.text("'{}'::text[]"), nullable=False),
        sa.Column("requirement", JSONB, nullable=False),
        sa.Column("matching", sa.Integer, nullable=False),
        sa.Column("near_misses", JSONB, server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.CheckConstraint("caller IN ('public', 'reader', 'staff')", name="ck_match_searches_caller"),
    )
    op.create_index("ix_match_searches_at", "match_searches", ["at"])


def downgrade() -> None:
    op.drop_table("match_searches")
