"""Brownfield candidates for staff: list a run's candidates with evidence and overlap
flags, and review them (confirm into a draft site, or reject with a reason)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy import text

from app.api.responses import GEOJSON, OrjsonResponse, error_responses
from app.api.security import StaffDep
from app.core.database import SessionDep
from app.detection.runs import candidates_geojson, review

router = APIRouter(prefix="/detection", tags=["detection"], responses=error_responses(401, 403, 404, 409, 422, 503))


class Review(BaseModel):
    decision: Literal["confirm", "reject"]
    reason: str | None = Field(default=None, max_length=2000)


@router.get("/runs", summary="Detection runs (staff)")
def runs(_: StaffDep, session: SessionDep) -> OrjsonResponse:
    rows = session.execute(text(
        "SELECT id, status, parameters, inputs, candidate_count, started_at, finished_at FROM detection_runs ORDER BY id DESC"
    )).mappings().all()
    return OrjsonResponse([dict(r) for r in rows])


@router.get("/runs/{run_id}/candidates", summary="Candidates of a run, as GeoJSON (staff)", responses=GEOJSON)
def candidates(
    _: StaffDep, session: SessionDep, run_id: int,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    min_area_m2: Annotated[float, Query(ge=0)] = 0.0,
    review_status: Annotated[Literal["pending", "confirmed", "rejected"] | None, Query()] = None,
) -> OrjsonResponse:
    body = candidates_geojson(session.connection(), run_id, min_score, min_area_m2, review_status)
    return OrjsonResponse(body, media_type="application/geo+json")


@router.post("/candidates/{candidate_id}/review", summary="Confirm or reject a candidate (staff)")
def review_candidate(staff: StaffDep, session: SessionDep, candidate_id: int, body: Review) -> OrjsonResponse:
    outcome = review(session.connection(), candidate_id, body.decision, body.reason, reviewer=staff.actor)
    session.commit()
    return OrjsonResponse(outcome)
