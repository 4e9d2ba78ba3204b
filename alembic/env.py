"""Alembic environment: migrations run against the URL the service itself resolves.

A caller may hand over an open connection (``config.attributes["connection"]``), as
the tests and ``app.core.migrations`` do, so that a migration runs inside their transaction.
"""

from __future__ import annotations

from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

import app.accounts.models
import app.candidacies.models
import app.catalogue.models
import app.detection.models
import app.reference.models
import app.scouting.models  # noqa: F401
from alembic import context
from app.core.schema import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        transaction_per_migration=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.attributes.get("url")
    if url is None:
        from app.core.database import resolve_database_url

        url = resolve_database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported; run against a database.")
run_migrations_online()
