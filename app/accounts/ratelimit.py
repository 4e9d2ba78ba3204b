"""Rate limits counted in PostgreSQL: a sliding window estimated from two fixed ones.

Why not an in-process limiter (slowapi and the ``limits`` package keep counters in
memory, Redis or Memcached): the API is stateless behind any number of workers and the
only shared store this service has is its PostGIS. One upsert per limited request
(logins and uploads only) costs well under a millisecond.

Why a sliding estimate: with fixed windows alone, the count starts again at each
boundary, so a client could spend a whole window's attempts just before it and as many
just after (twice the limit in a few seconds). The estimate adds the previous window's
count weighted by the part of it still inside the sliding window (the "sliding window
counter" of Cloudflare's and nginx's limiters): two rows per bucket, no log of attempts.

Counters run on the request's own session and commit at once: the attempt counts even
when the request then fails, and the request never holds a second connection (a
request waiting for a second connection while holding one is how a burst of uploads
used to exhaust the pool).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Usage:
    """A bucket's counts in the current and the previous fixed window, at ``epoch``."""

    current: int
    previous: int
    start: float  # the current window's start (epoch seconds)
    window_s: int
    epoch: float

    @property
    def hits(self) -> float:
        """Attempts in the last ``window_s`` seconds, estimated: the previous window's
        count weighted by the share of it the sliding window still covers."""
        estimate = self.current + self.previous * (1 - (self.epoch - self.start) / self.window_s)
        return round(estimate, 9)  # 3 x (1 - 40/60) is 1.0000000000000002 in floats: exactly 1 here

    def retry_after(self, room: float) -> int:
        """Whole seconds until ``hits`` falls to ``room`` (then one more attempt passes)."""
        elapsed, window = self.epoch - self.start, self.window_s
        if self.current <= room:  # within this window, as the previous one's weight falls
            wait = (1 - (room - self.current) / self.previous) * window - elapsed if self.previous else 0.0
        else:  # in the next window, as this one's count becomes the falling previous
            wait = window - elapsed + max(0.0, 1 - room / self.current) * window
        return max(1, math.ceil(round(wait, 6)))

    def refuse(self, limit: int) -> TooManyRequestsError:
        """429 for a bucket at or past ``limit``, with the wait until one more attempt passes."""
        return TooManyRequestsError(self.retry_after(limit - 1))


def _window(window_s: int, now: dt.datetime | None) -> tuple[dt.datetime, float]:
    epoch = (now or dt.datetime.now(dt.UTC)).timestamp()
    return dt.datetime.fromtimestamp(epoch - epoch % window_s, dt.UTC), epoch


def _key(bucket: str) -> str:
    return hashlib.sha256(bucket.encode("utf-8", "surrogatepass")).hexdigest()  # no e-mails or NULs stored


def _usage(session: Session, key: str, current_hits: int, start: dt.datetime, epoch: float,
           window_s: int) -> Usage:
    previous = session.execute(READ, {"bucket": key, "window": start - dt.timedelta(seconds=window_s)}).scalar()
    return Usage(current_hits, previous or 0, start.timestamp(), window_s, epoch)


def count(session: Session, bucket: str, window_s: int, now: dt.datetime | None = None) -> Usage:
    """Add one to ``bucket`` in the current window, commit, and return its usage."""
    start, epoch = _window(window_s, now)
    key = _key(bucket)
    hits = session.execute(HIT, {"bucket": key, "window": start}).scalar_one()
    if hits == 1:  # a new window: drop windows long past, all buckets
        session.execute(FORGET, {"before": start - dt.timedelta(seconds=10 * window_s)})
    usage = _usage(session, key, hits, start, epoch, window_s)
    session.commit()
    return usage


def current(session: Session, bucket: str, window_s: int, now: dt.datetime | None = None) -> Usage:
    """``bucket``'s usage now (nothing is added)."""
    start, epoch = _window(window_s, now)
    key = _key(bucket)
    hits = session.execute(READ, {"bucket": key, "window": start}).scalar() or 0
    return _usage(session, key, hits, start, epoch, window_s)


def hit(session: Session, bucket: str, limit: int, window_s: int, now: dt.datetime | None = None) -> None:
    """Count one attempt in ``bucket``; 429 with Retry-After once ``limit`` is passed."""
    usage = count(session, bucket, window_s, now)
    if usage.hits > limit:
        raise usage.refuse(limit)
