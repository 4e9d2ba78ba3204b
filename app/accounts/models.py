"""Tables of accounts: users, read-only API keys and the rate-limit counters.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import Base, one_of, timestamp_column
from ingest import vocabulary as v


class User(Base):
    """Someone who signs in. A proponent account acts for the person or company whose
    codice fiscale or partita IVA it holds (``tax_id``): it sees the candidacies that
    person submitted, and those where that person is the owner."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", v.USER_ROLES, "ck_users_role"),
        CheckConstraint("email = lower(email)", name="ck_users_email_lower"),
        CheckConstraint("role <> 'proponent' OR tax_id IS NOT NULL", name="ck_users_proponent_tax_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    tax_id: Mapped[str | None] = mapped_column(String(16), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # bumped to revoke every token issued so far (password change, deactivation)
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[dt.datetime] = timestamp_column()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A read-only key for a frontend. Only a SHA-256 of the key is kept: keys are 256-bit
    random strings, so a slow password hash would add nothing but latency."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = timestamp_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))



class RateLimitWindow(Base):
    """Per-window counters shared by every worker (the API keeps no state of its own); two
    consecutive windows give the sliding estimate (app.accounts.ratelimit).
    UNLOGGED: losing counters in a crash only forgives a few attempts."""

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_window_start", "window_start"), {"prefixes": ["UNLOGGED"]})

    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, server_default=text("1"))


class RevokedSession(Base):
    """A browser session signed out before its token expired. Kept until then (expired
    rows are purged on the next sign-out): a session token is checked against it."""

    __tablename__ = "revoked_sessions"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
