"""The candidacy lifecycle: who may move a candidacy from which status to which, who may
see it, and the audit record every move leaves.

    draft -> submitted -> (changes_requested) -> validated -> published -> withdrawn/expired

The table below is the whole policy; the API and the CLI only call ``transition``.
A site mirrors the status of its application's current version, so publishing or
withdrawing a candidacy publishes or withdraws its site (and refreshes the low-zoom
clusters of the map).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.accounts.auth import Principal
from app.candidacies.models import Candidacy, Owner, Proponent
from app.candidacies.notify import enqueue
from app.catalogue.models import Site
from app.core.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from app.core.schema import AuditEvent
from app.reference.enrichment import refresh_clusters
from app.scouting import enquiries
from ingest import vocabulary as v

Actor = Literal["proponent", "staff", "system"]
Relation = Literal["owner", "delegate"]

TRANSITIONS: dict[tuple[str, str], frozenset[Actor]] = {
    ("draft", "submitted"): frozenset({"proponent"}),
    ("draft", "withdrawn"): frozenset({"proponent", "staff"}),
    ("submitted", "changes_requested"): frozenset({"staff"}),
    ("submitted", "validated"): frozenset({"staff"}),
    ("submitted", "withdrawn"): frozenset({"proponent", "staff"}),
    ("changes_requested", "submitted"): frozenset({"proponent"}),
    ("changes_requested", "withdrawn"): frozenset({"proponent", "staff"}),
    ("validated", "changes_requested"): frozenset({"staff"}),
    ("validated", "published"): frozenset({"staff"}),
    ("validated", "withdrawn"): frozenset({"proponent", "staff"}),
    ("published", "withdrawn"): frozenset({"proponent", "staff", "system"}),
    ("published", "expired"): frozenset({"staff", "system"}),
    ("expired", "submitted"): frozenset({"proponent"}),
    ("withdrawn", "submitted"): frozenset({"proponent"}),
}
# staff must say why when they send back, withdraw or expire someone else's candidacy
STAFF_REASON_REQUIRED = frozenset({"changes_requested", "withdrawn", "expired"})
CONFIRMABLE = frozenset({"submitted", "changes_requested", "validated", "published"})


@dataclass(frozen=True)
class Caller:
    """Who acts, as the audit log records it."""

    actor: str
    role: str
    address: str | None = None

    @classmethod
    def of(cls, principal: Principal, address: str | None = None) -> Caller:
        return cls(principal.actor, principal.role, address)


SYSTEM = Caller("system", "system")


# -- who sees what ----------------------------------------------------------------------------


def _matches(tax_id: str, person: Any) -> Any:
    return or_(person.codice_fiscale == tax_id, person.partita_iva == tax_id)


def visible(principal: Principal) -> Select[tuple[Candidacy]]:
    """The candidacies a caller may see: staff all; a proponent those it submitted (as
    owner, or as delegate under its delegation) and those where it is the owner."""
    query = select(Candidacy)
    if principal.is_staff:
        return query
    if principal.role != "proponent" or not principal.tax_id:
        return query.where(False)
    submitter, owner = aliased(Proponent), aliased(Owner)
    return (query.join(submitter, submitter.id == Candidacy.proponent_id)
            .outerjoin(owner, owner.id == Candidacy.owner_id)
            .where(or_(_matches(principal.tax_id, submitter), _matches(principal.tax_id, owner))))


def relation(session: Session, principal: Principal, candidacy: Candidacy) -> Relation | None:
    """How a proponent stands to a candidacy: its owner, the delegate who submitted it,
    or nothing (then it may not even learn that the candidacy exists)."""
    if principal.role != "proponent" or not principal.tax_id:
        return None
    owner = session.get(Owner, candidacy.owner_id) if candidacy.owner_id else None
    if owner is not None and principal.tax_id in (owner.codice_fiscale, owner.partita_iva):
        return "owner"
    submitter = session.get(Proponent, candidacy.proponent_id) if candidacy.proponent_id else None
    if submitter is not None and principal.tax_id in (submitter.codice_fiscale, submitter.partita_iva):
        return "delegate" if candidacy.proponent_role == "delegato" else "owner"
    return None


def get_visible(session: Session, principal: Principal, candidacy_id: int) -> Candidacy:
    """The candidacy, or 404 also when it exists but belongs to someone else (IDOR)."""
    candidacy = session.scalars(visible(principal).where(Candidacy.id == candidacy_id)).first()
    if candidacy is None:
        raise NotFoundError(f"There is no candidacy {candidacy_id} among yours.",
                            f"Non esiste la candidatura {candidacy_id} tra le sue.")
    return candidacy


def actor_kind(principal: Principal) -> Actor | None:
    if principal.is_staff:
        return "staff"
    return "proponent" if principal.role == "proponent" else None


def allowed_targets(status: str, actor: Actor | None) -> list[str]:
    return [to for (frm, to), actors in TRANSITIONS.items() if frm == status and actor in actors]


# -- moves ------------------------------------------------------------------------------------


def _label(status: str) -> tuple[str, str]:
    it, en = v.CANDIDACY_STATUSES[status]
    return en, it


def transition(session: Session, candidacy: Candidacy, to: str, actor: Actor, caller: Caller,
               reason: str | None = None) -> AuditEvent:
    """Move the current version of an application to ``to`` (its site follows), or raise
    a message that says why not. The caller commits."""
    if to not in v.CANDIDACY_STATUSES:
        raise InvalidInputError(f"'{to}' is not a status; use one of: {', '.join(v.CANDIDACY_STATUSES)}.",
                                f"'{to}' non è uno stato; usare uno tra: {', '.join(v.CANDIDACY_STATUSES)}.")
    frm = candidacy.status
    if not candidacy.is_current:
        raise ConflictError(
            f"Version {candidacy.version} has been replaced by a newer upload; act on the current version.",
            f"La versione {candidacy.version} è stata sostituita da un caricamento più recente; "
            "agire sulla versione corrente.")
    actors = TRANSITIONS.get((frm, to))
    if actors is None:
        (frm_en, frm_it), (to_en, to_it) = _label(frm), _label(to)
        raise ConflictError(f"A candidacy that is '{frm_en}' cannot become '{to_en}'.",
                            f"Una candidatura in stato '{frm_it}' non può passare a '{to_it}'.",
                            details={"status": frm, "allowed": [t for (f, t) in TRANSITIONS if f == frm]})
    if actor not in actors:
        raise ForbiddenError(f"Your role cannot move a candidacy from '{frm}' to '{to}'.",
                             f"Il suo ruolo non può portare una candidatura da '{frm}' a '{to}'.")
    if actor == "staff" and to in STAFF_REASON_REQUIRED and not (reason or "").strip():
        raise InvalidInputError("Give a reason: the proponent will read it.",
                                "Indicare una motivazione: il proponente la leggerà.")
    if to == "published" and not candidacy.publication_consent:
        raise ConflictError(
            "The owner has not consented to publication (field 'Nulla osta alla pubblicazione'); "
            "it cannot be published.",
            "Il proprietario non ha dato il nulla osta alla pubblicazione; non può essere pubblicata.")
    candidacy.status = to
    if to == "submitted":
        candidacy.submitted_at = dt.datetime.now(dt.UTC)
    site = session.scalars(select(Site).where(Site.lineage_id == candidacy.lineage_id)).first()
    if site is not None:
        site.status = to
        site.updated_at = func.now()
    event = audit(session, caller, f"candidacy.{to}", candidacy, frm, to, reason,
                  {"site_id": site.id if site else None, "version": candidacy.version})
    if actor == "staff":
        _tell_proponent(session, candidacy, to, reason, event)
    session.flush()
    if "published" in (frm, to):
        refresh_clusters(session.connection())
    if to == "published" and site is not None:
        _alert_enquiries(session, site.id)
    return event


def _alert_enquiries(session: Session, site_id: int) -> None:
    """Open enquiries the site now fits: an alert each, and a message to whoever keeps it."""
    for enquiry, alert in enquiries.check_site(session, site_id):
        fits = ("fits", "soddisfa") if alert.state == "match" else ("nearly fits", "soddisfa quasi")
        reasons = "\n".join(f"- {c['reason']}" for c in alert.reasons)
        enqueue(session, "enquiry_alert", enquiry.created_by,
                f"Site {site_id} {fits[0]} enquiry '{enquiry.name}' / Il sito {site_id} {fits[1]} la richiesta",
                f"Site {site_id} {fits[0]} the enquiry '{enquiry.name}' (score {alert.score}):\n{reasons}",
                {"enquiry_id": enquiry.id, "site_id": site_id, "state": alert.state},
                dedupe_key=f"enquiry-alert:{alert.id}")


def _tell_proponent(session: Session, candidacy: Candidacy, to: str, reason: str | None, event: AuditEvent) -> None:
    """The agency's move reaches the proponent through the notifier (and on its desk)."""
    proponent = session.get(Proponent, candidacy.proponent_id) if candidacy.proponent_id else None
    recipient = proponent and (proponent.email or proponent.pec)
    if not recipient:
        return
    (to_en, to_it), name = _label(to), candidacy.record.get("site_name") or f"#{candidacy.id}"
    said = f"\n\n{reason}" if reason else ""
    session.flush()
    enqueue(session, "candidacy_moved", recipient, f"'{name}': {to_it} / {to_en}",
            f"La candidatura '{name}' è ora: {to_it}.{said}\n\nThe candidacy '{name}' is now: {to_en}.{said}",
            {"candidacy_id": candidacy.id, "status": to}, dedupe_key=f"moved:{event.id}")


def audit(session: Session, caller: Caller, action: str, candidacy: Candidacy, frm: str | None = None,
          to: str | None = None, reason: str | None = None, details: dict[str, Any] | None = None) -> AuditEvent:
    event = AuditEvent(actor=caller.actor, actor_role=caller.role, action=action, entity_type="candidacy",
                       entity_id=str(candidacy.id), from_status=frm, to_status=to, reason=reason,
                       client_address=caller.address, details=details or {})
    session.add(event)
    return event


def set_consent(session: Session, candidacy: Candidacy, consent: bool, caller: Caller) -> None:
    """The owner grants or withdraws consent; withdrawing it takes a published site down."""
    candidacy.publication_consent = consent
    audit(session, caller, "candidacy.consent" if consent else "candidacy.consent_withdrawn", candidacy,
          details={"consent": consent})
    if not consent and candidacy.status == "published" and candidacy.is_current:
        transition(session, candidacy, "withdrawn", "system", caller,
                   "The owner withdrew consent to publication.")


def history(session: Session, candidacy: Candidacy, with_actors: bool) -> list[dict[str, Any]]:
    """The moves of an application, every version's, oldest first; who made them only
    for staff."""
    versions = dict(session.execute(select(Candidacy.id, Candidacy.version).where(
        Candidacy.lineage_id == candidacy.lineage_id)).all())
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "candidacy", AuditEvent.entity_id.in_([str(i) for i in versions]))
        .order_by(AuditEvent.id))
    return [{"at": e.occurred_at.isoformat(), "action": e.action, "from": e.from_status, "to": e.to_status,
             "reason": e.reason, "by_role": e.actor_role, "version": versions.get(int(e.entity_id)),
             **({"by": e.actor} if with_actors else {})}
            for e in events]


def confirm_owner(session: Session, candidacy: Candidacy, caller: Caller) -> None:
    """The owner's account stands behind a candidacy its delegate submitted (idempotent)."""
    if candidacy.owner_confirmed_at is not None:
        return
    candidacy.owner_confirmed_at = dt.datetime.now(dt.UTC)
    audit(session, caller, "candidacy.owner_confirmed", candidacy)


def confirm(session: Session, candidacy: Candidacy, caller: Caller) -> dt.datetime:
    """The proponent confirms the data are still true: the site is fresh again."""
    if candidacy.status not in CONFIRMABLE or not candidacy.is_current:
        raise ConflictError(
            f"Only a current candidacy that is submitted, validated or published can be confirmed "
            f"(this one is '{candidacy.status}'); upload a new version instead.",
            f"Si può confermare solo una candidatura corrente inviata, validata o pubblicata "
            f"(questa è '{candidacy.status}'); caricare una nuova versione.")
    site = session.scalars(select(Site).where(Site.lineage_id == candidacy.lineage_id)).one()
    now = dt.datetime.now(dt.UTC)
    site.last_confirmed_at = now
    audit(session, caller, "site.confirm", candidacy, details={"site_id": site.id})
    return now
