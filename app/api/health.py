"""``/health``: is the catalogue reachable, which PostGIS, how much reference data."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.responses import OrjsonResponse, error_responses
from app.core.database import SessionDep
from app.core.migrations import head_revision
from app.reference.layers import reference_counts

router = APIRouter(tags=["health"], responses=error_responses(503))


class Health(BaseModel):
    status: str
    database: str
    postgis_version: str | None = None
    schema_revision: str | None = None
    schema_up_to_date: bool | None = None
    reference: dict[str, Any] | None = None


@router.get("/health", response_model=Health, summary="Service and catalogue health")
def health(session: SessionDep) -> OrjsonResponse:
    """200 with reference counts when the catalogue answers; 503 otherwise."""
    try:
        postgis = session.execute(text("SELECT postgis_lib_version()")).scalar_one()
        revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        counts = reference_counts(session.connection())
    except SQLAlchemyError:
        body = Health(status="unavailable", database="unreachable or not migrated")
        return OrjsonResponse(body.model_dump(), status_code=503)
    body = Health(
        status="ok",
        database="ok",
        postgis_version=postgis,
        schema_revision=revision,
        schema_up_to_date=revision == head_revision(),
        reference=counts,
    )
    return OrjsonResponse(body.model_dump())
