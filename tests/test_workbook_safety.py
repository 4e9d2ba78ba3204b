"""Every class of bad file is refused before parsing, with a message the owner can act on."""

from __future__ import annotations

import io
import zipfile

import msoffcrypto.format.ooxml
import pytest
from openpyxl import Workbook

from ingest.parser import parse_workbook
from ingest.problems import WorkbookRejected
from ingest.workbook import Limits, read_workbook
from tests.workbooks import candidacy_cell, rebuild_zip, valid_writer

ENGINES = ["openpyxl", "calamine"]


DEFAULT_LIMITS = Limits()


def rejected(data: bytes, limits: Limits = DEFAULT_LIMITS, engine: str = "openpyxl") -> WorkbookRejected:
    with pytest.raises(WorkbookRejected) as info:
        parse_workbook(read_workbook(data, limits, engine))
    assert info.value.message_en and info.value.message_it
    assert info.value.message_en != info.value.message_it
    return info.value


@pytest.fixture(scope="module")
def valid() -> bytes:
    return valid_writer().to_bytes()


def test_the_valid_workbook_reads(valid: bytes) -> None:
    parsed = parse_workbook(read_workbook(valid))
    assert parsed.kind == "A" and not parsed.problems


@pytest.mark.parametrize("content", [b"%PDF-1.7\n...", b"nome;comune\nA;Milano\n", b"\x89PNG\r\n\x1a\n"])
def test_not_an_xlsx_by_content(content: bytes) -> None:
    error = rejected(content)
    assert (error.code, error.status) == ("not_xlsx", 415)
    assert "not an Excel workbook" in error.message_en and "non è una cartella" in error.message_it


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert rejected(buffer.getvalue()).code == "not_xlsx"


def test_empty_file() -> None:
    assert rejected(b"").code == "empty_file"


def test_legacy_xls() -> None:
    error = rejected(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    assert (error.code, error.status) == ("legacy_xls", 415)
    assert "save it as Excel Workbook (.xlsx)" in error.message_en


def test_encrypted_workbook(valid: bytes) -> None:
    encrypted = io.BytesIO()
    office = msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(valid))
    office.encrypt("segreto", encrypted)
    error = rejected(encrypted.getvalue())
    assert error.code == "encrypted_workbook"
    assert "password-protected" in error.message_en and "protetta da password" in error.message_it


def test_macro_enabled_workbook(valid: bytes) -> None:
    with zipfile.ZipFile(io.BytesIO(valid)) as archive:
        types = archive.read("[Content_Types].xml").replace(
            b"sheet.main+xml", b"sheet.macroEnabled.main+xml")
    data = rebuild_zip(valid, replace={"[Content_Types].xml": types},
                       add={"xl/vbaProject.bin": b"\x00" * 64})
    error = rejected(data)
    assert error.code == "macro_workbook" and "macros (.xlsm)" in error.message_en


def test_zip_bomb_by_total_size(valid: bytes) -> None:
    data = rebuild_zip(valid, add={"xl/media/padding.bin": b"\x00" * 6_000_000})
    error = rejected(data, Limits(max_uncompressed_bytes=5_000_000))
    assert error.code == "zip_bomb" and "beyond the limits" in error.message_en


def test_zip_bomb_by_compression_ratio(valid: bytes) -> None:
    data = rebuild_zip(valid, add={"xl/media/padding.bin": b"\x00" * 3_000_000})
    error = rejected(data)  # default ratio limit 100:1; zeros compress about 1000:1
    assert error.code == "zip_bomb" and "compression ratio" in error.message_en


def test_file_over_the_size_limit(valid: bytes) -> None:
    error = rejected(valid, Limits(max_bytes=4096))
    assert (error.code, error.status) == ("file_too_large", 413)
    assert error.message_en.endswith("the limit is 4 KB.")


def test_formula_without_cached_value() -> None:
    writer = valid_writer(**{"Superficie coperta (m²)": "=B40*0.4"})
    error = rejected(writer.to_bytes())
    cell = candidacy_cell(writer, "Superficie coperta (m²)")
    assert (error.code, error.cell, error.sheet) == ("formula_without_value", cell, "Candidatura")
    assert f"Candidatura!{cell}" in error.message_en


def test_missing_template_version() -> None:
    writer = valid_writer(**{"Versione modello": None})
    writer.book["Candidatura"][candidacy_cell(writer, "Versione modello")].value = None
    error = rejected(writer.to_bytes())
    assert error.code == "missing_template_version" and "Download a fresh template" in error.message_en


def test_unknown_template_version() -> None:
    writer = valid_writer(**{"Versione modello": "OL-2019.3"})
    error = rejected(writer.to_bytes())
    assert error.code == "unknown_template_version" and "'OL-2019.3' is not accepted" in error.message_en
    assert error.cell == candidacy_cell(writer, "Versione modello")


def test_empty_workbook() -> None:
    book = Workbook()
    book.active.title = "Candidatura"
    buffer = io.BytesIO()
    book.save(buffer)
    error = rejected(buffer.getvalue())
    assert error.code == "empty_workbook"


def test_renamed_sheet() -> None:
    writer = valid_writer()
    writer.book["Candidatura"].title = "Foglio1"
    error = rejected(writer.to_bytes())
    assert error.code == "missing_sheet"
    assert "Sheet 'Candidatura' is missing (found: Foglio1" in error.message_en


def test_absurd_row_count() -> None:
    writer = valid_writer()
    sheet = writer.book["Candidatura"]
    for row in range(200, 5_300):
        sheet.cell(row=row, column=26, value="x")
    error = rejected(writer.to_bytes())
    assert error.code == "too_many_rows" and "more than 5000 rows" in error.message_en


NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def test_rows_in_a_sheet_the_parser_never_reads_count_too(valid: bytes) -> None:
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 5_002))
    bloated = rebuild_zip(valid, {"xl/worksheets/sheet4.xml":  # Istruzioni
                                  f'<worksheet xmlns="{NS}"><sheetData>{rows}</sheetData></worksheet>'.encode()})
    error = rejected(bloated, engine="calamine")
    assert error.code == "too_many_rows" and error.sheet == "Istruzioni"
    assert "Sheet 'Istruzioni' has more than 5000 rows" in error.message_en
    assert "Il foglio 'Istruzioni' ha più di 5000 righe" in error.message_it


def test_a_cell_far_to_the_right_is_refused(valid: bytes) -> None:
    wide = rebuild_zip(valid, {"xl/worksheets/sheet2.xml":  # Perimetro
                               f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="XFD1" t="inlineStr">'
                               f'<is><t>x</t></is></c></row></sheetData></worksheet>'.encode()})
    error = rejected(wide, engine="calamine")
    assert error.code == "too_many_columns" and "uses columns beyond ZZ" in error.message_en
    assert "usa colonne oltre ZZ" in error.message_it


@pytest.mark.parametrize("engine", ENGINES)
def test_a_workbook_past_the_time_budget_is_refused(valid: bytes, engine: str) -> None:
    error = rejected(valid, Limits(max_seconds=1e-9), engine)
    assert error.code == "too_slow_to_read" and error.status == 422
    assert "took longer than 1e-09 seconds" in error.message_en
    assert "ha superato 1e-09 secondi" in error.message_it


def test_damaged_package(valid: bytes) -> None:
    data = rebuild_zip(valid, replace={"xl/worksheets/sheet1.xml": b"<worksheet><broken"})
    error = rejected(data)
    assert error.code == "unreadable_workbook" and "damaged" in error.message_en


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_read_the_same_grid(valid: bytes, engine: str) -> None:
    reference = read_workbook(valid, engine="openpyxl")
    other = read_workbook(valid, engine=engine)
    for name, sheet in reference.sheets.items():
        assert other.sheets[name].cells == sheet.cells


def test_labels_are_found_wherever_they_are() -> None:
    """Rows moved, labels in another column, different case and accents: still parsed."""
    writer = valid_writer()
    sheet = writer.book["Candidatura"]
    sheet.insert_rows(5, amount=3)
    row = writer.row_of("Candidatura", "Superficie territoriale (m²)")
    sheet.cell(row=row, column=1, value="SUPERFICIE TERRITORIALE (mq)")
    row = writer.row_of("Candidatura", "Titolo di disponibilità")
    sheet.cell(row=row, column=1, value="titolo di disponibilita")
    parsed = parse_workbook(read_workbook(writer.to_bytes()))
    assert parsed.candidacy.values["land_area_m2"] == 20_000
    assert parsed.candidacy.values["tenure_title"] == "proprieta"


def _rows(template: str, count: int) -> str:
    return "".join(template.format(r=r) for r in range(1, count + 1))


ROW_VARIANTS = {  # the same rows as a spreadsheet reader sees them, written as an attacker would
    "tab before the attribute": f'<worksheet xmlns="{NS}"><sheetData>'
                                + _rows('<row\tr="{r}"><c r="A{r}"><v>{r}</v></c></row>', 5_001) + "</sheetData></worksheet>",
    "newline before the attribute": f'<worksheet xmlns="{NS}"><sheetData>'
                                    + _rows('<row\nr="{r}"><c\nr="A{r}"><v>{r}</v></c></row>', 5_001)
                                    + "</sheetData></worksheet>",
    "namespace prefix": f'<x:worksheet xmlns:x="{NS}"><x:sheetData>'
                        + _rows('<x:row r="{r}"><x:c r="A{r}"><x:v>{r}</x:v></x:c></x:row>', 5_001)
                        + "</x:sheetData></x:worksheet>",
    "self-closing rows": f'<worksheet xmlns="{NS}"><sheetData>' + _rows('<row r="{r}"/>', 5_001)
                         + "</sheetData></worksheet>",
}


@pytest.mark.parametrize("variant", sorted(ROW_VARIANTS))
@pytest.mark.parametrize("sheet", ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet4.xml"])
def test_the_row_limit_holds_against_every_way_of_writing_rows(valid: bytes, variant: str, sheet: str) -> None:
    """Rows written '<row\\tr=...>' or '<x:row>' were not counted (a 10 MB workbook of them
    took 67 s and 700 MB to parse): the limit is now counted by an XML parser."""
    bloated = rebuild_zip(valid, {sheet: ROW_VARIANTS[variant].encode()})
    for engine in ENGINES:
        error = rejected(bloated, engine=engine)
        assert error.code == "too_many_rows", (variant, error.code, error.message_en)
        assert "more than 5000 rows" in error.message_en and "più di 5000 righe" in error.message_it


def test_the_cell_and_shared_string_caps_hold_before_any_parse(valid: bytes) -> None:
    cells = "".join(f'<c r="{col}{r}"><v>1</v></c>' for col in ("A", "B", "C", "D", "E") for r in range(1, 11))
    wide = f'<worksheet xmlns="{NS}"><sheetData><row r="1">{cells}</row></sheetData></worksheet>'
    error = rejected(rebuild_zip(valid, {"xl/worksheets/sheet4.xml": wide.encode()}), Limits(max_cells=40))
    assert error.code == "too_many_cells" and "more than 40 cells" in error.message_en
    strings = f'<sst xmlns="{NS}">' + "<si><t>x</t></si>" * 60 + "</sst>"
    error = rejected(rebuild_zip(valid, add={"xl/sharedStrings.xml": strings.encode()}), Limits(max_shared_strings=50))
    assert error.code == "too_many_cells" and "more than 50 shared strings" in error.message_en
    assert "più di 50 testi" in error.message_it


def test_a_document_type_declaration_is_refused(valid: bytes) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
              f'<worksheet xmlns="{NS}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c>'
              '</row></sheetData></worksheet>')
    error = rejected(rebuild_zip(valid, {"xl/worksheets/sheet4.xml": laughs.encode()}))
    assert error.code == "unreadable_workbook" and "document type declaration" in error.message_en
