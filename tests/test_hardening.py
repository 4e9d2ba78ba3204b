"""Headers, body limits, CORS, upload rate limits, secrets, and the account CLI."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from app.accounts.auth import SecretKeyError, secret_key
from app.api.main import create_app
from app.cli import cli
from app.core import settings
from tests.workbooks import valid_writer

runner = CliRunner()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Environment changes with every settings cache cleared before and after."""
    caches = [getattr(settings, name) for name in dir(settings) if name.endswith("_settings")]
    for cached in caches:
        cached.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    for cached in caches:
        cached.cache_clear()


def test_security_headers(api: TestClient) -> None:
    response = api.get("/collections")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "strict-transport-security" not in response.headers  # development: plain HTTP allowed
    missing = api.get("/no/such/page")
    assert missing.status_code == 404 and missing.headers["x-content-type-options"] == "nosniff"


def test_bodies_over_the_limit_are_refused(database_url: str, catalogue: list[int], env: pytest.MonkeyPatch) -> None:
    env.setenv("OPPORTUNITY_LIMIT_MAX_BODY_BYTES", "2048")
    with TestClient(create_app(database_url)) as client:
        big = {"activity": "logistics", "zoning": ["x" * 50] * 100}
        declared = client.post("/match", json=big)
        assert declared.status_code == 413
        assert declared.json()["error"]["code"] == "payload_too_large"
        assert "larger than" in declared.json()["error"]["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"activity": "logistics", "zoning": ['
            for _ in range(200):
                yield b'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",'
            yield b'"x"]}'

        streamed = client.post("/match", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and "limit" in streamed.json()["error"]["message"]
        assert client.post("/match", json={"activity": "logistics"}).status_code == 200


def test_cors_only_for_configured_origins(database_url: str, catalogue: list[int], env: pytest.MonkeyPatch) -> None:
    env.setenv("OPPORTUNITY_API_CORS_ORIGINS", '["https://map.invest-lombardy.example"]')
    with TestClient(create_app(database_url)) as client:
        allowed = client.get("/collections", headers={"Origin": "https://map.invest-lombardy.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://map.invest-lombardy.example"
        other = client.get("/collections", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        preflight = client.options("/match", headers={"Origin": "https://evil.example",
                                                      "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 400


def test_uploads_are_rate_limited(database_url: str, reference_loaded: list, env: pytest.MonkeyPatch) -> None:
    env.setenv("OPPORTUNITY_LIMIT_UPLOADS", "2")
    data = valid_writer().to_bytes()
    with TestClient(create_app(database_url), client=("192.0.2.7", 50000)) as client:
        statuses = [client.post("/intake/validate", files={"file": ("a.xlsx", data, XLSX)}).status_code
                    for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_database_refusing_a_value_is_the_callers_error(api: TestClient) -> None:
    response = api.get("/collections/sites/items", params={"comune": "\x00"})
    assert response.status_code == 422
    assert "control characters" in response.json()["error"]["message"]
    # provinces are checked against the matching snapshot, before any SQL
    response = api.post("/match", json={"provinces": ["\x00"]})
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("Unknown province \x00;")


def test_production_refuses_a_missing_or_short_secret(env: pytest.MonkeyPatch, database_url: str) -> None:
    env.setenv("OPPORTUNITY_ENV", "production")
    env.delenv("OPPORTUNITY_AUTH_SECRET_KEY", raising=False)
    with pytest.raises(SecretKeyError, match="needs OPPORTUNITY_AUTH_SECRET_KEY"):
        secret_key()
    with pytest.raises(SecretKeyError), TestClient(create_app(database_url)):
        pass  # the lifespan refuses to start
    env.setenv("OPPORTUNITY_AUTH_SECRET_KEY", "short")
    settings.auth_settings.cache_clear()
    with pytest.raises(SecretKeyError, match="at least 32 characters"):
        secret_key()
    env.setenv("OPPORTUNITY_AUTH_SECRET_KEY", "p" * 40)
    settings.auth_settings.cache_clear()
    assert secret_key() == "p" * 40
    with TestClient(create_app(database_url)) as client:
        assert "max-age" in client.get("/health").headers["strict-transport-security"]


def test_development_generates_a_private_key_once(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env.delenv("OPPORTUNITY_AUTH_SECRET_KEY", raising=False)
    env.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path))
    first = secret_key()
    assert len(first) >= 32 and secret_key() == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_account_and_key_commands(database_url: str, accounts: dict, engine: Engine, env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", database_url)
    env.setenv("OPPORTUNITY_NEW_PASSWORD", "a-long-cli-password")
    env.setenv("COLUMNS", "200")  # rich tables fit the e-mail addresses
    created = runner.invoke(cli, ["users", "create", "Lucia.Staff@invest-lombardy.example", "--role", "staff"])
    assert created.exit_code == 0, created.output
    assert "created staff account lucia.staff@invest-lombardy.example" in created.output
    again = runner.invoke(cli, ["users", "create", "lucia.staff@invest-lombardy.example", "--role", "staff"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad_role = runner.invoke(cli, ["users", "create", "r@example.org", "--role", "owner"])
    assert bad_role.exit_code == 1 and "'owner' is not a role; use one of: proponent, staff, admin" in bad_role.output
    no_tax = runner.invoke(cli, ["users", "create", "p@example.org"])
    assert no_tax.exit_code == 1 and "needs the codice fiscale or partita IVA" in no_tax.output
    bad_tax = runner.invoke(cli, ["users", "create", "p@example.org", "--tax-id", "12345678901"])
    assert bad_tax.exit_code == 1 and "neither a valid codice fiscale nor a partita IVA" in bad_tax.output
    short = runner.invoke(cli, ["users", "create", "q@example.org", "--role", "admin", "--password", "short"])
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert "lucia.staff@invest-lombardy.example" in runner.invoke(cli, ["users", "list"]).output
    assert runner.invoke(cli, ["users", "password", "lucia.staff@invest-lombardy.example"]).exit_code == 0
    assert "deactivated" in runner.invoke(cli, ["users", "deactivate", "lucia.staff@invest-lombardy.example"]).output
    assert "no account for" in runner.invoke(cli, ["users", "deactivate", "nobody@example.org"]).output
    key = runner.invoke(cli, ["keys", "create", "public map"])
    assert key.exit_code == 0 and "olk_" in key.output
    prefix = key.output.strip().splitlines()[-1].split("_")[1]
    assert "revoked" in runner.invoke(cli, ["keys", "revoke", prefix]).output
    assert runner.invoke(cli, ["keys", "revoke", prefix]).exit_code == 1
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users WHERE email = 'lucia.staff@invest-lombardy.example'"))


def test_serve_refuses_production_without_a_secret(env: pytest.MonkeyPatch, database_url: str) -> None:
    env.setenv("DATABASE_URL", database_url)
    env.setenv("OPPORTUNITY_ENV", "production")
    env.delenv("OPPORTUNITY_AUTH_SECRET_KEY", raising=False)
    result = runner.invoke(cli, ["serve", "--no-migrate"])
    assert result.exit_code == 1 and "needs OPPORTUNITY_AUTH_SECRET_KEY" in result.output


def test_a_connection_is_closed_after_its_share_of_requests(env: pytest.MonkeyPatch, database_url: str) -> None:
    """Workers share one listening socket: a long-lived connection is closed after
    OPPORTUNITY_API_KEEPALIVE_REQUESTS answers so that its successor can go to another
    worker. The server really closes it (read on a raw socket), and counts afresh after."""
    import http.client
    import socket

    from tests.live import serving

    env.setenv("OPPORTUNITY_API_KEEPALIVE_REQUESTS", "3")
    settings.api_settings.cache_clear()
    with serving(create_app(database_url)) as base:
        port = int(base.rsplit(":", 1)[1])
        for _ in range(2):  # a second connection starts its own count
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                answers = []
                for _ in range(3):
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    response = http.client.HTTPResponse(sock)
                    response.begin()
                    response.read()
                    answers.append((response.status, response.getheader("connection")))
                assert answers == [(200, None), (200, None), (200, "close")]
                assert sock.recv(1) == b""  # closed by the server
    env.setenv("OPPORTUNITY_API_KEEPALIVE_REQUESTS", "0")
    settings.api_settings.cache_clear()
    with TestClient(create_app(database_url)) as client:
        assert all("connection" not in client.get("/health").headers for _ in range(5))


@pytest.mark.parametrize("idle_ping_s, first_use", [(0.0, "answers"), (3600.0, "fails")])
def test_a_connection_lost_while_idle_is_replaced(database_url: str, monkeypatch: pytest.MonkeyPatch,
                                                  idle_ping_s: float, first_use: str) -> None:
    """A pooled connection whose server process went away (a database restart) is pinged
    and replaced when it has been idle longer than IDLE_PING_S; a recently used one is
    handed out as it is, fails that request, and the next one gets a new connection."""
    from sqlalchemy import create_engine, pool
    from sqlalchemy.exc import OperationalError

    from app.core import database

    monkeypatch.setattr(database, "IDLE_PING_S", idle_ping_s)
    engine = database.make_engine(database_url)
    try:
        with engine.connect() as conn:
            victim = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with create_engine(database_url, poolclass=pool.NullPool).connect() as other:
            assert other.execute(text("SELECT pg_terminate_backend(:p)"), {"p": victim}).scalar_one()
        if first_use == "fails":
            with pytest.raises(OperationalError), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
    finally:
        engine.dispose()
