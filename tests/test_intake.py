"""Storing candidacies: samples, reports, idempotence, versions, registry, delegation."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.candidacies.intake import ValidationFailed, check_workbook, proponent_prefill, submit
from app.candidacies.models import Candidacy, Delegation, Proponent
from app.catalogue.models import Site
from app.core.schema import AuditEvent
from app.reference.lookup import PostgisLookup
from ingest.annotate import REPORT_SHEET, annotate
from ingest.checks import Thresholds, validate_workbook
from ingest.template import build_template
from ingest.workbook import read_workbook
from tests.workbooks import (
    AGENT,
    OWNER_COMPANY,
    OWNER_PERSON,
    candidacy_cell,
    delegate_writer,
    valid_writer,
)

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "sample"
MANIFEST = json.loads((SAMPLES / "expected.json").read_text())


def _count(session: Session, model: type) -> int:
    """Rows of ``model``; for sites, only those that came from workbooks (not synthetic)."""
    query = select(func.count()).select_from(model)
    if model is Site:
        query = query.where(Site.lineage_id.is_not(None))
    return session.scalar(query)


def _codes(validation) -> set[str]:
    return {p.code for p in validation.problems}


@pytest.mark.parametrize("name", sorted(MANIFEST["valid"]))
def test_valid_samples_are_stored_with_their_values(
    session: Session, shared_data: Path, tmp_path: Path, name: str
) -> None:
    expected = dict(MANIFEST["valid"][name])
    outcome = submit(session, (SAMPLES / name).read_bytes(), filename=name, uploads_dir=tmp_path)
    assert not outcome.duplicate and outcome.version == 1
    site = session.get(Site, outcome.site_id)
    candidacy = session.get(Candidacy, outcome.candidacy_id)
    assert site.declared_comune_istat == expected.pop("comune_istat")
    lon, lat = session.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM sites WHERE id = :i"), {"i": site.id}).one()
    for key in ("lon", "lat"):
        if key in expected:
            assert {"lon": lon, "lat": lat}[key] == pytest.approx(expected.pop(key), abs=1e-4)
    if expected.pop("has_perimeter", False):
        assert site.perimeter is not None
    for code in expected.pop("warnings", []):
        assert code in {p["code"] for p in outcome.report["problems"]}
    if "proponent_role" in expected:
        assert candidacy.proponent_role == expected.pop("proponent_role")
    if "publication_consent" in expected:
        assert candidacy.publication_consent is expected.pop("publication_consent")
    for key, value in expected.items():
        stored = getattr(site, key)
        assert (float(stored) if isinstance(value, float) else stored) == value, key
    assert Path(candidacy.file_path).read_bytes() == (SAMPLES / name).read_bytes()


@pytest.mark.parametrize("name", sorted(MANIFEST["invalid"]))
def test_invalid_samples_report_every_planted_error(
    session: Session, shared_data: Path, tmp_path: Path, name: str
) -> None:
    data = (SAMPLES / name).read_bytes()
    validation = check_workbook(session, data)
    found = {(p.code, p.sheet, p.cell, p.severity.value) for p in validation.problems}
    for planted in MANIFEST["invalid"][name]:
        assert (planted["code"], planted["sheet"], planted["cell"], planted["severity"]) in found, planted
    for problem in validation.problems:
        assert problem.message_it and problem.message_en and problem.message_it != problem.message_en
    before = _count(session, Candidacy)
    with pytest.raises(ValidationFailed) as info:
        submit(session, data, uploads_dir=tmp_path)
    assert info.value.details["errors"] == len(validation.errors)
    assert "nothing was stored" in info.value.message
    assert _count(session, Candidacy) == before and not any(tmp_path.iterdir())


def test_same_bytes_twice_is_idempotent(session: Session, tmp_path: Path) -> None:
    data = valid_writer().to_bytes()
    first = submit(session, data, uploads_dir=tmp_path)
    second = submit(session, data, uploads_dir=tmp_path)
    assert second.duplicate and second.candidacy_id == first.candidacy_id
    assert _count(session, Candidacy) == 1 and _count(session, Site) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "candidacy")) == 1


def test_a_corrected_file_becomes_the_next_version(session: Session, tmp_path: Path) -> None:
    first = submit(session, valid_writer().to_bytes(), uploads_dir=tmp_path)
    corrected = valid_writer(**{"Prezzo richiesto (€)": "€ 8.900.000"}).to_bytes()
    second = submit(session, corrected, uploads_dir=tmp_path)
    assert (second.version, second.lineage_id, second.site_id) == (2, first.lineage_id, first.site_id)
    versions = session.scalars(select(Candidacy).order_by(Candidacy.version)).all()
    assert [(c.version, c.is_current) for c in versions] == [(1, False), (2, True)]
    assert versions[1].previous_id == versions[0].id
    assert float(session.get(Site, first.site_id).price_eur) == 8_900_000
    # a renamed site keeps its lineage through the candidacy code the service handed out
    renamed = valid_writer(name="Nuovo nome", **{"Codice candidatura": str(first.lineage_id)})
    third = submit(session, renamed.to_bytes(), uploads_dir=tmp_path)
    assert (third.version, third.site_id) == (3, first.site_id)
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "candidacy")
                              .order_by(AuditEvent.id)).all()
    assert actions == ["candidacy.upload", "candidacy.new_version", "candidacy.new_version"]


def test_the_proponent_registry_is_reused_and_prefills(session: Session, tmp_path: Path) -> None:
    submit(session, valid_writer(name="Primo sito").to_bytes(), uploads_dir=tmp_path)
    submit(session, valid_writer(name="Secondo sito", **{"Telefono": "02 1234 5678"}).to_bytes(),
           uploads_dir=tmp_path)
    assert _count(session, Proponent) == 1 and _count(session, Site) == 2
    prefill = proponent_prefill(session, OWNER_COMPANY[1])
    assert prefill["proponent_name"] == OWNER_COMPANY[0]
    assert prefill["proponent_phone"] == "0212345678"
    sheet = load_workbook(io.BytesIO(build_template("A", prefill)))["Candidatura"]
    assert OWNER_COMPANY[0] in [c.value for c in sheet["B"]]
    assert proponent_prefill(session, "00000000000") is None


def test_a_delegate_with_a_valid_form_c(session: Session, tmp_path: Path) -> None:
    outcome = submit(session, delegate_writer().to_bytes(), uploads_dir=tmp_path)
    candidacy = session.get(Candidacy, outcome.candidacy_id)
    delegation = session.get(Delegation, candidacy.delegation_id)
    assert candidacy.proponent_role == "delegato" and candidacy.publication_consent
    assert delegation.id_document_expiry == dt.date(2030, 6, 30) and delegation.signed
    proponent = session.get(Proponent, candidacy.proponent_id)
    assert proponent.partita_iva == AGENT[1]


def _validate(session: Session, writer) -> object:
    return validate_workbook(read_workbook(writer.to_bytes()), PostgisLookup(session.connection()),
                             today=dt.date(2026, 11, 1))


@pytest.mark.parametrize("overrides, code", [
    ({"Delegante: codice fiscale o partita IVA": "RSSMRA85T10A562S"}, "delegation_wrong_owner"),
    ({"Delegato: codice fiscale o partita IVA": "06363391001"}, "delegation_wrong_delegate"),
    ({"Documento d'identità: scadenza": dt.date(2025, 1, 31)}, "id_document_expired"),
    ({"Firma del delegante apposta": "No"}, "delegation_not_signed"),
    ({"Opportunità: comune": "Monza"}, "delegation_other_site"),
    ({"Opportunità: foglio": "12"}, "delegation_other_site"),
    ({"Opportunità: mappali": "10"}, "delegation_other_site"),
])
def test_delegation_rules(session: Session, overrides: dict, code: str) -> None:
    validation = _validate(session, delegate_writer(**overrides))
    assert code in {p.code for p in validation.errors}
    problem = next(p for p in validation.problems if p.code == code)
    assert problem.sheet == "Delega" and problem.cell and problem.message_it and problem.message_en


PERSON_PROPONENT = {"Tipo proponente": "Delegato", "Denominazione o nome e cognome": OWNER_PERSON[0],
                    "Partita IVA": None, "Codice fiscale": OWNER_PERSON[1], "Natura giuridica": "Persona fisica",
                    "Proprietario (denominazione o nome)": OWNER_PERSON[0],
                    "Codice fiscale o partita IVA del proprietario": OWNER_PERSON[1]}


def _form_c(candidacy: dict[str, object], delega: dict[str, object]):
    """delegate_writer with the candidacy sheet's cells replaced too (None empties a cell)."""
    writer = delegate_writer(**delega)
    for label, value in candidacy.items():
        writer.book["Candidatura"][candidacy_cell(writer, label)].value = value
    return writer


@pytest.mark.parametrize("candidacy, delega, codes", [
    # a company declaring itself its own delegate
    ({"Proprietario (denominazione o nome)": AGENT[0], "Codice fiscale o partita IVA del proprietario": AGENT[1]},
     {"Delegante: denominazione o nome e cognome": AGENT[0], "Delegante: codice fiscale o partita IVA": AGENT[1],
      "Delegante: legale rappresentante": "Mario Esempio"},
     {"delegate_is_owner", "delegation_to_self"}),
    # a person as proponent, owner and delegate
    (PERSON_PROPONENT, {"Delegato: denominazione o nome e cognome": OWNER_PERSON[0],
                        "Delegato: codice fiscale o partita IVA": OWNER_PERSON[1]},
     {"delegate_is_owner", "delegation_to_self"}),
    # a company owner's form C without its legal representative
    ({"Proprietario (denominazione o nome)": OWNER_COMPANY[0],
      "Codice fiscale o partita IVA del proprietario": OWNER_COMPANY[1]},
     {"Delegante: denominazione o nome e cognome": OWNER_COMPANY[0],
      "Delegante: codice fiscale o partita IVA": OWNER_COMPANY[1]},
     {"delegation_no_legal_rep"}),
    ({}, {"Data": dt.date(2027, 6, 1)}, {"delegation_future_date"}),
    ({}, {"Data": dt.date(2026, 10, 15)}, {"delegation_after_compilation"}),
])
def test_form_c_rules_on_parties_and_dates(session: Session, candidacy: dict, delega: dict, codes: set) -> None:
    """Findings of form C that were stored silently: owner and delegate the same company
    or person, a company without its legal representative, a form signed in the future
    or after the candidacy was filled in."""
    validation = _validate(session, _form_c(candidacy, delega))
    found = {p.code for p in validation.errors}
    assert codes <= found, validation.problems
    for problem in (p for p in validation.errors if p.code in codes):
        assert problem.cell and problem.message_it and problem.message_en and problem.expected_it
        assert problem.expected != problem.expected_it  # the expected value in each language


def test_a_company_owner_with_its_legal_representative_passes(session: Session) -> None:
    validation = _validate(session, _form_c(
        {"Proprietario (denominazione o nome)": OWNER_COMPANY[0],
         "Codice fiscale o partita IVA del proprietario": OWNER_COMPANY[1]},
        {"Delegante: denominazione o nome e cognome": OWNER_COMPANY[0],
         "Delegante: codice fiscale o partita IVA": OWNER_COMPANY[1],
         "Delegante: legale rappresentante": "Mario Esempio"}))
    assert validation.ok, validation.problems


def test_each_form_c_is_its_own_delegation_record(session: Session, tmp_path: Path) -> None:
    """A later form C with the same ID document number used to reuse the earlier row, which
    then showed another form's expiry and signing date. Now it is a new row linked to the
    earlier one, and the earlier row keeps what its form said."""
    first = submit(session, delegate_writer().to_bytes(), uploads_dir=tmp_path)
    renewed = delegate_writer(**{"Documento d'identità: scadenza": dt.date(2031, 3, 31), "Data": dt.date(2026, 9, 29)})
    renewed.candidacy("Denominazione dell'opportunità", "Sito di prova Milano (rinnovo)")
    second = submit(session, renewed.to_bytes(), uploads_dir=tmp_path)
    one = session.get(Delegation, session.get(Candidacy, first.candidacy_id).delegation_id)
    two = session.get(Delegation, session.get(Candidacy, second.candidacy_id).delegation_id)
    assert one.id != two.id and two.previous_id == one.id
    assert (one.id_document_expiry, one.signed_on) == (dt.date(2030, 6, 30), dt.date(2026, 9, 30))
    assert (two.id_document_expiry, two.signed_on) == (dt.date(2031, 3, 31), dt.date(2026, 9, 29))
    # the same form with a corrected candidacy is the same delegation
    corrected = delegate_writer(**{"Documento d'identità: scadenza": dt.date(2031, 3, 31), "Data": dt.date(2026, 9, 29)})
    corrected.candidacy("Denominazione dell'opportunità", "Sito di prova Milano (corretto)")
    third = submit(session, corrected.to_bytes(), uploads_dir=tmp_path)
    assert session.get(Candidacy, third.candidacy_id).delegation_id == two.id


def test_a_delegate_without_form_c(session: Session) -> None:
    writer = valid_writer(**{
        "Tipo proponente": "Delegato",
        "Proprietario (denominazione o nome)": "Anna Esempio",
        "Codice fiscale o partita IVA del proprietario": "RSSMRA85T10A562S",
    })
    validation = _validate(session, writer)
    assert "missing_delegation" in {p.code for p in validation.errors}


def test_publication_consent_counts_only_as_the_owners(session: Session) -> None:
    validation = _validate(session, delegate_writer(**{"Nulla osta alla pubblicazione del delegante": "No"}))
    assert validation.ok and "consent_not_owner" in {p.code for p in validation.warnings}
    assert validation.record.owner_consent is False


@pytest.mark.parametrize("overrides, code, label", [
    ({"Comune": "Roma"}, "unknown_comune", "Comune"),
    ({"Latitudine (WGS84)": 41.9, "Longitudine (WGS84)": 12.5}, "outside_lombardy", "Latitudine (WGS84)"),
    ({"Latitudine (WGS84)": 45.6983, "Longitudine (WGS84)": 9.6773}, "outside_declared_comune", "Latitudine (WGS84)"),
    ({"Latitudine (WGS84)": None, "Longitudine (WGS84)": 9.19}, "incomplete_coordinates", "Latitudine (WGS84)"),
    ({"Superficie coperta (m²)": "25.000"}, "covered_exceeds_land", "Superficie coperta (m²)"),
    ({"Data compilazione": dt.date(2027, 1, 1)}, "future_date", "Data compilazione"),
    ({"Partita IVA": "00000009102"}, "invalid_value", "Partita IVA"),
])
def test_content_errors_are_placed_on_their_cell(session: Session, overrides: dict, code: str, label: str) -> None:
    writer = valid_writer(**overrides)
    if overrides.get("Latitudine (WGS84)", 0) is None:
        writer.book["Candidatura"][candidacy_cell(writer, "Latitudine (WGS84)")].value = None
    validation = _validate(session, writer)
    problem = next(p for p in validation.errors if p.code == code)
    assert problem.cell == candidacy_cell(writer, label)


def test_xy_in_utm_is_exact(session: Session) -> None:
    writer = valid_writer(**{"Latitudine (WGS84)": None, "Longitudine (WGS84)": None,
                             "Coordinata X (Est)": "514.950,3", "Coordinata Y (Nord)": "5.034.706,1",
                             "Sistema di riferimento X/Y (EPSG)": "32632 - WGS84 / UTM 32N"})
    for label in ("Latitudine (WGS84)", "Longitudine (WGS84)"):
        writer.book["Candidatura"][candidacy_cell(writer, label)].value = None
    validation = _validate(session, writer)
    assert validation.ok, validation.problems
    assert validation.record.comune_istat == "015146" and validation.record.location_precision == "exact"


def test_comune_and_foglio_give_an_approximate_location(session: Session, shared_data: Path) -> None:
    writer = valid_writer()
    for label in ("Latitudine (WGS84)", "Longitudine (WGS84)"):
        writer.book["Candidatura"][candidacy_cell(writer, label)].value = None
    validation = _validate(session, writer)
    assert validation.ok and validation.record.location_precision == "cadastral_sheet"
    assert "approximate_location" in {p.code for p in validation.warnings}


def test_thresholds_are_configurable_warnings(session: Session) -> None:
    writer = valid_writer(**{"Tipologia": "Area libera (greenfield)", "Superficie territoriale (m²)": "5.000",
                             "Superficie coperta (m²)": None, "SLP - superficie lorda di pavimento (m²)": None})
    for label in ("Superficie coperta (m²)", "SLP - superficie lorda di pavimento (m²)", "Numero piani"):
        writer.book["Candidatura"][candidacy_cell(writer, label)].value = None
    book = read_workbook(writer.to_bytes())
    lookup = PostgisLookup(session.connection())
    default = validate_workbook(book, lookup, today=dt.date(2026, 11, 1))
    assert default.ok and "below_threshold" in {p.code for p in default.warnings}
    relaxed = validate_workbook(book, lookup, Thresholds(greenfield_min_land_m2=1_000), dt.date(2026, 11, 1))
    assert "below_threshold" not in {p.code for p in relaxed.problems}


def test_kind_b_needs_its_project_fields(session: Session) -> None:
    writer = valid_writer("B", **{"Valore dell'investimento (€)": None})
    writer.book["Candidatura"][candidacy_cell(writer, "Valore dell'investimento (€)")].value = None
    validation = _validate(session, writer)
    problem = next(p for p in validation.errors if p.field == "investment_eur")
    assert problem.code == "missing_value" and problem.cell == candidacy_cell(writer, "Valore dell'investimento (€)")


def test_annotated_workbook_marks_each_problem(session: Session, shared_data: Path) -> None:
    name = "05_errori_vari_bergamo.xlsx"
    data = (SAMPLES / name).read_bytes()
    validation = check_workbook(session, data)
    book = load_workbook(io.BytesIO(annotate(data, validation.problems)))
    assert book.sheetnames[0] == REPORT_SHEET
    assert book[REPORT_SHEET].max_row == 2 + len(validation.problems)
    for planted in MANIFEST["invalid"][name]:
        cell = book[planted["sheet"]][planted["cell"]]
        assert cell.comment is not None, planted
        assert "ERRORE / ERROR" in cell.comment.text
        assert cell.fill.fgColor.rgb.endswith("F8CBAD")
