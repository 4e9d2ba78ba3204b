"""A synthetic catalogue for benchmarks and tests: N published sites at random points
inside real Lombardy comuni (more where more people live), with random but plausible
attributes. Every site is named "Synthetic site N" and carries attributes.synthetic =
true; nothing here describes a real place's offer.

    make bench-synthetic ARGS="--sites 100000 [--database-url URL]"
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sqlalchemy import Connection, create_engine, pool, text

from app.reference.enrichment import enrich

SYNTHETIC_NAME = "Synthetic site"


def generate_sites(conn: Connection, count: int, seed: int = 42, status: str = "published") -> list[int]:
    """Insert ``count`` synthetic sites and return their ids (not enriched yet)."""
    comuni = conn.execute(text("SELECT istat_code, population FROM comuni ORDER BY istat_code")).all()
    if not comuni:
        raise RuntimeError("load the reference layers first (opportunity reference load)")
    rng = np.random.default_rng(seed)
    weights = np.array([max(p or 0, 1) for _, p in comuni], dtype=float) ** 0.7
    per_comune = rng.multinomial(count, weights / weights.sum())
    codes = [code for (code, _), n in zip(comuni, per_comune, strict=True) if n]
    counts = [int(n) for n in per_comune if n]
    conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    ids = conn.execute(text("""
        WITH points AS (
            SELECT c.istat_code, (ST_Dump(ST_GeneratePoints(c.geom, t.n, :seed))).geom AS geom
            FROM comuni c JOIN unnest(CAST(:codes AS text[]), CAST(:counts AS int[])) AS t(code, n)
              ON c.istat_code = t.code
        ), drawn AS (
            SELECT p.*, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
                   row_number() OVER (ORDER BY p.istat_code, ST_X(p.geom), ST_Y(p.geom)) AS n
            FROM points p
        )
        INSERT INTO sites (origin, kind, status, name, declared_comune_istat, geom, location_precision,
                           site_type, condition, land_area_m2, covered_area_m2, gross_floor_area_m2,
                           zoning, availability, price_eur, annual_rent_eur, available_from,
                           rail_siding, power_kw, fibre, sectors, attributes)
        SELECT 'candidacy', CASE WHEN r1 < 0.15 THEN 'B' ELSE 'A' END, :status,
               :name || ' ' || n, istat_code, geom, 'exact',
               (ARRAY['area_libera','area_dismessa','edificio','area_con_edifici'])[1 + floor(r2 * 4)::int],
               (ARRAY['disponibile','inattivo','dismesso','parzialmente_utilizzato'])[1 + floor(r3 * 4)::int],
               round((2000 + 150000 * r4 * r4)::numeric, 0),
               round(((2000 + 150000 * r4 * r4) * 0.4 * r5)::numeric, 0),
               round(((2000 + 150000 * r4 * r4) * 0.5 * r5)::numeric, 0),
               (ARRAY['produttivo','logistica','terziario_direzionale','commerciale','misto'])[1 + floor(r5 * 5)::int],
               (ARRAY['vendita','locazione','vendita_o_locazione'])[1 + floor(r3 * 3)::int],
               round(((2000 + 150000 * r4 * r4) * (60 + 200 * r2))::numeric, -3),
               round(((2000 + 150000 * r4 * r4) * (5 + 20 * r1))::numeric, -2),
               DATE '2026-01-01' + (floor(r5 * 900))::int,
               r1 < 0.12, round((100 + 8000 * r2 * r2)::numeric, 0), r3 < 0.6,
               CASE floor(r4 * 4)::int WHEN 0 THEN ARRAY['transport_logistics', 'agrifood']
                    WHEN 1 THEN ARRAY['mechanical_industry40', 'chemicals']
                    WHEN 2 THEN ARRAY['ict', 'life_sciences']
                    ELSE ARRAY['luxury_leather', 'professional_services'] END,
               '{"synthetic": true}'::jsonb
        FROM drawn
        RETURNING id
    """), {"seed": seed, "codes": codes, "counts": counts, "status": status, "name": SYNTHETIC_NAME}).scalars().all()
    # kind B carries its project fields; kind A must not (a CHECK constraint)
    conn.execute(text("""
        UPDATE sites SET planning_stage = 'pgt_vigente', project_floor_area_m2 = gross_floor_area_m2 * 1.5,
                         investment_eur = gross_floor_area_m2 * 1500
        WHERE id = ANY(:ids) AND kind = 'B'
    """), {"ids": ids})
    return list(ids)


def remove_synthetic(conn: Connection) -> int:
    return conn.execute(text("DELETE FROM sites WHERE attributes @> '{\"synthetic\": true}'")).rowcount


def main() -> None:
    from app.core.database import resolve_database_url

    parser = argparse.ArgumentParser(description="Add a synthetic catalogue")
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--replace", action="store_true", help="remove earlier synthetic sites first")
    args = parser.parse_args()
    engine = create_engine(args.database_url or resolve_database_url(), poolclass=pool.NullPool)
    with engine.begin() as conn:
        if args.replace:
            print(f"removed {remove_synthetic(conn)} synthetic sites")
        start = time.perf_counter()
        ids = generate_sites(conn, args.sites, args.seed)
        generated = time.perf_counter() - start
        enrich(conn, ids)
        print(f"{len(ids)} synthetic sites: generated in {generated:.1f} s, "
              f"enriched in {time.perf_counter() - start - generated:.1f} s")
    engine.dispose()


if __name__ == "__main__":
    main()
