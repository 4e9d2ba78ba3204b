"""Store a validated workbook: original by hash, proponent registry, delegation,
candidacy version and site, all in one transaction.

Re-uploading the same bytes returns the stored candidacy and writes nothing. A
corrected file for the same candidacy (same "Codice candidatura", or same comune and
site name) becomes its next version when it comes from that application's proponent,
its owner's account or staff; the previous version stays, no longer current. From
anyone else it is a new candidacy flagged "possible duplicate of ..." for staff. Who
may write which registry row is decided in ``app.candidacies.registry``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.candidacies.models import Candidacy, Owner, Proponent
from app.candidacies.registry import (
    check_identity,
    declared_proponent_ids,
    delegation_row,
    lock_identities,
    owner_row,
    proponent_row,
)
from app.catalogue.models import Site
from app.core.errors import InvalidInputError, ServiceUnavailableError
from app.core.schema import AuditEvent
from app.core.settings import storage_settings, upload_settings, validation_settings
from app.core.storage import path_for, remove_original, sha256, store_original
from app.reference.enrichment import enrich, refresh_clusters
from app.reference.lookup import PostgisLookup
from ingest import codes
from ingest.checks import Thresholds, Validation, validate_workbook
from ingest.fields import SHEET_CANDIDACY, SHEET_DELEGATION, SHEET_PERIMETER
from ingest.record import CandidacyRecord
from ingest.workbook import Engine, Limits, read_workbook


class ValidationFailed(InvalidInputError):
    code = "validation_failed"


def limits() -> Limits:
    s = upload_settings()
    return Limits(max_bytes=s.max_bytes, max_uncompressed_bytes=s.max_uncompressed_bytes,
                  max_compression_ratio=s.max_compression_ratio, max_rows=s.max_rows, max_seconds=s.parse_seconds)


def thresholds() -> Thresholds:
    s = validation_settings()
    return Thresholds(s.greenfield_min_land_m2, s.brownfield_min_floor_m2, s.comune_border_tolerance_m)


def check_workbook(session: Session, data: bytes, engine: Engine | None = None) -> Validation:
    """Read and validate; raises ``WorkbookRejected`` for files that cannot be read at all."""
    workbook = read_workbook(data, limits(), engine or upload_settings().reader,
                             wanted=(SHEET_CANDIDACY, SHEET_PERIMETER, SHEET_DELEGATION))
    lookup = PostgisLookup(session.connection())
    if not lookup.has_reference_data():
        raise ServiceUnavailableError(
            "The reference data (comuni, provinces) is not loaded, so workbooks cannot be "
            "checked yet. Staff: run `opportunity reference load`.",
            "I dati di riferimento (comuni, province) non sono caricati: le candidature non "
            "possono ancora essere verificate. Personale: eseguire `opportunity reference load`.",
        )
    return validate_workbook(workbook, lookup, thresholds())


@dataclass(frozen=True)
class IntakeOutcome:
    candidacy_id: int
    lineage_id: uuid.UUID
    version: int
    site_id: int | None
    status: str
    duplicate: bool
    report: dict[str, Any]
    possible_duplicate_of: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "candidacy_id": self.candidacy_id,
            "candidacy_code": str(self.lineage_id),
            "version": self.version,
            "site_id": self.site_id,
            "status": self.status,
            "duplicate": self.duplicate,
            "possible_duplicate_of": self.possible_duplicate_of,
            "report": self.report,
        }


@dataclass(frozen=True)
class _Stored:
    outcome: IntakeOutcome
    record: dict[str, Any]


def _existing(session: Session, digest: str) -> _Stored | None:
    candidacy = session.scalars(select(Candidacy).where(Candidacy.file_sha256 == digest)).first()
    if candidacy is None:
        return None
    site_id = session.scalar(select(Site.id).where(Site.lineage_id == candidacy.lineage_id))
    return _Stored(IntakeOutcome(candidacy.id, candidacy.lineage_id, candidacy.version, site_id,
                                 candidacy.status, True, candidacy.validation_report,
                                 candidacy.duplicate_of_id), candidacy.record)


def submit(session: Session, data: bytes, filename: str | None = None, actor: str | None = None,
           client_address: str | None = None, engine: Engine | None = None,
           uploads_dir: Path | None = None, acting_for: str | None = None, draft: bool = False,
           actor_role: str = "proponent") -> IntakeOutcome:
    """Validate and store one workbook in one transaction; idempotent on its bytes.

    ``acting_for``: the codice fiscale or partita IVA of the signed-in proponent; every
    proponent identifier of the workbook must be it (staff pass None and may upload for
    anyone). ``draft``: store without submitting it for review yet.

    The original is written after the rows are flushed and removed again when the commit
    fails, so a client told "not stored" leaves nothing behind."""
    digest = sha256(data)
    root = uploads_dir or storage_settings().uploads_dir
    existing = _existing(session, digest)
    if existing:
        check_identity(acting_for, existing.record.get("proponent_cf"), existing.record.get("proponent_piva"))
        store_original(root, data)  # reclaims the file when a crash lost it
        return existing.outcome
    validation = check_workbook(session, data, engine)
    report = validation.report()
    record = validation.record
    if not validation.ok or record.lon is None or record.lat is None:
        session.rollback()
        raise ValidationFailed(
            f"The workbook has {len(validation.errors)} error(s); nothing was stored. Fix them "
            "(see details, or ask for the annotated workbook) and upload again.",
            f"La cartella di lavoro contiene {len(validation.errors)} errori; non è stato salvato "
            "nulla. Correggerli (vedere i dettagli o richiedere la cartella annotata) e "
            "ricaricarla.",
            details=report,
        )
    check_identity(acting_for, *declared_proponent_ids(record))
    created = False
    path = path_for(root, digest)
    try:
        outcome = _store(session, record, report, digest, path, len(data), filename, actor,
                         client_address, "draft" if draft else "submitted", actor_role, acting_for)
        path, created = store_original(root, data)
        session.commit()
    except BaseException as exc:
        session.rollback()
        if created:
            remove_original(path)
        # the same bytes, stored meanwhile by another request: its answer is ours
        duplicate = _existing(session, digest) if isinstance(exc, IntegrityError) else None
        if duplicate is None:
            raise
        return duplicate.outcome
    return outcome


def _lineage_code(r: CandidacyRecord) -> uuid.UUID | None:
    try:
        return uuid.UUID(r.candidacy_code) if r.candidacy_code else None
    except ValueError:
        return None


def _same_site(r: CandidacyRecord) -> Any:
    return (Site.declared_comune_istat == r.comune_istat) & (
        func.lower(func.btrim(Site.name)) == (r.site_name or "").strip().lower())


def _related(session: Session, r: CandidacyRecord, proponent: Proponent, owner: Owner, speaks_for_owner: bool,
             by_staff: bool) -> tuple[Candidacy | None, Candidacy | None]:
    """(previous, possible duplicate), from one query over the current applications that
    this upload names (its candidacy code) or looks like (same comune and site name).

    The previous version is one of the uploader's own (as proponent, or as the owner of
    what its delegate submitted), by code first, then by comune and site name; staff may
    continue any application by its code. Anyone else's application it names or looks
    like is not continued: it is the possible duplicate, kept apart and flagged for staff."""
    lineage = _lineage_code(r)
    same_site = _same_site(r)
    rows = session.execute(
        select(Candidacy, same_site.label("same_site"))
        .outerjoin(Site, Site.lineage_id == Candidacy.lineage_id)
        .where(Candidacy.is_current, or_(Candidacy.lineage_id == lineage, same_site) if lineage else same_site)
        .order_by(Candidacy.id)).all()

    def own(c: Candidacy) -> bool:
        return c.proponent_id == proponent.id or (speaks_for_owner and c.owner_id == owner.id)

    by_code = [c for c, _ in rows if lineage and c.lineage_id == lineage]
    by_site = [c for c, same in rows if same]
    previous = next((c for c in by_code if by_staff or own(c)), None) or next(filter(own, by_site), None)
    if previous is not None:
        return previous, None
    return None, next(iter(by_code + by_site), None)


def site_values(r: CandidacyRecord) -> dict[str, Any]:
    """Catalogue columns from a validated record (kind B fields only for kind B)."""
    project = r.kind == "B"
    return {
        "kind": r.kind, "name": r.site_name, "declared_comune_istat": r.comune_istat,
        "address": r.address, "geom": f"SRID=4326;POINT({r.lon} {r.lat})",
        "perimeter": f"SRID=4326;{r.perimeter_wkt}" if r.perimeter_wkt else None,
        "location_precision": r.location_precision or "exact",
        "cadastral_foglio": r.foglio, "cadastral_mappali": r.mappali,
        "cadastral_subalterni": r.subalterni, "site_type": r.site_type, "condition": r.condition,
        "land_area_m2": r.land_area_m2, "covered_area_m2": r.covered_area_m2,
        "gross_floor_area_m2": r.gross_floor_area_m2, "useful_height_m": r.useful_height_m,
        "floors": r.floors, "year_built": r.year_built, "energy_class": r.energy_class,
        "zoning": r.zoning, "allowed_functions": r.allowed_functions,
        "constraints": r.constraints, "remediation": r.remediation, "tenure_title": r.tenure_title,
        "availability": r.availability, "price_eur": r.price_eur,
        "annual_rent_eur": r.annual_rent_eur, "available_from": r.available_from,
        "rail_siding": r.rail_siding, "power_kw": r.power_kw, "substation": r.substation,
        "gas": r.gas, "industrial_water": r.industrial_water, "sewer": r.sewer, "fibre": r.fibre,
        "declared_distances": {k: v for k, v in {
            "motorway_exit_km": r.motorway_exit_km, "motorway_exit_name": r.motorway_exit_name,
            "station_km": r.station_km, "airport_km": r.airport_km}.items() if v is not None},
        "sectors": r.sectors, "description_it": r.description_it,
        "description_en": r.description_en,
        "planning_stage": r.planning_stage if project else None,
        "project_floor_area_m2": r.project_floor_area_m2 if project else None,
        "investment_eur": r.investment_eur if project else None,
        "attributes": {k: v for k, v in {
            "project_title": r.project_title, "project_functions": r.project_functions or None,
            "project_timing": r.project_timing, "partners_sought": r.partners_sought,
            "expected_jobs": r.expected_jobs}.items() if v is not None and project},
    }


def _store(session: Session, r: CandidacyRecord, report: dict[str, Any], digest: str, path: Path,
           size: int, filename: str | None, actor: str | None,
           client_address: str | None, status: str, actor_role: str,
           acting_for: str | None) -> IntakeOutcome:
    lock_identities(session, r)
    proponent = proponent_row(session, r)
    owner, speaks_for_owner = owner_row(session, r, proponent)
    delegation = delegation_row(session, r, owner, proponent)
    previous, duplicate_of = _related(session, r, proponent, owner, speaks_for_owner, by_staff=acting_for is None)
    if previous is not None:
        previous.is_current = False
        session.flush()
    candidacy = Candidacy(
        lineage_id=previous.lineage_id if previous else uuid.uuid4(),
        version=previous.version + 1 if previous else 1,
        previous_id=previous.id if previous else None,
        is_current=True, kind=r.kind, status=status, proponent_id=proponent.id,
        proponent_role=r.proponent_role, owner_id=owner.id,
        delegation_id=delegation.id if delegation else None,
        publication_consent=r.owner_consent, file_sha256=digest, file_path=str(path),
        file_name=filename, file_size=size, template_version=r.template_version,
        record=r.json_ready(), validation_report=report,
        submitted_at=dt.datetime.now(dt.UTC) if status == "submitted" else None,
        owner_confirmed_at=func.now() if speaks_for_owner else None,
        duplicate_of_id=duplicate_of.id if duplicate_of else None,
    )
    session.add(candidacy)
    session.flush()
    site = session.scalars(select(Site).where(Site.lineage_id == candidacy.lineage_id)).first()
    values = site_values(r)
    was_published = site is not None and site.status == "published"
    if site is None:
        site = Site(lineage_id=candidacy.lineage_id, origin="candidacy", **values)
        session.add(site)
    else:
        for key, value in values.items():
            setattr(site, key, value)
        site.updated_at = func.now()
    site.candidacy_id = candidacy.id
    site.status = status
    site.last_confirmed_at = func.now()
    session.flush()
    enrich(session.connection(), [site.id])
    if was_published:  # a new version goes back to review: off the public map until then
        refresh_clusters(session.connection())
    session.add(AuditEvent(
        actor=actor or r.proponent_email, actor_role=actor_role,
        action="candidacy.new_version" if previous else "candidacy.upload",
        entity_type="candidacy", entity_id=str(candidacy.id),
        from_status=previous.status if previous else None, to_status=status,
        client_address=client_address,
        details={"file_sha256": digest, "version": candidacy.version,
                 "candidacy_code": str(candidacy.lineage_id), "warnings": report["warnings"],
                 "possible_duplicate_of": duplicate_of.id if duplicate_of else None},
    ))
    session.flush()
    return IntakeOutcome(candidacy.id, candidacy.lineage_id, candidacy.version, site.id,
                         candidacy.status, False, report, candidacy.duplicate_of_id)


def proponent_prefill(session: Session, tax_id: str) -> dict[str, Any] | None:
    """Registry data of a known proponent, by codice fiscale or partita IVA, for the
    pre-compiled template (the call requires that they do not retype it)."""
    code = codes.clean(tax_id)
    proponent = session.scalars(select(Proponent).where(
        (Proponent.codice_fiscale == code) | (Proponent.partita_iva == code))).first()
    if proponent is None:
        return None
    role = session.execute(
        text("SELECT proponent_role FROM candidacies WHERE proponent_id = :p ORDER BY id DESC LIMIT 1"),
        {"p": proponent.id},
    ).scalar()
    return {k: v for k, v in {
        "proponent_role": role, "proponent_name": proponent.name,
        "proponent_cf": proponent.codice_fiscale if proponent.codice_fiscale != proponent.partita_iva else None,
        "proponent_piva": proponent.partita_iva, "proponent_legal_nature": proponent.legal_nature,
        "proponent_email": proponent.email, "proponent_phone": proponent.phone,
    }.items() if v is not None}
