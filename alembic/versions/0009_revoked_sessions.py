"""Browser sessions that were signed out before they expired.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

The desk's pages sign in with an HttpOnly cookie holding a signed token with an id
(``jti``). Signing out writes that id here, so the cookie stops working at once on every
worker, while the account's other sessions (another browser, a program's bearer token)
stay open. Rows are kept only until the token would have expired anyway.
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revoked_sessions",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_revoked_sessions_expires_at", "revoked_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("revoked_sessions")
