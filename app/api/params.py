"""Query parameters several routers share, bounded where a value outside them would only
ever be a mistake (or an attempt to overflow the arithmetic behind the query)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
# a day of a report's window: the service's records start in this century
ReportDay = Annotated[dt.date | None, Query(ge=FIRST_DAY, le=LAST_DAY,
                                            description=f"a day between {FIRST_DAY} and {LAST_DAY}")]
