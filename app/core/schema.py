"""The declarative base every table derives from, the CHECK and column helpers the rooms
share, and the append-only audit log that every room writes to.

Geometries are stored in EPSG:4326 (what GeoJSON and map frontends speak); every
distance or area is computed on ``geography`` or after ``ST_Transform`` to
EPSG:32632 (UTM 32N, metres), never in degrees. The tables themselves live with their
rooms (``app.<room>.models``); ``alembic/env.py`` imports them all, and the migrations
mirror them exactly (a test compares them).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Index,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ingest import vocabulary as v

WGS84 = 4326
METRIC_SRID = 32632


class Base(DeclarativeBase):
    pass


def one_of(column: str, vocabulary: v.Vocabulary, name: str) -> CheckConstraint:
    """CHECK that a text column holds one of a vocabulary's codes (NULL allowed)."""
    codes = ", ".join(f"'{code}'" for code in vocabulary)
    return CheckConstraint(f"{column} IN ({codes})", name=name)


def all_of(column: str, vocabulary: v.Vocabulary, name: str) -> CheckConstraint:
    """CHECK that every element of a text[] column is a vocabulary code."""
    codes = ", ".join(f"'{code}'" for code in vocabulary)
    return CheckConstraint(f"{column} <@ ARRAY[{codes}]::text[]", name=name)


def non_negative(*columns: str, table: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"ck_{table}_{c}_non_negative") for c in columns]


def timestamp_column() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def point_column(nullable: bool = True) -> Any:
    return mapped_column(Geometry("POINT", srid=WGS84, spatial_index=False), nullable=nullable)


def multipolygon_column(nullable: bool = True) -> Any:
    return mapped_column(Geometry("MULTIPOLYGON", srid=WGS84, spatial_index=False), nullable=nullable)


def gist(table: str, column: str = "geom") -> Index:
    return Index(f"ix_{table}_{column}", column, postgresql_using="gist")



class AuditEvent(Base):
    """Append-only: a trigger rejects UPDATE and DELETE (see the first migration)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[dt.datetime] = timestamp_column()
    actor: Mapped[str | None] = mapped_column(Text)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    client_address: Mapped[str | None] = mapped_column(INET)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
