"""The intake endpoints: template, validation, annotated workbook, submission, bad files."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import msoffcrypto.format.ooxml
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from app.api.main import create_app
from app.core import settings
from tests.conftest import remove_uploaded_candidacies
from tests.workbooks import rebuild_zip, valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def client(database_url: str, reference_loaded: list, tmp_path: Path, accounts: dict,
           monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Iterator[TestClient]:
    """Signed in as staff, who may submit workbooks in anyone's name (proponents' own
    uploads are tested in test_access.py)."""
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    with TestClient(create_app(database_url), headers=accounts["staff"]) as client:
        yield client
    settings.storage_settings.cache_clear()
    remove_uploaded_candidacies(engine)  # this module's submissions are committed


def _upload(client: TestClient, path: str, data: bytes, name: str = "candidatura.xlsx"):
    return client.post(path, files={"file": (name, data, XLSX)})


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM candidacies")).scalar()


def test_template_download(client: TestClient) -> None:
    response = client.get("/intake/template", params={"kind": "B"})
    assert response.status_code == 200 and response.headers["content-type"] == XLSX
    assert "candidatura-B.xlsx" in response.headers["content-disposition"]
    assert "Candidatura" in load_workbook(io.BytesIO(response.content)).sheetnames
    assert client.get("/intake/template", params={"kind": "Z"}).status_code == 422


def test_validate_returns_the_report(client: TestClient) -> None:
    data = valid_writer(**{"Superficie coperta (m²)": "30.000"}).to_bytes()
    body = _upload(client, "/intake/validate", data).json()
    assert body["ok"] is False and body["errors"] == 1
    assert body["problems"][0]["code"] == "covered_exceeds_land"


def test_annotated_download(client: TestClient) -> None:
    data = valid_writer(**{"Superficie coperta (m²)": "30.000"}).to_bytes()
    response = _upload(client, "/intake/validate/annotated", data, "mio sito.xlsx")
    assert response.status_code == 200
    assert 'filename="mio sito-verificato.xlsx"' in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "Esito verifica"


def test_submit_created_then_duplicate_then_errors(client: TestClient, engine: Engine) -> None:
    data = valid_writer(name="Sito API").to_bytes()
    created = _upload(client, "/intake/candidacies", data)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["version"] == 1 and body["status"] == "submitted" and body["candidacy_code"]
    again = _upload(client, "/intake/candidacies", data)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    bad = _upload(client, "/intake/candidacies", valid_writer(**{"Comune": "Parigi"}).to_bytes())
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "validation_failed" and "nothing was stored" in error["message"]
    assert "non è stato salvato nulla" in error["message_it"]
    assert error["details"]["problems"][0]["code"] == "unknown_comune"
    assert _stored(engine) == 1


def _encrypted() -> bytes:
    out = io.BytesIO()
    msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(valid_writer().to_bytes())).encrypt("x", out)
    return out.getvalue()


def _macro() -> bytes:
    data = valid_writer().to_bytes()
    return rebuild_zip(data, add={"xl/vbaProject.bin": b"\x00" * 64})


def _formula() -> bytes:
    return valid_writer(**{"Superficie coperta (m²)": "=1+1"}).to_bytes()


BAD_FILES = {
    "not an xlsx": (lambda: b"%PDF-1.7 fake", 415, "not_xlsx", "not an Excel workbook"),
    "legacy xls": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, 415, "legacy_xls", "old .xls"),
    "encrypted": (_encrypted, 422, "encrypted_workbook", "password-protected"),
    "macro": (_macro, 422, "macro_workbook", "macros"),
    "zip bomb": (lambda: rebuild_zip(valid_writer().to_bytes(), add={"xl/media/x.bin": b"\0" * 3_000_000}),
                 422, "zip_bomb", "compression ratio"),
    "formula without value": (_formula, 422, "formula_without_value", "never saved"),
    "unknown version": (lambda: valid_writer(**{"Versione modello": "OL-1999"}).to_bytes(), 422,
                        "unknown_template_version", "is not accepted"),
    "empty": (lambda: b"", 422, "empty_file", "empty"),
}


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_files_are_refused_and_nothing_is_written(
    client: TestClient, engine: Engine, tmp_path: Path, kind: str
) -> None:
    make, status, code, words = BAD_FILES[kind]
    response = _upload(client, "/intake/candidacies", make())
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and words in error["message"] and error["message_it"]
    assert _stored(engine) == 0
    assert not (tmp_path / "uploads").exists()


def test_upload_size_limit(client: TestClient, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    monkeypatch.setenv("OPPORTUNITY_UPLOAD_MAX_BYTES", "2048")
    settings.upload_settings.cache_clear()
    try:
        response = _upload(client, "/intake/candidacies", valid_writer().to_bytes())
    finally:
        settings.upload_settings.cache_clear()
    assert response.status_code == 413
    assert "upload limit" in response.json()["error"]["message"]
    assert _stored(engine) == 0


def test_missing_file_field(client: TestClient) -> None:
    response = client.post("/intake/candidacies")
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["location"] == ["body", "file"]
