"""Free text that is published as typed (site name, address, descriptions): an e-mail,
a phone number or a codice fiscale in it is a warning at its cell, in Italian and
English, which staff see on the candidacy before publishing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.core import settings
from ingest.public_text import personal_data
from tests.conftest import remove_uploaded_candidacies
from tests.workbooks import candidacy_cell, valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize("text, kinds", [
    ("Per visite scrivere a mario.rossi@example.it", ["an e-mail address"]),
    ("Chiamare lo 02 1234 5678 o il +39 333 123 4567", ["a phone number"]),
    ("Proprietario RSSMRA80A01F205X", ["a codice fiscale"]),
    ("tel. 0351234567, info@esempio-test.example", ["an e-mail address", "a phone number"]),
    ("Capannone di 12.500 mq, prezzo € 1.200.000, 350 posti auto", []),
    ("Area di 3.500.000 mq lungo la SS 11 al km 3, disponibile dal 2027", []),
])
def test_personal_data_is_recognised_in_free_text(text: str, kinds: list[str]) -> None:
    assert [en for en, _ in personal_data(text)] == kinds


def test_staff_see_the_warning_before_publishing(api: TestClient, accounts: dict, engine: Engine,
                                                 tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    writer = valid_writer(name="Sito con contatti", **{
        "Descrizione (IT)": "Capannone luminoso. Per visite: mario.rossi@example.it, cell. 333 123 4567"})
    try:
        stored = api.post("/intake/candidacies", headers=accounts["other"],
                          files={"file": ("c.xlsx", writer.to_bytes(), XLSX)})
        assert stored.status_code == 201, stored.text
        warnings = [p for p in stored.json()["report"]["problems"] if p["code"] == "personal_data_in_public_text"]
        assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
        assert warnings[0]["cell"] == candidacy_cell(writer, "Descrizione (IT)")
        assert "an e-mail address, a phone number" in warnings[0]["message_en"]
        assert "un indirizzo e-mail, un numero di telefono" in warnings[0]["message_it"]
        seen = api.get(f"/candidacies/{stored.json()['candidacy_id']}", headers=accounts["staff"]).json()
        assert "personal_data_in_public_text" in {w["code"] for w in seen["warnings"]}
    finally:
        settings.storage_settings.cache_clear()
        remove_uploaded_candidacies(engine)
