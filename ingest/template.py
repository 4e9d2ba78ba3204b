"""Generate the pre-compiled candidacy workbook owners fill in.

Sheets: Candidatura (Italian label, value, English help), Perimetro (vertices), Delega
(fac-simile lettera C), Istruzioni, and a hidden Liste sheet holding the drop-down
lists. Labels and help are locked; only value cells can be edited. For a known
proponent the registry rows come filled in, as the call requires.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from ingest import vocabulary as v
from ingest.fields import (
    CANDIDACY_SECTIONS,
    DELEGATION_SCOPE,
    DELEGATION_SECTIONS,
    SHEET_CANDIDACY,
    SHEET_DELEGATION,
    SHEET_INSTRUCTIONS,
    SHEET_PERIMETER,
    TEMPLATE_VERSION,
    YES_NO,
    Field,
    Section,
)

LISTS_SHEET = "Liste"
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
SECTION_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFFFF2")
UNLOCKED = Protection(locked=False)
PERIMETER_ROWS = 30

INSTRUCTIONS = [
    ("Come compilare / How to fill in", True),
    ("1. Compilare solo le celle gialle del foglio Candidatura; le etichette sono protette.", False),
    ("   Fill in only the yellow cells of sheet Candidatura; labels are protected.", False),
    ("2. Per i campi con elenco scegliere un valore dal menu; per i campi a scelta multipla "
     "scrivere i valori separati da virgola.", False),
    ("   Pick list fields from the drop-down; for multi-value fields write values separated "
     "by commas.", False),
    ("3. Numeri: formato italiano (12.500,50) o inglese (12,500.50); unità ammesse: m², mq, ha, "
     "€, kW, MW, km.", False),
    ("   Numbers: Italian (12.500,50) or English (12,500.50) format; units m², mq, ha, €, kW, "
     "MW, km.", False),
    ("4. Posizione: latitudine/longitudine WGS84, oppure X/Y con codice EPSG (32632, 7791, "
     "6707, 3003). Perimetro facoltativo nel foglio Perimetro o in WKT.", False),
    ("   Location: WGS84 latitude/longitude, or X/Y with an EPSG code. Optional perimeter in "
     "sheet Perimetro or as WKT.", False),
    ("5. Se il proponente è un delegato, il proprietario compila e firma il foglio Delega "
     "(fac-simile lettera C). Il nulla osta alla pubblicazione resta del proprietario.", False),
    ("   If the proponent is a delegate, the owner fills in and signs sheet Delega (form C). "
     "The consent to publish stays with the owner.", False),
    ("6. Non rinominare i fogli e non modificare la versione del modello.", False),
    ("   Do not rename sheets or change the template version.", False),
]


class _Lists:
    """Drop-down values kept in the hidden Liste sheet, one column per vocabulary."""

    def __init__(self, sheet: Worksheet):
        self.sheet = sheet
        self.ranges: dict[int, str] = {}

    def range_for(self, vocabulary: Mapping[str, tuple[str, str]]) -> str:
        key = id(vocabulary)
        if key not in self.ranges:
            column = len(self.ranges) + 1
            letter = get_column_letter(column)
            for row, (label_it, _) in enumerate(vocabulary.values(), start=1):
                self.sheet.cell(row=row, column=column, value=label_it)
            self.ranges[key] = (
                f"{quote_sheetname(LISTS_SHEET)}!${letter}$1:${letter}${len(vocabulary)}"
            )
        return self.ranges[key]


def _label_for(spec: Field, code: Any) -> Any:
    """What to show in a value cell for a stored code (its Italian label for choices)."""
    if spec.vocabulary and isinstance(code, str) and code in spec.vocabulary:
        return spec.vocabulary[code][0]
    if spec.kind == "bool" and isinstance(code, bool):
        return YES_NO["si" if code else "no"][0]
    return code


def _write_sections(sheet: Worksheet, sections: tuple[Section, ...], kind: str | None,
                    lists: _Lists, prefill: Mapping[str, Any], start_row: int) -> None:
    row = start_row
    for section in sections:
        if kind is not None and kind not in section.kinds:
            continue
        cell = sheet.cell(row=row, column=1, value=f"{section.title} / {section.title_en}")
        cell.font = Font(bold=True, color="1F4E79")
        for column in (1, 2, 3):
            sheet.cell(row=row, column=column).fill = SECTION_FILL
        row += 1
        for spec in section.fields:
            if kind is not None and kind not in spec.kinds:
                continue
            label = spec.label + (" *" if spec.required else "")
            sheet.cell(row=row, column=1, value=label).alignment = Alignment(wrap_text=True)
            value = sheet.cell(row=row, column=2, value=_label_for(spec, prefill.get(spec.key)))
            value.protection = UNLOCKED
            value.fill = INPUT_FILL
            if spec.number_format:
                value.number_format = spec.number_format
            help_cell = sheet.cell(row=row, column=3, value=spec.help_en)
            help_cell.font = Font(italic=True, color="595959")
            if spec.vocabulary:
                single = spec.kind != "choices"
                validation = DataValidation(
                    type="list", formula1=lists.range_for(spec.vocabulary), allow_blank=True,
                    showErrorMessage=single, errorTitle="Valore non valido",
                    error="Scegliere un valore dall'elenco / pick a value from the list",
                )
                sheet.add_data_validation(validation)
                validation.add(value)
            row += 1
        row += 1


def _setup_sheet(sheet: Worksheet, title: str, widths: tuple[int, ...]) -> None:
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14, color="FFFFFF")
    for column in range(1, len(widths) + 1):
        sheet.cell(row=1, column=column).fill = HEADER_FILL
        sheet.column_dimensions[get_column_letter(column)].width = widths[column - 1]
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


def _perimeter_sheet(sheet: Worksheet) -> None:
    _setup_sheet(sheet, "Perimetro dell'opportunità / Site perimeter (facoltativo)", (12, 18, 18, 16, 16))
    sheet.cell(row=2, column=1, value=(
        "Vertici in ordine: latitudine/longitudine WGS84, oppure X/Y nel sistema EPSG "
        "indicato nel foglio Candidatura. / Vertices in order: WGS84 lat/lon, or X/Y."))
    for column, title in enumerate(("Vertice", "Latitudine", "Longitudine", "X", "Y"), start=1):
        sheet.cell(row=4, column=column, value=title).font = Font(bold=True)
    for index in range(1, PERIMETER_ROWS + 1):
        sheet.cell(row=4 + index, column=1, value=index)
        for column in range(2, 6):
            sheet.cell(row=4 + index, column=column).protection = UNLOCKED
            sheet.cell(row=4 + index, column=column).fill = INPUT_FILL


def build_template(kind: str = "A", prefill: Mapping[str, Any] | None = None) -> bytes:
    """The workbook for candidacy ``kind`` (A or B), with ``prefill`` values by field key."""
    if kind not in v.CANDIDACY_KINDS:
        raise ValueError(f"kind must be one of {', '.join(v.CANDIDACY_KINDS)}")
    values = {"kind": kind, "template_version": TEMPLATE_VERSION, **(prefill or {})}
    book = Workbook()
    candidacy = book.active
    candidacy.title = SHEET_CANDIDACY
    perimeter = book.create_sheet(SHEET_PERIMETER)
    delegation = book.create_sheet(SHEET_DELEGATION)
    instructions = book.create_sheet(SHEET_INSTRUCTIONS)
    lists = _Lists(book.create_sheet(LISTS_SHEET))
    lists.sheet.sheet_state = "hidden"

    _setup_sheet(candidacy, "Opportunity Lombardy - Candidatura / Candidacy", (46, 38, 52))
    candidacy.cell(row=2, column=1, value="* campo obbligatorio / required field").font = Font(italic=True)
    _write_sections(candidacy, CANDIDACY_SECTIONS, kind, lists, values, start_row=4)
    candidacy.freeze_panes = "A4"

    _perimeter_sheet(perimeter)

    _setup_sheet(delegation, "Delega - fac-simile lettera C / Delegation (form C)", (46, 38, 52))
    delegation.cell(row=2, column=1, value=(
        "Da compilare solo se il proponente è un delegato; firmata dal proprietario. / Only "
        "when the proponent is a delegate; signed by the owner."))
    _write_sections(delegation, DELEGATION_SECTIONS, None, lists,
                    {"scope": DELEGATION_SCOPE, **_delegation_prefill(values)}, start_row=4)

    _setup_sheet(instructions, "Istruzioni / Instructions", (120,))
    for row, (text, bold) in enumerate(INSTRUCTIONS, start=3):
        instructions.cell(row=row, column=1, value=text).font = Font(bold=bold)

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _delegation_prefill(values: Mapping[str, Any]) -> dict[str, Any]:
    """A delegate's own registry data also goes into the delegato rows of form C."""
    if values.get("proponent_role") != "delegato":
        return {}
    return {
        "delegato_name": values.get("proponent_name"),
        "delegato_tax_id": values.get("proponent_cf") or values.get("proponent_piva"),
        "delegato_email": values.get("proponent_email"),
    }


class TemplateWriter:
    """Fill a generated template by label, as an owner would: for sample files, tests and
    staff tooling. ``put`` returns the cell written, so reports can be checked against it."""

    def __init__(self, kind: str = "A", prefill: Mapping[str, Any] | None = None):
        self.book = load_workbook(io.BytesIO(build_template(kind, prefill)))

    def row_of(self, sheet: str, label: str) -> int:
        ws = self.book[sheet]
        for row in range(1, ws.max_row + 1):
            value = ws.cell(row=row, column=1).value
            if isinstance(value, str) and value.rstrip(" *") == label:
                return row
        raise KeyError(f"{sheet}: no label {label!r}")

    def put(self, sheet: str, label: str, value: Any) -> str:
        row = self.row_of(sheet, label)
        self.book[sheet].cell(row=row, column=2, value=value)
        return f"B{row}"

    def candidacy(self, label: str, value: Any) -> str:
        return self.put(SHEET_CANDIDACY, label, value)

    def delegation(self, label: str, value: Any) -> str:
        return self.put(SHEET_DELEGATION, label, value)

    def vertices(self, points: list[tuple[float, float]]) -> None:
        """Perimeter vertices as (latitude, longitude) rows of sheet Perimetro."""
        sheet = self.book[SHEET_PERIMETER]
        for offset, (lat, lon) in enumerate(points):
            sheet.cell(row=5 + offset, column=2, value=lat)
            sheet.cell(row=5 + offset, column=3, value=lon)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.book.save(buffer)
        return buffer.getvalue()
