"""The uploaded package, checked before any spreadsheet library reads it: size, content
type by magic bytes (not extension), legacy or encrypted Office files, macro-enabled
packages, zip bombs (total size, compression ratio, entry count), and, read by an XML
parser as a spreadsheet library would read them (namespaces resolved, any whitespace
between names and attributes), sheets with more rows, cells or columns than a template
needs, too many shared strings, document type declarations, and formulas whose value
was never computed (read-only parsers only see cached values, so such a cell would look
empty). The scan streams each part in chunks and stops at the first cap passed or when
the time budget is spent.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET
from xml.parsers import expat

from ingest.problems import WorkbookRejected

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
    max_cells: int = 50_000  # all sheets together; the template fills a few hundred
    max_shared_strings: int = 50_000
    max_seconds: float = 10.0  # reading one workbook; past it the file is refused, mid-way


# -- package checks ---------------------------------------------------------------------------


def _size(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.0f} KB"


def reject(code: str, en: str, it: str, status: int = 422, **where: str) -> WorkbookRejected:
    return WorkbookRejected(code, en, it, status, **where)


def check_package(data: bytes, limits: Limits) -> zipfile.ZipFile:
    """Refuse anything that is not a plain, reasonably sized .xlsx package."""
    if len(data) > limits.max_bytes:
        raise reject(
            "file_too_large",
            f"The file is {_size(len(data))}; the limit is {_size(limits.max_bytes)}.",
            f"Il file pesa {_size(len(data))}; il limite è {_size(limits.max_bytes)}.",
            413,
        )
    if not data:
        raise reject("empty_file", "The file is empty.", "Il file è vuoto.", 422)
    if data.startswith(OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise reject(
                "encrypted_workbook",
                "The workbook is password-protected. Remove the password (File > Info > "
                "Protect workbook) and upload it again.",
                "La cartella di lavoro è protetta da password. Rimuovere la password (File > "
                "Informazioni > Proteggi cartella di lavoro) e caricarla di nuovo.",
            )
        raise reject(
            "legacy_xls",
            "This is an old .xls file. Open it and save it as Excel Workbook (.xlsx).",
            "Questo è un vecchio file .xls. Aprirlo e salvarlo come Cartella di lavoro di "
            "Excel (.xlsx).",
            415,
        )
    not_xlsx = reject(
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
        raise reject(
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
        raise reject(
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


CHUNK = 64 * 1024
WIDE_REF = re.compile(r"[A-Z]{3}")  # a cell reference beyond column ZZ
ROW, CELL, FORMULA, VALUE, STRING = (f"{MAIN_NS} {t}" for t in ("row", "c", "f", "v", "si"))


class _PartScan:
    """One XML part read by expat as a spreadsheet reader would (namespace-resolved names,
    so '<x:row>' or '<row\tr="1">' count like '<row r="1">'), counting against the caps
    and refusing at the first one passed, before any spreadsheet library parses it."""

    def __init__(self, budget: Budget, sheet: str | None, formulas: bool) -> None:
        self.budget, self.sheet, self.formulas = budget, sheet, formulas
        self.rows = 0
        self.cell: str | None = None  # reference of the open cell
        self.formula = self.value = False
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.text
        self.parser.StartDoctypeDeclHandler = self.doctype
        self.in_value = False

    def feed(self, stream: Any) -> None:
        while chunk := stream.read(CHUNK):
            self.parser.Parse(chunk, False)
            self.budget.deadline()
        self.parser.Parse(b"", True)

    def doctype(self, *_: Any) -> None:
        raise reject("unreadable_workbook", "The workbook holds a document type declaration, which Excel never "
                      "writes. Save it again from Excel as .xlsx and upload it.",
                      "La cartella di lavoro contiene una dichiarazione di tipo di documento, che Excel non "
                      "scrive mai. Salvarla di nuovo da Excel come .xlsx e caricarla.")

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == ROW:
            self.rows += 1
            if self.rows > self.budget.limits.max_rows:
                raise self.budget.too_many("rows", self.sheet)
        elif name == CELL:
            self.budget.count_cell(self.sheet)
            self.cell, self.formula, self.value = attrs.get("r", "?"), False, False
            if WIDE_REF.match(self.cell):
                raise reject(
                    "too_many_columns",
                    f"Sheet '{self.sheet}' uses columns beyond ZZ; the template needs far fewer. Delete the "
                    "columns on the right and upload again.",
                    f"Il foglio '{self.sheet}' usa colonne oltre ZZ; il modello ne richiede molte meno. "
                    "Eliminare le colonne a destra e ricaricare.", sheet=self.sheet or "")
        elif name == FORMULA and self.cell is not None:
            self.formula = True
        elif name == VALUE:
            self.in_value = True
        elif name == STRING:
            self.budget.count_string()

    def text(self, data: str) -> None:
        if self.in_value and data.strip():
            self.value = True

    def end(self, name: str) -> None:
        if name == VALUE:
            self.in_value = False
        elif name == CELL:
            if self.formulas and self.formula and not self.value:
                _formula_without_value(self.sheet or "", self.cell or "?")
            self.cell = None


@dataclass
class Budget:
    """What one workbook may cost: cells and shared strings across its parts, and time."""

    limits: Limits
    started: float
    cells: int = 0
    strings: int = 0

    def deadline(self) -> None:
        deadline(self.started, self.limits)

    def count_cell(self, sheet: str | None) -> None:
        self.cells += 1
        if self.cells > self.limits.max_cells:
            raise self.too_many("cells", sheet)

    def count_string(self) -> None:
        self.strings += 1
        if self.strings > self.limits.max_shared_strings:
            raise self.too_many("shared strings", None)

    def too_many(self, what: str, sheet: str | None) -> WorkbookRejected:
        limit = {"rows": self.limits.max_rows, "cells": self.limits.max_cells,
                 "shared strings": self.limits.max_shared_strings}[what]
        what_it = {"rows": "righe", "cells": "celle", "shared strings": "testi"}[what]
        where_en, where_it = (f"Sheet '{sheet}' has", f"Il foglio '{sheet}' ha") if sheet else ("The workbook has",
                                                                                              "La cartella ha")
        return reject(
            "too_many_rows" if what == "rows" else "too_many_cells",
            f"{where_en} more than {limit} {what}; the template needs far fewer. Remove what is not "
            "part of the candidacy and upload again.",
            f"{where_it} più di {limit} {what_it}; il modello ne richiede molte meno. "
            "Eliminare ciò che non fa parte della candidatura e ricaricare.", **({"sheet": sheet} if sheet else {}))


def _formula_without_value(name: str, ref: str) -> None:
    raise reject(
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


def scan_parts(package: zipfile.ZipFile, parts: dict[str, str], wanted: list[str], budget: Budget) -> None:
    """Every sheet part (read or not) and the shared strings, within the caps; formulas
    without a value only matter in the sheets that are read."""
    for name, part in parts.items():
        with package.open(part) as stream:
            _PartScan(budget, name, formulas=name in wanted).feed(stream)
    if "xl/sharedStrings.xml" in package.namelist():
        with package.open("xl/sharedStrings.xml") as stream:
            _PartScan(budget, None, formulas=False).feed(stream)


def deadline(started: float, limits: Limits) -> None:
    if time.monotonic() - started > limits.max_seconds:
        raise reject(
            "too_slow_to_read",
            f"Reading the workbook took longer than {limits.max_seconds:g} seconds, the limit; a "
            "filled-in template reads in a fraction of a second. Copy the candidacy sheets into "
            "a new template and upload that.",
            f"La lettura della cartella ha superato {limits.max_seconds:g} secondi, il limite; un "
            "modello compilato si legge in una frazione di secondo. Copiare i fogli della "
            "candidatura in un modello nuovo e caricare quello.",
        )


