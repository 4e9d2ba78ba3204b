"""Standing enquiries and their alerts.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Staff keep an investor's requirement open as an enquiry; when a site is published that
fits it (or newly comes close), an alert records the site with the match's reasons. The
latest state per enquiry and site is the newest alert: a site re-published without a
change of state raises none.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enquiries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("investor_ref", sa.Text),
        sa.Column("contact", sa.Text),
        sa.Column("requirement", JSONB, nullable=False),
        sa.Column("status", sa.String(8), server_default=sa.text("'open'"), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('open', 'closed')", name="ck_enquiries_status"),
        sa.CheckConstraint("outcome IN ('site_proposed', 'visited', 'chosen', 'lost')", name="ck_enquiries_outcome"),
    )
    op.create_table(
        "enquiry_alerts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("enquiry_id", sa.Integer, sa.ForeignKey("enquiries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("site_id", sa.Integer, sa.ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("state IN ('match', 'near_miss')", name="ck_enquiry_alerts_state"),
    )
    op.create_index("ix_enquiry_alerts_enquiry_id", "enquiry_alerts", ["enquiry_id"])


def downgrade() -> None:
    op.drop_table("enquiry_alerts")
    op.drop_table("enquiries")
