"""Tables of investor scouting: recorded searches (no personal data) for the unmet-demand
report, and the standing enquiries staff keep open with their alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import (
    Base,
    one_of,
    timestamp_column,
)


class MatchSearch(Base):
    """One recorded ``POST /match`` for unmet-demand analytics. Deliberately without
    personal data: no address, no account, no contact; ``caller`` says only whether it
    was the public, a read-only frontend or the agency's staff."""

    __tablename__ = "match_searches"
    __table_args__ = (
        one_of("caller", ("public", "reader", "staff"), "ck_match_searches_caller"),
        Index("ix_match_searches_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = timestamp_column()
    caller: Mapped[str] = mapped_column(String(8))
    activity: Mapped[str | None] = mapped_column(String(64))
    provinces: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"), nullable=False)
    requirement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    matching: Mapped[int] = mapped_column(Integer)
    # the best near misses: for each, the hard criteria it failed with the value found
    near_misses: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class Enquiry(Base):
    """An investor's requirement kept open by staff: new or changed sites that fit it are
    alerted. The contact stays here, never in a public answer."""

    __tablename__ = "enquiries"
    __table_args__ = (
        one_of("status", ("open", "closed"), "ck_enquiries_status"),
        one_of("outcome", ("site_proposed", "visited", "chosen", "lost"), "ck_enquiries_outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    investor_ref: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    requirement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(8), server_default=text("'open'"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = timestamp_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EnquiryAlert(Base):
    """A site newly fitting (or newly near) an open enquiry, with the match's reasons."""

    __tablename__ = "enquiry_alerts"
    __table_args__ = (one_of("state", ("match", "near_miss"), "ck_enquiry_alerts_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(ForeignKey("enquiries.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = timestamp_column()
