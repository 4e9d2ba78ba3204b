"""Fixed-window rate limits counted in PostgreSQL.

Why not an in-process limiter (slowapi and the ``limits`` package keep counters in
memory, Redis or Memcached): the API is stateless behind any number of workers and the
only shared store this service has is its PostGIS. One upsert per limited request
(logins and uploads only) costs well under a millisecond.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math

from sqlalchemy import Engine, text

from app.errors import TooManyRequestsError

HIT = text("""
INSERT INTO rate_limits AS r (bucket, window_start, hits) VALUES (:bucket, :window, 1)
ON CONFLICT (bucket, window_start) DO UPDATE SET hits = r.hits + 1
RETURNING hits
""")
FORGET = text("DELETE FROM rate_limits WHERE window_start < :before")


def hit(engine: Engine, bucket: str, limit: int, window_s: int, now: dt.datetime | None = None) -> None:
    """Count one attempt in ``bucket``; 429 with Retry-After once ``limit`` is passed.

    Runs on its own connection and commits at once, so the attempt counts even when the
    request then fails and its own transaction rolls back (a wrong password, say)."""
    now = now or dt.datetime.now(dt.UTC)
    bucket = hashlib.sha256(bucket.encode("utf-8", "surrogatepass")).hexdigest()  # no e-mails or NULs stored
    epoch = now.timestamp()
    start = dt.datetime.fromtimestamp(epoch - epoch % window_s, dt.UTC)
    with engine.begin() as conn:
        hits = conn.execute(HIT, {"bucket": bucket, "window": start}).scalar_one()
        if hits == 1:  # a new window: drop windows long past, all buckets
            conn.execute(FORGET, {"before": start - dt.timedelta(seconds=10 * window_s)})
    if hits > limit:
        retry = math.ceil(start.timestamp() + window_s - epoch)
        raise TooManyRequestsError(max(retry, 1))
