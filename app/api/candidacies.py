"""A proponent's own candidacies and their lifecycle; the audit log and the freshness
list for staff."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.api.params import ReportDay
from app.api.responses import OrjsonResponse, error_responses
from app.api.security import ProponentDep, StaffDep, client_ip
from app.candidacies import inbox, lifecycle
from app.candidacies.freshness import stale_sites
from app.candidacies.models import Candidacy
from app.candidacies.reports import site_location
from app.catalogue.models import Site
from app.core import audit
from app.core.database import SessionDep
from app.core.errors import ForbiddenError
from app.reference.models import Comune, Province
from ingest import vocabulary as v
from ingest.fields import declared_sections, field_place

router = APIRouter(tags=["candidacies"], responses=error_responses(401, 403, 404, 409, 422, 503))
StatusQuery = Annotated[str | None, Query(pattern="^(" + "|".join(v.CANDIDACY_STATUSES) + ")$")]


class Move(BaseModel):
    to: str = Field(description="target status: " + ", ".join(v.CANDIDACY_STATUSES))
    reason: str | None = Field(default=None, max_length=2000)


class Consent(BaseModel):
    consent: bool


def _summary(c: Candidacy, site: Any) -> dict[str, Any]:
    """``site``: (id, province, comune, last confirmed) of the application's site, when it has one."""
    site_id, province, comune, confirmed = site or (None, None, None, None)
    return {"id": c.id, "candidacy_code": str(c.lineage_id), "version": c.version, "is_current": c.is_current,
            "kind": c.kind, "status": c.status, "site_id": site_id, "site_name": c.record.get("site_name"),
            "comune": comune or c.record.get("comune"), "province": province or c.record.get("province"),
            "site_type": c.record.get("site_type"),
            "last_confirmed_at": confirmed.isoformat() if confirmed else None,
            "proponent_role": c.proponent_role, "publication_consent": c.publication_consent,
            "owner_confirmed": c.owner_confirmed_at is not None, "possible_duplicate_of": c.duplicate_of_id,
            "submitted_at": c.submitted_at.isoformat() if c.submitted_at else None,
            "created_at": c.created_at.isoformat()}


def _sites(session: SessionDep, lineages: list[Any]) -> dict[Any, tuple[Any, ...]]:
    """Site id, province and comune (where the site lies) and last confirmation of each application."""
    if not lineages:
        return {}
    rows = session.execute(select(Site.lineage_id, Site.id, Province.abbreviation, Comune.name,
                                  Site.last_confirmed_at)
                           .outerjoin(Province, Province.code == Site.province_code)
                           .outerjoin(Comune, Comune.istat_code == Site.comune_istat)
                           .where(Site.lineage_id.in_(lineages))).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _site(session: SessionDep, c: Candidacy) -> tuple[Any, ...] | None:
    return _sites(session, [c.lineage_id]).get(c.lineage_id)


@router.get("/candidacies", summary="Candidacies you may see (yours; all for staff), filtered and sorted",
            response_description="a page of candidacies; the header X-Total-Count says how many match")
def list_candidacies(principal: ProponentDep, session: SessionDep, status: StatusQuery = None,
                     possible_duplicates: Annotated[bool, Query(
                         description="only uploads that name or look like another party's application")] = False,
                     province: Annotated[str | None, Query(pattern="^[A-Z]{2}$", description="e.g. BS")] = None,
                     kind: Annotated[Literal["A", "B"] | None, Query()] = None,
                     site_type: Annotated[str | None, Query(pattern="^(" + "|".join(v.SITE_TYPES) + ")$")] = None,
                     delegated: Annotated[bool | None, Query(description="submitted by a delegate")] = None,
                     submitted_from: ReportDay = None, submitted_to: ReportDay = None,
                     stale: Annotated[bool, Query(description="published and not confirmed for too long")] = False,
                     current: Annotated[bool, Query(description="only the current version of each")] = False,
                     sort: inbox.SortKey = "id", order: Literal["asc", "desc"] = "desc",
                     limit: Annotated[int, Query(ge=1, le=500)] = 100,
                     offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> OrjsonResponse:
    filters = inbox.Filters(status=status, province=province, kind=kind, site_type=site_type, delegated=delegated,
                            submitted_from=submitted_from, submitted_to=submitted_to, stale=stale,
                            possible_duplicates=possible_duplicates, current_only=current)
    rows, total = inbox.page(session, principal, filters, sort, order == "desc", limit, offset)
    sites = _sites(session, [c.lineage_id for c in rows])
    return OrjsonResponse([_summary(c, sites.get(c.lineage_id)) for c in rows],
                          headers={"X-Total-Count": str(total)})


@router.get("/candidacies/counts", summary="Current applications by status, stale and flagged (the inbox's tabs)")
def candidacy_counts(principal: ProponentDep, session: SessionDep) -> OrjsonResponse:
    return OrjsonResponse(inbox.counts(session, principal))


@router.get("/candidacies/{candidacy_id}", summary="One candidacy: record, history, possible moves")
def get_candidacy(principal: ProponentDep, session: SessionDep, candidacy_id: int) -> OrjsonResponse:
    c = lifecycle.get_visible(session, principal, candidacy_id)
    return OrjsonResponse({
        **_summary(c, _site(session, c)),
        "relation": "staff" if principal.is_staff else lifecycle.relation(session, principal, c),
        "allowed_transitions": lifecycle.allowed_targets(c.status, lifecycle.actor_kind(principal)),
        "record": c.record, "labels": {k: field_place(k) for k in c.record},
        "declared": declared_sections(c.record),
        "warnings": c.validation_report.get("problems", []),
        "history": lifecycle.history(session, c, with_actors=principal.is_staff),
        "versions": inbox.versions(session, c),
        "location": site_location(session.connection(), c.lineage_id),
    })


@router.post("/candidacies/{candidacy_id}/transitions", summary="Move a candidacy to another status")
def move(principal: ProponentDep, session: SessionDep, candidacy_id: int, body: Move,
         request: Request) -> OrjsonResponse:
    c = lifecycle.get_visible(session, principal, candidacy_id)
    actor = lifecycle.actor_kind(principal)
    event = lifecycle.transition(session, c, body.to, actor, lifecycle.Caller.of(principal, client_ip(request)),
                                 body.reason)
    session.commit()
    return OrjsonResponse({**_summary(c, _site(session, c)), "audit_event": event.id})


@router.post("/candidacies/{candidacy_id}/consent", summary="The owner grants or withdraws consent to publish")
def consent(principal: ProponentDep, session: SessionDep, candidacy_id: int, body: Consent,
            request: Request) -> OrjsonResponse:
    c = lifecycle.get_visible(session, principal, candidacy_id)
    if lifecycle.relation(session, principal, c) != "owner":
        raise ForbiddenError("Only the owner can give or withdraw consent to publication.",
                             "Solo il proprietario può dare o revocare il nulla osta alla pubblicazione.")
    lifecycle.set_consent(session, c, body.consent, lifecycle.Caller.of(principal, client_ip(request)))
    session.commit()
    return OrjsonResponse(_summary(c, _site(session, c)))


@router.post("/candidacies/{candidacy_id}/owner-confirmation",
             summary="The owner confirms what its delegate declared on its behalf")
def confirm_owner(principal: ProponentDep, session: SessionDep, candidacy_id: int,
                  request: Request) -> OrjsonResponse:
    c = lifecycle.get_visible(session, principal, candidacy_id)
    if lifecycle.relation(session, principal, c) != "owner":
        raise ForbiddenError("Only the owner's own account can confirm what a delegate declared for it.",
                             "Solo l'account del proprietario può confermare quanto dichiarato dal delegato.")
    lifecycle.confirm_owner(session, c, lifecycle.Caller.of(principal, client_ip(request)))
    session.commit()
    return OrjsonResponse(_summary(c, _site(session, c)))


@router.post("/candidacies/{candidacy_id}/confirm", summary="Confirm the site's data are still true")
def confirm(principal: ProponentDep, session: SessionDep, candidacy_id: int, request: Request) -> OrjsonResponse:
    c = lifecycle.get_visible(session, principal, candidacy_id)
    if principal.role != "proponent":
        raise ForbiddenError("Only the owner or the delegate can confirm a site's data.",
                             "Solo il proprietario o il delegato possono confermare i dati del sito.")
    confirmed = lifecycle.confirm(session, c, lifecycle.Caller.of(principal, client_ip(request)))
    session.commit()
    return OrjsonResponse({**_summary(c, _site(session, c)), "last_confirmed_at": confirmed.isoformat()})


@router.get("/audit", summary="The audit log, newest first (staff)")
def audit_log(_: StaffDep, session: SessionDep,
              entity_type: Annotated[str | None, Query(max_length=32)] = None,
              entity_id: Annotated[str | None, Query(max_length=64)] = None,
              action: Annotated[str | None, Query(max_length=64)] = None,
              actor: Annotated[str | None, Query(max_length=254, description="e-mail, api-key:…, system")] = None,
              since: ReportDay = None, until: ReportDay = None,
              before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> OrjsonResponse:
    return OrjsonResponse(audit.search(session, entity_type=entity_type, entity_id=entity_id, action=action,
                                       actor=actor, since=since, until=until, before_id=before_id, limit=limit))


@router.get("/freshness/stale", summary="Published sites to confirm, and whom to remind (staff)")
def stale(_: StaffDep, session: SessionDep) -> OrjsonResponse:
    return OrjsonResponse(stale_sites(session))
