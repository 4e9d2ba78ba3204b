"""Who may do what: every endpoint for every role, IDOR attempts, tokens and API keys,
the lifecycle table, and the public responses scanned for personal data.

The actors are the people of tests/workbooks.py (fictional): the agency that submits
delegate_writer() as delegate of its owner Anna Esempio, and the company that submits
valid_writer() as owner of its own site ("other" to the first candidacy, and the other
way round). Both workbooks carry coordinates, so nothing here needs ../shared/data."""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.accounts.auth import ALGORITHM, create_api_key, issue_token
from app.accounts.models import User
from app.api.main import create_app
from app.candidacies.lifecycle import TRANSITIONS
from app.core import settings
from app.reference.enrichment import refresh_clusters
from ingest import vocabulary as v
from tests.conftest import PASSWORD, _people, remove_uploaded_candidacies
from tests.live import pdf_text
from tests.workbooks import AGENT, OWNER_PERSON, delegate_writer, valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DELEGATED = delegate_writer().to_bytes()  # the agency for Anna Esempio
OWN = valid_writer(name="Sede propria Esempio Test").to_bytes()  # the company, owner of its site
ROLES = ("anonymous", "reader", "owner", "delegate", "other", "staff", "admin")


def _upload(api: TestClient, data: bytes, headers: dict[str, str]):
    return api.post("/intake/candidacies", headers=headers, files={"file": ("candidatura.xlsx", data, XLSX)})


@pytest.fixture(scope="module")
def world(api: TestClient, accounts: dict, engine: Engine,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two committed candidacies (one delegated, one submitted by its owner) and a
    read-only API key; removed afterwards."""
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path_factory.mktemp("uploads")))
            settings.storage_settings.cache_clear()
            delegated = _upload(api, DELEGATED, accounts["delegate"])
            own = _upload(api, OWN, accounts["other"])
            assert delegated.status_code == 201 and own.status_code == 201, (delegated.text, own.text)
            with Session(engine) as db:
                _, key = create_api_key(db, "tests frontend")
                db.commit()
            headers = {**accounts, "anonymous": {}, "reader": {"X-API-Key": key}}
            yield {"headers": headers, "delegated": delegated.json(), "own": own.json()}
    finally:
        settings.storage_settings.cache_clear()
        remove_uploaded_candidacies(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM notifications"))
            refresh_clusters(conn)


def _set_status(engine: Engine, candidacy_id: int, status: str, consent: bool = True,
                confirmed_days_ago: int = 0) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE candidacies SET status = :s, publication_consent = :c WHERE id = :id"),
                     {"s": status, "c": consent, "id": candidacy_id})
        conn.execute(text("""UPDATE sites SET status = :s, last_confirmed_at = now() - make_interval(days => :d)
                             WHERE candidacy_id = :id"""), {"s": status, "id": candidacy_id, "d": confirmed_days_ago})
        refresh_clusters(conn)


# -- the matrix: every endpoint x every role --------------------------------------------------

OK, NO_LOGIN, FORBIDDEN, HIDDEN = 200, 401, 403, 404
EVERYONE = dict.fromkeys(ROLES, OK)
SIGNED_IN = {"anonymous": NO_LOGIN, "reader": NO_LOGIN}
STAFF_ONLY = {**SIGNED_IN, "owner": FORBIDDEN, "delegate": FORBIDDEN, "other": FORBIDDEN,
              "staff": OK, "admin": OK}
ADMIN_ONLY = {**STAFF_ONLY, "staff": FORBIDDEN}


def _cases(w: dict[str, Any], site_id: int) -> list[tuple[str, str, str, dict[str, Any], dict[str, int]]]:
    """(method, OpenAPI path, concrete path, request keywords, expected status per role)."""
    d, o = w["delegated"]["candidacy_id"], w["own"]["candidacy_id"]
    upload = {"files": {"file": ("candidatura.xlsx", DELEGATED, XLSX)}}
    on_d = {**SIGNED_IN, "owner": OK, "delegate": OK, "other": HIDDEN, "staff": OK, "admin": OK}
    return [
        ("GET", "/health", "/health", {}, EVERYONE),
        ("GET", "/health/live", "/health/live", {}, EVERYONE),
        ("GET", "/health/ready", "/health/ready", {}, EVERYONE),
        ("POST", "/auth/token", "/auth/token",
         {"data": {"username": "matrix-nobody@example.org", "password": "wrong password!"}},
         dict.fromkeys(ROLES, NO_LOGIN)),
        ("POST", "/auth/session", "/auth/session",
         {"json": {"email": "matrix-nobody@example.org", "password": "wrong password!"}},
         dict.fromkeys(ROLES, NO_LOGIN)),
        # with a bearer token there is no browser session to end: nothing is revoked
        ("DELETE", "/auth/session", "/auth/session", {}, {**SIGNED_IN, **dict.fromkeys(ROLES[2:], OK)}),
        ("POST", "/auth/password", "/auth/password",
         {"json": {"current_password": "not the password", "new_password": "x" * 16}},
         {**SIGNED_IN, **dict.fromkeys(ROLES[2:], 422)}),
        ("GET", "/auth/me", "/auth/me", {}, {**SIGNED_IN, **dict.fromkeys(ROLES[2:], OK)}),
        # the owner has never uploaded (its delegate did): no registry row of its own yet
        ("PATCH", "/auth/me/registry", "/auth/me/registry", {"json": {}},
         {**SIGNED_IN, "owner": HIDDEN, "delegate": OK, "other": OK, "staff": HIDDEN, "admin": HIDDEN}),
        ("GET", "/admin/api-keys", "/admin/api-keys", {}, ADMIN_ONLY),
        ("DELETE", "/admin/api-keys/{prefix}", "/admin/api-keys/nosuchkey", {}, {**ADMIN_ONLY, "admin": HIDDEN}),
        ("GET", "/candidacies/counts", "/candidacies/counts", {}, {**SIGNED_IN, **dict.fromkeys(ROLES[2:], OK)}),
        ("GET", "/admin/users", "/admin/users", {}, ADMIN_ONLY),
        ("POST", "/admin/users", "/admin/users",
         {"json": {"email": "new.staff@invest-lombardy.example", "password": "x" * 16, "role": "staff"}},
         {**ADMIN_ONLY, "admin": 201}),
        ("POST", "/admin/api-keys", "/admin/api-keys", {"json": {"name": "matrix"}}, {**ADMIN_ONLY, "admin": 201}),
        ("GET", "/candidacies", "/candidacies", {}, {**SIGNED_IN, **dict.fromkeys(ROLES[2:], OK)}),
        ("GET", "/candidacies/{candidacy_id}", f"/candidacies/{d}", {}, on_d),
        ("GET", "/candidacies/{candidacy_id}", f"/candidacies/{o}", {},
         {**on_d, "owner": HIDDEN, "delegate": HIDDEN, "other": OK}),
        # submitted -> published is no transition at all: 409 for whoever may see it
        ("POST", "/candidacies/{candidacy_id}/transitions", f"/candidacies/{d}/transitions",
         {"json": {"to": "published"}}, {**on_d, "owner": 409, "delegate": 409, "staff": 409, "admin": 409}),
        ("POST", "/candidacies/{candidacy_id}/consent", f"/candidacies/{d}/consent", {"json": {"consent": True}},
         {**on_d, "delegate": FORBIDDEN, "staff": FORBIDDEN, "admin": FORBIDDEN}),
        ("POST", "/candidacies/{candidacy_id}/owner-confirmation", f"/candidacies/{d}/owner-confirmation", {},
         {**on_d, "delegate": FORBIDDEN, "staff": FORBIDDEN, "admin": FORBIDDEN}),
        ("POST", "/candidacies/{candidacy_id}/confirm", f"/candidacies/{d}/confirm", {},
         {**on_d, "staff": FORBIDDEN, "admin": FORBIDDEN}),
        ("GET", "/audit", "/audit", {}, STAFF_ONLY),
        ("GET", "/freshness/stale", "/freshness/stale", {}, STAFF_ONLY),
        ("GET", "/intake/template", "/intake/template", {}, EVERYONE),
        ("POST", "/intake/validate", "/intake/validate", upload, EVERYONE),
        ("POST", "/intake/validate/annotated", "/intake/validate/annotated", upload, EVERYONE),
        # the delegate's own file again: stored already (200); in another's name: 403
        ("POST", "/intake/candidacies", "/intake/candidacies", upload,
         {**SIGNED_IN, "owner": FORBIDDEN, "delegate": OK, "other": FORBIDDEN, "staff": OK, "admin": OK}),
        ("GET", "/", "/", {}, EVERYONE),
        ("GET", "/conformance", "/conformance", {}, EVERYONE),
        ("GET", "/collections", "/collections", {}, EVERYONE),
        ("GET", "/collections/{collectionId}", "/collections/sites", {}, EVERYONE),
        ("GET", "/collections/{collectionId}/queryables", "/collections/sites/queryables", {}, EVERYONE),
        ("GET", "/collections/{collectionId}/schema", "/collections/sites/schema", {}, EVERYONE),
        ("GET", "/collections/{collectionId}/items", "/collections/sites/items", {}, EVERYONE),
        ("GET", "/collections/{collectionId}/items/{featureId}", f"/collections/sites/items/{site_id}", {}, EVERYONE),
        ("GET", "/tiles/sites/{z}/{x}/{y}.pbf", "/tiles/sites/7/67/46.pbf", {}, EVERYONE),
        ("GET", "/tiles/sites.json", "/tiles/sites.json", {}, EVERYONE),
        ("POST", "/match", "/match", {"json": {"activity": "logistics"}}, EVERYONE),
        ("GET", "/match/presets", "/match/presets", {}, EVERYONE),
        ("GET", "/analytics/demand", "/analytics/demand", {}, STAFF_ONLY),
        ("GET", "/enquiries", "/enquiries", {}, STAFF_ONLY),
        ("GET", "/notifications", "/notifications", {}, STAFF_ONLY),
        ("POST", "/notifications/{notification_id}/resend", "/notifications/999999/resend", {},
         {**STAFF_ONLY, "staff": HIDDEN, "admin": HIDDEN}),
        ("POST", "/enquiries", "/enquiries", {"json": {"name": "matrix", "requirement": {"activity": "nothing"}}},
         {**STAFF_ONLY, "staff": 422, "admin": 422}),
        ("GET", "/enquiries/{enquiry_id}", "/enquiries/999999", {}, {**STAFF_ONLY, "staff": HIDDEN, "admin": HIDDEN}),
        ("POST", "/enquiries/{enquiry_id}/close", "/enquiries/999999/close", {"json": {"outcome": "lost"}},
         {**STAFF_ONLY, "staff": HIDDEN, "admin": HIDDEN}),
        ("GET", "/analytics/demand.csv", "/analytics/demand.csv", {}, STAFF_ONLY),
        ("GET", "/vocabulary", "/vocabulary", {}, EVERYONE),
        ("GET", "/tiles/base/{z}/{x}/{y}.pbf", "/tiles/base/7/67/45.pbf", {}, EVERYONE),
        ("GET", "/sites/{site_id}/report", f"/sites/{site_id}/report", {}, STAFF_ONLY),
        ("GET", "/sites/export", "/sites/export", {"params": {"ids": str(site_id)}}, EVERYONE),
        ("GET", "/sites/{site_id}/expose.pdf", f"/sites/{site_id}/expose.pdf", {}, EVERYONE),
        ("GET", "/sites/compare.pdf", "/sites/compare.pdf", {"params": {"ids": "999998,999999"}},
         dict.fromkeys(ROLES, HIDDEN)),
        ("GET", "/enquiries/{enquiry_id}/comparison.pdf", "/enquiries/999999/comparison.pdf",
         {"params": {"ids": "999998,999999"}}, {**STAFF_ONLY, "staff": HIDDEN, "admin": HIDDEN}),
        ("GET", "/detection/runs", "/detection/runs", {}, STAFF_ONLY),
        ("GET", "/detection/runs/{run_id}/candidates", "/detection/runs/999999/candidates", {},
         {**STAFF_ONLY, "staff": HIDDEN, "admin": HIDDEN}),
        ("POST", "/detection/candidates/{candidate_id}/review", "/detection/candidates/999999/review",
         {"json": {"decision": "reject", "reason": "not a brownfield"}},
         {**STAFF_ONLY, "staff": HIDDEN, "admin": HIDDEN}),
    ]


def test_every_endpoint_for_every_role(api: TestClient, world: dict, catalogue: list[int], engine: Engine) -> None:
    cases = _cases(world, catalogue[0])
    documented = {(m.upper(), p) for p, ops in api.app.openapi()["paths"].items() for m in ops}
    assert documented == {(m, p) for m, p, *_ in cases}, "an endpoint is missing from the matrix"
    wrong = []
    for method, _, path, kwargs, expected in cases:
        for role in ROLES:
            response = api.request(method, path, headers=world["headers"][role], **kwargs)
            if response.status_code != expected[role]:
                wrong.append(f"{role} {method} {path}: {response.status_code}, expected {expected[role]}"
                             f" ({response.text[:120]})")
            elif response.status_code >= 400:
                error = response.json()["error"]
                assert error["message"] and error["message_it"], (role, path)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE email = 'new.staff@invest-lombardy.example'"))
    assert not wrong, "\n".join(wrong)


def test_lists_hold_only_what_the_caller_may_see(api: TestClient, world: dict) -> None:
    d, o = world["delegated"]["candidacy_id"], world["own"]["candidacy_id"]
    seen = {role: {c["id"] for c in api.get("/candidacies", headers=world["headers"][role]).json()}
            for role in ("owner", "delegate", "other", "staff")}
    assert seen["owner"] == {d} and seen["delegate"] == {d} and seen["other"] == {o}
    assert {d, o} <= seen["staff"]
    detail = api.get(f"/candidacies/{d}", headers=world["headers"]["owner"]).json()
    assert detail["relation"] == "owner" and "consent" not in detail["allowed_transitions"]
    assert api.get(f"/candidacies/{d}", headers=world["headers"]["delegate"]).json()["relation"] == "delegate"
    hidden = api.get(f"/candidacies/{o}", headers=world["headers"]["delegate"])
    assert hidden.json()["error"]["message"] == f"There is no candidacy {o} among yours."


def test_a_proponent_uploads_only_in_its_own_name(api: TestClient, world: dict) -> None:
    response = _upload(api, OWN, world["headers"]["delegate"])
    assert response.status_code == 403
    error = response.json()["error"]
    assert "are not those of your account" in error["message"]
    assert "non sono quelli del suo account" in error["message_it"]


def test_signed_in_proponent_gets_a_prefilled_template(api: TestClient, world: dict) -> None:
    def values(headers: dict[str, str]) -> set[str]:
        book = load_workbook(io.BytesIO(api.get("/intake/template", headers=headers).content))
        return {str(c.value) for sheet in book for row in sheet.iter_rows() for c in row if c.value is not None}

    agency = AGENT[0]
    assert agency in values(world["headers"]["delegate"])
    assert agency not in values({})


# -- tokens and keys --------------------------------------------------------------------------


def _user(engine: Engine, role: str) -> User:
    email = _people()[role][0]
    with Session(engine) as db:
        user = db.query(User).filter(User.email == email).one()
        db.expunge(user)
        return user


def _me(api: TestClient, token: str):
    return api.get("/auth/me", headers={"Authorization": f"Bearer {token}"})


def test_sign_in_and_use_the_token(api: TestClient, accounts: dict) -> None:
    response = api.post("/auth/token", data={"username": "Anna.Esempio@example.org ", "password": PASSWORD})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "proponent" and body["expires_in"] == 3600
    me = _me(api, body["access_token"]).json()
    assert me["email"] == "anna.esempio@example.org" and "password_hash" not in me
    wrong = api.post("/auth/token", data={"username": "anna.esempio@example.org", "password": "nope" * 4})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Wrong e-mail or password."
    assert wrong.headers["www-authenticate"] == "Bearer"
    nobody = api.post("/auth/token", data={"username": "nobody@example.org", "password": "nope" * 4})
    assert nobody.json()["error"] == wrong.json()["error"]  # no hint about which accounts exist


def test_tampered_forged_and_expired_tokens_are_refused(api: TestClient, accounts: dict, engine: Engine) -> None:
    user = _user(engine, "owner")
    token = issue_token(user)[0]
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-3]}{'AAA' if signature[-3:] != 'AAA' else 'BBB'}"
    claims = jwt.decode(token, options={"verify_signature": False})
    escalated = jwt.encode({**claims, "role": "admin"}, "not-the-server-key-" * 3, algorithm=ALGORITHM)
    unsigned = jwt.encode({**claims}, key=None, algorithm="none")
    foreign_issuer = jwt.encode({**claims, "iss": "someone-else"}, settings.auth_settings().secret_key.get_secret_value(),
                                algorithm=ALGORITHM)
    for bad in (tampered, escalated, unsigned, foreign_issuer, "not-a-token"):
        response = _me(api, bad)
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "The access token is not valid; sign in again."
    expired = issue_token(user, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))[0]
    response = _me(api, expired)
    assert response.status_code == 401 and response.json()["error"]["message"] == "Your session has expired; sign in again."
    # a tampered token is refused on public endpoints too, rather than silently ignored
    assert api.get("/collections", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_password_change_and_deactivation_revoke_tokens(api: TestClient, accounts: dict, engine: Engine) -> None:
    with Session(engine) as db:
        from app.accounts.auth import create_user, deactivate, set_password

        user = create_user(db, "temp.proponent@example.org", PASSWORD, "proponent", None, _people()["other"][2])
        db.commit()
        token = issue_token(user)[0]
        assert _me(api, token).status_code == 200
        set_password(user, "another-long-password")
        db.commit()
        revoked = _me(api, token)
        assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]
        db.refresh(user)
        token = issue_token(user)[0]
        deactivate(user)
        db.commit()
        assert _me(api, token).status_code == 401
        login = api.post("/auth/token", data={"username": user.email, "password": "another-long-password"})
        assert login.status_code == 401
        db.delete(user)
        db.commit()


def test_api_keys_are_read_only_and_revocable(api: TestClient, world: dict, engine: Engine) -> None:
    reader = world["headers"]["reader"]
    assert api.get("/collections", headers=reader).status_code == 200
    assert api.get("/candidacies", headers=reader).status_code == 401
    with Session(engine) as db:
        row, key = create_api_key(db, "short-lived")
        db.commit()
        assert api.get("/collections", headers={"X-API-Key": key}).status_code == 200
        from app.accounts.auth import revoke_api_key

        assert revoke_api_key(db, row.prefix)
        db.commit()
    revoked = api.get("/collections", headers={"X-API-Key": key})
    assert revoked.status_code == 401 and "revoked" in revoked.json()["error"]["message"]


def test_a_deployment_can_require_api_keys(database_url: str, world: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_AUTH_REQUIRE_API_KEY", "true")
    settings.auth_settings.cache_clear()
    try:
        with TestClient(create_app(database_url)) as client:
            refused = client.get("/collections/sites/items")
            assert refused.status_code == 401 and "needs an API key" in refused.json()["error"]["message"]
            assert client.get("/collections/sites/items", headers=world["headers"]["reader"]).status_code == 200
            assert client.get("/collections/sites/items", headers=world["headers"]["staff"]).status_code == 200
    finally:
        settings.auth_settings.cache_clear()


# -- lifecycle ----------------------------------------------------------------------------------


def _expected(role: str, actors: frozenset[str]) -> int:
    if role == "other":
        return HIDDEN
    allowed = ("staff" in actors) if role in ("staff", "admin") else ("proponent" in actors)
    return OK if allowed else FORBIDDEN


@pytest.mark.parametrize(("frm", "to"), sorted(TRANSITIONS))
def test_each_transition_for_each_role(api: TestClient, world: dict, engine: Engine, frm: str, to: str) -> None:
    d = world["delegated"]["candidacy_id"]
    for role in ("owner", "delegate", "other", "staff", "admin"):
        _set_status(engine, d, frm)
        with engine.connect() as conn:
            before = conn.execute(text("SELECT max(id) FROM audit_events")).scalar() or 0
        response = api.post(f"/candidacies/{d}/transitions", headers=world["headers"][role],
                            json={"to": to, "reason": "checked by the transition test"})
        expected = _expected(role, TRANSITIONS[(frm, to)])
        assert response.status_code == expected, (role, frm, to, response.text)
        with engine.connect() as conn:
            events = conn.execute(text("SELECT actor, actor_role, from_status, to_status, reason FROM audit_events "
                                       "WHERE id > :b AND entity_id = :d"), {"b": before, "d": str(d)}).all()
            statuses = conn.execute(text("SELECT c.status, s.status FROM candidacies c JOIN sites s "
                                         "ON s.candidacy_id = c.id WHERE c.id = :d"), {"d": d}).one()
        if expected == OK:
            assert response.json()["status"] == to and tuple(statuses) == (to, to)
            assert [tuple(e)[1:] for e in events] == [
                ("staff" if role == "staff" else role if role == "admin" else "proponent", frm, to,
                 "checked by the transition test")]
            assert events[0].actor == _people()[role][0]
        else:
            assert tuple(statuses) == (frm, frm) and events == []
            assert response.json()["error"]["message_it"]


def test_moves_that_are_not_transitions_are_refused(api: TestClient, world: dict, engine: Engine) -> None:
    d = world["delegated"]["candidacy_id"]
    for frm in v.CANDIDACY_STATUSES:
        for to in v.CANDIDACY_STATUSES:
            if (frm, to) in TRANSITIONS:
                continue
            _set_status(engine, d, frm)
            response = api.post(f"/candidacies/{d}/transitions", headers=world["headers"]["staff"],
                                json={"to": to, "reason": "r"})
            assert response.status_code == 409, (frm, to)
            assert "cannot become" in response.json()["error"]["message"]
    unknown = api.post(f"/candidacies/{d}/transitions", headers=world["headers"]["staff"], json={"to": "sold"})
    assert unknown.status_code == 422 and "'sold' is not a status" in unknown.json()["error"]["message"]


def test_publication_needs_consent_and_staff_reasons(api: TestClient, world: dict, engine: Engine) -> None:
    d, staff = world["delegated"]["candidacy_id"], world["headers"]["staff"]
    _set_status(engine, d, "validated", consent=False)
    refused = api.post(f"/candidacies/{d}/transitions", headers=staff, json={"to": "published"})
    assert refused.status_code == 409 and "not consented to publication" in refused.json()["error"]["message"]
    _set_status(engine, d, "submitted")
    silent = api.post(f"/candidacies/{d}/transitions", headers=staff, json={"to": "changes_requested"})
    assert silent.status_code == 422 and silent.json()["error"]["message"] == "Give a reason: the proponent will read it."


def test_publishing_puts_the_site_on_the_public_map_and_consent_takes_it_off(
        api: TestClient, world: dict, engine: Engine) -> None:
    d, site = world["delegated"]["candidacy_id"], world["delegated"]["site_id"]
    _set_status(engine, d, "validated")
    assert api.get(f"/collections/sites/items/{site}").status_code == 404
    assert api.post(f"/candidacies/{d}/transitions", headers=world["headers"]["staff"],
                    json={"to": "published"}).status_code == 200
    assert api.get(f"/collections/sites/items/{site}").status_code == 200
    with engine.connect() as conn:
        clustered = conn.execute(text("SELECT sum(count) FROM site_clusters WHERE z = 3")).scalar()
        published = conn.execute(text("SELECT count(*) FROM sites WHERE status = 'published'")).scalar()
    assert clustered == published  # low-zoom tiles were refreshed
    withdrawn = api.post(f"/candidacies/{d}/consent", headers=world["headers"]["owner"], json={"consent": False})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert api.get(f"/collections/sites/items/{site}").status_code == 404
    history = api.get(f"/candidacies/{d}", headers=world["headers"]["owner"]).json()["history"]
    assert [h["action"] for h in history[-2:]] == ["candidacy.consent_withdrawn", "candidacy.withdrawn"]
    assert all("by" not in h for h in history)  # staff names stay with staff
    log = api.get("/audit", headers=world["headers"]["staff"], params={"entity_id": str(d)}).json()
    assert log[0]["action"] == "candidacy.withdrawn" and log[0]["actor"] == "anna.esempio@example.org"


def test_an_old_version_cannot_be_moved(api: TestClient, world: dict, engine: Engine) -> None:
    d = world["delegated"]["candidacy_id"]
    _set_status(engine, d, "submitted")
    with engine.begin() as conn:
        conn.execute(text("UPDATE candidacies SET is_current = false WHERE id = :d"), {"d": d})
    try:
        response = api.post(f"/candidacies/{d}/transitions", headers=world["headers"]["delegate"],
                            json={"to": "withdrawn"})
        assert response.status_code == 409 and "replaced by a newer upload" in response.json()["error"]["message"]
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE candidacies SET is_current = true WHERE id = :d"), {"d": d})


# -- personal data never reaches the public ---------------------------------------------------

PERSONAL = [
    re.compile(r"[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]", re.I),  # codice fiscale
    re.compile(r"[\w.+-]+(@|\(at\))[\w-]+\.[\w.]+"),  # e-mail
    # phones: +39..., landlines written with a separator (02 1234 5678), mobiles (333 1234567)
    re.compile(r"\+39[\s\d]{6,}|(?<![\w.-])(0\d{1,3}[ /-]\d{3,4}[ -]?\d{3,4}|3\d{2}[ -]?\d{6,7})(?![\w.-])"),
]


def _public_texts(api: TestClient, ids: list[int]) -> Iterator[tuple[str, str]]:
    def get(path: str, **kwargs: Any):
        response = api.get(path, **kwargs)
        assert response.status_code in (200, 204), (path, response.text[:200])
        return response

    for path in ("/", "/conformance", "/collections", "/collections/sites", "/collections/sites/queryables",
                 "/tiles/sites.json", "/match/presets", "/health", "/vocabulary", "/map", "/static/map.js",
                 "/tiles/base/7/67/45.pbf"):
        yield path, get(path).text
    for collection in [c["id"] for c in get("/collections").json()["collections"]]:
        yield collection, get(f"/collections/{collection}/items", params={"limit": 1000}).text
    for site in ids:
        yield f"site {site}", get(f"/collections/sites/items/{site}").text
    for preset in get("/match/presets").json():
        answer = api.post("/match", json={"activity": preset["name"], "limit": 100})
        assert answer.status_code == 200, answer.text
        yield f"match {preset['name']}", answer.text
    joined = ",".join(map(str, ids))
    for fmt in ("csv", "geojson"):
        yield f"export {fmt}", get("/sites/export", params={"ids": joined, "format": fmt}).text
    book = load_workbook(io.BytesIO(get("/sites/export", params={"ids": joined, "format": "xlsx"}).content))
    yield "export xlsx", " ".join(str(c.value) for s in book for r in s.iter_rows() for c in r if c.value is not None)
    for site in ids[:2]:
        for lang in ("it", "en"):
            yield f"exposé {site} {lang}", pdf_text(get(f"/sites/{site}/expose.pdf", params={"lang": lang}).content)
    yield "comparison", pdf_text(get("/sites/compare.pdf", params={"ids": ",".join(map(str, ids[:3]))}).content)
    for site in ids[:2]:
        lon, lat = get(f"/collections/sites/items/{site}").json()["geometry"]["coordinates"]
        for z in (6, 10, 12, 15):  # clusters and single sites
            x, y = _tile(lon, lat, z)
            tile = get(f"/tiles/sites/{z}/{x}/{y}.pbf")
            assert tile.status_code == 200 and tile.content, (site, z)
            yield f"tile {z}/{x}/{y}", tile.content.decode("latin-1")


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2
    return int((lon + 180) / 360 * n), int(y * n)


def test_public_responses_carry_no_personal_data(api: TestClient, world: dict, engine: Engine,
                                                 catalogue: list[int]) -> None:
    for key in ("delegated", "own"):
        _set_status(engine, world[key]["candidacy_id"], "published")
    ids = [world["delegated"]["site_id"], world["own"]["site_id"], *catalogue[:20]]
    names = [OWNER_PERSON[0], "Esempio Anna", OWNER_PERSON[1][:15], "CA99999ZZ", "incarichi@", "sedi@"]
    seen = 0
    for label, body in _public_texts(api, ids):
        seen += 1
        for name in names:
            assert name not in body, f"{name!r} in {label}"
        for pattern in PERSONAL:
            found = pattern.search(body)
            assert found is None, f"{pattern.pattern} matched {found.group(0)!r} in {label}"
    assert seen > 20
    # the published samples were really in what was scanned
    items = api.get("/collections/sites/items", params={"limit": 1000}).json()
    assert {world["delegated"]["site_id"], world["own"]["site_id"]} <= {f["id"] for f in items["features"]}
