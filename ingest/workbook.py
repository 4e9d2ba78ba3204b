"""Open an uploaded workbook safely and read its cells as a grid of values.

Everything that would make the file unsafe or unreadable is refused before a
spreadsheet library sees it: size, content type by magic bytes (not extension),
legacy or encrypted Office files, macro-enabled packages, zip bombs (total size,
compression ratio, entry count), absurd row counts and formulas whose value was never
computed (read-only parsers only see cached values, so such a cell would look empty).

Two readers give the same grid: openpyxl in read-only mode (the reference) and
python-calamine (Rust, faster); ``bench/ingest.py`` compares them.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal
from xml.etree import ElementTree as ET

from openpyxl.utils.cell import get_column_letter

from ingest.problems import WorkbookRejected
from ingest.values import normalise

Engine = Literal["openpyxl", "calamine"]
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
MAX_ENTRIES = 2_000


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 10 * 1024 * 1024
    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_compression_ratio: float = 100.0
    max_rows: int = 5_000
    max_seconds: float = 10.0  # reading one workbook; past it the file is refused


@dataclass
class Sheet:
    name: str
    cells: dict[tuple[int, int], Any]  # (row, column), 1-based; empty cells are absent

    def rows(self) -> Iterator[int]:
        return iter(sorted({r for r, _ in self.cells}))

    def value(self, row: int, column: int) -> Any:
        return self.cells.get((row, column))


@dataclass
class Workbook:
    sheets: dict[str, Sheet]

    def find(self, name: str) -> Sheet | None:
        """A sheet by name, tolerating case, accents and spaces."""
        wanted = normalise(name)
        return next((s for s in self.sheets.values() if normalise(s.name) == wanted), None)


def cell_name(row: int, column: int) -> str:
    return f"{get_column_letter(column)}{row}"


# -- package checks ---------------------------------------------------------------------------


def _size(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def _reject(code: str, en: str, it: str, status: int = 422, **where: str) -> WorkbookRejected:
    return WorkbookRejected(code, en, it, status, **where)


def check_package(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """Refuse anything that is not a plain, reasonably sized .xlsx package."""
    if len(data) > limits.max_bytes:
        raise _reject(
            "file_too_large",
            f"The file is {_size(len(data))}; the limit is {_size(limits.max_bytes)}.",
            f"Il file pesa {_size(len(data))}; il limite è {_size(limits.max_bytes)}.",
            413,
        )
    if not data:
        raise _reject("empty_file", "The file is empty.", "Il file è vuoto.", 422)
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise _reject(
                "encrypted_workbook",
                "The workbook is password-protected. Remove the password (File > Info > "
                "Protect workbook) and upload it again.",
                "La cartella di lavoro è protetta da password. Rimuovere la password (File > "
                "Informazioni > Proteggi cartella di lavoro) e caricarla di nuovo.",
            )
        raise _reject(
            "legacy_xls",
            "This is an old .xls file. Open it and save it as Excel Workbook (.xlsx).",
            "Questo è un vecchio file .xls. Aprirlo e salvarlo come Cartella di lavoro di "
            "Excel (.xlsx).",
            415,
        )
    not_xlsx = _reject(
        "not_xlsx",
        "The file is not an Excel workbook (.xlsx). Upload the Region's template filled in.",
        "Il file non è una cartella di lavoro Excel (.xlsx). Caricare il modello della "
        "Regione compilato.",
        415,
    )
    if not data.startswith(ZIP_MAGIC):
        raise not_xlsx
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        entries = package.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise not_xlsx from exc
    _check_bomb(entries, limits)
    names = {e.filename for e in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise not_xlsx
    content_types = package.read("[Content_Types].xml").decode("utf-8", "replace")
    if "xl/vbaProject.bin" in names or "macroEnabled" in content_types:
        raise _reject(
            "macro_workbook",
            "The workbook contains macros (.xlsm), which are not accepted. Save it as Excel "
            "Workbook (.xlsx) without macros.",
            "La cartella di lavoro contiene macro (.xlsm), non accettate. Salvarla come "
            "Cartella di lavoro di Excel (.xlsx) senza macro.",
        )
    return package


def _check_bomb(entries: list[zipfile.ZipInfo], limits: Limits) -> None:
    total = sum(e.file_size for e in entries)
    worst = max(
        (e.file_size / max(e.compress_size, 1) for e in entries if e.file_size > 1_000_000),
        default=1.0,
    )
    if len(entries) > MAX_ENTRIES or total > limits.max_uncompressed_bytes or (
        worst > limits.max_compression_ratio
    ):
        raise _reject(
            "zip_bomb",
            f"The workbook expands to {total / 1e6:.0f} MB in {len(entries)} parts (compression "
            f"ratio up to {worst:.0f}:1), beyond the limits. A filled-in template is far "
            "smaller: remove embedded objects and pictures.",
            f"La cartella di lavoro si espande a {total / 1e6:.0f} MB in {len(entries)} parti "
            f"(rapporto di compressione fino a {worst:.0f}:1), oltre i limiti. Un modello "
            "compilato è molto più piccolo: rimuovere oggetti e immagini incorporati.",
        )


def sheet_parts(package: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> path of its XML part inside the package."""
    workbook = ET.fromstring(package.read("xl/workbook.xml"))
    rels = ET.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{PKG_REL_NS}}}Relationship")}
    parts = {}
    for sheet in workbook.iter(f"{{{MAIN_NS}}}sheet"):
        target = targets.get(sheet.get(f"{{{REL_NS}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(
            posixpath.join("xl", target)
        )
        parts[sheet.get("name", "")] = path
    return parts


WIDE_CELL = re.compile(rb'<(?:\w+:)?c [^>]*?r="[A-Z]{3}')


def check_sheet_size(name: str, xml: bytes, limits: Limits) -> None:
    """Every sheet, read or not, within the row limit, and no sheet wider than column ZZ
    (a cell far to the right makes a reader build millions of empty cells). Counting
    tags in the raw XML is enough; nothing is parsed."""
    if xml.count(b"<row ") + xml.count(b"<row>") > limits.max_rows:
        raise _reject(
            "too_many_rows",
            f"Sheet '{name}' has more than {limits.max_rows} rows; the template needs "
            "far fewer. Remove the extra rows.",
            f"Il foglio '{name}' ha più di {limits.max_rows} righe; il modello ne "
            "richiede molte meno. Eliminare le righe in eccesso.",
            sheet=name,
        )
    if WIDE_CELL.search(xml):
        raise _reject(
            "too_many_columns",
            f"Sheet '{name}' uses columns beyond ZZ; the template needs far fewer. Delete the "
            "columns on the right and upload again.",
            f"Il foglio '{name}' usa colonne oltre ZZ; il modello ne richiede molte meno. "
            "Eliminare le colonne a destra e ricaricare.",
            sheet=name,
        )


def check_formulas(name: str, xml: bytes) -> None:
    """Formulas without a cached value; the XML is parsed only when it holds formulas at all."""
    if b"<f>" not in xml and b"<f " not in xml and b":f>" not in xml and b":f " not in xml:
        return
    cell_tag, formula_tag, value_tag = (f"{{{MAIN_NS}}}{t}" for t in ("c", "f", "v"))
    for _, element in ET.iterparse(io.BytesIO(xml), events=("end",)):
        if element.tag != cell_tag or element.find(formula_tag) is None:
            continue
        value = element.find(value_tag)
        if value is None or not (value.text or "").strip():
            ref = element.get("r", "?")
            raise _reject(
                "formula_without_value",
                f"Cell {name}!{ref} holds a formula whose result was never saved. Open "
                "the file in Excel, let it recalculate, save and upload again (or "
                "type the value instead of the formula).",
                f"La cella {name}!{ref} contiene una formula il cui risultato non è "
                "stato salvato. Aprire il file in Excel, lasciarlo ricalcolare, salvare "
                "e ricaricare (o scrivere il valore al posto della formula).",
                sheet=name,
                cell=ref,
            )


# -- reading ----------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """Strip text; a date-time at midnight is the date Excel shows (engines differ here)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _grid(rows: Iterator[tuple[Any, ...]] | list[list[Any]]) -> dict[tuple[int, int], Any]:
    cells = {}
    for r, row in enumerate(rows, start=1):
        for c, raw in enumerate(row, start=1):
            value = _clean(raw)
            if value is not None:
                cells[(r, c)] = value
    return cells


def _read_openpyxl(data: bytes, names: list[str]) -> dict[str, Sheet]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {n: Sheet(n, _grid(book[n].iter_rows(values_only=True))) for n in names}
    finally:
        book.close()


def _read_calamine(data: bytes, names: list[str]) -> dict[str, Sheet]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets = {}
    for name in names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets[name] = Sheet(name, _grid(_calamine_values(rows)))
    return sheets


def _calamine_values(rows: list[list[Any]]) -> Iterator[list[Any]]:
    """calamine returns '' for empty cells and floats for whole numbers; align with openpyxl."""
    for row in rows:
        yield [
            None if v == "" else int(v) if isinstance(v, float) and v.is_integer() else v
            for v in row
        ]


def _deadline(started: float, limits: Limits) -> None:
    if time.monotonic() - started > limits.max_seconds:
        raise _reject(
            "too_slow_to_read",
            f"Reading the workbook took longer than {limits.max_seconds:g} seconds, the limit; a "
            "filled-in template reads in a fraction of a second. Copy the candidacy sheets into "
            "a new template and upload that.",
            f"La lettura della cartella ha superato {limits.max_seconds:g} secondi, il limite; un "
            "modello compilato si legge in una frazione di secondo. Copiare i fogli della "
            "candidatura in un modello nuovo e caricare quello.",
        )


def read_workbook(data: bytes, limits: Limits = Limits(), engine: Engine = "openpyxl",
                  wanted: tuple[str, ...] = ()) -> Workbook:
    """Check the package and every sheet's size, then read the sheets named in
    ``wanted`` (all when empty), within the time budget of ``limits``."""
    started = time.monotonic()
    package = check_package(data, limits)
    reader = _read_calamine if engine == "calamine" else _read_openpyxl
    try:
        parts = sheet_parts(package)
        wanted_keys = {normalise(w) for w in wanted}
        names = [n for n in parts if not wanted_keys or normalise(n) in wanted_keys]
        for name, part in parts.items():
            xml = package.read(part)
            check_sheet_size(name, xml, limits)
            if name in names:
                check_formulas(name, xml)
            _deadline(started, limits)
        sheets = reader(data, names)
        _deadline(started, limits)
    except WorkbookRejected:
        raise
    except Exception as exc:  # a package that passed the checks but cannot be parsed
        raise _reject(
            "unreadable_workbook",
            "The workbook is damaged and cannot be read. Open it in Excel, save it again as "
            ".xlsx and upload it.",
            "La cartella di lavoro è danneggiata e non può essere letta. Aprirla in Excel, "
            "salvarla di nuovo come .xlsx e caricarla.",
        ) from exc
    return Workbook(sheets)


def label_like(value: Any) -> bool:
    return isinstance(value, str) and bool(re.search(r"[A-Za-zÀ-ÿ]", value))
