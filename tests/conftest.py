"""Fixtures: a real PostGIS for the whole session, a throwaway database in it.

By default the session starts a private cluster under ``var/test-pg`` (durability
off, its own free port) and stops it at the end. With ``OPPORTUNITY_TEST_ADMIN_URL``
(a superuser URL on an existing PostGIS server) it creates the throwaway database
there instead. Each test that writes gets a connection whose transaction is rolled
back afterwards.

``--require-db`` (used by ``make test`` and so by CI) turns any skipped database
test into a failure: a suite that silently skipped its database proves nothing.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings as hypothesis_settings
from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine, pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.core import migrations
from app.core.embedded_db import EmbeddedCluster
from app.core.errors import DatabaseSetupError
from tests.live import free_port

# CI explores the same examples every run (a red build must be reproducible); developers'
# runs keep exploring new ones.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

# a fixed signing key for the tests (named so): tokens are issued the way production does
os.environ.setdefault("OPPORTUNITY_AUTH_SECRET_KEY", "tests-only-signing-key-" + "0" * 24)
# rate limits: a test counting attempts across the default 60 s window's boundary saw its
# count decay (a sign-in test failed so in CI, with fixed windows); a day has no boundary
# inside a test
os.environ.setdefault("OPPORTUNITY_LIMIT_WINDOW_SECONDS", "86400")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("OPPORTUNITY_SHARED_DATA_DIR", ROOT.parent / "shared" / "data"))
_skipped_db_tests: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-db",
        action="store_true",
        default=os.environ.get("OPPORTUNITY_REQUIRE_DB") == "1",
        help="fail the run when any database test is skipped",
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


SHARED_DATA_MISSING = "shared reference data not found"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember skipped database tests, except those skipped for lack of shared data."""
    if report.skipped and "db" in report.keywords:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if SHARED_DATA_MISSING not in reason:
            _skipped_db_tests.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped_db_tests and session.config.getoption("--require-db"):
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(
                f"--require-db: {len(_skipped_db_tests)} database test(s) were skipped; "
                "the catalogue was not tested:",
                red=True,
            )
            for nodeid in _skipped_db_tests:
                reporter.write_line(f"  {nodeid}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA_MISSING} at {SHARED_DATA} (see shared/data/README.md)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    """A superuser URL on a running PostGIS server."""
    external = os.environ.get("OPPORTUNITY_TEST_ADMIN_URL")
    if external:
        yield external
        return
    cluster = EmbeddedCluster(ROOT / "var" / "test-pg", free_port(), database="postgres", fast=True)
    try:
        cluster.start()
    except DatabaseSetupError as exc:
        pytest.skip(f"cannot start a PostGIS test cluster: {exc.message}")
    try:
        yield cluster.url("postgres")
    finally:
        cluster.stop()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_test_database(admin: str) -> str:
    """Create an empty database with PostGIS and return its SQLAlchemy URL."""
    name = f"test_{secrets.token_hex(6)}"
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
    with psycopg.connect(_libpq(url.render_as_string(hide_password=False)), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url.render_as_string(hide_password=False)


def drop_test_database(admin: str, url: str) -> None:
    name = make_url(url).database
    with psycopg.connect(_libpq(admin), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def database_url(admin_url: str) -> Iterator[str]:
    """A throwaway catalogue migrated to head, for the whole session."""
    url = create_test_database(admin_url)
    migrations.upgrade(url)
    try:
        yield url
    finally:
        drop_test_database(admin_url, url)


@pytest.fixture(scope="session")
def service_url(admin_url: str, database_url: str) -> Iterator[str]:
    """The catalogue as the API sees it in production: a login role that is a member of
    ``opportunity_service`` (migration 0007) and owns nothing."""
    login, password = f"test_app_{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE opportunity_service").format(
            sql.Identifier(login), sql.Literal(password)))
    try:
        yield make_url(database_url).set(username=login, password=password).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(login)))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, poolclass=pool.NullPool)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def reference_loaded(engine: Engine) -> list:
    """Reference layers loaded once (shared-data layers where that folder exists)."""
    from app.reference.sources import load_all

    with engine.begin() as conn:
        return load_all(conn, SHARED_DATA if SHARED_DATA.is_dir() else None)


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection whose work is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture
def session(engine: Engine, reference_loaded: list) -> Iterator[Session]:
    """An ORM session whose commits land in a savepoint, all rolled back afterwards."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as db:
            yield db
        transaction.rollback()


SYNTHETIC_EXITS = "synthetic motorway exits (tests)"


@pytest.fixture(scope="session")
def catalogue(engine: Engine, reference_loaded: list) -> Iterator[list[int]]:
    """300 synthetic published sites and a synthetic motorway-exit layer, committed for the
    API tests (which use the app's own connections) and removed afterwards."""
    from shapely.geometry import Point

    from app.reference.enrichment import enrich, refresh_clusters
    from app.reference.layers import Feature, replace_infrastructure
    from bench.synthetic import generate_sites, remove_synthetic

    exits = [Feature(f"X{i}", f"Synthetic exit {i}", None, {"synthetic": True}, Point(lon, lat))
             for i, (lon, lat) in enumerate([(9.05, 45.52), (9.55, 45.60), (10.05, 45.17), (10.20, 45.55),
                                              (9.15, 45.20), (8.85, 45.80), (9.70, 45.70), (10.75, 45.10)])]
    with engine.begin() as conn:
        replace_infrastructure(conn, "motorway_exit", SYNTHETIC_EXITS, exits)
        ids = generate_sites(conn, 300, seed=7)
        enrich(conn, ids)
        refresh_clusters(conn)
    yield ids
    with engine.begin() as conn:
        remove_synthetic(conn)
        replace_infrastructure(conn, "motorway_exit", SYNTHETIC_EXITS, [])
        refresh_clusters(conn)


@pytest.fixture(scope="session")
def api(service_url: str, catalogue: list[int]) -> Iterator:
    """The API as deployed: connected as the least-privilege service role."""
    from fastapi.testclient import TestClient

    from app.api.main import create_app

    with TestClient(create_app(service_url)) as client:
        yield client


def remove_uploaded_candidacies(engine: Engine) -> None:
    """Delete what committed intake tests stored (sites from workbooks, candidacies, people,
    their audit events), leaving the synthetic catalogue and reference data."""
    from app.reference.enrichment import refresh_clusters

    with engine.begin() as conn:
        conn.execute(text("DELETE FROM sites WHERE lineage_id IS NOT NULL"))
        for table in ("candidacies", "delegations", "owners", "proponents"):
            conn.execute(text(f"DELETE FROM {table}"))
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        conn.execute(text("DELETE FROM audit_events"))
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only"))
        refresh_clusters(conn)  # a deleted published site must leave the low-zoom clusters too


@pytest.fixture
def clean_intake(engine: Engine) -> Iterator[None]:
    yield
    remove_uploaded_candidacies(engine)


# -- accounts -----------------------------------------------------------------------------------

PASSWORD = "a-long-test-password-1"


def _people() -> dict[str, tuple[str, str, str | None]]:
    """Accounts for the people of tests/workbooks.py (fictional): delegate_writer() is
    submitted by an agency for the owner Anna Esempio under a delegation; valid_writer()
    by a company that owns its site ("other" to the delegated candidacy)."""
    from tests.workbooks import AGENT, OWNER_COMPANY, OWNER_PERSON

    return {
        "owner": ("anna.esempio@example.org", "proponent", OWNER_PERSON[1]),
        "delegate": ("incarichi@agenzia-test.example", "proponent", AGENT[1]),
        "other": ("sedi@esempio-test.example", "proponent", OWNER_COMPANY[1]),
        "staff": ("staff@invest-lombardy.example", "staff", None),
        "admin": ("admin@invest-lombardy.example", "admin", None),
    }


def signed_in(engine: Engine, email: str, role: str = "proponent", tax_id: str | None = None) -> dict[str, str]:
    """A committed account (password PASSWORD) and the Authorization header of a token."""
    from app.accounts.auth import create_user, issue_token

    with Session(engine) as db:
        user = create_user(db, email, PASSWORD, role, None, tax_id)
        db.flush()
        headers = {"Authorization": f"Bearer {issue_token(user)[0]}"}
        db.commit()
    return headers


@pytest.fixture(scope="session")
def accounts(engine: Engine, reference_loaded: list) -> Iterator[dict[str, dict[str, str]]]:
    """One account per role, committed: role -> Authorization header."""
    from app.accounts.auth import create_user, issue_token

    headers: dict[str, dict[str, str]] = {}
    with Session(engine) as db:
        for role, (email, kind, tax_id) in _people().items():
            user = create_user(db, email, PASSWORD, kind, role.title(), tax_id)
            db.flush()
            headers[role] = {"Authorization": f"Bearer {issue_token(user)[0]}"}
        db.commit()
    yield headers
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM users"))
        conn.execute(text("DELETE FROM api_keys"))


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium for the browser tests of one module (tests/browser.py)."""
    from tests.browser import launched_chromium

    yield from launched_chromium()
