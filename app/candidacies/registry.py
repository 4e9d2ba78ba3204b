"""The registry of people behind candidacies, and who may write to it.

Rules (the "takeover" lessons):

- an account acts for one tax identity: a proponent account may upload a workbook only
  when *every* proponent identifier the workbook states (codice fiscale, partita IVA) is
  that identity; one matching identifier out of two is not enough;
- a registry row (proponent or owner) is changed only by an upload of that identity's
  own account, or by staff; what anybody else declares about a person stays with their
  candidacy (``Candidacy.record``) and never rewrites the row;
- identifiers that point at two different registered people are refused, whoever uploads.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session

from app.candidacies.models import Delegation, Owner, Proponent
from app.core.errors import ConflictError, ForbiddenError, NotFoundError
from ingest import codes
from ingest.record import CandidacyRecord


def declared_proponent_ids(r: CandidacyRecord) -> tuple[str | None, str | None]:
    """(codice fiscale, partita IVA) as the workbook states them, cleaned; a company's
    11-digit codice fiscale is also its partita IVA."""
    cf = codes.clean(r.proponent_cf) if r.proponent_cf else None
    piva = codes.clean(r.proponent_piva) if r.proponent_piva else None
    if cf and len(cf) == 11 and not piva:
        piva = cf
    return cf, piva


def check_identity(acting_for: str | None, cf: str | None, piva: str | None) -> None:
    """A proponent account submits only workbooks whose every proponent identifier is its own."""
    if acting_for is None:
        return
    account = codes.clean(acting_for)
    stated = [codes.clean(c) for c in (cf, piva) if c]
    foreign = [c for c in stated if c != account]
    if not stated or foreign:
        found = ", ".join(foreign) or "none"
        raise ForbiddenError(
            f"The workbook's proponent identifiers ({found}) are not those of your account "
            f"({account}); every codice fiscale and partita IVA in the proponent section must be "
            "yours. A delegate fills in its own details and the delegation sheet (form C); "
            "ask the agency to register another identity for you.",
            f"Gli identificativi del proponente nella cartella ({found}) non sono quelli del suo "
            f"account ({account}); ogni codice fiscale e partita IVA della sezione proponente deve "
            "essere suo. Un delegato indica i propri dati e compila il foglio della delega "
            "(lettera C); per un'altra identità si rivolga all'agenzia.",
            details={"account_tax_id": account, "foreign_identifiers": foreign},
        )


def tax_ids(code: str | None) -> tuple[str | None, str | None]:
    """(codice_fiscale, partita_iva) from one tax code: 11 digits are both for a company."""
    if not code:
        return None, None
    code = codes.clean(code)
    return (code, None) if len(code) == 16 else (code, code)


LOCK = text("SELECT count(pg_advisory_xact_lock(hashtextextended(k, 0))) FROM unnest(CAST(:keys AS text[])) AS k")


def lock_identities(session: Session, r: CandidacyRecord) -> None:
    """Serialise the uploads that concern one person until their transaction ends: two
    first uploads of a new proponent at once must not both insert its row, and two
    versions of one application must not both become version 2. One statement takes the
    locks of the proponent and the owner in a fixed order, so uploads naming the same
    people never wait on each other in a cycle."""
    codes_ = {c for c in (*declared_proponent_ids(r), *tax_ids(r.owner_tax_id)) if c}
    session.execute(LOCK, {"keys": [f"identity:{c}" for c in sorted(codes_)]})


def _registered(session: Session, model: type, cf: str | None, piva: str | None) -> Any:
    """The one registry row these identifiers name, or None; 409 when they name two
    different people, or a row whose other identifier differs from the one stated.
    The caller holds the identity's lock (``lock_identities``)."""
    conditions = []
    if cf:
        conditions.append(model.codice_fiscale == cf)
    if piva:
        conditions.append(model.partita_iva == piva)
    if not conditions:
        return None
    rows = session.scalars(select(model).where(or_(*conditions))).all()
    clash = len(rows) > 1 or any(
        (cf and row.codice_fiscale and row.codice_fiscale != cf)
        or (piva and row.partita_iva and row.partita_iva != piva) for row in rows)
    if clash:
        raise ConflictError(
            "The codice fiscale and the partita IVA in the workbook belong to different registered "
            "people or companies. Check both; if the registry is wrong, contact the agency.",
            "Il codice fiscale e la partita IVA indicati appartengono a persone o società diverse già "
            "registrate. Verificarli; se il registro è errato, contattare l'agenzia.",
        )
    return rows[0] if rows else None


def _write(person: Any, cf: str | None, piva: str | None, values: dict[str, Any]) -> bool:
    """Fill the row from an upload of its own identity; True when anything changed."""
    values = {**{k: v for k, v in values.items() if v is not None},
              "codice_fiscale": person.codice_fiscale or cf, "partita_iva": person.partita_iva or piva}
    changed = {k: v for k, v in values.items() if getattr(person, k) != v}
    for key, value in changed.items():
        setattr(person, key, value)
    return bool(changed)


def proponent_row(session: Session, r: CandidacyRecord) -> Proponent:
    """The submitter's registry row, created or updated from the workbook: only its own
    account (checked before this) or staff reach this point with these identifiers."""
    cf, piva = declared_proponent_ids(r)
    email = r.proponent_email
    values = {"name": r.proponent_name, "legal_nature": r.proponent_legal_nature, "email": email,
              "pec": email if email and "pec" in email.split("@")[-1] else None, "phone": r.proponent_phone}
    person = _registered(session, Proponent, cf, piva)
    if person is None:
        person = Proponent(codice_fiscale=cf, partita_iva=piva, **values)
        session.add(person)
    elif _write(person, cf, piva, values):
        person.updated_at = func.now()
    session.flush()
    return person


def owner_row(session: Session, r: CandidacyRecord, proponent: Proponent) -> tuple[Owner, bool]:
    """The owner's registry row and whether this upload speaks for the owner.

    An owner who submits is its own proponent: its row follows its upload. A delegate
    only *declares* an owner: an existing row is left exactly as it is, a new one is
    created from the declaration and stays unconfirmed until the owner's account says so."""
    if r.proponent_role == "delegato":
        cf, piva = tax_ids(r.owner_tax_id)
        owner = _registered(session, Owner, cf, piva)
        if owner is None:
            owner = Owner(codice_fiscale=cf, partita_iva=piva, name=r.owner_name)
            session.add(owner)
            session.flush()
        return owner, False
    cf, piva = proponent.codice_fiscale, proponent.partita_iva
    owner = _registered(session, Owner, cf, piva)
    values = {"name": proponent.name, "legal_nature": proponent.legal_nature}
    if owner is None:
        owner = Owner(codice_fiscale=cf, partita_iva=piva, **values)
        session.add(owner)
    else:
        _write(owner, cf, piva, values)
    session.flush()
    return owner, True


def delegation_row(session: Session, r: CandidacyRecord, owner: Owner, delegate: Proponent) -> Delegation | None:
    """Form C as declared: its own row, or the row of the very same form uploaded before
    (a corrected candidacy under the same delegation). A form that differs in anything
    from the latest one of this owner, delegate and site is a new row linked to it."""
    d = r.delegation
    if r.proponent_role != "delegato" or d is None:
        return None
    declared = Delegation(
        owner_id=owner.id, delegate_id=delegate.id, delegate_category=d.delegato_category,
        delegate_email=d.delegato_email, legal_representative=d.delegante_legal_rep,
        id_document_type=d.id_doc_type, id_document_number=d.id_doc_number,
        id_document_expiry=d.id_doc_expiry, scope=d.scope, site_name=d.site_name,
        site_comune_istat=r.comune_istat, site_foglio=d.site_foglio,
        site_mappali=d.site_mappali, place=d.place, signed_on=d.signed_on, signed=bool(d.signed),
    )
    latest = session.scalars(select(Delegation).where(
        Delegation.owner_id == owner.id, Delegation.delegate_id == delegate.id,
        Delegation.site_comune_istat == r.comune_istat,
        Delegation.site_foglio.is_not_distinct_from(d.site_foglio),
    ).order_by(Delegation.id.desc()).limit(1)).first()
    if latest is not None and all(getattr(latest, c) == getattr(declared, c) for c in _FORM_C_COLUMNS):
        return latest
    declared.previous_id = latest.id if latest is not None else None
    session.add(declared)
    session.flush()
    return declared


# what a signed form C declares: two uploads that agree on all of it are the same form
_FORM_C_COLUMNS = (
    "delegate_category", "delegate_email", "legal_representative", "id_document_type", "id_document_number",
    "id_document_expiry", "scope", "site_name", "site_mappali", "place", "signed_on", "signed",
)


def own_proponent(session: Session, tax_id: str) -> Proponent | None:
    """The registry row of an account's own tax identity (None before its first upload)."""
    code = codes.clean(tax_id)
    return session.scalars(select(Proponent).where(
        or_(Proponent.codice_fiscale == code, Proponent.partita_iva == code))).first()


def correct_proponent(session: Session, tax_id: str, values: dict[str, Any]) -> Proponent:
    """The account's own registry data corrected from its desk (never the identifiers:
    those are the identity the account acts for). What it writes pre-fills the next template."""
    person = own_proponent(session, tax_id)
    if person is None:
        raise NotFoundError(
            "There are no registry data for your tax identity yet: they are recorded with your first upload.",
            "Non ci sono ancora dati anagrafici per il suo codice: vengono registrati con il primo caricamento.")
    if _write(person, None, None, values):
        person.updated_at = func.now()
    session.flush()
    return person
