"""Tables of the application workflow: the people behind candidacies (proponents, owners,
form C delegations), the candidacy versions, and the notification outbox.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import Base, one_of, timestamp_column
from ingest import vocabulary as v


class TaxIdentified:
    """A person or body known by codice fiscale and/or partita IVA (each unique)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    legal_nature: Mapped[str | None] = mapped_column(String(32))
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), unique=True)
    partita_iva: Mapped[str | None] = mapped_column(String(11), unique=True)
    created_at: Mapped[dt.datetime] = timestamp_column()


def tax_identity_checks(table: str) -> tuple[CheckConstraint, ...]:
    return (
        one_of("legal_nature", v.LEGAL_NATURES, f"ck_{table}_legal_nature"),
        CheckConstraint(
            "codice_fiscale IS NOT NULL OR partita_iva IS NOT NULL", name=f"ck_{table}_tax_id"
        ),
        CheckConstraint("partita_iva ~ '^[0-9]{11}$'", name=f"ck_{table}_partita_iva_format"),
    )


class Proponent(TaxIdentified, Base):
    """Whoever fills in and submits candidacies: an owner or a delegate. Remembered so the
    next template comes pre-filled."""

    __tablename__ = "proponents"
    __table_args__ = tax_identity_checks("proponents")

    email: Mapped[str | None] = mapped_column(Text)
    pec: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = timestamp_column()


class Owner(TaxIdentified, Base):
    """The holder of the site (proprietario), when different from the proponent."""

    __tablename__ = "owners"
    __table_args__ = tax_identity_checks("owners")

    legal_representative: Mapped[str | None] = mapped_column(Text)


class Delegation(Base):
    """Fac-simile lettera C: an owner lets a delegate handle an application operationally.
    One row per form as signed; a later form for the same owner, delegate and site (a
    renewal, a new ID document) is a new row pointing at the one before."""

    __tablename__ = "delegations"
    __table_args__ = (
        one_of("delegate_category", v.DELEGATE_CATEGORIES, "ck_delegations_delegate_category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="RESTRICT"), index=True)
    delegate_id: Mapped[int] = mapped_column(
        ForeignKey("proponents.id", ondelete="RESTRICT"), index=True
    )
    delegate_category: Mapped[str | None] = mapped_column(String(32))
    delegate_email: Mapped[str | None] = mapped_column(Text)
    legal_representative: Mapped[str | None] = mapped_column(Text)
    id_document_type: Mapped[str | None] = mapped_column(Text)
    id_document_number: Mapped[str | None] = mapped_column(Text)
    id_document_expiry: Mapped[dt.date | None] = mapped_column(Date)
    scope: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    site_comune_istat: Mapped[str | None] = mapped_column(String(6))
    site_foglio: Mapped[str | None] = mapped_column(Text)
    site_mappali: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]"), nullable=False
    )
    place: Mapped[str | None] = mapped_column(Text)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    signed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), nullable=False)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("delegations.id"))
    created_at: Mapped[dt.datetime] = timestamp_column()



class Candidacy(Base):
    """One uploaded version of an application. Versions of the same application share a
    ``lineage_id``; exactly one of them is current."""

    __tablename__ = "candidacies"
    __table_args__ = (
        one_of("kind", v.CANDIDACY_KINDS, "ck_candidacies_kind"),
        one_of("status", v.CANDIDACY_STATUSES, "ck_candidacies_status"),
        one_of("proponent_role", v.PROPONENT_ROLES, "ck_candidacies_proponent_role"),
        CheckConstraint("version >= 1", name="ck_candidacies_version_positive"),
        CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name="ck_candidacies_sha256"),
        UniqueConstraint("lineage_id", "version", name="uq_candidacies_lineage_version"),
        Index(
            "uq_candidacies_current",
            "lineage_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index("ix_candidacies_duplicate_of_id", "duplicate_of_id",
              postgresql_where=text("duplicate_of_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lineage_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidacies.id", ondelete="RESTRICT")
    )
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    kind: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(24), server_default=text("'draft'"), index=True)
    proponent_id: Mapped[int | None] = mapped_column(
        ForeignKey("proponents.id", ondelete="RESTRICT"), index=True
    )
    proponent_role: Mapped[str | None] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="RESTRICT"))
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="RESTRICT")
    )
    publication_consent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_path: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int] = mapped_column(BigInteger)
    template_version: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    validation_report: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = timestamp_column()
    # when the owner's account stood behind this application: at upload for the owner's
    # own files, on confirmation for what a delegate declared (None until then)
    owner_confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # an upload that looks like another party's application is kept apart and flagged
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("candidacies.id", ondelete="SET NULL"))



class Notification(Base):
    """Outbox: messages are written in the same transaction as what caused them and handed
    to the configured notifier later (``opportunity notify deliver``). ``dedupe_key``
    keeps a reminder from being queued twice for the same period; ``sending_since`` is the
    claim held while a message leaves, ``dead_at`` the dead-letter state staff see."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "id", postgresql_where=text("sent_at IS NULL AND dead_at IS NULL")),
        Index("ix_notifications_dead", "dead_at", postgresql_where=text("dead_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[dt.datetime] = timestamp_column()
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    dedupe_key: Mapped[str | None] = mapped_column(Text, unique=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    dead_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    sending_since: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
