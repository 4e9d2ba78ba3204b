"""A benchmark catalogue: a database ``bench_<N>`` in the embedded cluster with the
reference layers and N synthetic published sites, built once and reused.

    make bench-catalogue ARGS="--sites 100000"
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from app.core import migrations
from app.core.database import embedded_cluster, resolve_database_url
from app.core.settings import storage_settings
from app.reference.enrichment import enrich, refresh_clusters
from app.reference.sources import load_all
from bench.synthetic import generate_sites

SYNTHETIC_EXITS = "synthetic motorway exits (benchmark)"


EXITS = text("""
    SELECT count(*) FILTER (WHERE source <> :source) AS real, count(*) FILTER (WHERE source = :source) AS synthetic
    FROM infrastructure WHERE layer_type = 'motorway_exit'""")


def motorway_exits(conn, seed: int) -> None:
    """The real motorway exits (../shared/data, loaded with the reference layers) where
    present, and no synthetic one beside them; where they are absent (a machine without
    the shared folder), synthetic exits named so, so that distance criteria still work."""
    if conn.execute(EXITS, {"source": SYNTHETIC_EXITS}).one().real:
        conn.execute(text("DELETE FROM infrastructure WHERE layer_type = 'motorway_exit' AND source = :source"),
                     {"source": SYNTHETIC_EXITS})
    else:
        add_synthetic_exits(conn, seed)


def add_synthetic_exits(conn, seed: int, count: int = 120) -> None:
    """SYNTHETIC motorway exits at random points of the region, for machines without the
    real ones."""
    conn.execute(text("""
        INSERT INTO infrastructure (layer_type, source, source_id, name, properties, geom)
        SELECT 'motorway_exit', :source, 'S' || n, 'Synthetic exit ' || n, '{"synthetic": true}', geom
        FROM (SELECT row_number() OVER () AS n, d.geom FROM (
                  SELECT (ST_Dump(ST_GeneratePoints(ST_Union(geom), :count, :seed))).geom FROM provinces) d) p
        ON CONFLICT (layer_type, source, source_id) DO NOTHING
    """), {"source": SYNTHETIC_EXITS, "count": count, "seed": seed})


def ensure(sites: int, seed: int = 42) -> str:
    """URL of a database holding exactly ``sites`` synthetic sites (built if needed)."""
    name = f"bench_{sites}"
    base = make_url(resolve_database_url())
    cluster = embedded_cluster()
    cluster.create_database(name)
    url = base.set(database=name).render_as_string(hide_password=False)
    migrations.upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            present = conn.execute(text("SELECT count(*) FROM sites WHERE status = 'published'")).scalar_one()
            exits = conn.execute(EXITS, {"source": SYNTHETIC_EXITS}).one()
        if present == sites and not (exits.real and exits.synthetic):  # built before the real exits: rebuild
            return url
        shared = storage_settings().shared_data_dir
        start = time.perf_counter()
        with engine.begin() as conn:
            load_all(conn, shared if shared.is_dir() else None)
            motorway_exits(conn, seed)
            conn.execute(text("DELETE FROM sites"))
            ids = generate_sites(conn, sites, seed)
            print(f"generated {len(ids)} sites in {time.perf_counter() - start:.0f} s; enriching...", flush=True)
            enrich(conn, ids)
            refresh_clusters(conn)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # the state after routine maintenance: a bulk enrichment leaves a dead version of
            # every row behind, which autovacuum would reclaim over time
            conn.execute(text("VACUUM FULL ANALYZE sites"))
            conn.execute(text("VACUUM ANALYZE"))
        print(f"benchmark catalogue {name} ready in {time.perf_counter() - start:.0f} s", flush=True)
    finally:
        engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100_000)
    print(ensure(parser.parse_args().sites).split("@")[-1])


if __name__ == "__main__":
    main()
