"""What every command group shares: the console, a failure that exits 1, and sessions
on the catalogue (the owner's URL), schema migration and reference loading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from app.core.settings import storage_settings

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code=1)


def database_url(start_embedded: bool = True) -> str:
    """The owner's URL of the catalogue (the embedded cluster started when needed).
    Imported here, not at the top: every command would otherwise pay for SQLAlchemy and
    FastAPI at start-up (4 CPU-seconds for the whole command line before this)."""
    from app.core.database import resolve_database_url

    return resolve_database_url(start_embedded=start_embedded)


def cluster():
    """The embedded cluster of the settings."""
    from app.core.database import embedded_cluster

    return embedded_cluster()


def throwaway_engine(url: str) -> Engine:
    from sqlalchemy import create_engine, pool

    return create_engine(url, poolclass=pool.NullPool)


@contextmanager
def catalogue_connection(url: str | None = None, write: bool = True) -> Iterator[Connection]:
    """One connection to the catalogue (a transaction when ``write``), engine disposed after."""
    engine = throwaway_engine(url or database_url())
    try:
        with (engine.begin() if write else engine.connect()) as conn:
            yield conn
    finally:
        engine.dispose()


def load_models() -> None:
    """Every room's tables, as alembic/env.py loads them: an ORM flush sorts tables by
    their foreign keys, and a site's key to ``comuni`` only resolves when the reference
    room's models are loaded too (``intake import`` crashed on that)."""
    import app.accounts.models
    import app.candidacies.models
    import app.catalogue.models
    import app.detection.models
    import app.reference.models
    import app.scouting.models  # noqa: F401


@contextmanager
def catalogue_session(url: str | None = None) -> Iterator[Session]:
    load_models()
    from sqlalchemy.orm import Session

    engine = throwaway_engine(url or database_url())
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def migrate_schema(url: str) -> None:
    from app.core import migrations

    with console.status("Migrating the catalogue schema to head..."):
        migrations.upgrade(url)


def load_reference(url: str, shared: Path | None) -> None:
    from app.reference.sources import load_all

    shared = shared or storage_settings().shared_data_dir
    if not shared.is_dir():
        console.print(
            f"[yellow]{shared} not found:[/] loading comuni, provinces and airports from the "
            "PyPI packages only (no stations, cadastral sheets or policy zones)."
        )
    with console.status("Loading reference layers..."), catalogue_connection(url) as conn:
        results = load_all(conn, shared if shared.is_dir() else None)
        if any(r.changed for r in results):
            enrich_all(conn)
    for result in results:
        console.print("  " + result.describe(), soft_wrap=True)


def enrich_all(conn) -> None:
    """Reference data changed: every site's computed facts may have too."""
    from app.reference.enrichment import enrich, refresh_clusters

    with console.status("Recomputing enrichment of every site..."):
        count = enrich(conn)
        refresh_clusters(conn)
    console.print(f"  enrichment recomputed for {count} sites")


def load_demo_samples(url: str) -> None:
    from app.candidacies.demo import load_samples

    with catalogue_session(url) as session:
        stored, refused, _ = load_samples(session)
    console.print(f"  samples: {stored} stored and published for the demo, {refused} refused (invalid on purpose)")
