"""Open an uploaded workbook safely and read its cells as a grid of values.

Everything that would make the file unsafe or unreadable is refused before a
spreadsheet library sees it (``ingest.package``: size, type, zip bombs, and the rows,
cells, strings and formulas of every part as an XML parser reads them); the read itself
stays within the same time budget, checked every 200 rows.

Two readers give the same grid: openpyxl in read-only mode (the reference) and
python-calamine (Rust, faster); ``bench/ingest.py`` compares them.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from openpyxl.utils.cell import get_column_letter

from ingest.package import Budget, Limits, check_package, reject, scan_parts, sheet_parts
from ingest.problems import WorkbookRejected
from ingest.values import normalise

Engine = Literal["openpyxl", "calamine"]
__all__ = ["Engine", "Limits", "Sheet", "Workbook", "cell_name", "label_like", "read_workbook"]


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


# -- reading ----------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """Strip text; a date-time at midnight is the date Excel shows (engines differ here)."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def _grid(rows: Iterator[tuple[Any, ...]] | list[list[Any]], budget: Budget | None = None) -> dict[tuple[int, int], Any]:
    cells = {}
    for r, row in enumerate(rows, start=1):
        if budget is not None and r % 200 == 0:
            budget.deadline()  # stopped mid-way, not afterwards
        for c, raw in enumerate(row, start=1):
            value = _clean(raw)
            if value is not None:
                cells[(r, c)] = value
    return cells


def _read_openpyxl(data: bytes, names: list[str], budget: Budget) -> dict[str, Sheet]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return {n: Sheet(n, _grid(book[n].iter_rows(values_only=True), budget)) for n in names}
    finally:
        book.close()


def _read_calamine(data: bytes, names: list[str], budget: Budget) -> dict[str, Sheet]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets = {}
    for name in names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        sheets[name] = Sheet(name, _grid(_calamine_values(rows), budget))
    return sheets


def _calamine_values(rows: list[list[Any]]) -> Iterator[list[Any]]:
    """calamine returns '' for empty cells and floats for whole numbers; align with openpyxl."""
    for row in rows:
        yield [
            None if v == "" else int(v) if isinstance(v, float) and v.is_integer() else v
            for v in row
        ]


DEFAULT_LIMITS = Limits()


def read_workbook(data: bytes, limits: Limits = DEFAULT_LIMITS, engine: Engine = "openpyxl",
                  wanted: tuple[str, ...] = ()) -> Workbook:
    """Check the package and every sheet's size, then read the sheets named in
    ``wanted`` (all when empty), within the time budget of ``limits``."""
    budget = Budget(limits, time.monotonic())
    package = check_package(data, limits)
    reader = _read_calamine if engine == "calamine" else _read_openpyxl
    try:
        parts = sheet_parts(package)
        wanted_keys = {normalise(w) for w in wanted}
        names = [n for n in parts if not wanted_keys or normalise(n) in wanted_keys]
        scan_parts(package, parts, names, budget)
        sheets = reader(data, names, budget)
        budget.deadline()
    except WorkbookRejected:
        raise
    except Exception as exc:  # a package that passed the checks but cannot be parsed
        raise reject(
            "unreadable_workbook",
            "The workbook is damaged and cannot be read. Open it in Excel, save it again as "
            ".xlsx and upload it.",
            "La cartella di lavoro è danneggiata e non può essere letta. Aprirla in Excel, "
            "salvarla di nuovo come .xlsx e caricarla.",
        ) from exc
    return Workbook(sheets)


def label_like(value: Any) -> bool:
    return isinstance(value, str) and bool(re.search(r"[A-Za-zÀ-ÿ]", value))
