"""Unmet demand: what investors ask for that the catalogue cannot offer.

Every ``POST /match`` is recorded (``SearchLog``) without personal data: the resolved
requirement, how many sites met it, and for its best near misses which hard criteria
failed, with the value found and the value asked. ``report`` turns the records into what
staff act on: searches with no or few results by activity, province and month; the
criteria that most often leave investors empty-handed; how far the nearest misses were
from what was asked (what the catalogue would need)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import random
from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.core.settings import analytics_settings
from app.scouting.models import MatchSearch
from app.scouting.requirements import AreaOfInterest, Requirement

FEW = 3  # fewer results than this is "few"
logger = logging.getLogger(__name__)


def _asked(requirement: Requirement, criterion: str) -> Any:
    value = getattr(requirement, criterion, None)
    if isinstance(value, AreaOfInterest):
        return value.summary()
    if hasattr(value, "model_dump"):
        return value.model_dump(exclude_none=True)
    return value if isinstance(value, (int, float, str, bool, list)) else None


def should_record(caller: str) -> bool:
    settings = analytics_settings()
    if caller == "staff":
        return True
    return settings.record_public and random.random() < settings.public_sample


def search_row(requirement: Requirement, answer: dict[str, Any], caller: str) -> dict[str, Any]:
    """One search as the match answered it: the resolved requirement, how many sites met
    it, and which hard criteria its best near misses failed (found and asked)."""
    misses = [{"score": m["score"], "fails": [
        {"criterion": f["criterion"], "value": f.get("value"), "asked": _asked(requirement, f["criterion"])}
        for f in m.get("fails", [])]} for m in answer["near_misses"]]
    return {"at": dt.datetime.now(dt.UTC), "caller": caller, "activity": requirement.activity,
            "provinces": [p.upper() for p in requirement.provinces or []], "requirement": answer["requirement"],
            "matching": answer["matching"], "near_misses": misses}


class SearchLog:
    """Searches waiting to be written, per worker process. A search is appended in
    microseconds; ``flush`` writes everything pending in one INSERT and one commit that
    does not wait for the disk. Writing each search in its own transaction cost every
    investor's answer about a millisecond and a half of the worker's time and three round
    trips (profiled under the load bench). The lifespan flushes every
    ``flush_interval_s`` and at shutdown; a crash loses at most that interval of
    analytics, never a site or a candidacy. When the database cannot be reached the
    searches stay pending, up to ``pending_max`` (the oldest are dropped beyond it)."""

    def __init__(self, engine: Engine, pending_max: int) -> None:
        self.engine = engine
        self.pending: deque[dict[str, Any]] = deque(maxlen=pending_max)

    def add(self, requirement: Requirement, answer: dict[str, Any], caller: str) -> None:
        self.pending.append(search_row(requirement, answer, caller))

    def flush(self) -> int:
        """Write what is pending; how many searches were written."""
        rows: list[dict[str, Any]] = []
        while self.pending:
            try:
                rows.append(self.pending.popleft())
            except IndexError:  # another thread took the last one
                break
        if not rows:
            return 0
        try:
            with self.engine.begin() as conn:
                conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
                conn.execute(insert(MatchSearch), rows)
        except SQLAlchemyError:
            logger.warning("could not record %d searches for the demand analytics; kept for the next try", len(rows),
                           exc_info=True)
            room = (self.pending.maxlen or 0) - len(self.pending)  # newer searches came in meanwhile
            if room > 0:
                self.pending.extendleft(reversed(rows[-room:]))
            return 0
        return len(rows)


def purge(session: Session, now: dt.datetime | None = None) -> int:
    """Delete records older than the retention period; how many went."""
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(days=analytics_settings().retention_days)
    return session.execute(text("DELETE FROM match_searches WHERE at < :cutoff"), {"cutoff": cutoff}).rowcount


@dataclass(frozen=True)
class Window:
    """Which searches a report covers."""

    since: dt.date | None = None
    until: dt.date | None = None
    activity: str | None = None
    province: str | None = None

    def sql(self) -> tuple[str, dict[str, Any]]:
        clauses, params = ["TRUE"], {}
        if self.since:
            clauses.append("at >= :since")
            params["since"] = self.since
        if self.until:
            clauses.append("at < :until")
            params["until"] = self.until + dt.timedelta(days=1)
        if self.activity:
            clauses.append("COALESCE(activity, 'custom') = :activity")
            params["activity"] = self.activity
        if self.province:
            clauses.append(":province = ANY(provinces)")
            params["province"] = self.province.upper()
        return " AND ".join(clauses), params


GROUPS = """
SELECT COALESCE(activity, 'custom') AS activity, p.province, to_char(date_trunc('month', at), 'YYYY-MM') AS month,
       count(*) AS searches, count(*) FILTER (WHERE matching = 0) AS no_result,
       count(*) FILTER (WHERE matching BETWEEN 1 AND :few - 1) AS few_results
FROM match_searches
CROSS JOIN LATERAL unnest(CASE WHEN provinces = '{{}}' THEN ARRAY['*'] ELSE provinces END) AS p(province)
WHERE {where}
GROUP BY 1, 2, 3 ORDER BY 3 DESC, 4 DESC, 1, 2
"""
# the best near miss of each search that found nothing: which hard criteria kept it out
BLOCKING = """
WITH empty AS (SELECT COALESCE(activity, 'custom') AS activity, near_misses -> 0 AS best
               FROM match_searches WHERE matching = 0 AND {where}),
     totals AS (SELECT activity, count(*) AS total FROM empty GROUP BY activity)
SELECT e.activity, COALESCE((SELECT string_agg(f ->> 'criterion', ' + ' ORDER BY f ->> 'criterion')
                             FROM jsonb_array_elements(e.best -> 'fails') f), '(no near miss)') AS failed,
       count(*) AS searches, t.total
FROM empty e JOIN totals t USING (activity)
GROUP BY e.activity, 2, t.total ORDER BY e.activity, 3 DESC, 2
"""
NEAREST = """
WITH empty AS (SELECT COALESCE(activity, 'custom') AS activity, near_misses -> 0 AS best
               FROM match_searches WHERE matching = 0 AND {where})
SELECT activity, f ->> 'criterion' AS criterion, count(*) AS searches,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (f ->> 'value')::float8) AS median_found,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY CASE jsonb_typeof(f -> 'asked')
           WHEN 'number' THEN (f ->> 'asked')::float8
           WHEN 'object' THEN COALESCE((f -> 'asked' ->> 'min')::float8, (f -> 'asked' ->> 'max')::float8) END)
           AS median_asked
FROM empty, jsonb_array_elements(best -> 'fails') f
GROUP BY 1, 2 ORDER BY 1, 3 DESC, 2
"""


def report(session: Session, window: Window) -> dict[str, Any]:
    where, params = window.sql()

    def rows(sql: str) -> list[dict[str, Any]]:
        return [dict(r) for r in session.execute(text(sql.format(where=where)), {**params, "few": FEW}).mappings()]

    blocking = [{**r, "share": round(r["searches"] / r["total"], 3)} for r in rows(BLOCKING)]
    outcomes = [dict(r) for r in session.execute(text(
        "SELECT outcome, count(*) AS enquiries FROM enquiries WHERE status = 'closed' "
        "AND (CAST(:since AS date) IS NULL OR closed_at >= :since) GROUP BY outcome ORDER BY 2 DESC, 1"),
        {"since": window.since}).mappings()]
    return {"window": {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in window.__dict__.items()},
            "few_means_fewer_than": FEW, "groups": rows(GROUPS), "blocking": blocking, "nearest": rows(NEAREST),
            "enquiry_outcomes": outcomes}


def groups_csv(report_: dict[str, Any]) -> bytes:
    """The searches table as CSV (every field quoted, like the other exports)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["month", "activity", "province", "searches", "no_result", "few_results"])
    for g in report_["groups"]:
        writer.writerow([g["month"], g["activity"], g["province"], g["searches"], g["no_result"], g["few_results"]])
    return out.getvalue().encode()
