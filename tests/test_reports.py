"""Staff report and short-list exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, text

from app.catalogue.exports import neutralise


@pytest.fixture
def staff(accounts: dict[str, dict[str, str]]) -> dict[str, str]:
    return accounts["staff"]


def _two_ids(api: TestClient) -> list[int]:
    return [f["id"] for f in api.get("/collections/sites/items", params={"limit": 2}).json()["features"]]


def test_report_needs_staff_credentials(api: TestClient, staff: dict, accounts: dict) -> None:
    site = _two_ids(api)[0]
    anonymous = api.get(f"/sites/{site}/report")
    assert anonymous.status_code == 401 and "Sign in first" in anonymous.json()["error"]["message"]
    proponent = api.get(f"/sites/{site}/report", headers=accounts["owner"])
    assert proponent.status_code == 403
    assert proponent.json()["error"]["message"] == "Only the agency's staff can do this."
    body = api.get(f"/sites/{site}/report", headers=staff).json()
    assert body["site"]["id"] == site and body["site"]["geometry"]["type"] == "Point"
    assert isinstance(body["completeness_missing"], list)
    assert api.get("/sites/99999999/report", headers=staff).status_code == 404


def test_report_of_an_uploaded_candidacy(api: TestClient, staff: dict, engine: Engine, tmp_path: Path,
                                         clean_intake: None) -> None:
    from sqlalchemy.orm import Session

    from app.candidacies.intake import submit
    from tests.workbooks import valid_writer

    with Session(engine) as session:
        outcome = submit(session, valid_writer(name="Sito per il report").to_bytes(), uploads_dir=tmp_path)
    body = api.get(f"/sites/{outcome.site_id}/report", headers=staff).json()
    assert body["proponent"]["name"] == "Esempio Test S.r.l."
    assert [v["version"] for v in body["versions"]] == [1]
    assert body["audit"][0]["action"] == "candidacy.upload"
    assert body["record"]["site_name"] == "Sito per il report"


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-1", "'-1"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\tcmd", "'\tcmd"), ("Area", "Area"), (12, 12), (None, None),
])
def test_formula_neutralisation(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def test_exports_keep_order_and_neutralise(api: TestClient, engine: Engine) -> None:
    ids = _two_ids(api)
    with engine.begin() as conn:
        conn.execute(text("UPDATE sites SET name = '=cmd|'' /C calc''!A0' WHERE id = :i"), {"i": ids[1]})
    try:
        order = f"{ids[1]},{ids[0]}"
        csv_rows = list(csv.DictReader(io.StringIO(
            api.get("/sites/export", params={"ids": order, "format": "csv"}).content.decode("utf-8-sig"))))
        assert [int(r["id"]) for r in csv_rows] == [ids[1], ids[0]]
        assert csv_rows[0]["name"].startswith("'=")
        response = api.get("/sites/export", params={"ids": order, "format": "xlsx"})
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet["C2"].value.startswith("'=") and sheet["C2"].data_type == "s"
        geojson = api.get("/sites/export", params={"ids": order, "format": "geojson"}).json()
        assert [f["id"] for f in geojson["features"]] == [ids[1], ids[0]]
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE sites SET name = 'Synthetic site restored' WHERE id = :i"), {"i": ids[1]})


@pytest.mark.parametrize("params, status, message", [
    ({"ids": "1,x"}, 400, "ids must be site numbers"),
    ({"ids": ""}, 400, "Give between 1 and 500"),
    ({"ids": "99999999"}, 404, "No published site 99999999"),
])
def test_export_errors(api: TestClient, params: dict, status: int, message: str) -> None:
    response = api.get("/sites/export", params=params)
    assert response.status_code == status and message in response.json()["error"]["message"]
