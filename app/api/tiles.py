"""Vector tiles of published sites (ST_AsMVT) and their TileJSON document.

Sites carry a stored Web Mercator copy of their point with its own GiST index, so a
detail tile is one index scan and no per-row transform. Below ``CLUSTER_BELOW_ZOOM``
points are aggregated on a grid of 64 x 64 cells per tile (``count`` and ``cluster``
properties), precomputed in the ``site_clusters`` view: a zoom-8 tile over Milano would
otherwise hold tens of thousands of points. Tiles get a strong ETag and a short public
cache lifetime.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response
from sqlalchemy import TextClause, text

from app.api.links import base_url
from app.api.responses import OrjsonResponse, error_responses
from app.api.security import require_reader
from app.database import SessionDep
from app.errors import NotFoundError

router = APIRouter(prefix="/tiles", tags=["tiles"], dependencies=[Depends(require_reader)],
                   responses=error_responses(401, 404, 422, 503))
MVT = "application/vnd.mapbox-vector-tile"
EXTENT, BUFFER = 4096, 64
CLUSTER_BELOW_ZOOM = 12  # zooms 0-11 come from the site_clusters view (migration 0003)
GRID_CELLS = 64
CACHE_CONTROL = "public, max-age=300"
BASE_CACHE_CONTROL = "public, max-age=3600"  # comuni and provinces change once a year
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
# membership) simplified to about a pixel, and label points. Comuni appear from zoom 7.
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
    )
    SELECT (SELECT ST_AsMVT(t, 'provinces', {EXTENT}, 'geom') FROM province_shapes t)
        || (SELECT ST_AsMVT(t, 'comuni', {EXTENT}, 'geom') FROM comune_shapes t)
        || (SELECT ST_AsMVT(t, 'labels', {EXTENT}, 'geom') FROM label_points t WHERE geom IS NOT NULL)
""")


@dataclass
class TileAddress:
    """z/x/y of a Web Mercator tile; 404 for a tile outside the grid of its zoom."""

    z: Annotated[int, Path(ge=0, le=22)]
    x: Annotated[int, Path(ge=0)]
    y: Annotated[int, Path(ge=0)]

    def __post_init__(self) -> None:
        if not (0 <= self.x < 2**self.z and 0 <= self.y < 2**self.z):
            raise NotFoundError(f"Tile {self.z}/{self.x}/{self.y} does not exist.",
                                f"La tile {self.z}/{self.x}/{self.y} non esiste.")


TileDep = Annotated[TileAddress, Depends()]
IfNoneMatch = Annotated[str | None, Header()]


def _render(session: SessionDep, statement: TextClause, tile: TileAddress) -> bytes:
    data = session.execute(statement, {"z": tile.z, "x": tile.x, "y": tile.y}).scalar_one()
    return bytes(data or b"")


def _tile_response(data: bytes, if_none_match: str | None, cache_control: str) -> Response:
    headers = {"Cache-Control": cache_control}
    if not data:
        return Response(status_code=204, headers=headers)
    etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
    headers["ETag"] = etag
    if if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/sites/{z}/{x}/{y}.pbf", summary="A vector tile of published sites",
            response_class=Response, responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}})
def sites_tile(session: SessionDep, tile: TileDep, if_none_match: IfNoneMatch = None) -> Response:
    statement = CLUSTER_SQL if tile.z < CLUSTER_BELOW_ZOOM else DETAIL_SQL
    return _tile_response(_render(session, statement, tile), if_none_match, CACHE_CONTROL)


@router.get("/base/{z}/{x}/{y}.pbf", summary="Basemap tile: provinces, comuni (ZLS, regional aid), labels",
            response_class=Response, responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}})
def base_tile(session: SessionDep, tile: TileDep, if_none_match: IfNoneMatch = None) -> Response:
    """The map page's own basemap, so that it needs nothing from outside the service."""
    return _tile_response(_render(session, BASE_SQL, tile), if_none_match, BASE_CACHE_CONTROL)


@router.get("/sites.json", summary="TileJSON for the sites tiles")
def tilejson(request: Request) -> OrjsonResponse:
    base = base_url(request)
    return OrjsonResponse({
        "tilejson": "3.0.0",
        "name": "Opportunity Lombardy sites",
        "attribution": "Opportunity Lombardy; ISTAT comuni (CC-BY)",
        "tiles": [f"{base}/tiles/sites/{{z}}/{{x}}/{{y}}.pbf"],
        "minzoom": 0,
        "maxzoom": 22,
        "bounds": BOUNDS,
        "center": [9.6, 45.6, 8],
        "vector_layers": [{
            "id": "sites", "fields": FIELDS, "minzoom": 0, "maxzoom": 22,
            "description": f"Published sites; clustered below zoom {CLUSTER_BELOW_ZOOM}.",
        }],
    })
