"""What the desk's pages stand on: cookie sessions with CSRF protection and sign-out,
password change, the proponent's own registry data, the inbox's filters and counts, and
what changed between two versions of an application.

The company of this module (fictional, "Sessione Test S.r.l.") is its own: its
candidacies and account are removed afterwards."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.core import settings
from tests.conftest import PASSWORD, remove_uploaded_candidacies, signed_in
from tests.workbooks import piva, valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMPANY = ("Sessione Test S.r.l.", piva("0000009303"))
EMAIL = "desk@sessione-test.example"


def _workbook(name: str, **overrides: object) -> bytes:
    return valid_writer(name=name, **{"Denominazione o nome e cognome": COMPANY[0], "Partita IVA": COMPANY[1],
                                      "Email o PEC": EMAIL, **overrides}).to_bytes()


@pytest.fixture(scope="module")
def company(engine: Engine, api: TestClient, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The company's account, two applications (one in two versions) and staff."""
    bearer = signed_in(engine, EMAIL, "proponent", COMPANY[1])
    staff = signed_in(engine, "inbox.staff@invest-lombardy.example", "staff")
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path_factory.mktemp("session-uploads")))
            settings.storage_settings.cache_clear()
            ids = []
            for data in (_workbook("Capannone Sessione Uno"),
                         _workbook("Area Sessione Due", **{"Tipologia": "Area libera (greenfield)",
                                                           "Superficie coperta (m²)": None,
                                                           "SLP - superficie lorda di pavimento (m²)": None,
                                                           "Numero piani": None}),
                         _workbook("Capannone Sessione Uno", **{"Prezzo richiesto (€)": "€ 8.900.000"})):
                response = api.post("/intake/candidacies", headers=bearer,
                                    files={"file": ("candidatura.xlsx", data, XLSX)})
                assert response.status_code == 201, response.text
                ids.append(response.json()["candidacy_id"])
            yield {"bearer": bearer, "staff": staff, "ids": ids}
    finally:
        settings.storage_settings.cache_clear()
        remove_uploaded_candidacies(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email IN (:a, :b)"),
                         {"a": EMAIL, "b": "inbox.staff@invest-lombardy.example"})


def _browser(api: TestClient) -> TestClient:
    """A client with its own cookie jar, like a second browser."""
    return TestClient(api.app, base_url="https://testserver")


def _sign_in(client: TestClient, password: str = PASSWORD) -> dict[str, Any]:
    response = client.post("/auth/session", json={"email": EMAIL.upper(), "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_session_cookie_is_httponly_strict_and_needs_the_csrf_token_to_change_anything(
        api: TestClient, company: dict) -> None:
    browser = _browser(api)
    body = _sign_in(browser)
    cookies = [h for h in browser.cookies.jar]
    session = next(c for c in cookies if c.name == "ol_session")
    assert session.has_nonstandard_attr("HttpOnly") and session.get_nonstandard_attr("SameSite") == "strict"
    assert body["csrf_token"] == browser.cookies["ol_csrf"] and "access_token" not in body
    assert browser.get("/auth/me").json()["email"] == EMAIL

    confirm = f"/candidacies/{company['ids'][1]}/confirm"
    refused = browser.post(confirm)
    assert refused.status_code == 403
    assert "security token is missing or stale" in refused.json()["error"]["message"]
    assert "codice di sicurezza" in refused.json()["error"]["message_it"]
    forged = browser.post(confirm, headers={"X-CSRF-Token": "x" * 32})
    assert forged.status_code == 403
    # submitted applications can be confirmed: the CSRF token is what was missing
    assert browser.post(confirm, headers={"X-CSRF-Token": body["csrf_token"]}).status_code == 200


def test_signing_out_ends_this_browser_session_only(api: TestClient, company: dict) -> None:
    first, second = _browser(api), _browser(api)
    csrf = _sign_in(first)["csrf_token"]
    _sign_in(second)
    out = first.delete("/auth/session", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 200 and out.json() == {"signed_out": True}
    assert "ol_session" not in first.cookies
    # the old cookie, replayed, is dead; the other browser and the bearer token live on
    replay = _browser(api)
    replay.cookies.set("ol_session", out.request.headers["cookie"].split("ol_session=")[1].split(";")[0])
    gone = replay.get("/auth/me")
    assert gone.status_code == 401 and "Sign in first" in gone.json()["error"]["message"]
    assert second.get("/auth/me").status_code == 200
    assert api.get("/auth/me", headers=company["bearer"]).status_code == 200


def test_a_session_cookie_is_never_a_bearer_token_before_or_after_sign_out(api: TestClient, company: dict) -> None:
    """The cookie's value sent as 'Authorization: Bearer' worked after sign-out, and
    without a CSRF token for changes (finding 3 of the hostile-client issue)."""
    browser = _browser(api)
    csrf = _sign_in(browser)["csrf_token"]
    cookie = browser.cookies["ol_session"]
    as_bearer = {"Authorization": f"Bearer {cookie}"}
    for attempt in (api.get("/auth/me", headers=as_bearer), api.get("/candidacies", headers=as_bearer),
                    api.patch("/auth/me/registry", headers=as_bearer, json={"phone": "02 1234567"})):
        assert attempt.status_code == 401, attempt.text
        assert "not an access token" in attempt.json()["error"]["message"]
        assert "non è un token di accesso" in attempt.json()["error"]["message_it"]
    assert browser.delete("/auth/session", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert api.get("/auth/me", headers=as_bearer).status_code == 401
    # the reverse: an access token is not a session cookie
    token = company["bearer"]["Authorization"].removeprefix("Bearer ")
    cookied = _browser(api)
    cookied.cookies.set("ol_session", token)
    assert cookied.get("/auth/me").status_code == 401


def test_a_stale_cookie_leaves_public_pages_working(api: TestClient, company: dict) -> None:
    browser = _browser(api)
    browser.cookies.set("ol_session", "not-a-token")
    assert browser.get("/collections/sites/items?limit=1").status_code == 200
    assert browser.get("/auth/me").status_code == 401


def test_secure_cookies_in_production_settings(api: TestClient, company: dict,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_AUTH_COOKIE_SECURE", "true")
    settings.auth_settings.cache_clear()
    try:
        browser = _browser(api)
        _sign_in(browser)
        assert all(c.secure for c in browser.cookies.jar)
    finally:
        settings.auth_settings.cache_clear()


def test_password_change_checks_the_current_one_and_signs_out_other_sessions(
        api: TestClient, company: dict, engine: Engine) -> None:
    browser, other = _browser(api), _browser(api)
    csrf = _sign_in(browser)["csrf_token"]
    _sign_in(other)
    wrong = browser.post("/auth/password", headers={"X-CSRF-Token": csrf},
                         json={"current_password": "not it at all", "new_password": "a new password 1"})
    assert wrong.status_code == 422 and wrong.json()["error"]["message"] == "The current password is wrong."
    short = browser.post("/auth/password", headers={"X-CSRF-Token": csrf},
                         json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and "at least 12 characters" in short.json()["error"]["message"]
    new = "a brand new password 2026"
    changed = browser.post("/auth/password", headers={"X-CSRF-Token": csrf},
                           json={"current_password": PASSWORD, "new_password": new})
    assert changed.status_code == 200
    assert browser.get("/auth/me").status_code == 200  # this browser got a new session
    assert other.get("/auth/me").status_code == 401
    assert api.get("/auth/me", headers=company["bearer"]).status_code == 401
    # put the fixture's password and token back for the other tests
    csrf = changed.json()["csrf_token"]
    back = browser.post("/auth/password", headers={"X-CSRF-Token": csrf},
                        json={"current_password": new, "new_password": PASSWORD})
    assert back.status_code == 200
    token = api.post("/auth/token", data={"username": EMAIL, "password": PASSWORD}).json()["access_token"]
    company["bearer"] = {"Authorization": f"Bearer {token}"}


def test_guessing_the_current_password_is_limited(api: TestClient, engine: Engine,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_LIMIT_WINDOW_SECONDS", "3600")  # no window boundary inside the test
    settings.limit_settings.cache_clear()
    guesser = signed_in(engine, "guesser@sessione-test.example", "staff")
    try:
        answers = [api.post("/auth/password", headers=guesser,
                            json={"current_password": f"guess number {i}", "new_password": "x" * 16})
                   for i in range(6)]
        assert [a.status_code for a in answers] == [422] * 5 + [429]
        assert answers[-1].headers["Retry-After"].isdigit()
    finally:
        settings.limit_settings.cache_clear()
        with engine.begin() as conn:
            user_id = conn.execute(text("DELETE FROM users WHERE email = 'guesser@sessione-test.example' "
                                        "RETURNING id")).scalar_one()
            conn.execute(text("DELETE FROM rate_limits WHERE bucket = :b"),
                         {"b": hashlib.sha256(f"password-fail:{user_id}".encode()).hexdigest()})


def test_a_proponent_reads_and_corrects_its_registry_data(api: TestClient, company: dict) -> None:
    me = api.get("/auth/me", headers=company["bearer"]).json()
    assert me["registry"]["proponent_name"] == COMPANY[0] and me["registry"]["proponent_piva"] == COMPANY[1]
    fixed = api.patch("/auth/me/registry", headers=company["bearer"],
                      json={"phone": "+39 02 0000 0000", "name": "Sessione Test S.r.l. (sede)"})
    assert fixed.status_code == 200
    assert fixed.json()["proponent_phone"] == "+39 02 0000 0000"
    assert api.get("/auth/me", headers=company["bearer"]).json()["registry"]["proponent_name"] == \
        "Sessione Test S.r.l. (sede)"
    bad = api.patch("/auth/me/registry", headers=company["bearer"], json={"email": "not an address"})
    assert bad.status_code == 422
    # the identifiers are the identity the account acts for: not writable here
    ignored = api.patch("/auth/me/registry", headers=company["bearer"], json={"partita_iva": "00000000000"})
    assert ignored.status_code == 200 and ignored.json()["proponent_piva"] == COMPANY[1]


def test_staff_without_a_tax_identity_have_no_registry(api: TestClient, company: dict) -> None:
    response = api.patch("/auth/me/registry", headers=company["staff"], json={"phone": "+39 02 1"})
    assert response.status_code == 404 and "Only proponent accounts" in response.json()["error"]["message"]


def test_inbox_filters_sorting_total_and_counts(api: TestClient, company: dict, engine: Engine) -> None:
    staff = company["staff"]
    listed = api.get("/candidacies", headers=staff, params={"current": True, "province": "MI", "sort": "site_name",
                                                            "order": "asc", "limit": 500})
    assert listed.status_code == 200
    names = [c["site_name"] for c in listed.json()]
    assert names == sorted(names, key=lambda n: (n is None, n))
    with engine.connect() as conn:
        expected = conn.execute(text(
            "SELECT count(*) FROM candidacies c LEFT JOIN sites s ON s.lineage_id = c.lineage_id "
            "LEFT JOIN provinces p ON p.code = s.province_code "
            "WHERE c.is_current AND COALESCE(p.abbreviation, c.record ->> 'province') = 'MI'")).scalar_one()
        by_status = dict(conn.execute(text(
            "SELECT status, count(*) FROM candidacies WHERE is_current GROUP BY status")).all())
    assert int(listed.headers["X-Total-Count"]) == expected == len(names)
    assert {c["site_name"] for c in listed.json()} >= {"Capannone Sessione Uno", "Area Sessione Due"}
    greenfield = api.get("/candidacies", headers=staff, params={"site_type": "area_libera", "current": True})
    assert "Area Sessione Due" in {c["site_name"] for c in greenfield.json()}
    assert all(c["site_type"] == "area_libera" for c in greenfield.json())
    counts = api.get("/candidacies/counts", headers=staff).json()
    assert {k: v for k, v in counts.items() if k in by_status} == by_status
    # a proponent's counts cover its own applications only
    mine = api.get("/candidacies/counts", headers=company["bearer"]).json()
    assert mine["submitted"] == 2
    bad = api.get("/candidacies", headers=staff, params={"sort": "password"})
    assert bad.status_code == 422


def test_a_candidacy_shows_its_versions_with_what_changed_and_its_location(api: TestClient, company: dict) -> None:
    latest = company["ids"][2]
    body = api.get(f"/candidacies/{latest}", headers=company["bearer"]).json()
    assert [v["version"] for v in body["versions"]] == [1, 2]
    changed = {c["field"]: c for c in body["versions"][1]["changes"]}
    assert set(changed) == {"price_eur"}
    assert (changed["price_eur"]["before"], changed["price_eur"]["after"]) == (9_500_000, 8_900_000)
    assert body["location"]["point"]["type"] == "Point"
    assert {h["version"] for h in body["history"]} == {1, 2}


def test_admins_list_and_revoke_api_keys(api: TestClient, accounts: dict) -> None:
    created = api.post("/admin/api-keys", headers=accounts["admin"], json={"name": "desk test"}).json()
    listed = api.get("/admin/api-keys", headers=accounts["admin"]).json()
    assert created["prefix"] in {k["prefix"] for k in listed} and all("key" not in k for k in listed)
    assert api.get("/collections", headers={"X-API-Key": created["key"]}).status_code == 200
    assert api.delete(f"/admin/api-keys/{created['prefix']}", headers=accounts["admin"]).status_code == 200
    again = api.delete(f"/admin/api-keys/{created['prefix']}", headers=accounts["admin"])
    assert again.status_code == 404 and "No active API key" in again.json()["error"]["message"]
    assert api.get("/collections", headers={"X-API-Key": created["key"]}).status_code == 401


def test_staff_moves_reach_the_proponent_through_the_notifier(api: TestClient, company: dict, engine: Engine) -> None:
    candidacy = company["ids"][1]
    message = "Allegare la planimetria aggiornata."
    moved = api.post(f"/candidacies/{candidacy}/transitions", headers=company["staff"],
                     json={"to": "changes_requested", "reason": message})
    assert moved.status_code == 200, moved.text
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT recipient, subject, body FROM notifications WHERE kind = 'candidacy_moved' "
                                 "AND details ->> 'candidacy_id' = :c"), {"c": str(candidacy)}).all()
    assert len(rows) == 1
    recipient, subject, body = rows[0]
    assert recipient == EMAIL and "Area Sessione Due" in subject and body.count(message) == 2
    shown = api.get(f"/candidacies/{candidacy}", headers=company["bearer"]).json()
    assert shown["history"][-1]["reason"] == message and shown["status"] == "changes_requested"
