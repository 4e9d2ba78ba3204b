"""``/health``: is the catalogue reachable, which PostGIS, how much reference data; and
the two probes an orchestrator or a proxy asks: ``/health/live`` (the process answers:
restart it otherwise) and ``/health/ready`` (send it traffic: the database answers, the
schema is at the code's revision, the upload store is writable)."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.api.responses import OrjsonResponse, error_responses
from app.core.database import SessionDep
from app.core.migrations import head_revision
from app.core.settings import storage_settings
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


@router.get("/health/live", summary="Liveness: the process answers (no database involved)")
async def live() -> OrjsonResponse:
    """Answered on the event loop with no I/O: a process whose loop is stuck cannot."""
    return OrjsonResponse({"status": "alive"})


STORAGE_CHECK_S = 5.0  # a probe every few seconds from a proxy must not mean an fsync each
_storage_checked: dict[Path, tuple[float, bool]] = {}


def _storage_writable() -> bool:
    """Whether a file can be written and synced in the upload store; the answer is kept for
    a few seconds, so a flood of readiness probes costs no flood of fsyncs."""
    folder = storage_settings().uploads_dir
    checked_at, writable = _storage_checked.get(folder, (float("-inf"), False))
    if time.monotonic() - checked_at >= STORAGE_CHECK_S:
        writable = _write_probe(folder)
        _storage_checked[folder] = (time.monotonic(), writable)
    return writable


def _write_probe(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".ready-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
            os.fsync(probe.fileno())
    except OSError:
        return False
    return True


@router.get("/health/ready", summary="Readiness: database, schema revision and upload store",
            responses={503: {"description": "Not ready: the checks say which part is not"}})
def ready(session: SessionDep) -> OrjsonResponse:
    """200 when every check passes, else 503 with each check's outcome (never an error's
    text: the names of the checks say where to look)."""
    revision = None
    try:
        session.execute(text("SELECT 1"))
        database = True
    except SQLAlchemyError:
        database = False
    if database:
        try:
            revision = session.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except SQLAlchemyError:  # reachable, never migrated
            session.rollback()
    checks = {"database": database, "schema_at_head": revision is not None and revision == head_revision(),
              "storage_writable": _storage_writable()}
    ok = all(checks.values())
    return OrjsonResponse({"status": "ready" if ok else "not ready", "checks": checks}, status_code=200 if ok else 503)
