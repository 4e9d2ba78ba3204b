"""A throwaway catalogue for a benchmark: a new database in the embedded cluster (started
if needed), migrated, with the reference layers loaded; dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from app.core import migrations
from app.core.database import embedded_cluster, make_engine, resolve_database_url
from app.core.settings import storage_settings
from app.reference.sources import load_all


@contextmanager
def scratch_catalogue() -> Iterator[str]:
    """Yields the owner's URL of the new database."""
    shared = storage_settings().shared_data_dir
    base = make_url(resolve_database_url())
    name = f"bench_{secrets.token_hex(4)}"
    cluster = embedded_cluster()
    cluster.create_database(name)
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        migrations.upgrade(url)
        engine = make_engine(url)
        with engine.begin() as conn:
            load_all(conn, shared if shared.is_dir() else None)
        engine.dispose()
        yield url
    finally:
        cluster.drop_database(name)
