"""The generated template: sheets, drop-downs, locked labels, version, pre-fill."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from ingest.fields import CANDIDACY_SECTIONS, TEMPLATE_VERSION, fields_of
from ingest.parser import parse_workbook
from ingest.template import build_template
from ingest.workbook import read_workbook


def _book(kind: str = "A", prefill: dict | None = None):
    return load_workbook(io.BytesIO(build_template(kind, prefill)))


def _rows(sheet) -> dict[str, int]:
    return {
        str(sheet.cell(row=r, column=1).value).rstrip(" *"): r
        for r in range(1, sheet.max_row + 1) if sheet.cell(row=r, column=1).value
    }


def test_sheets_and_hidden_lists() -> None:
    book = _book()
    assert book.sheetnames == ["Candidatura", "Perimetro", "Delega", "Istruzioni", "Liste"]
    assert book["Liste"].sheet_state == "hidden"


def test_every_enumerated_field_has_a_drop_down() -> None:
    book = _book("B")
    sheet = book["Candidatura"]
    rows = _rows(sheet)
    validated = {str(ref) for dv in sheet.data_validations.dataValidation for ref in dv.sqref.ranges}
    for spec in fields_of(CANDIDACY_SECTIONS, "B"):
        if spec.vocabulary:
            assert f"B{rows[spec.label]}" in validated, spec.label


def test_labels_locked_values_unlocked_sheet_protected() -> None:
    sheet = _book()["Candidatura"]
    assert sheet.protection.sheet
    row = _rows(sheet)["Superficie territoriale (m²)"]
    assert sheet.cell(row=row, column=1).protection.locked
    assert not sheet.cell(row=row, column=2).protection.locked
    assert sheet.cell(row=row, column=2).number_format == '#,##0" m²"'


def test_version_cell_and_kind() -> None:
    sheet = _book("B")["Candidatura"]
    rows = _rows(sheet)
    assert sheet.cell(row=rows["Versione modello"], column=2).value == TEMPLATE_VERSION
    assert sheet.cell(row=rows["Tipo di candidatura"], column=2).value == "Progetto di investimento"
    assert "Titolo del progetto" in rows
    assert "Titolo del progetto" not in _rows(_book("A")["Candidatura"])


def test_prefill_for_a_known_proponent() -> None:
    prefill = {"proponent_role": "delegato", "proponent_name": "Agenzia Esempio",
               "proponent_piva": "00000003038", "proponent_legal_nature": "persona_giuridica_privata",
               "proponent_email": "a@esempio.example"}
    book = _book("A", prefill)
    sheet, delega = book["Candidatura"], book["Delega"]
    rows = _rows(sheet)
    assert sheet.cell(row=rows["Tipo proponente"], column=2).value == "Delegato"
    assert sheet.cell(row=rows["Natura giuridica"], column=2).value == "Persona giuridica privata"
    assert sheet.cell(row=rows["Partita IVA"], column=2).value == "00000003038"
    delega_rows = _rows(delega)
    assert delega.cell(row=delega_rows["Delegato: denominazione o nome e cognome"], column=2).value == "Agenzia Esempio"


def test_blank_template_reports_each_required_field_at_its_cell() -> None:
    data = build_template("B")
    parsed = parse_workbook(read_workbook(data))
    rows = _rows(load_workbook(io.BytesIO(data))["Candidatura"])
    missing = {p.field: p.cell for p in parsed.problems if p.code == "missing_value"}
    for spec in fields_of(CANDIDACY_SECTIONS, "B"):
        if spec.required and spec.key not in ("kind", "template_version"):
            assert missing[spec.key] == f"B{rows[spec.label]}"
    assert all(p.message_it and p.message_en for p in parsed.problems)


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match=r"kind must be one of A, B"):
        build_template("C")


def test_declared_sections_follow_the_workbook_and_label_codes() -> None:
    """The desk shows a candidacy's declared data in the workbook's order, with labels in
    both languages and no keys the service resolved (finding 4 of 'What real clients send')."""
    from ingest.fields import CANDIDACY_SECTIONS, DELEGATION_SECTIONS, declared_sections

    record = {"kind": "A", "site_name": "Sito", "site_type": "area_con_edifici", "sectors": ["chemicals", "logistics"],
              "land_area_m2": 20000.0, "lat": 45.46, "lon": 9.19, "comune_istat": "015146", "owner_consent": True,
              "location_precision": "exact", "mappali": [], "delegation": {"delegante_name": "Anna Esempio", "scope": "x"}}
    sections = declared_sections(record)
    order = [s.title for s in (*CANDIDACY_SECTIONS, *DELEGATION_SECTIONS)]
    titles = [s["section"] for s in sections]
    assert titles == sorted(titles, key=order.index) and titles[0] == "Candidatura"
    assert "Delegante (proprietario)" in titles
    keys = [f["key"] for s in sections for f in s["fields"]]
    assert not {"lat", "lon", "comune_istat", "owner_consent", "location_precision", "mappali"} & set(keys)
    fields = {f["key"]: f for s in sections for f in s["fields"]}
    assert fields["site_type"]["labels"] == {"it": "Area con edifici", "en": "Land with buildings"}
    assert fields["sectors"]["labels"]["it"].startswith("Chimica") and fields["land_area_m2"]["label_en"]
