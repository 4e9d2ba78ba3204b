"""From a workbook's cells to typed values, finding each field by its label.

A label may sit in any row and any of the first columns; its value is the cell just
to its right. Every value that cannot be read becomes a problem at that cell, so the
owner sees all of them at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import get_close_matches
from functools import lru_cache
from typing import Any

from shapely.geometry import MultiPolygon

from ingest import codes
from ingest.coordinates import (
    parse_angle,
    parse_epsg,
    parse_wkt_perimeter,
    polygon_from_vertices,
    xy_to_lonlat,
)
from ingest.fields import (
    CANDIDACY_SECTIONS,
    DELEGATION_SECTIONS,
    SHEET_CANDIDACY,
    SHEET_DELEGATION,
    SHEET_PERIMETER,
    SUPPORTED_TEMPLATE_VERSIONS,
    Field,
    LabelIndex,
    fields_of,
)
from ingest.problems import Problem, Severity, WorkbookRejected, shown
from ingest.values import (
    ValueProblem,
    normalise,
    parse_bool,
    parse_choice,
    parse_choices,
    parse_date,
    parse_email,
    parse_integer,
    parse_number,
    parse_phone,
    parse_text,
    split_list,
)
from ingest.workbook import Sheet, Workbook, cell_name, label_like

LABEL_COLUMNS = 4  # labels are looked for in columns A-D


def _tax_id(value: Any) -> str:
    code = codes.clean(parse_text(value))
    problem = codes.tax_id_problem(code)
    if problem:
        kind = "codice fiscale" if codes.tax_id_kind(code) == "cf" else "partita IVA"
        article = "un" if kind == "codice fiscale" else "una"
        raise ValueProblem(f"a valid {kind} ({problem[0]})", f"{article} {kind} valido ({problem[1]})")
    return code


def _piva(value: Any) -> str:
    code = codes.clean(parse_text(value))
    problem = codes.partita_iva_problem(code)
    if problem:
        raise ValueProblem(f"a valid partita IVA ({problem[0]})",
                           f"una partita IVA valida ({problem[1]})")
    return code


def _year(value: Any) -> int:
    year = parse_integer(value)
    if not 1800 <= year <= dt.date.today().year + 1:
        raise ValueProblem(f"a year between 1800 and {dt.date.today().year}",
                           f"un anno tra 1800 e {dt.date.today().year}")
    return year


def _non_negative(quantity: str) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        number = parse_number(value, quantity)
        if number < 0:
            raise ValueProblem("a number of zero or more", "un numero maggiore o uguale a zero")
        return number
    return parse


PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": parse_text,
    "email": parse_email,
    "phone": parse_phone,
    "tax_id": _tax_id,
    "cf": _tax_id,
    "piva": _piva,
    "bool": parse_bool,
    "date": parse_date,
    "integer": parse_integer,
    "year": _year,
    "area": _non_negative("area"),
    "money": _non_negative("money"),
    "power": _non_negative("power"),
    "length_km": _non_negative("length_km"),
    "length_m": _non_negative("length_m"),
    "number": lambda v: parse_number(v, "length_m"),
    "angle_lat": lambda v: parse_angle(v, "lat"),
    "angle_lon": lambda v: parse_angle(v, "lon"),
    "epsg": lambda v: str(parse_epsg(v)),
    "wkt": lambda v: parse_wkt_perimeter(v).wkt,
    "list": split_list,
}


@dataclass
class SheetValues:
    """What one sheet said: parsed values, where each field is, and what went wrong."""

    sheet: str
    values: dict[str, Any] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)  # field key -> value cell
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def problems_for(self, keys: set[str]) -> list[Problem]:
        return [p for p in self.problems if p.field in keys]

    def problem(self, severity: Severity, code: str, key: str | None, found: Any,
                expected_en: str | None, expected_it: str | None, en: str, it: str,
                cell: str | None = None) -> None:
        self.problems.append(Problem(
            severity=severity, code=code, sheet=self.sheet,
            cell=cell or (self.cells.get(key) if key else None), field=key,
            found=shown(found), expected=expected_en, message_it=it, message_en=en,
            expected_it=expected_it if expected_it is not None else expected_en,
        ))


@lru_cache(maxsize=8)
def _index(fields: tuple[Field, ...]) -> LabelIndex:
    return LabelIndex(list(fields))


@lru_cache(maxsize=4096)
def _find_label(index: LabelIndex, text: str) -> Field | None:
    """Exact label or alias after normalising, else a close match (a reworded label).
    Cached: the same template texts come back in every file."""
    found = index.find(text)
    if found:
        return found
    close = get_close_matches(normalise(text), list(index.by_key), n=1, cutoff=0.9)
    return index.by_key[close[0]] if close else None


def read_fields(sheet: Sheet, fields: list[Field]) -> SheetValues:
    """Locate every known label in ``sheet`` and parse the value to its right."""
    index = _index(tuple(fields))
    out = SheetValues(sheet.name)
    labelled_rows: set[int] = set()
    for (row, column), label in sorted(sheet.cells.items()):
        # the first label of a row wins: the cells after it are its value and help
        if row in labelled_rows or column > LABEL_COLUMNS or not label_like(label):
            continue
        spec = _find_label(index, label)
        if spec is None:
            continue
        labelled_rows.add(row)
        if spec.key in out.cells:
            continue
        out.cells[spec.key] = cell_name(row, column + 1)
        raw = sheet.value(row, column + 1)
        if raw is None:
            continue
        out.raw[spec.key] = raw
        try:
            if spec.kind == "choice":
                out.values[spec.key] = parse_choice(raw, spec.vocabulary or {})
            elif spec.kind == "choices":
                out.values[spec.key] = parse_choices(raw, spec.vocabulary or {})
            else:
                out.values[spec.key] = PARSERS[spec.kind](raw)
        except ValueProblem as exc:
            out.problem(
                Severity.ERROR, "invalid_value", spec.key, raw, exc.expected_en, exc.expected_it,
                f"'{spec.label}': found '{shown(raw)}', expected {exc.expected_en}.",
                f"'{spec.label}': trovato '{shown(raw)}', atteso {exc.expected_it}.",
            )
    return out


def require(out: SheetValues, fields: list[Field]) -> None:
    for spec in fields:
        if not spec.required or spec.key in out.values or spec.key in out.raw:
            continue
        if spec.key in out.cells:
            en = f"'{spec.label}' is required and is empty."
            it = f"'{spec.label}' è obbligatorio ed è vuoto."
        else:
            en = f"'{spec.label}' is required but its row is missing from sheet {out.sheet}."
            it = f"'{spec.label}' è obbligatorio ma la sua riga manca dal foglio {out.sheet}."
        out.problem(Severity.ERROR, "missing_value", spec.key, None,
                    f"a value for {spec.help_en}", f"un valore per '{spec.label}'", en, it)


def _required_sheet(workbook: Workbook, name: str) -> Sheet:
    sheet = workbook.find(name)
    if sheet is None:
        found = ", ".join(workbook.sheets) or "none"
        raise WorkbookRejected(
            "missing_sheet",
            f"Sheet '{name}' is missing (found: {found}). Use the Region's template and do "
            "not rename its sheets.",
            f"Manca il foglio '{name}' (presenti: {found}). Usare il modello della Regione "
            "senza rinominarne i fogli.",
            sheet=name,
        )
    return sheet


def check_template_version(values: SheetValues) -> None:
    version = values.raw.get("template_version")
    cell = values.cells.get("template_version")
    if version is None:
        raise WorkbookRejected(
            "missing_template_version",
            "The template version ('Versione modello') is missing: this is not the Region's "
            "template, or the row was deleted. Download a fresh template.",
            "Manca la versione del modello ('Versione modello'): il file non è il modello della "
            "Regione o la riga è stata cancellata. Scaricare un modello aggiornato.",
            sheet=values.sheet, cell=cell,
        )
    if str(version).strip() not in SUPPORTED_TEMPLATE_VERSIONS:
        supported = ", ".join(SUPPORTED_TEMPLATE_VERSIONS)
        raise WorkbookRejected(
            "unknown_template_version",
            f"Template version '{shown(version)}' is not accepted (accepted: {supported}). "
            "Download the current template and copy your data into it.",
            f"La versione del modello '{shown(version)}' non è accettata (accettate: "
            f"{supported}). Scaricare il modello attuale e ricopiarvi i dati.",
            sheet=values.sheet, cell=cell,
        )


@dataclass
class ParsedWorkbook:
    kind: str
    candidacy: SheetValues
    delegation: SheetValues | None
    perimeter: MultiPolygon | None
    perimeter_problems: list[Problem]

    @property
    def problems(self) -> list[Problem]:
        found = [*self.candidacy.problems, *self.perimeter_problems]
        return found + (self.delegation.problems if self.delegation else [])


def parse_workbook(workbook: Workbook) -> ParsedWorkbook:
    """Read sheets Candidatura, Delega (when filled) and Perimetro into typed values."""
    sheet = _required_sheet(workbook, SHEET_CANDIDACY)
    everything = fields_of(CANDIDACY_SECTIONS)
    candidacy = read_fields(sheet, everything)
    if not candidacy.cells:
        raise WorkbookRejected(
            "empty_workbook",
            f"Sheet '{SHEET_CANDIDACY}' holds none of the template's fields: the workbook is "
            "empty or not the Region's template.",
            f"Il foglio '{SHEET_CANDIDACY}' non contiene alcun campo del modello: la cartella "
            "di lavoro è vuota o non è il modello della Regione.",
            sheet=SHEET_CANDIDACY,
        )
    check_template_version(candidacy)
    kind = candidacy.values.get("kind", "A")
    for spec in everything:
        if kind not in spec.kinds and spec.key in candidacy.values:
            del candidacy.values[spec.key]  # a kind B section left in a kind A file
    require(candidacy, fields_of(CANDIDACY_SECTIONS, kind))
    delegation = None
    delega_sheet = workbook.find(SHEET_DELEGATION)
    if delega_sheet is not None:
        delegation_fields = fields_of(DELEGATION_SECTIONS)
        delegation = read_fields(delega_sheet, delegation_fields)
        filled = {k for k in delegation.raw if k != "scope"}
        if filled:
            require(delegation, delegation_fields)
        else:
            delegation = None
    perimeter, perimeter_problems = read_perimeter(workbook.find(SHEET_PERIMETER), candidacy)
    return ParsedWorkbook(kind, candidacy, delegation, perimeter, perimeter_problems)


def read_perimeter(sheet: Sheet | None, candidacy: SheetValues) -> tuple[MultiPolygon | None, list[Problem]]:
    """Vertices from sheet Perimetro: columns Latitudine/Longitudine, or X/Y in the
    candidacy's EPSG. Header row found by label."""
    if sheet is None:
        return None, []
    out = SheetValues(sheet.name)
    header: dict[str, int] = {}
    header_row = None
    for (row, column), value in sorted(sheet.cells.items()):
        key = normalise(str(value)) if isinstance(value, str) else ""
        for name, options in (("lat", ("latitudine", "lat", "latitude")),
                              ("lon", ("longitudine", "lon", "longitude")),
                              ("x", ("x", "x est", "est", "coordinata x")),
                              ("y", ("y", "y nord", "nord", "coordinata y"))):
            if key in options and name not in header:
                header[name] = column
                header_row = row
    if header_row is None:
        return None, []
    use_xy = "x" in header and "y" in header
    use_ll = "lat" in header and "lon" in header
    epsg = int(candidacy.values.get("coord_epsg", "4326"))
    vertices: list[tuple[float, float]] = []
    for row in sorted({r for r, _ in sheet.cells if r > header_row}):
        try:
            if use_ll and sheet.value(row, header["lat"]) is not None:
                lat = parse_angle(sheet.value(row, header["lat"]), "lat")
                lon = parse_angle(sheet.value(row, header["lon"]), "lon")
                vertices.append((lon, lat))
            elif use_xy and sheet.value(row, header["x"]) is not None:
                x = parse_number(sheet.value(row, header["x"]), "length_m")
                y = parse_number(sheet.value(row, header["y"]), "length_m")
                vertices.append(xy_to_lonlat(x, y, epsg))
        except ValueProblem as exc:
            out.problem(Severity.ERROR, "invalid_vertex", "perimeter", sheet.value(row, 1),
                        exc.expected_en, exc.expected_it,
                        f"Perimeter vertex in row {row}: expected {exc.expected_en}.",
                        f"Vertice del perimetro alla riga {row}: atteso {exc.expected_it}.",
                        cell=cell_name(row, header.get("lat", header.get("x", 1))))
    if not vertices:
        return None, out.problems
    try:
        return polygon_from_vertices(vertices), out.problems
    except ValueProblem as exc:
        out.problem(Severity.ERROR, "invalid_perimeter", "perimeter", f"{len(vertices)} vertices",
                    exc.expected_en, exc.expected_it,
                    f"The perimeter in sheet {sheet.name} is not usable: expected {exc.expected_en}.",
                    f"Il perimetro nel foglio {sheet.name} non è utilizzabile: atteso {exc.expected_it}.",
                    cell=cell_name(header_row, min(header.values())))
        return None, out.problems
