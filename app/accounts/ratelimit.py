"""Fixed-window rate limits counted in PostgreSQL.

Why not an in-process limiter (slowapi and the ``limits`` package keep counters in
memory, Redis or Memcached): the API is stateless behind any number of workers and the
only shared store this service has is its PostGIS. One upsert per limited request
(logins and uploads only) costs well under a millisecond.

Counters run on the request's own session and commit at once: the attempt counts even
when the request then fails, and the request never holds a second connection (a
request waiting for a second connection while holding one is how a burst of uploads
used to exhaust the pool).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.errors import TooManyRequestsError

HIT = text("""
INSERT INTO rate_limits AS r (bucket, window_start, hits) VALUES (:bucket, :window, 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
RETURNING hits
""")
READ = text("SELECT hits FROM rate_limits WHERE bucket = :bucket AND window_start = :window")
FORGET = text("DELETE FROM rate_limits WHERE window_start < :before")


def _window(window_s: int, now: dt.datetime | None) -> tuple[dt.datetime, float]:
    epoch = (now or dt.datetime.now(dt.UTC)).timestamp()
    return dt.datetime.fromtimestamp(epoch - epoch % window_s, dt.UTC), epoch


def _key(bucket: str) -> str:
    return hashlib.sha256(bucket.encode("utf-8", "surrogatepass")).hexdigest()  # no e-mails or NULs stored


def count(session: Session, bucket: str, window_s: int, now: dt.datetime | None = None) -> int:
    """Add one to ``bucket`` in the current window, commit, and return its count."""
    start, _ = _window(window_s, now)
    hits = session.execute(HIT, {"bucket": _key(bucket), "window": start}).scalar_one()
    if hits == 1:  # a new window: drop windows long past, all buckets
        session.execute(FORGET, {"before": start - dt.timedelta(seconds=10 * window_s)})
    session.commit()
    return hits


def current(session: Session, bucket: str, window_s: int, now: dt.datetime | None = None) -> int:
    """How many times ``bucket`` was counted in the current window (nothing is added)."""
    start, _ = _window(window_s, now)
    return session.execute(READ, {"bucket": _key(bucket), "window": start}).scalar() or 0


def refuse(window_s: int, now: dt.datetime | None = None) -> TooManyRequestsError:
    start, epoch = _window(window_s, now)
    return TooManyRequestsError(max(math.ceil(start.timestamp() + window_s - epoch), 1))


def hit(session: Session, bucket: str, limit: int, window_s: int, now: dt.datetime | None = None) -> None:
    """Count one attempt in ``bucket``; 429 with Retry-After once ``limit`` is passed."""
    if count(session, bucket, window_s, now) > limit:
        raise refuse(window_s, now)
