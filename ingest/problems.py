"""Problems found in a workbook, each with its exact place and both languages.

The England brownfield check tool reports every issue at once with a severity; we do
the same per cell: ``error`` blocks the submission, ``warning`` does not.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    severity: Severity
    code: str
    sheet: str | None
    cell: str | None
    field: str | None
    found: str | None
    expected: str | None  # in English; ``expected_it`` in Italian (the same where no words)
    message_it: str
    message_en: str
    expected_it: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["severity"] = self.severity.value
        return data


def shown(value: Any, limit: int = 80) -> str | None:
    """A value as the owner typed it, shortened for a report."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class WorkbookRejected(ValueError):
    """The file as a whole cannot be read as a candidacy: nothing is parsed or stored.

    ``status`` is the HTTP status the API answers with (413 too large, 415 not a
    workbook, 422 a workbook we cannot accept).
    """

    def __init__(self, code: str, message_en: str, message_it: str, status: int = 422,
                 cell: str | None = None, sheet: str | None = None):
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_it = message_it
        self.status = status
        self.cell = cell
        self.sheet = sheet
