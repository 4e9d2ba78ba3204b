"""Time loading every reference layer into a fresh catalogue, then reloading it (no-op).

    make bench-reference_load

Uses a throwaway database in the embedded cluster (started if needed).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

from app.core import migrations
from app.core.database import embedded_cluster, resolve_database_url
from app.core.settings import storage_settings
from app.reference.sources import load_all
from bench.machine import describe


def main() -> None:
    base = make_url(resolve_database_url())
    name = f"bench_{secrets.token_hex(4)}"
    cluster = embedded_cluster()
    cluster.create_database(name)
    url = base.set(database=name).render_as_string(hide_password=False)
    shared = storage_settings().shared_data_dir
    try:
        migrations.upgrade(url)
        engine = create_engine(url, poolclass=pool.NullPool)
        timings = []
        for label in ("first load", "reload (unchanged)"):
            start = time.perf_counter()
            with engine.begin() as conn:
                results = load_all(conn, shared if shared.is_dir() else None)
            timings.append((label, time.perf_counter() - start, sum(r.features for r in results)))
        engine.dispose()
    finally:
        cluster.drop_database(name)
    print(f"machine: {describe()}  date: {dt.date.today()}")
    for label, seconds, features in timings:
        print(f"reference {label}: {seconds:.2f} s for {features} features")


if __name__ == "__main__":
    main()
