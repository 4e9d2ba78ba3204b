"""Engine and sessions: where the service finds its catalogue.

``resolve_database_url`` is the single place that decides between an external
server (``DATABASE_URL``) and the embedded cluster, so the CLI, the API and
Alembic always agree.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
import psycopg.types.json
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from app.core.embedded_db import EmbeddedCluster
from app.core.settings import DatabaseSettings, StorageSettings, database_settings, storage_settings


def embedded_cluster(
    db: DatabaseSettings | None = None, storage: StorageSettings | None = None
) -> EmbeddedCluster:
    db = db or database_settings()
    storage = storage or storage_settings()
    return EmbeddedCluster(storage.cluster_dir, db.embedded_port, db.embedded_database,
                           archive_dir=storage.backups_dir / "wal")


def resolve_database_url(start_embedded: bool = True) -> str:
    """The owner's URL of the catalogue (migrations, reference loading, the command
    line), starting the embedded cluster when no DATABASE_URL is set."""
    settings = database_settings()
    if settings.owner_url or settings.url:
        return settings.owner_url or settings.url  # type: ignore[return-value]
    cluster = embedded_cluster()
    if start_embedded:
        cluster.start()
    return cluster.url()


def resolve_service_url() -> str:
    """The URL the API connects with: DATABASE_URL, or the embedded cluster's
    least-privilege service role (the cluster is started by ``serve`` beforehand)."""
    settings = database_settings()
    return settings.url or embedded_cluster().service_url()


def _fast_json() -> None:
    """JSON and JSONB columns parsed by orjson rather than the standard library (the
    match answer reads a JSONB column per returned site)."""
    psycopg.types.json.set_json_loads(orjson.loads)


def make_engine(url: str, settings: DatabaseSettings | None = None) -> Engine:
    _fast_json()
    settings = settings or database_settings()
    engine = create_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout_s,
        connect_args={"application_name": "opportunity-lombardy"},
    )
    timeout = settings.statement_timeout_ms
    _ping_when_idle(engine)

    @event.listens_for(engine, "connect")
    def _set_timeout(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout)}")
        dbapi_connection.commit()

    return engine


# a pooled connection unused for this long is pinged before it is handed out
IDLE_PING_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, for connections that have sat in the pool: a round trip on
    every checkout cost each bbox page and each match about a tenth of its database time.
    A connection returned within the last second is handed out as it is (a server that
    went away since fails that one request, and SQLAlchemy then discards the pool's older
    connections); an idle one answers a ping first, or is replaced (DisconnectionError
    makes the pool connect anew), as after a restart of the database."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record) -> None:
        record.info["returned"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("returned", float("-inf")) < IDLE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError("the database connection was lost while idle") from exc


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request, from the pool the lifespan opened. Making it does no I/O,
    so it happens on the event loop; closing it returns its connection (a ROLLBACK round
    trip while a transaction is open), which then runs in the thread pool. As a plain
    generator it cost every request two thread hand-offs."""
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    session = factory()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """A session for requests that only read the public catalogue (match, items, tiles).
    Its connection is in autocommit: each statement runs on its own, without a BEGIN
    before it and a ROLLBACK after it, and psycopg keeps its prepared statements (after a
    ROLLBACK it deallocates them all). A bbox page is then one round trip instead of
    three, and closing the session does no I/O."""
    session: Session = request.app.state.read_sessionmaker()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
