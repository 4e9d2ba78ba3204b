"""Freshness: a published site whose owner has not confirmed it for a year is stale
(flagged, ranked lower by matching, its proponent reminded); after two years it expires.
Both periods come from FreshnessSettings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.candidacies.lifecycle import SYSTEM, transition
from app.candidacies.models import Candidacy
from app.candidacies.notify import enqueue
from app.core.settings import freshness_settings

STALE = text("""
SELECT s.id AS site_id, s.name AS site_name, s.status, s.last_confirmed_at,
       c.id AS candidacy_id, p.name AS proponent_name,
       COALESCE(p.email, p.pec, d.delegate_email) AS recipient,
       (CAST(:now AS timestamptz) - s.last_confirmed_at) >= make_interval(days => :expire_days) AS due_to_expire
FROM sites s
JOIN candidacies c ON c.id = s.candidacy_id
LEFT JOIN proponents p ON p.id = c.proponent_id
LEFT JOIN delegations d ON d.id = c.delegation_id
WHERE s.status = 'published' AND s.last_confirmed_at < CAST(:now AS timestamptz) - make_interval(days => :stale_days)
ORDER BY s.last_confirmed_at, s.id
""")


def stale_sites(session: Session, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Published sites not confirmed within the stale period, with whom to remind."""
    settings = freshness_settings()
    now = now or dt.datetime.now(dt.UTC)
    rows = session.execute(STALE, {"now": now, "stale_days": settings.stale_after_days,
                                   "expire_days": settings.expire_after_days}).mappings()
    return [{**row, "last_confirmed_at": row["last_confirmed_at"].isoformat(),
             "days_since_confirmed": (now - row["last_confirmed_at"]).days} for row in rows]


def remind(session: Session, now: dt.datetime | None = None) -> int:
    """Queue one reminder per stale site and month; returns how many were queued."""
    now = now or dt.datetime.now(dt.UTC)
    queued = 0
    for site in stale_sites(session, now):
        if not site["recipient"]:
            continue
        queued += enqueue(
            session, "stale_reminder", site["recipient"],
            f"Conferma i dati di '{site['site_name']}' / Please confirm '{site['site_name']}'",
            (f"Il sito '{site['site_name']}' non è confermato da {site['days_since_confirmed']} giorni. "
             "Acceda al servizio e confermi che i dati sono ancora validi, o carichi una nuova versione.\n\n"
             f"The site '{site['site_name']}' has not been confirmed for {site['days_since_confirmed']} days. "
             "Sign in and confirm its data are still true, or upload a new version."),
            {"site_id": site["site_id"], "candidacy_id": site["candidacy_id"]},
            dedupe_key=f"stale:{site['site_id']}:{now:%Y-%m}",
        )
    session.commit()
    return queued


def expire(session: Session, now: dt.datetime | None = None) -> list[int]:
    """Expire published sites past the expiry period (audited as the system); the ids."""
    expired = []
    for site in stale_sites(session, now):
        if not site["due_to_expire"]:
            continue
        candidacy = session.get(Candidacy, site["candidacy_id"])
        if candidacy is None or not candidacy.is_current:
            continue
        transition(session, candidacy, "expired", "system", SYSTEM,
                   f"Not confirmed for {site['days_since_confirmed']} days.")
        if site["recipient"]:
            enqueue(session, "expired", site["recipient"],
                    f"'{site['site_name']}' non è più pubblicato / is no longer published",
                    ("Il sito è scaduto perché non confermato. Carichi una nuova versione per ripubblicarlo.\n\n"
                     "The site expired because nobody confirmed it. Upload a new version to publish it again."),
                    {"site_id": site["site_id"]}, dedupe_key=f"expired:{site['site_id']}:{now or dt.date.today():%Y-%m-%d}")
        expired.append(site["site_id"])
    session.commit()
    return expired
