"""Tables of brownfield detection: runs and the candidates they found, with staff review.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import Base, gist, multipolygon_column, one_of, timestamp_column
from ingest import vocabulary as v


class DetectionRun(Base):
    __tablename__ = "detection_runs"
    __table_args__ = (
        one_of("status", v.RUN_STATUSES, "ck_detection_runs_status"),
        gist("detection_runs", "footprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'running'"))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    footprint = multipolygon_column()
    candidate_count: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = timestamp_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DetectionCandidate(Base):
    __tablename__ = "detection_candidates"
    __table_args__ = (
        one_of("review_status", v.REVIEW_STATUSES, "ck_detection_candidates_review_status"),
        CheckConstraint("area_m2 >= 0", name="ck_detection_candidates_area_non_negative"),
        CheckConstraint("score >= 0 AND score <= 1", name="ck_detection_candidates_score_range"),
        gist("detection_candidates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("detection_runs.id", ondelete="CASCADE"), index=True
    )
    geom = multipolygon_column(nullable=False)
    area_m2: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    review_status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
