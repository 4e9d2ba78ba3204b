"""Standing enquiries (staff): keep an investor's requirement open, see the sites that
came to fit it, close it with an outcome."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.api.responses import OrjsonResponse, error_responses
from app.api.security import StaffDep
from app.api.sites import COMPARE_MAX, COMPARE_MIN, PDF, Lang, printed, site_ids
from app.core.database import SessionDep
from app.core.schema import AuditEvent
from app.documents.pdf import comparison_pdf
from app.scouting import enquiries
from app.scouting.models import Enquiry
from app.scouting.requirements import Requirement

router = APIRouter(tags=["enquiries"], responses=error_responses(400, 401, 403, 404, 409, 422, 429, 503))


class NewEnquiry(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="e.g. the project's code name")
    investor_ref: str | None = Field(default=None, max_length=200)
    contact: str | None = Field(default=None, max_length=500, description="kept in the enquiry only, never public")
    requirement: Requirement


class Closing(BaseModel):
    outcome: Literal["site_proposed", "visited", "chosen", "lost"]


@router.post("/enquiries", status_code=201, summary="Keep an investor's requirement open as an enquiry (staff)")
def create_enquiry(staff: StaffDep, session: SessionDep, body: NewEnquiry) -> OrjsonResponse:
    enquiry = enquiries.create(session, body.name, body.requirement, staff.actor, body.investor_ref, body.contact)
    session.add(AuditEvent(actor=staff.actor, actor_role=staff.role, action="enquiry.create", entity_type="enquiry",
                           entity_id=str(enquiry.id)))
    session.commit()
    return OrjsonResponse(enquiries.summary(session, enquiry, with_contact=True), status_code=201)


@router.get("/enquiries", summary="Enquiries, open first, with their alert counts (staff)")
def list_enquiries(_: StaffDep, session: SessionDep,
                   status: Annotated[Literal["open", "closed"] | None, Query()] = None) -> OrjsonResponse:
    query = select(Enquiry).order_by(Enquiry.status.desc(), Enquiry.id.desc())
    if status:
        query = query.where(Enquiry.status == status)
    listed = list(session.scalars(query))
    counts = enquiries.alert_counts(session, [e.id for e in listed])
    return OrjsonResponse([enquiries.summary(session, e, with_contact=True, alerts=counts.get(e.id, 0))
                           for e in listed])


@router.get("/enquiries/{enquiry_id}", summary="One enquiry and the sites that came to fit it (staff)")
def get_enquiry(_: StaffDep, session: SessionDep, enquiry_id: int) -> OrjsonResponse:
    enquiry = enquiries.get(session, enquiry_id)
    return OrjsonResponse({**enquiries.summary(session, enquiry, with_contact=True),
                           "alert_list": enquiries.alerts_of(session, enquiry.id)})


@router.post("/enquiries/{enquiry_id}/close", summary="Close an enquiry with its outcome (staff)")
def close_enquiry(staff: StaffDep, session: SessionDep, enquiry_id: int, body: Closing) -> OrjsonResponse:
    enquiry = enquiries.get(session, enquiry_id)
    enquiries.close(session, enquiry, body.outcome)
    session.add(AuditEvent(actor=staff.actor, actor_role=staff.role, action="enquiry.close", entity_type="enquiry",
                           entity_id=str(enquiry.id), details={"outcome": body.outcome}))
    session.commit()
    return OrjsonResponse(enquiries.summary(session, enquiry, with_contact=True))


@router.get("/enquiries/{enquiry_id}/comparison.pdf", response_class=Response,
            responses={200: {"content": {PDF: {}}}},
            summary="2-5 published sites side by side with how each meets the enquiry (staff, PDF)")
async def enquiry_comparison(request: Request, staff: StaffDep, session: SessionDep, enquiry_id: int,
                             ids: Annotated[str, Query(description="2 to 5 site ids, comma separated")],
                             lang: Lang = "it") -> Response:
    wanted = site_ids(ids, COMPARE_MIN, COMPARE_MAX)

    def render() -> bytes:
        enquiry = enquiries.get(session, enquiry_id)
        return comparison_pdf(session.connection(), wanted, lang, enquiries.assessments(session, enquiry, wanted),
                              enquiry.name)

    name = f"confronto-richiesta-{enquiry_id}.pdf" if lang == "it" else f"enquiry-{enquiry_id}-comparison.pdf"
    return await printed(request, session, staff, render, name)
