"""Notifications: back-off, a dead-letter state, and a claim held while a message is sent.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04

``next_attempt_at`` spaces retries out (exponential back-off); ``dead_at`` marks a message
that will not be retried (too many failures, a refused address, or a send that was cut
short with its outcome unknown) and that staff see and may send again; ``sending_since``
is set and committed before a message leaves, so a crash between sending and marking it
sent can never send it twice.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name in ("next_attempt_at", "dead_at", "sending_since"):
        op.add_column("notifications", sa.Column(name, sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_notifications_pending", table_name="notifications")
    op.create_index("ix_notifications_pending", "notifications", ["id"],
                    postgresql_where=sa.text("sent_at IS NULL AND dead_at IS NULL"))
    op.create_index("ix_notifications_dead", "notifications", ["dead_at"],
                    postgresql_where=sa.text("dead_at IS NOT NULL"))


def downgrade() -> None:
    op.drop_index("ix_notifications_dead", table_name="notifications")
    op.drop_index("ix_notifications_pending", table_name="notifications")
    op.create_index("ix_notifications_pending", "notifications", ["id"],
                    postgresql_where=sa.text("sent_at IS NULL"))
    for name in ("sending_since", "dead_at", "next_attempt_at"):
        op.drop_column("notifications", name)
