"""Demo data: the sample workbooks of data/sample stored and, where the owner consented,
published as staff would after checking them, so that the map and the API have
something real to show (``opportunity serve --demo``, and the browser tests)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from app.candidacies.intake import submit
from app.candidacies.lifecycle import Caller, transition
from app.candidacies.models import Candidacy
from app.core.errors import OpportunityError
from app.core.migrations import ROOT
from app.reference.enrichment import refresh_clusters

SAMPLES = ROOT / "data" / "sample"
DEMO = Caller("demo", "staff")


def load_samples(session: Session, folder: Path = SAMPLES) -> tuple[int, int, list[int]]:
    """(stored, refused, ids of the sites published); the invalid samples are refused, as
    they are meant to be. Idempotent: stored files are recognised by their bytes."""
    stored = refused = 0
    published: list[int] = []
    for path in sorted(folder.glob("*.xlsx")):
        try:
            outcome = submit(session, path.read_bytes(), filename=path.name, actor="demo")
        except OpportunityError:
            session.rollback()
            refused += 1
            continue
        stored += 1
        candidacy = session.get(Candidacy, outcome.candidacy_id)
        if candidacy.publication_consent and candidacy.status == "submitted":
            for status in ("validated", "published"):
                transition(session, candidacy, status, "staff", DEMO,
                           "demo data: published by opportunity serve --demo")
        if candidacy.status == "published" and outcome.site_id is not None:
            published.append(outcome.site_id)
        session.commit()
    refresh_clusters(session.connection())
    session.commit()
    return stored, refused, published
