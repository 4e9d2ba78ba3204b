"""Standing enquiries: publishing a site that fits a saved enquiry raises exactly one alert
with the match's reasons; publishing it again unchanged raises none; the investor's
contact never leaves the staff's endpoints; closing with an outcome feeds the analytics.
The site is the fictional company's workbook of tests/workbooks.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.core import settings
from tests.conftest import remove_uploaded_candidacies
from tests.workbooks import valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTACT = "Dr. Investor, +49 30 0000000"


@pytest.fixture
def clean(engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    yield
    settings.storage_settings.cache_clear()
    remove_uploaded_candidacies(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM enquiries"))
        conn.execute(text("DELETE FROM notifications"))


def _publish(api: TestClient, accounts: dict, price: str) -> tuple[int, int]:
    data = valid_writer(name="Sede enquiry test", **{"Prezzo richiesto (€)": price}).to_bytes()
    stored = api.post("/intake/candidacies", headers=accounts["other"], files={"file": ("c.xlsx", data, XLSX)})
    assert stored.status_code == 201, stored.text
    body = stored.json()
    for to in ("validated", "published"):
        moved = api.post(f"/candidacies/{body['candidacy_id']}/transitions", headers=accounts["staff"], json={"to": to})
        assert moved.status_code == 200, moved.text
    return body["candidacy_id"], body["site_id"]


def _enquiry(api: TestClient, accounts: dict, name: str, requirement: dict) -> dict:
    created = api.post("/enquiries", headers=accounts["staff"],
                       json={"name": name, "investor_ref": "INV-42", "contact": CONTACT, "requirement": requirement})
    assert created.status_code == 201, created.text
    return created.json()


def test_publishing_a_fitting_site_alerts_once_with_its_reasons(api: TestClient, accounts: dict, engine: Engine,
                                                                clean: None) -> None:
    fits = _enquiry(api, accounts, "HQ Milano", {"land_area_m2": {"min": 15000}, "max_price_eur": 10_000_000,
                                                 "provinces": ["MI"]})
    too_big = _enquiry(api, accounts, "Plant 100 ha", {"land_area_m2": {"min": 1_000_000}, "max_price_eur": 1000,
                                                       "rail_siding": True})
    _, site = _publish(api, accounts, "€ 9.500.000")
    detail = api.get(f"/enquiries/{fits['id']}", headers=accounts["staff"]).json()
    [alert] = detail["alert_list"]
    assert alert["site_id"] == site and alert["state"] == "match"
    reasons = {c["criterion"]: c for c in alert["reasons"]}
    assert reasons["land_area_m2"]["passed"] and "20,000 m²" in reasons["land_area_m2"]["reason"]
    assert reasons["max_price_eur"]["passed"] and reasons["provinces"]["passed"]
    assert api.get(f"/enquiries/{too_big['id']}", headers=accounts["staff"]).json()["alert_list"] == []
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT recipient, body FROM notifications WHERE kind = 'enquiry_alert'")).all()
    assert len(sent) == 1 and sent[0][0] == "staff@invest-lombardy.example" and "HQ Milano" in sent[0][1]

    # a new version that still fits, published again: no second alert
    _publish(api, accounts, "€ 9.100.000")
    assert len(api.get(f"/enquiries/{fits['id']}", headers=accounts["staff"]).json()["alert_list"]) == 1


def test_the_contact_stays_with_staff_and_outcomes_feed_the_analytics(api: TestClient, accounts: dict,
                                                                      clean: None) -> None:
    enquiry = _enquiry(api, accounts, "Logistics north", {"activity": "logistics"})
    _publish(api, accounts, "€ 9.500.000")
    for public in (api.get("/collections/sites/items?limit=1000"), api.post("/match", json={"activity": "logistics"})):
        assert CONTACT not in public.text and "INV-42" not in public.text
    assert api.get("/enquiries").status_code == 401
    assert api.get("/enquiries", headers=accounts["other"]).status_code == 403
    closed = api.post(f"/enquiries/{enquiry['id']}/close", headers=accounts["staff"], json={"outcome": "visited"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    again = api.post(f"/enquiries/{enquiry['id']}/close", headers=accounts["staff"], json={"outcome": "lost"})
    assert again.status_code == 409 and "already closed" in again.json()["error"]["message"]
    outcomes = api.get("/analytics/demand", headers=accounts["staff"]).json()["enquiry_outcomes"]
    assert {"outcome": "visited", "enquiries": 1} in outcomes


def test_an_enquiry_with_an_unknown_preset_is_refused(api: TestClient, accounts: dict, clean: None) -> None:
    refused = api.post("/enquiries", headers=accounts["staff"],
                       json={"name": "x", "requirement": {"activity": "moon_base"}})
    assert refused.status_code == 422 and "Unknown activity 'moon_base'" in refused.json()["error"]["message"]


@pytest.mark.parametrize(("requirement", "english", "italian"), [
    ({}, "gives no criterion to match on", "non indica alcun criterio"),
    ({"limit": 5, "near_misses": 2}, "gives no criterion to match on", "non indica alcun criterio"),
    ({"provinces": ["ZZ"]}, "Unknown province ZZ", "ZZ"),
])
def test_an_enquiry_no_match_can_be_made_of_is_refused(api: TestClient, accounts: dict, engine: Engine,
                                                       clean: None, requirement: dict, english: str,
                                                       italian: str) -> None:
    refused = api.post("/enquiries", headers=accounts["staff"], json={"name": "x", "requirement": requirement})
    assert refused.status_code == 422, refused.text
    assert english in refused.json()["error"]["message"] and italian in refused.json()["error"]["message_it"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM enquiries")).scalar_one() == 0


def test_a_stored_enquiry_no_match_can_be_made_of_never_stops_a_publication(api: TestClient, accounts: dict,
                                                                            engine: Engine, clean: None) -> None:
    """One found by the schema test: enquiries created before their requirements were
    checked (here written straight into the table) made every publication fail with 422."""
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO enquiries (name, created_by, requirement) VALUES "
                          "('empty', 'staff@invest-lombardy.example', '{}'), "
                          "('unknown province', 'staff@invest-lombardy.example', '{\"provinces\": [\"ZZ\"]}')"))
    fits = _enquiry(api, accounts, "HQ Milano", {"land_area_m2": {"min": 15000}, "provinces": ["MI"]})
    _, site = _publish(api, accounts, "€ 9.500.000")
    [alert] = api.get(f"/enquiries/{fits['id']}", headers=accounts["staff"]).json()["alert_list"]
    assert alert["site_id"] == site and alert["state"] == "match"
