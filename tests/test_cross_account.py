"""No account can touch another's records: every upload variant of the takeover found in
review is refused or becomes a separate, flagged candidacy, and every other party's
registry rows, candidacies, sites and consent compare equal before and after.

Parties (fictional, tests/workbooks.py): company A (the "other" account) with its own
published site; company B (an account made here); Anna Esempio, a person who owns a
site; the agency that is Anna's delegate; staff."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from app.core import settings
from tests.conftest import remove_uploaded_candidacies, signed_in
from tests.workbooks import (
    AGENT,
    OWNER_COMPANY,
    OWNER_PERSON,
    cf,
    delegate_writer,
    piva,
    valid_writer,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMPANY_B = ("Beta Prova S.p.A.", piva("0000009303"))
A_SITE = "Sede propria Esempio Test"
B_SITE = "Capannone Beta"


def _upload(api: TestClient, data: bytes, headers: dict[str, str]):
    return api.post("/intake/candidacies", headers=headers, files={"file": ("candidatura.xlsx", data, XLSX)})


def _b_writer(name: str = B_SITE, **overrides: object):
    """Company B's own candidacy in its own name."""
    return valid_writer(name=name, **{"Denominazione o nome e cognome": COMPANY_B[0], "Partita IVA": COMPANY_B[1],
                                        "Email o PEC": "sedi@beta-prova.example", **overrides})


@pytest.fixture(scope="module")
def parties(api: TestClient, accounts: dict, engine: Engine,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A's candidacy published, Anna's delegated candidacy submitted, B's own submitted."""
    headers = {**accounts, "b": signed_in(engine, "sedi@beta-prova.example", tax_id=COMPANY_B[1])}
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path_factory.mktemp("uploads")))
            settings.storage_settings.cache_clear()
            a = _upload(api, valid_writer(name=A_SITE).to_bytes(), headers["other"])
            anna = _upload(api, delegate_writer().to_bytes(), headers["delegate"])
            b_own = _upload(api, _b_writer().to_bytes(), headers["b"])
            assert {r.status_code for r in (a, anna, b_own)} == {201}, (a.text, anna.text, b_own.text)
            a_id = a.json()["candidacy_id"]
            for to in ("validated", "published"):
                moved = api.post(f"/candidacies/{a_id}/transitions", headers=headers["staff"], json={"to": to})
                assert moved.status_code == 200, moved.text
            yield {"headers": headers, "a": a.json(), "anna": anna.json(), "b": b_own.json()}
    finally:
        settings.storage_settings.cache_clear()
        remove_uploaded_candidacies(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = 'sedi@beta-prova.example'"))
            conn.execute(text("REFRESH MATERIALIZED VIEW site_clusters"))


PEOPLE = """SELECT 'proponent' AS kind, id, name, codice_fiscale, partita_iva, legal_nature, email, pec, phone
            FROM proponents WHERE codice_fiscale = :t OR partita_iva = :t
            UNION ALL
            SELECT 'owner', id, name, codice_fiscale, partita_iva, legal_nature, NULL, NULL, NULL
            FROM owners WHERE codice_fiscale = :t OR partita_iva = :t ORDER BY 1, 2"""
RECORDS = """SELECT c.id, c.lineage_id::text, c.version, c.is_current, c.status, c.publication_consent,
                    c.proponent_id, c.owner_id, c.owner_confirmed_at IS NOT NULL, s.id, s.status, s.name,
                    ST_AsText(s.geom), s.price_eur
             FROM candidacies c JOIN proponents p ON p.id = c.proponent_id
             JOIN owners o ON o.id = c.owner_id
             LEFT JOIN sites s ON s.lineage_id = c.lineage_id
             WHERE p.codice_fiscale = :t OR p.partita_iva = :t OR o.codice_fiscale = :t OR o.partita_iva = :t
             ORDER BY c.id"""


def _state(api: TestClient, engine: Engine, headers: dict[str, str], tax_id: str) -> dict[str, Any]:
    """Everything a party owns: registry rows, candidacies with their sites and consent,
    what its account sees, and what its next template is pre-filled with."""
    with engine.connect() as conn:
        people = [tuple(r) for r in conn.execute(text(PEOPLE), {"t": tax_id})]
        records = [tuple(r) for r in conn.execute(text(RECORDS), {"t": tax_id})]
    seen = api.get("/candidacies", headers=headers).json()
    book = load_workbook(io.BytesIO(api.get("/intake/template", headers=headers).content))
    prefill = sorted(str(c.value) for s in book for row in s.iter_rows() for c in row if c.value is not None)
    return {"people": people, "records": records, "seen": seen, "prefill": prefill}


def _others(api: TestClient, engine: Engine, parties: dict[str, Any]) -> dict[str, Any]:
    h = parties["headers"]
    return {"A": _state(api, engine, h["other"], OWNER_COMPANY[1]),
            "Anna": _state(api, engine, h["owner"], OWNER_PERSON[1]),
            "agency": _state(api, engine, h["delegate"], AGENT[1])}


def _published_ids(api: TestClient) -> set[int]:
    return {f["id"] for f in api.get("/collections/sites/items", params={"limit": 1000}).json()["features"]}


def test_own_cf_with_another_companys_partita_iva_is_refused(api: TestClient, engine: Engine, parties: dict) -> None:
    before = _others(api, engine, parties)
    forged = _b_writer(**{"Codice fiscale": COMPANY_B[1], "Partita IVA": OWNER_COMPANY[1]}, name=A_SITE)
    answer = _upload(api, forged.to_bytes(), parties["headers"]["b"])
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert OWNER_COMPANY[1] in error["message"] and "are not those of your account" in error["message"]
    assert "non sono quelli del suo account" in error["message_it"]
    assert error["details"]["foreign_identifiers"] == [OWNER_COMPANY[1]]
    assert _others(api, engine, parties) == before


def test_another_companys_partita_iva_alone_is_refused(api: TestClient, engine: Engine, parties: dict) -> None:
    before = _others(api, engine, parties)
    forged = valid_writer(name=A_SITE, **{"Email o PEC": "sedi@beta-prova.example"})  # A's ids, B's e-mail
    assert _upload(api, forged.to_bytes(), parties["headers"]["b"]).status_code == 403
    assert _others(api, engine, parties) == before


def test_another_companys_name_and_site_with_own_ids_is_a_separate_flagged_candidacy(
        api: TestClient, engine: Engine, parties: dict) -> None:
    before, public = _others(api, engine, parties), _published_ids(api)
    lookalike = _b_writer(**{"Denominazione o nome e cognome": OWNER_COMPANY[0]}, name=A_SITE)
    lookalike.candidacy("Telefono", "+39 02 0000 1111")
    answer = _upload(api, lookalike.to_bytes(), parties["headers"]["b"])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["version"] == 1 and body["candidacy_code"] != parties["a"]["candidacy_code"]
    assert body["possible_duplicate_of"] == parties["a"]["candidacy_id"]
    assert _others(api, engine, parties) == before
    assert parties["a"]["site_id"] in _published_ids(api) and _published_ids(api) == public
    staff_view = api.get(f"/candidacies/{body['candidacy_id']}", headers=parties["headers"]["staff"]).json()
    assert staff_view["possible_duplicate_of"] == parties["a"]["candidacy_id"]
    flagged = api.get("/candidacies", params={"possible_duplicates": "true"}, headers=parties["headers"]["staff"])
    assert body["candidacy_id"] in {c["id"] for c in flagged.json()}
    assert parties["a"]["candidacy_id"] not in {c["id"] for c in flagged.json()}


def test_another_lineages_candidacy_code_does_not_make_a_new_version_of_it(
        api: TestClient, engine: Engine, parties: dict) -> None:
    before = _others(api, engine, parties)
    code = parties["a"]["candidacy_code"]
    answer = _upload(api, _b_writer(**{"Codice candidatura": code}, name="Altro nome Beta").to_bytes(),
                     parties["headers"]["b"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["candidacy_code"] != code and answer.json()["version"] == 1
    assert answer.json()["possible_duplicate_of"] == parties["a"]["candidacy_id"]
    assert _others(api, engine, parties) == before
    # B cannot act on A's candidacy through it either
    assert api.post(f"/candidacies/{parties['a']['candidacy_id']}/consent", headers=parties["headers"]["b"],
                    json={"consent": False}).status_code == 404


def test_a_delegate_declaring_another_owners_identity_renames_nothing(
        api: TestClient, engine: Engine, parties: dict) -> None:
    before = _others(api, engine, parties)
    renamed = "Nome Falso S.r.l."
    forged = delegate_writer(**{"Delegante: denominazione o nome e cognome": renamed,
                                "Delegante: codice fiscale o partita IVA": OWNER_COMPANY[1],
                                "Delegante: legale rappresentante": "Mario Esempio"})
    forged.candidacy("Proprietario (denominazione o nome)", renamed)
    forged.candidacy("Codice fiscale o partita IVA del proprietario", OWNER_COMPANY[1])
    forged.candidacy("Denominazione dell'opportunità", A_SITE)
    answer = _upload(api, forged.to_bytes(), parties["headers"]["delegate"])
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["candidacy_code"] != parties["a"]["candidacy_code"]
    assert body["possible_duplicate_of"] == parties["a"]["candidacy_id"]
    after = _others(api, engine, parties)
    assert after["A"]["people"] == before["A"]["people"]  # the owner row keeps A's own name
    assert renamed not in str(after["A"]["people"]) and renamed not in after["A"]["prefill"]
    # A sees what was declared in its name, flagged as not confirmed by it
    declared = api.get(f"/candidacies/{body['candidacy_id']}", headers=parties["headers"]["other"]).json()
    assert declared["relation"] == "owner" and declared["owner_confirmed"] is False
    assert after["Anna"] == before["Anna"]


def test_the_owner_confirms_what_its_delegate_declared_and_nobody_else_can(
        api: TestClient, parties: dict) -> None:
    anna = parties["anna"]["candidacy_id"]
    h = parties["headers"]
    assert api.get(f"/candidacies/{anna}", headers=h["owner"]).json()["owner_confirmed"] is False
    refused = api.post(f"/candidacies/{anna}/owner-confirmation", headers=h["delegate"])
    assert refused.status_code == 403
    assert "Only the owner's own account" in refused.json()["error"]["message"]
    assert api.post(f"/candidacies/{anna}/owner-confirmation", headers=h["b"]).status_code == 404
    confirmed = api.post(f"/candidacies/{anna}/owner-confirmation", headers=h["owner"])
    assert confirmed.status_code == 200 and confirmed.json()["owner_confirmed"] is True
    history = api.get(f"/candidacies/{anna}", headers=h["staff"]).json()["history"]
    assert history[-1]["action"] == "candidacy.owner_confirmed" and history[-1]["by"] == "anna.esempio@example.org"


def test_the_owner_may_continue_what_its_delegate_submitted(api: TestClient, engine: Engine, parties: dict) -> None:
    others = {k: v for k, v in _others(api, engine, parties).items() if k == "A"}
    own = valid_writer(**{"Denominazione o nome e cognome": OWNER_PERSON[0], "Partita IVA": None,
                          "Codice fiscale": OWNER_PERSON[1], "Natura giuridica": "Persona fisica",
                          "Email o PEC": "anna.esempio@example.org", "Prezzo richiesto (€)": "€ 9.000.000"})
    answer = _upload(api, own.to_bytes(), parties["headers"]["owner"])
    assert answer.status_code == 201, answer.text
    assert answer.json()["candidacy_code"] == parties["anna"]["candidacy_code"]
    assert answer.json()["version"] == 2 and answer.json()["possible_duplicate_of"] is None
    assert {k: v for k, v in _others(api, engine, parties).items() if k == "A"} == others


def test_a_person_cannot_upload_with_a_company_partita_iva(api: TestClient, engine: Engine, parties: dict) -> None:
    before = _others(api, engine, parties)
    person = valid_writer(name="Terreno di Anna", **{
        "Denominazione o nome e cognome": OWNER_PERSON[0], "Codice fiscale": OWNER_PERSON[1],
        "Partita IVA": COMPANY_B[1], "Natura giuridica": "Persona fisica"})
    answer = _upload(api, person.to_bytes(), parties["headers"]["owner"])
    assert answer.status_code == 403 and answer.json()["error"]["details"]["foreign_identifiers"] == [COMPANY_B[1]]
    assert _others(api, engine, parties) == before


def test_staff_cannot_join_two_registered_identities(api: TestClient, engine: Engine, parties: dict) -> None:
    before = _others(api, engine, parties)
    mixed = _b_writer(**{"Codice fiscale": cf("SMPNNA80A41F205"), "Partita IVA": OWNER_COMPANY[1]},
                      name="Sito misto")
    answer = _upload(api, mixed.to_bytes(), parties["headers"]["staff"])
    assert answer.status_code == 409
    assert "belong to different registered" in answer.json()["error"]["message"]
    assert "appartengono a persone o società diverse" in answer.json()["error"]["message_it"]
    assert _others(api, engine, parties) == before
