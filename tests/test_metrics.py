"""``/metrics`` (issue 27, item 2): Prometheus text for staff and the monitoring host only;
requests by route template, the queues, uploads by outcome; with several workers, every
worker's counts in one answer (prometheus-client's multi-process mode, as
``opportunity serve`` sets it up)."""

from __future__ import annotations

import sys

import httpx
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from bench.api_load import server
from tests.live import free_port

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Each sample of metric ``name`` by its sorted labels."""
    return {tuple(sorted(s.labels.items())): s.value for family in text_string_to_metric_families(text)
            for s in family.samples if s.name == name}


def value(text: str, name: str, **labels: str) -> float:
    return sum(v for key, v in samples(text, name).items() if set(labels.items()) <= set(key))


def test_metrics_are_for_staff_and_the_monitoring_host(api: TestClient, accounts: dict) -> None:
    refused = api.get("/metrics")  # the test client's address is no monitoring host
    assert refused.status_code == 403
    assert "OPPORTUNITY_API_METRICS_ALLOW" in refused.json()["error"]["message"]
    assert "monitoraggio" in refused.json()["error"]["message_it"]
    assert api.get("/metrics", headers=accounts["other"]).status_code == 403
    answer = api.get("/metrics", headers=accounts["staff"])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")


def test_requests_queues_and_uploads_are_counted(api: TestClient, accounts: dict) -> None:
    def scrape() -> str:
        return api.get("/metrics", headers=accounts["staff"]).text

    before = scrape()
    for _ in range(3):
        assert api.get("/health/live").status_code == 200
    refused = api.post("/intake/candidacies", headers=accounts["staff"],
                       files={"file": ("vuoto.xlsx", b"not a workbook", XLSX)})
    assert refused.status_code == 415
    after = scrape()
    assert value(after, "opportunity_requests_total", route="/health/live", method="GET", status="200") \
        - value(before, "opportunity_requests_total", route="/health/live", method="GET", status="200") == 3
    assert value(after, "opportunity_request_seconds_count", route="/health/live") \
        - value(before, "opportunity_request_seconds_count", route="/health/live") == 3
    assert value(after, "opportunity_uploads_total", outcome="rejected:not_xlsx") \
        - value(before, "opportunity_uploads_total", outcome="rejected:not_xlsx") == 1
    assert value(after, "opportunity_queue_wait_seconds_count", queue="parsing") \
        > value(before, "opportunity_queue_wait_seconds_count", queue="parsing")
    assert "/sites/{site_id}/expose.pdf" not in after or "/sites/1/expose.pdf" not in after  # templates only


def test_several_workers_answer_for_all(service_url: str, tmp_path) -> None:
    """Two uvicorn workers: whichever answers /metrics counts what both served."""
    port = free_port()
    env = {"DATABASE_URL": service_url, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "OPPORTUNITY_API_KEEPALIVE_REQUESTS": "1"}
    command = [sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory", "--port", str(port),
               "--workers", "2", "--log-level", "warning"]
    with server(command, env, port, "/health/live") as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            served = 40
            for _ in range(served):
                assert client.get("/health/ready").status_code == 200
            text = client.get("/metrics").text  # from 127.0.0.1: the default monitoring host
    assert value(text, "opportunity_requests_total", route="/health/ready", status="200") == served
    assert len(list(tmp_path.glob("*.db"))) >= 2  # one file per worker at least


def test_every_request_has_an_id_in_its_answer_logs_and_audit_events(api: TestClient, accounts: dict,
                                                                      engine) -> None:
    import logging

    from sqlalchemy import text

    from app.core.logs import REQUEST_ID, JsonFormatter

    given = api.get("/health/live", headers={"X-Request-ID": "proxy-42.a_b"})
    assert given.headers["x-request-id"] == "proxy-42.a_b"
    made = api.get("/health/live", headers={"X-Request-ID": "not a sane id; DROP TABLE"})
    assert made.headers["x-request-id"] != "not a sane id; DROP TABLE" and len(made.headers["x-request-id"]) == 32
    # an audited action carries its request's id into the audit log
    created = api.post("/admin/api-keys", headers=accounts["admin"], json={"name": "frontend request-id test"})
    assert created.status_code == 201, created.text
    request_id = created.headers["x-request-id"]
    with engine.begin() as conn:
        stored = conn.execute(text("SELECT details ->> 'request_id' FROM audit_events "
                                   "WHERE action LIKE 'api_key%' ORDER BY id DESC LIMIT 1")).scalar_one()
        conn.execute(text("DELETE FROM api_keys WHERE name = 'frontend request-id test'"))
    assert stored == request_id
    # and into the JSON log lines written meanwhile
    token = REQUEST_ID.set("abc123")
    try:
        line = JsonFormatter().format(logging.LogRecord("opportunity.api", logging.ERROR, __file__, 1,
                                                        "a failure", None, None))
    finally:
        REQUEST_ID.reset(token)
    import json

    assert json.loads(line) | {"time": "t"} == {"time": "t", "level": "error", "logger": "opportunity.api",
                                                "message": "a failure", "request_id": "abc123"}
