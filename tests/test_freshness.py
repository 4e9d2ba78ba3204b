"""Stale sites: flagged, ranked lower, owners reminded through the outbox, then expired."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.candidacies.freshness import expire, remind, stale_sites
from app.candidacies.notify import Delivery, FileNotifier, Message, deliver, load_notifier
from app.cli import cli
from app.core import settings
from tests.conftest import remove_uploaded_candidacies
from tests.test_access import DELEGATED, XLSX

runner = CliRunner()


@pytest.fixture
def published(api: TestClient, accounts: dict, engine: Engine, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Iterator[dict]:
    """The delegated workbook submitted by its delegate, published by staff, confirmed
    400 days ago."""
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    stored = api.post("/intake/candidacies", headers=accounts["delegate"],
                      files={"file": ("candidatura.xlsx", DELEGATED, XLSX)}).json()
    for status in ("validated", "published"):
        api.post(f"/candidacies/{stored['candidacy_id']}/transitions", headers=accounts["staff"], json={"to": status})
    with engine.begin() as conn:
        conn.execute(text("UPDATE sites SET last_confirmed_at = now() - interval '400 days' WHERE id = :s"),
                     {"s": stored["site_id"]})
        # the moves told the proponent (test_browser_session covers that); here only reminders count
        moved = conn.execute(text("DELETE FROM notifications WHERE kind = 'candidacy_moved'")).rowcount
    assert moved == 2
    yield stored
    settings.storage_settings.cache_clear()
    remove_uploaded_candidacies(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))
        from app.reference.enrichment import refresh_clusters

        refresh_clusters(conn)


def _result(api: TestClient, site_id: int) -> dict | None:
    lon, lat = api.get(f"/collections/sites/items/{site_id}").json()["geometry"]["coordinates"]
    body = api.post("/match", json={"area": {"point": [lon, lat], "radius_km": 2}, "limit": 100}).json()
    return next((r for r in body["results"] if r["site"]["id"] == site_id), None)


def test_stale_sites_rank_lower_until_confirmed(api: TestClient, accounts: dict, published: dict) -> None:
    stale = _result(api, published["site_id"])
    assert stale is not None and stale["stale"] is True
    confirmed = api.post(f"/candidacies/{published['candidacy_id']}/confirm", headers=accounts["owner"])
    assert confirmed.status_code == 200
    fresh = _result(api, published["site_id"])
    assert fresh["stale"] is False and fresh["site"]["last_confirmed"] == dt.date.today().isoformat()
    factor = settings.freshness_settings().stale_score_factor
    assert stale["score"] == pytest.approx(fresh["score"] * factor, abs=0.01)


def test_staff_list_of_owners_to_remind(api: TestClient, accounts: dict, published: dict) -> None:
    rows = api.get("/freshness/stale", headers=accounts["staff"]).json()
    row = next(r for r in rows if r["site_id"] == published["site_id"])
    assert row["recipient"] == "sedi@esempio-test.example" and row["days_since_confirmed"] >= 400
    assert row["due_to_expire"] is False


def test_reminders_are_queued_once_a_month_and_delivered(engine: Engine, published: dict, tmp_path: Path) -> None:
    with Session(engine) as db:
        assert remind(db) == 1
        assert remind(db) == 0  # same month: not queued twice
        next_month = dt.datetime.now(dt.UTC) + dt.timedelta(days=32)
        assert remind(db, next_month) == 1
        outbox = tmp_path / "outbox.jsonl"
        assert deliver(db, FileNotifier(outbox)) == Delivery(2, 0, 0)
        assert deliver(db, FileNotifier(outbox)) == Delivery(0, 0, 0)
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    assert {m["recipient"] for m in lines} == {"sedi@esempio-test.example"}
    assert "Sito di prova Milano" in lines[0]["subject"] and "confirm" in lines[0]["body"]


class Broken:
    def send(self, message: Message) -> None:
        raise ConnectionError("mail server down")


def test_failed_deliveries_stay_queued(engine: Engine, published: dict, tmp_path: Path) -> None:
    with Session(engine) as db:
        remind(db)
        assert deliver(db, Broken()) == Delivery(0, 1, 0)
        error = db.execute(text("SELECT attempts, last_error, sent_at, next_attempt_at - now() AS wait "
                                "FROM notifications")).one()
        assert error.attempts == 1 and "mail server down" in error.last_error and error.sent_at is None
        assert dt.timedelta(seconds=30) < error.wait <= dt.timedelta(seconds=60)  # back-off: not due yet
        assert deliver(db, FileNotifier(tmp_path / "o.jsonl")) == Delivery(0, 0, 0)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2)
        assert deliver(db, FileNotifier(tmp_path / "o.jsonl"), now=later) == Delivery(1, 0, 0)


def test_unconfirmed_sites_expire_with_an_audit_record(api: TestClient, engine: Engine, published: dict) -> None:
    with Session(engine) as db:
        assert expire(db) == []  # 400 days: stale, not yet expired
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
        assert stale_sites(db, later)[0]["due_to_expire"] is True
        assert expire(db, later) == [published["site_id"]]
    assert api.get(f"/collections/sites/items/{published['site_id']}").status_code == 404
    with engine.connect() as conn:
        event = conn.execute(text("SELECT actor, actor_role, from_status, to_status, reason FROM audit_events "
                                  "WHERE action = 'candidacy.expired'")).one()
        kinds = conn.execute(text("SELECT kind FROM notifications")).scalars().all()
    assert tuple(event)[:4] == ("system", "system", "published", "expired") and "Not confirmed" in event.reason
    assert kinds == ["expired"]


def test_freshness_and_notify_commands(published: dict, database_url: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    for cached in (settings.database_settings, settings.storage_settings):
        cached.cache_clear()
    try:
        listed = runner.invoke(cli, ["freshness", "stale"])
        assert listed.exit_code == 0 and "1 stale sites" in listed.output
        assert "1 reminders queued" in runner.invoke(cli, ["freshness", "remind"]).output
        delivered = runner.invoke(cli, ["notify", "deliver", "--backend", "file"])
        assert delivered.exit_code == 0 and "1 sent, 0 failed" in delivered.output, delivered.output
        assert (tmp_path / "outbox.jsonl").exists()
        bad = runner.invoke(cli, ["notify", "deliver", "--backend", "smtp"])
        assert bad.exit_code == 1 and "needs OPPORTUNITY_SMTP_HOST and" in bad.output
        unknown = runner.invoke(cli, ["notify", "deliver", "--backend", "pigeon"])
        assert unknown.exit_code == 1 and "use smtp, log, file or module:Class" in unknown.output
        assert "0 sites expired" in runner.invoke(cli, ["freshness", "expire"]).output
        purged = runner.invoke(cli, ["freshness", "purge-searches"])
        assert purged.exit_code == 0 and "recorded searches deleted" in purged.output
    finally:
        for cached in (settings.database_settings, settings.storage_settings):
            cached.cache_clear()


def test_notifier_from_a_dotted_path() -> None:
    assert type(load_notifier("tests.test_freshness:Broken")).__name__ == "Broken"
    assert type(load_notifier("log")).__name__ == "LogNotifier"
