"""The FastAPI application: a lifespan that opens the connection pool, the routers,
the error map and CORS. The database is created and migrated by the CLI before the
server starts (``opportunity serve``), never from inside a worker, so any number of
workers can share one PostGIS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.orm import sessionmaker

from app import __version__
from app.api import detection, features, health, intake, match, sites, tiles
from app.api.errors import install_error_handlers
from app.api.responses import OrjsonResponse
from app.database import make_engine, resolve_database_url
from app.settings import api_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    url = getattr(app.state, "database_url", None) or resolve_database_url(start_embedded=False)
    engine = make_engine(url)
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker(engine, expire_on_commit=False)
    try:
        yield
    finally:
        engine.dispose()


def create_app(database_url: str | None = None) -> FastAPI:
    settings = api_settings()
    app = FastAPI(
        title="Opportunity Lombardy site scouting",
        version=__version__,
        summary="Catalogue of land and buildings offered for investment in Lombardy.",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
        root_path=settings.root_path,
        docs_url="/docs",
        openapi_url="/api",
    )
    app.state.database_url = database_url
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(intake.router)
    app.include_router(features.router)
    app.include_router(tiles.router)
    app.include_router(match.router)
    app.include_router(sites.router)
    app.include_router(detection.router)
    return app
