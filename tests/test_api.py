"""The HTTP API: health over a real catalogue, OpenAPI, the error envelope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.api.main import create_app
from tests.conftest import free_port


@pytest.fixture
def client(database_url: str, reference_loaded: list) -> Iterator[TestClient]:
    with TestClient(create_app(database_url)) as client:
        yield client


def test_health_reports_postgis_and_reference_counts(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis_version"].startswith("3.")
    assert body["schema_up_to_date"] is True
    reference = body["reference"]
    assert reference["comuni"] > 1500 and reference["provinces"] == 12
    assert reference["infrastructure"]["airport"] == 4


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    schema = client.get("/api").json()
    assert "/health" in schema["paths"]
    assert client.get("/docs").status_code == 200


def test_vocabulary_lists_the_loaded_provinces_by_name(client: TestClient) -> None:
    """The pages take the province choices from here (no list of their own)."""
    body = client.get("/vocabulary").json()
    provinces = body["province"]
    assert len(provinces) == 12
    assert provinces["MI"] == {"it": "Milano", "en": "Milano"}
    names = [label["it"] for label in provinces.values()]
    assert names == sorted(names) and names[0] == "Bergamo"
    assert body["site_type"]["area_dismessa"]["en"]  # the contract's codes are still there
    assert {"zls", "regional_aid"} <= set(body["zone"]) and all(z["it"] for z in body["zone"].values())


def test_unknown_path_uses_the_error_envelope(client: TestClient) -> None:
    response = client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_health_without_database_says_unavailable_and_leaks_nothing() -> None:
    url = f"postgresql+psycopg://nobody:secret-password@127.0.0.1:{free_port()}/nothing"
    with TestClient(create_app(url)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    text = response.text
    for leak in ("secret-password", "psycopg", "Traceback", "127.0.0.1"):
        assert leak not in text


def test_liveness_and_readiness_are_separate_probes(client: TestClient) -> None:
    assert client.get("/health/live").json() == {"status": "alive"}
    ready = client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready",
                            "checks": {"database": True, "schema_at_head": True, "storage_writable": True}}


def test_not_ready_without_a_database_but_alive(monkeypatch) -> None:
    url = f"postgresql+psycopg://nobody:secret-password@127.0.0.1:{free_port()}/nothing"
    with TestClient(create_app(url)) as client:
        assert client.get("/health/live").status_code == 200
        ready = client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"] is False and ready.json()["checks"]["schema_at_head"] is False
    for leak in ("secret-password", "psycopg", "Traceback", "127.0.0.1"):
        assert leak not in ready.text


def test_not_ready_when_the_upload_store_cannot_be_written(database_url: str, tmp_path, monkeypatch) -> None:
    from app.core import settings

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the data folder should be")
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", str(blocked))
    settings.storage_settings.cache_clear()
    try:
        with TestClient(create_app(database_url)) as client:
            ready = client.get("/health/ready")
            probes = len(list(tmp_path.iterdir()))
            assert client.get("/health/ready").status_code == 503  # the answer kept a few seconds
        assert ready.status_code == 503
        assert ready.json()["checks"] == {"database": True, "schema_at_head": True, "storage_writable": False}
        assert probes == 1  # no probe file was left behind
    finally:
        settings.storage_settings.cache_clear()
