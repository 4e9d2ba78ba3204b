"""The FastAPI application: a lifespan that checks the signing key and opens the
connection pool, the routers, the error map, CORS restricted to configured origins,
security headers and body limits. The database is created and migrated by the CLI before
the server starts (``opportunity serve``), never from inside a worker, so any number of
workers can share one PostGIS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import psycopg
from anyio import CapacityLimiter
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from app import __version__
from app.accounts.auth import secret_key
from app.api import (
    accounts,
    candidacies,
    detection,
    enquiries,
    features,
    health,
    intake,
    match,
    metrics,
    notifications,
    sites,
    tiles,
    web,
)
from app.api.errors import install_error_handlers
from app.api.hardening import BodyLimit, HeaderLimit, KeepAliveLimit, SecurityHeaders
from app.api.metrics import RequestObservation
from app.api.queues import ADMISSION_THREADS, make_queues
from app.api.responses import OrjsonResponse
from app.api.security import require_account, require_admin, require_proponent, require_staff
from app.core.database import make_engine, resolve_service_url
from app.core.logs import configure_json_logs
from app.core.settings import (
    analytics_settings,
    api_settings,
    auth_settings,
    limit_settings,
    upload_settings,
)
from app.scouting import demand
from app.scouting.snapshot import get_snapshot

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    secret_key()  # production without a proper secret: refuse to start
    url = getattr(app.state, "database_url", None) or resolve_service_url()
    engine = make_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    app.state.read_sessionmaker = sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
    analytics = analytics_settings()
    app.state.searches = searches = demand.SearchLog(engine, analytics.pending_max)
    app.state.queues = make_queues()  # on this worker's event loop
    app.state.admission = CapacityLimiter(ADMISSION_THREADS)
    flusher = asyncio.create_task(_flush_searches(searches, analytics.flush_interval_s))
    await anyio.to_thread.run_sync(_load_snapshot, engine)
    try:
        yield
    finally:
        flusher.cancel()
        await anyio.to_thread.run_sync(searches.flush)
        engine.dispose()


def _load_snapshot(engine: Engine) -> None:
    """The matching snapshot, loaded before the worker takes requests: otherwise the first
    investor to reach each worker waits for it (a second at 100,000 sites)."""
    try:
        with engine.connect() as conn:
            get_snapshot(conn)
    except (SQLAlchemyError, psycopg.Error):
        logger.warning("matching snapshot not loaded at start; the first match will load it", exc_info=True)


async def _flush_searches(searches: demand.SearchLog, interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        await anyio.to_thread.run_sync(searches.flush)


def create_app(database_url: str | None = None) -> FastAPI:
    settings = api_settings()
    configure_json_logs()
    app = FastAPI(
        title="Opportunity Lombardy site scouting",
        version=__version__,
        summary="Catalogue of land and buildings offered for investment in Lombardy.",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        root_path=settings.root_path,
        docs_url=None,  # served by app.api.web from the npm packages, not a CDN
        redoc_url=None,
        openapi_url="/api",
    )
    app.state.database_url = database_url
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "If-None-Match"],
            expose_headers=["ETag", "Retry-After"],
        )
    app.add_middleware(BodyLimit, default=limit_settings().max_body_bytes, uploads=upload_settings().max_bytes)
    app.add_middleware(HeaderLimit, max_bytes=settings.max_header_bytes, max_count=settings.max_headers)
    app.add_middleware(KeepAliveLimit, requests=settings.keepalive_requests)
    # outermost: every answer, a 431 or a 500 included, carries the security headers
    app.add_middleware(SecurityHeaders, hsts=auth_settings().environment == "production")
    # outermost: every answer counted by its route template; every log line and audit
    # event of a request carries its id
    app.add_middleware(RequestObservation)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    web.mount_static(app)
    app.openapi = lambda: openapi_with_security(app)  # type: ignore[method-assign]
    return app


ROUTERS = (health.router, metrics.router, accounts.router, candidacies.router, intake.router, features.router, tiles.router,
           match.router, sites.router, detection.router, enquiries.router, notifications.router, web.router)


SIGNED_IN = {require_account, require_proponent, require_staff, require_admin}
TOKEN = {"OAuth2PasswordBearer": []}
API_KEY = {"APIKeyHeader": []}


def openapi_with_security(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document with each operation's real requirements: a public operation
    accepts a token or an API key but needs neither (``{}`` first); one that needs an
    account accepts a bearer token only (API keys are read-only frontend keys)."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        for route in (r for router in ROUTERS for r in router.routes):
            if not isinstance(route, APIRoute):
                continue
            security = [TOKEN] if SIGNED_IN & _calls(route.dependant) else [{}, TOKEN, API_KEY]
            for method in route.methods:
                operation = schema["paths"].get(route.path_format, {}).get(method.lower())
                if operation is not None:
                    operation["security"] = security
    return app.openapi_schema


def _calls(dependant: Dependant) -> set[Callable[..., Any]]:
    calls = {dependant.call} if dependant.call else set()
    for sub in dependant.dependencies:
        calls |= _calls(sub)
    return calls
