"""Requests that used to answer 500, break a header or run a formula in a spreadsheet:
each now gets its status and a message a user can act on (review findings 3, 5, 6, 7, 9)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.api.main import create_app
from app.core import settings
from tests.workbooks import valid_writer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")


def _items(api: TestClient, cql: str):
    return api.get("/collections/sites/items", params={"filter": cql, "limit": 1})


def _error(response) -> dict:
    return response.json()["error"]


@pytest.mark.parametrize("cql, fragment, fragment_it", [
    ("upper(name)='X'", "the function upper() is not supported", "la funzione upper() non è supportata"),
    ("name > 5", "name is text, compared here with number", "name è un testo"),
    ("land_area_m2 = 'abc'", "land_area_m2 is number, compared here with text", "land_area_m2 è un numero"),
    ("geometry = 'x'", "geometry is a geometry: use a spatial predicate", "geometry è una geometria"),
    ("available_from < 'soon'", "available_from is date, compared here with text", "available_from è una data"),
    ("name LIKE 5", "name is text, compared here with number", "name è un testo"),
    ("land_area_m2 LIKE 'a%'", "LIKE works on text", "LIKE vale per i testi"),
    (" AND ".join(["land_area_m2 > 1"] * 2001), "longer than 4000 characters", "supera 4000 caratteri"),
    ("(land_area_m2 > 1 AND " * 150 + "land_area_m2 > 2" + ")" * 150, "too complex", "troppo complesso"),
    ("S_INTERSECTS(geometry, BBOX(9.0, 45.3, 9.4))", "BBOX takes 4 numbers", "BBOX richiede 4 numeri"),
    (" OR ".join(f"land_area_m2 = {i}" for i in range(160)), "too complex", "troppo complesso"),
])
def test_cql2_mistakes_answer_400_with_a_message(api: TestClient, cql: str, fragment: str, fragment_it: str) -> None:
    answer = _items(api, cql)
    assert answer.status_code == 400, answer.text
    assert fragment in _error(answer)["message"] and fragment_it in _error(answer)["message_it"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_date_compared_with_an_iso_string_filters(api: TestClient, engine: Engine) -> None:
    answer = _items(api, "available_from < '2027-06-01'")
    assert answer.status_code == 200, answer.text
    with engine.connect() as conn:
        expected = conn.execute(text("SELECT count(*) FROM sites WHERE status = 'published' "
                                     "AND available_from < DATE '2027-06-01'")).scalar()
    assert answer.json()["numberMatched"] == expected > 0


def test_s_intersects_with_a_bbox_filters_like_bbox(api: TestClient) -> None:
    box = "9.0,45.3,9.4,45.6"
    answer = _items(api, f"S_INTERSECTS(geometry, BBOX({box}))")
    assert answer.status_code == 200, answer.text
    by_bbox = api.get("/collections/sites/items", params={"bbox": box, "limit": 1}).json()["numberMatched"]
    assert answer.json()["numberMatched"] == by_bbox > 0


@pytest.mark.parametrize("fid", ["%C2%B2", "%D9%A3", "99999999999999999999999"])
def test_a_non_ascii_or_huge_item_id_is_not_found(api: TestClient, fid: str) -> None:
    answer = api.get(f"/collections/sites/items/{fid}")
    assert answer.status_code == 404 and "No feature" in _error(answer)["message"]


def test_a_lone_surrogate_in_a_match_request_is_a_422(api: TestClient) -> None:
    answer = api.post("/match", content=b'{"activity": "\\ud800"}', headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert _error(answer)["code"] in ("invalid_input", "unknown_activity") and answer.json()["error"]["message"]


@pytest.mark.parametrize("field", ["provinces", "zoning", "preferences"])
def test_match_lists_are_bounded(api: TestClient, field: str) -> None:
    answer = api.post("/match", json={field: ["MI"] * 50_000})
    assert answer.status_code == 422
    problems = str(_error(answer)["details"])
    assert "at most 50 items" in problems and field in problems


def test_oversized_and_countless_headers_get_431(api: TestClient) -> None:
    big = api.get("/health", headers={"X-Padding": "a" * 1_000_000})
    assert big.status_code == 431 and "headers are too large" in _error(big)["message"]
    assert big.headers["x-content-type-options"] == "nosniff"
    many = api.get("/health", headers={f"X-H{i}": "1" for i in range(10_000)})
    assert many.status_code == 431 and "intestazioni della richiesta" in _error(many)["message_it"]


def _multipart(filename: bytes, data: bytes) -> tuple[bytes, str]:
    """A multipart body with the file name exactly as given (clients escape theirs)."""
    boundary = "opportunityboundary"
    body = (f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + filename
            + b'"\r\nContent-Type: ' + XLSX.encode() + b"\r\n\r\n" + data + f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("filename, ascii_name, encoded", [
    ("€uro.xlsx".encode(), "uro-verificato.xlsx", "%E2%82%ACuro-verificato.xlsx"),
    (b"riga\nnuova.xlsx", "riganuova-verificato.xlsx", "riganuova-verificato.xlsx"),
    (b"vir;go\tle.xlsx", "vir_gole-verificato.xlsx", "vir%3Bgole-verificato.xlsx"),
])
def test_annotated_download_names_are_rfc6266(api: TestClient, reference_loaded: list, filename: bytes,
                                               ascii_name: str, encoded: str) -> None:
    body, content_type = _multipart(filename, valid_writer().to_bytes())
    answer = api.post("/intake/validate/annotated", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 200, answer.text
    disposition = answer.headers["content-disposition"]
    assert disposition == f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


@pytest.fixture
def hostile_site(api: TestClient, catalogue: list[int], engine: Engine) -> Iterator[int]:
    site = catalogue[0]
    with engine.begin() as conn:
        old = conn.execute(text("SELECT name FROM sites WHERE id = :i"), {"i": site}).scalar()
        conn.execute(text("UPDATE sites SET name = :n WHERE id = :i"),
                     {"n": "Area;=1+1;=cmd|' /C calc'!A0\n=2+2,@SUM(A1)", "i": site})
    yield site
    with engine.begin() as conn:
        conn.execute(text("UPDATE sites SET name = :n WHERE id = :i"), {"n": old, "i": site})


@pytest.mark.parametrize("separator", [",", ";"])
def test_csv_export_runs_no_formula_in_either_locale(api: TestClient, hostile_site: int, separator: str) -> None:
    answer = api.get("/sites/export", params={"ids": str(hostile_site), "format": "csv"})
    assert answer.status_code == 200
    content = answer.content.decode("utf-8-sig")
    cells = [cell.strip('"') for row in csv.reader(io.StringIO(content), delimiter=separator) for cell in row]
    for line in content.splitlines():  # a reader that ignores the quoting altogether
        cells += [part.strip('"') for part in line.replace(";", ",").split(",")]
    assert not [c for c in cells if c.startswith(FORMULA_CHARS)]
    assert "Area;'=1+1;'=cmd|' /C calc'!A0" in content and "\n'=2+2,'@SUM(A1)" in content
    assert all(line.startswith('"') for line in content.splitlines() if line and not line.startswith("'"))


def test_staff_can_open_the_report_of_a_site_uploaded_over_http(
        database_url: str, catalogue: list[int], accounts: dict, engine: Engine,
        tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    settings.storage_settings.cache_clear()
    try:
        app = create_app(database_url)
        with TestClient(app, client=("198.51.100.23", 50000)) as client:
            stored = client.post("/intake/candidacies", headers=accounts["other"],
                                 files={"file": ("c.xlsx", valid_writer(name="Sito del report").to_bytes(), XLSX)})
            assert stored.status_code == 201, stored.text
            report = client.get(f"/sites/{stored.json()['site_id']}/report", headers=accounts["staff"])
        assert report.status_code == 200, report.text
        assert report.json()["audit"][0]["client_address"] == "198.51.100.23"
    finally:
        settings.storage_settings.cache_clear()
        from tests.conftest import remove_uploaded_candidacies
        remove_uploaded_candidacies(engine)


def test_an_unexpected_error_answers_500_with_security_headers_and_no_internals(
        database_url: str, catalogue: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    import app.api.features as features

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret internal detail /srv/opportunity")

    monkeypatch.setattr(features, "all_collections", broken)
    with TestClient(create_app(database_url), raise_server_exceptions=False) as client:
        answer = client.get("/collections")
    assert answer.status_code == 500
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
    assert "secret" not in answer.text and _error(answer)["code"] == "internal_error"
    assert "Errore interno" in _error(answer)["message_it"]


def test_a_foreign_host_header_is_refused_and_links_use_the_public_base_url(
        database_url: str, catalogue: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_API_PUBLIC_BASE_URL", "https://siti.example.org/api-base/")
    settings.api_settings.cache_clear()
    try:
        with TestClient(create_app(database_url)) as client:
            forged = client.get("/tiles/sites.json", headers={"Host": "evil.example"})
            tilejson = client.get("/tiles/sites.json")
            items = client.get("/collections/sites/items", params={"limit": 2})
    finally:
        settings.api_settings.cache_clear()
    assert forged.status_code == 400 and "evil.example" not in forged.text
    assert tilejson.json()["tiles"][0].startswith("https://siti.example.org/api-base/tiles/sites/")
    assert all(link["href"].startswith("https://siti.example.org/api-base/collections/sites")
               for link in items.json()["links"])


def test_api_docs_load_nothing_from_outside(api: TestClient) -> None:
    for page, asset in (("/docs", "/static/docs/swagger-ui/swagger-ui-bundle.js"),
                        ("/redoc", "/static/docs/redoc/redoc.standalone.js")):
        html = api.get(page).text
        assert asset in html and "https://" not in html.replace("https://github.com", "")
        assert api.get(asset).status_code == 200
        assert "cdn" not in api.get(page).headers["content-security-policy"]


def test_openapi_security_matches_what_each_route_accepts(api: TestClient) -> None:
    paths = api.get("/api").json()["paths"]
    assert paths["/admin/users"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert paths["/candidacies"]["get"]["security"] == [{"OAuth2PasswordBearer": []}]
    public = paths["/collections/{collectionId}/items"]["get"]["security"]
    assert public == [{}, {"OAuth2PasswordBearer": []}, {"APIKeyHeader": []}]


@pytest.mark.parametrize("cql, sql_where", [
    ("NOT (land_area_m2 > 30000 OR kind = 'B')", "NOT (land_area_m2 > 30000 OR kind = 'B')"),
    ("kind = 'B' OR land_area_m2 > 30000 AND availability = 'locazione'",
     "kind = 'B' OR (land_area_m2 > 30000 AND availability = 'locazione')"),
    ("name = 'Synthetic site ''7'''", "name = 'Synthetic site ''7'''"),
    ("NOT land_area_m2 > 30000 AND kind = 'A'", "(NOT land_area_m2 > 30000) AND kind = 'A'"),
])
def test_cql2_follows_the_standard_precedence_and_quotes(api: TestClient, engine: Engine, cql: str,
                                                         sql_where: str) -> None:
    answer = _items(api, cql)
    assert answer.status_code == 200, answer.text
    with engine.connect() as conn:
        expected = conn.execute(text(f"SELECT count(*) FROM sites WHERE status = 'published' AND ({sql_where})")).scalar()
    assert answer.json()["numberMatched"] == expected


def test_a_type_mistake_inside_not_is_still_a_400(api: TestClient) -> None:
    answer = _items(api, "NOT (name > 5)")
    assert answer.status_code == 400 and "name is text" in _error(answer)["message"]
