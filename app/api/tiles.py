"""Vector tiles of published sites and of the basemap, with ETags and cache lifetimes, and
the TileJSON document; the tiles themselves are made in ``app.catalogue.tiles``."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response

from app.api.links import base_url
from app.api.responses import OrjsonResponse, error_responses
from app.api.security import require_reader
from app.catalogue import tiles
from app.core.database import ReadSessionDep
from app.core.errors import NotFoundError

router = APIRouter(prefix="/tiles", tags=["tiles"], dependencies=[Depends(require_reader)],
                   responses=error_responses(401, 404, 422, 503))
MVT = "application/vnd.mapbox-vector-tile"
CACHE_CONTROL = "public, max-age=300"
BASE_CACHE_CONTROL = "public, max-age=3600"  # comuni and provinces change once a year


@dataclass(frozen=True)
class TileAddress:
    z: int
    x: int
    y: int


async def tile_address(z: Annotated[int, Path(ge=0, le=22)], x: Annotated[int, Path(ge=0)],
                       y: Annotated[int, Path(ge=0)]) -> TileAddress:
    """z/x/y of a Web Mercator tile; 404 for a tile outside the grid of its zoom. A
    function, not a class dependency: FastAPI runs a class in the thread pool."""
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise NotFoundError(f"Tile {z}/{x}/{y} does not exist.", f"La tile {z}/{x}/{y} non esiste.")
    return TileAddress(z, x, y)


TileDep = Annotated[TileAddress, Depends(tile_address)]
IfNoneMatch = Annotated[str | None, Header()]


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
def sites_tile(session: ReadSessionDep, tile: TileDep, if_none_match: IfNoneMatch = None) -> Response:
    data = tiles.sites_tile(session.connection(), tile.z, tile.x, tile.y)
    return _tile_response(data, if_none_match, CACHE_CONTROL)


@router.get("/base/{z}/{x}/{y}.pbf", summary="Basemap tile: provinces, comuni (ZLS, regional aid), labels",
            response_class=Response, responses={200: {"content": {MVT: {}}}, 204: {"description": "empty tile"}})
def base_tile(session: ReadSessionDep, tile: TileDep, if_none_match: IfNoneMatch = None) -> Response:
    """The map page's own basemap, so that it needs nothing from outside the service."""
    data = tiles.base_tile(session.connection(), tile.z, tile.x, tile.y)
    return _tile_response(data, if_none_match, BASE_CACHE_CONTROL)


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
        "bounds": tiles.BOUNDS,
        "center": [9.6, 45.6, 8],
        "vector_layers": [{
            "id": "sites", "fields": tiles.FIELDS, "minzoom": 0, "maxzoom": 22,
            "description": f"Published sites; clustered below zoom {tiles.CLUSTER_BELOW_ZOOM}.",
        }],
    })
