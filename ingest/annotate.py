"""Hand the owner's workbook back with every problem marked where it is.

Problem cells are filled red (error) or amber (warning) and carry a comment in Italian
and English; a new first sheet "Esito verifica" lists every problem, including those
without a cell.
"""

from __future__ import annotations

import io
from collections.abc import Iterable

from openpyxl import load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill

from ingest.problems import Problem, Severity

REPORT_SHEET = "Esito verifica"
FILLS = {
    Severity.ERROR: PatternFill("solid", fgColor="F8CBAD"),
    Severity.WARNING: PatternFill("solid", fgColor="FFE699"),
}
AUTHOR = "Opportunity Lombardy"


def comment_text(problems: list[Problem]) -> str:
    parts = []
    for p in problems:
        tag = "ERRORE / ERROR" if p.severity is Severity.ERROR else "AVVISO / WARNING"
        parts.append(f"{tag}\n{p.message_it}\n{p.message_en}")
    return "\n\n".join(parts)


def annotate(data: bytes, problems: Iterable[Problem]) -> bytes:
    """The uploaded workbook with problems highlighted, commented and listed."""
    book = load_workbook(io.BytesIO(data))
    problems = list(problems)
    by_cell: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        if p.sheet and p.cell and p.sheet in book.sheetnames:
            by_cell.setdefault((p.sheet, p.cell), []).append(p)
    for (sheet_name, ref), found in by_cell.items():
        cell = book[sheet_name][ref]
        worst = Severity.ERROR if any(p.severity is Severity.ERROR for p in found) else Severity.WARNING
        cell.fill = FILLS[worst]
        comment = Comment(comment_text(found), AUTHOR)
        comment.width, comment.height = 420, 60 + 70 * len(found)
        cell.comment = comment
    _report_sheet(book, problems)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _report_sheet(book, problems: list[Problem]) -> None:
    if REPORT_SHEET in book.sheetnames:
        del book[REPORT_SHEET]
    sheet = book.create_sheet(REPORT_SHEET, 0)
    errors = sum(p.severity is Severity.ERROR for p in problems)
    sheet.append([f"Errori / errors: {errors}   Avvisi / warnings: {len(problems) - errors}"])
    sheet["A1"].font = Font(bold=True, size=13)
    header = ["Gravità / severity", "Foglio / sheet", "Cella / cell", "Campo / field",
              "Trovato / found", "Messaggio (IT)", "Message (EN)"]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for p in problems:
        sheet.append([p.severity.value, p.sheet, p.cell, p.field, p.found, p.message_it, p.message_en])
        sheet.cell(row=sheet.max_row, column=1).fill = FILLS[p.severity]
    for letter, width in zip("ABCDEFG", (18, 14, 10, 22, 24, 70, 70), strict=True):
        sheet.column_dimensions[letter].width = width
    book.active = 0
