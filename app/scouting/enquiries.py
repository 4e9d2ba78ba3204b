"""Standing enquiries: an investor's requirement kept open by staff, and the alerts that
say when a published site fits it (or newly comes close).

An alert is raised when a site's state against an open enquiry improves: nothing ->
near miss, nothing -> match, near miss -> match. The newest alert per enquiry and site is
its state, so publishing a site again without a change raises none. The contact of the
investor stays in the enquiry: no public answer reads this table."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import ConflictError, NotFoundError
from app.scouting.matching import assess, check_requirement
from app.scouting.models import Enquiry, EnquiryAlert
from app.scouting.requirements import Requirement

RANK = {None: 0, "near_miss": 1, "match": 2}
OUTCOMES = ("site_proposed", "visited", "chosen", "lost")


def create(session: Session, name: str, requirement: Requirement, actor: str, investor_ref: str | None = None,
           contact: str | None = None) -> Enquiry:
    check_requirement(session.connection(), requirement)  # refused now, not at the first alert
    enquiry = Enquiry(name=name, investor_ref=investor_ref, contact=contact, created_by=actor,
                      requirement=requirement.model_dump(mode="json", exclude_none=True))
    session.add(enquiry)
    session.flush()
    return enquiry


def get(session: Session, enquiry_id: int) -> Enquiry:
    enquiry = session.get(Enquiry, enquiry_id)
    if enquiry is None:
        raise NotFoundError(f"No enquiry {enquiry_id}.", f"Nessuna richiesta {enquiry_id}.")
    return enquiry


def close(session: Session, enquiry: Enquiry, outcome: str) -> None:
    if enquiry.status == "closed":
        raise ConflictError(f"Enquiry {enquiry.id} is already closed ({enquiry.outcome}).",
                            f"La richiesta {enquiry.id} è già chiusa ({enquiry.outcome}).")
    enquiry.status, enquiry.outcome, enquiry.closed_at = "closed", outcome, dt.datetime.now(dt.UTC)


def assessments(session: Session, enquiry: Enquiry, site_ids: list[int]) -> list[dict[str, Any] | None]:
    """How each of these sites stands against the enquiry now (match, near miss or None),
    with its reasons: what a comparison made for the enquiry prints beside each site."""
    requirement = Requirement.model_validate(enquiry.requirement)
    return [assess(session.connection(), [requirement], site_id)[0] for site_id in site_ids]


def _latest_state(session: Session, enquiry_id: int, site_id: int) -> str | None:
    return session.scalar(select(EnquiryAlert.state).where(
        EnquiryAlert.enquiry_id == enquiry_id, EnquiryAlert.site_id == site_id).order_by(EnquiryAlert.id.desc()))


def check_site(session: Session, site_id: int) -> list[tuple[Enquiry, EnquiryAlert]]:
    """Alerts for the open enquiries a just-published site now fits better than before
    (the caller commits, and tells the enquiries' owners)."""
    raised = []
    open_ = list(session.scalars(select(Enquiry).where(Enquiry.status == "open").order_by(Enquiry.id)))
    if not open_:
        return raised
    assessments = assess(session.connection(), [Requirement.model_validate(e.requirement) for e in open_], site_id,
                         skip_invalid=True)
    for enquiry, assessed in zip(open_, assessments, strict=True):
        if assessed is None or RANK[assessed["state"]] <= RANK[_latest_state(session, enquiry.id, site_id)]:
            continue
        alert = EnquiryAlert(enquiry_id=enquiry.id, site_id=site_id, state=assessed["state"],
                             score=assessed["score"], reasons=assessed["criteria"])
        session.add(alert)
        raised.append((enquiry, alert))
    session.flush()
    return raised


def alert_counts(session: Session, enquiry_ids: list[int]) -> dict[int, int]:
    """Alerts per enquiry, in one query for a whole list."""
    return dict(session.execute(select(EnquiryAlert.enquiry_id, func.count()).where(
        EnquiryAlert.enquiry_id.in_(enquiry_ids)).group_by(EnquiryAlert.enquiry_id)).all()) if enquiry_ids else {}


def summary(session: Session, enquiry: Enquiry, with_contact: bool, alerts: int | None = None) -> dict[str, Any]:
    if alerts is None:
        alerts = alert_counts(session, [enquiry.id]).get(enquiry.id, 0)
    return {"id": enquiry.id, "name": enquiry.name, "investor_ref": enquiry.investor_ref,
            **({"contact": enquiry.contact} if with_contact else {}), "requirement": enquiry.requirement,
            "status": enquiry.status, "outcome": enquiry.outcome, "created_by": enquiry.created_by,
            "created_at": enquiry.created_at.isoformat() if enquiry.created_at else None,
            "closed_at": enquiry.closed_at.isoformat() if enquiry.closed_at else None, "alerts": int(alerts)}


def alerts_of(session: Session, enquiry_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(EnquiryAlert).where(EnquiryAlert.enquiry_id == enquiry_id)
                           .order_by(EnquiryAlert.id.desc()))
    return [{"id": a.id, "site_id": a.site_id, "state": a.state, "score": a.score, "reasons": a.reasons,
             "created_at": a.created_at.isoformat()} for a in rows]
