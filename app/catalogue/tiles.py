"""Vector tiles of published sites (ST_AsMVT), and the map page's basemap tiles.

Sites carry a stored Web Mercator copy of their point with its own GiST index, so a
detail tile is one index scan and no per-row transform. Below ``CLUSTER_BELOW_ZOOM``
points are aggregated on a grid of 64 x 64 cells per tile (``count`` and ``cluster``
properties), precomputed in the ``site_clusters`` view: a zoom-8 tile over Milano would
otherwise hold tens of thousands of points.
"""

from __future__ import annotations

from sqlalchemy import Connection, TextClause, text

EXTENT, BUFFER = 4096, 64
CLUSTER_BELOW_ZOOM = 12  # zooms 0-11 come from the site_clusters view (migration 0003)
GRID_CELLS = 64
# Lombardy with a margin, for TileJSON bounds and centre
BOUNDS = [8.45, 44.65, 11.45, 46.65]
FIELDS = {
    "id": "Number", "public_id": "String", "name": "String", "kind": "String (A area/building, B project)",
    "site_type": "String", "condition": "String", "availability": "String", "land_area_m2": "Number",
    "gross_floor_area_m2": "Number", "price_eur": "Number", "annual_rent_eur": "Number",
    "cluster": "Boolean (low zooms)", "count": "Number (sites in the cluster)",
}

DETAIL_SQL = text(f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env)
    SELECT ST_AsMVT(t, 'sites', {EXTENT}, 'geom', 'id') FROM (
        SELECT s.id, ST_AsMVTGeom(s.geom_3857, bounds.env, {EXTENT}, {BUFFER}, true) AS geom,
               s.public_id::text AS public_id, s.name, s.kind, s.site_type, s.condition,
               s.availability, s.land_area_m2, s.gross_floor_area_m2,
               s.price_eur::float AS price_eur, s.annual_rent_eur::float AS annual_rent_eur
        FROM sites s, bounds
        WHERE s.status = 'published' AND s.geom_3857 && bounds.env
    ) t
""")

CLUSTER_SQL = text(f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env)
    SELECT ST_AsMVT(t, 'sites', {EXTENT}, 'geom', 'id') FROM (
        SELECT c.id, ST_AsMVTGeom(c.geom, bounds.env, {EXTENT}, {BUFFER}, true) AS geom,
               c.count, true AS cluster, c.count_a, c.count_b
        FROM site_clusters c, bounds
        WHERE c.z = :z AND c.cx BETWEEN :x * {GRID_CELLS} AND :x * {GRID_CELLS} + {GRID_CELLS - 1}
          AND c.cy BETWEEN :y * {GRID_CELLS} AND :y * {GRID_CELLS} + {GRID_CELLS - 1}
    ) t
""")


# The basemap of the map page: provinces and comuni (with their ZLS / regional-aid
# membership) simplified to about a pixel, motorways and railways (from zoom 6), motorway
# exits (from zoom 9) and label points. Comuni appear from zoom 7.
BASE_SQL = text(f"""
    WITH bounds AS (SELECT ST_TileEnvelope(:z, :x, :y) AS env,
                           40075016.69 / (2 ^ :z) / {EXTENT} AS pixel),
    province_shapes AS (
        SELECT ST_AsMVTGeom(ST_SimplifyPreserveTopology(p.geom_3857, b.pixel), b.env, {EXTENT}, {BUFFER}, true) AS geom,
               p.name, p.abbreviation
        FROM provinces p, bounds b WHERE p.geom_3857 && b.env
    ),
    comune_shapes AS (
        SELECT ST_AsMVTGeom(ST_SimplifyPreserveTopology(c.geom_3857, b.pixel), b.env, {EXTENT}, {BUFFER}, true) AS geom,
               c.name, c.istat_code,
               EXISTS (SELECT 1 FROM policy_zones z WHERE z.comune_istat = c.istat_code AND z.zone_type = 'zls') AS zls,
               EXISTS (SELECT 1 FROM policy_zones z WHERE z.comune_istat = c.istat_code
                       AND z.zone_type = 'regional_aid') AS regional_aid
        FROM comuni c, bounds b WHERE :z >= 7 AND c.geom_3857 && b.env
    ),
    label_points AS (
        SELECT ST_AsMVTGeom(ST_Transform(c.centroid, 3857), b.env, {EXTENT}, 0, true) AS geom, c.name,
               'comune' AS level, c.population
        FROM comuni c, bounds b WHERE :z >= 9 AND c.geom_3857 && b.env
        UNION ALL
        SELECT ST_AsMVTGeom(ST_PointOnSurface(p.geom_3857), b.env, {EXTENT}, 0, true), p.name, 'province', NULL
        FROM provinces p, bounds b WHERE :z < 10 AND p.geom_3857 && b.env
    ),
    transport_lines AS (
        SELECT ST_AsMVTGeom(ST_Simplify(ST_Transform(i.geom, 3857), b.pixel), b.env, {EXTENT}, {BUFFER}, true) AS geom,
               i.layer_type AS kind
        FROM infrastructure i, bounds b
        WHERE i.layer_type IN ('motorway', 'railway_line') AND :z >= 6
          AND i.geom && ST_Transform(b.env, 4326)
    ),
    exit_points AS (
        SELECT ST_AsMVTGeom(ST_Transform(i.geom, 3857), b.env, {EXTENT}, 0, true) AS geom, i.name
        FROM infrastructure i, bounds b
        WHERE i.layer_type = 'motorway_exit' AND :z >= 9 AND i.geom && ST_Transform(b.env, 4326)
    )
    SELECT (SELECT ST_AsMVT(t, 'provinces', {EXTENT}, 'geom') FROM province_shapes t)
        || (SELECT ST_AsMVT(t, 'comuni', {EXTENT}, 'geom') FROM comune_shapes t)
        || (SELECT ST_AsMVT(t, 'transport', {EXTENT}, 'geom') FROM transport_lines t WHERE geom IS NOT NULL)
        || (SELECT ST_AsMVT(t, 'exits', {EXTENT}, 'geom') FROM exit_points t WHERE geom IS NOT NULL)
        || (SELECT ST_AsMVT(t, 'labels', {EXTENT}, 'geom') FROM label_points t WHERE geom IS NOT NULL)
""")


def _render(conn: Connection, statement: TextClause, z: int, x: int, y: int) -> bytes:
    return bytes(conn.execute(statement, {"z": z, "x": x, "y": y}).scalar_one() or b"")


def sites_tile(conn: Connection, z: int, x: int, y: int) -> bytes:
    """Single sites from ``CLUSTER_BELOW_ZOOM``, precomputed clusters below; b"" when empty."""
    return _render(conn, CLUSTER_SQL if z < CLUSTER_BELOW_ZOOM else DETAIL_SQL, z, x, y)


def base_tile(conn: Connection, z: int, x: int, y: int) -> bytes:
    """Provinces, comuni (with ZLS and regional-aid membership), motorways, railways, exits, labels."""
    return _render(conn, BASE_SQL, z, x, y)
