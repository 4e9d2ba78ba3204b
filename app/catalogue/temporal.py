"""OGC API - Features Part 1's ``datetime`` parameter over a collection's temporal property.

An instant ('2026-06-01', '2026-06-01T10:00:00Z') or an interval 'start/end' whose open
end is '..' or empty. QGIS (3.22 and every version without CQL2) turns a comparison of a
date field in a layer's filter into this parameter and writes its open ends as
'0000-01-01T00:00:00Z' and '9999-12-31T00:00:00Z', which are read as open too.

A site's temporal property is the day it becomes available (``available_from``): a day
is an interval, so a bound inside it keeps it (an end at 10:00 on 1 June keeps sites
available from 1 June). Sites without that day match no datetime, as Part 1 asks for
features without a temporal geometry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, and_

from app.core.errors import BadRequestError

OPEN = {"", ".."}
# what QGIS writes for an open end: outside what Python's dates can hold, or as far
PLACEHOLDER_YEARS = {"0000", "9999"}


def _bound(text: str) -> dt.date | None:
    """The day of one end (None when open); 400 for what is not RFC 3339."""
    text = text.strip()
    if text in OPEN or text[:4] in PLACEHOLDER_YEARS:
        return None
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise BadRequestError(
            f"datetime '{text}' is not an RFC 3339 date or date-time; write e.g. 2026-06-01, "
            "2026-06-01T00:00:00Z or an interval 2026-01-01/2026-12-31 (open end: ..).",
            f"datetime '{text}' non è una data o data-ora RFC 3339; scrivere ad es. 2026-06-01, "
            "2026-06-01T00:00:00Z o un intervallo 2026-01-01/2026-12-31 (estremo aperto: ..).") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.date()


def datetime_condition(column: Any, text: str) -> ColumnElement[bool]:
    """Features whose day in ``column`` meets the instant or interval ``text``."""
    parts = text.split("/")
    if len(parts) > 2:
        raise BadRequestError("datetime is an instant or one interval 'start/end'.",
                              "datetime è un istante o un solo intervallo 'inizio/fine'.")
    if len(parts) == 1:
        day = _bound(parts[0])
        if day is None:
            raise BadRequestError("datetime needs a date, or an interval with one closed end.",
                                  "datetime richiede una data, o un intervallo con almeno un estremo chiuso.")
        return column == day
    start, end = _bound(parts[0]), _bound(parts[1])
    if start and end and start > end:
        raise BadRequestError(f"datetime: the interval ends ({end}) before it starts ({start}).",
                              f"datetime: l'intervallo finisce ({end}) prima di iniziare ({start}).")
    conditions = [column.is_not(None)]
    if start:
        conditions.append(column >= start)
    if end:
        conditions.append(column <= end)
    return and_(*conditions)
