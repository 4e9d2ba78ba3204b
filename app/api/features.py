"""OGC API - Features: landing page, conformance, collections, items, one item.

Sites are filtered by typed query parameters (what a map's filter panel sends) and by a
CQL2 text filter; every filter becomes a bound parameter, never SQL text.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import ColumnElement

from app.api.links import base_url, this_url
from app.api.responses import GEOJSON, OrjsonResponse, error_responses
from app.api.security import require_reader
from app.catalogue.collections import (
    CRS84,
    Collection,
    ItemsQuery,
    all_collections,
    extent,
    fetch_item,
    fetch_items,
    get_collection,
    parse_bbox,
    property_schema,
)
from app.catalogue.models import Site
from app.catalogue.temporal import datetime_condition
from app.core.database import ReadSessionDep
from app.core.errors import BadRequestError
from app.reference.models import Province
from ingest import vocabulary as v

router = APIRouter(tags=["features"], dependencies=[Depends(require_reader)],
                   responses=error_responses(400, 401, 404, 422, 503))
MAX_LIMIT = 1000
TENURE = {
    "buy": ("vendita", "vendita_o_locazione"),
    "lease": ("locazione", "vendita_o_locazione", "diritto_superficie"),
}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/queryables",
]


def _link(href: str, rel: str, media: str = "application/json", title: str | None = None) -> dict[str, str]:
    link = {"href": href, "rel": rel, "type": media}
    if title:
        link["title"] = title
    return link


@router.get("/", summary="Landing page")
def landing(request: Request) -> OrjsonResponse:
    base = base_url(request)
    return OrjsonResponse({
        "title": "Opportunity Lombardy site scouting",
        "description": "Land and buildings offered for investment in Lombardy, with reference layers.",
        "links": [
            _link(f"{base}/", "self"), _link(f"{base}/api", "service-desc", "application/vnd.oai.openapi+json;version=3.1"),
            _link(f"{base}/docs", "service-doc", "text/html"), _link(f"{base}/conformance", "conformance"),
            _link(f"{base}/conformance", "http://www.opengis.net/def/rel/ogc/1.0/conformance"),
            _link(f"{base}/collections", "data"),
            _link(f"{base}/tiles/sites.json", "tilesets-vector", title="Sites vector tiles (TileJSON)"),
        ],
    })


@router.get("/conformance", summary="Conformance classes")
def conformance() -> OrjsonResponse:
    return OrjsonResponse({"conformsTo": CONFORMANCE})


def _describe(request: Request, collection: Collection, box: list[float] | None = None) -> dict[str, Any]:
    base = f"{base_url(request)}/collections/{collection.id}"
    body: dict[str, Any] = {
        "id": collection.id, "title": collection.title, "description": collection.description,
        "itemType": "feature", "crs": [CRS84],
        "links": [_link(base, "self"), _link(f"{base}/items", "items", "application/geo+json"),
                  _link(f"{base}/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                        "application/schema+json"),
                  # the short relation name GDAL's OAPIF driver follows to learn what it may filter on
                  _link(f"{base}/queryables", "queryables", "application/schema+json"),
                  _link(f"{base}/schema", "describedby", "application/schema+json"),
                  _link(f"{base}/schema", "http://www.opengis.net/def/rel/ogc/1.0/schema",
                        "application/schema+json")],
    }
    if box:
        body["extent"] = {"spatial": {"bbox": [box], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}}
    return body


@router.get("/collections", summary="Sites and reference layers")
def collections(request: Request, session: ReadSessionDep) -> OrjsonResponse:
    conn = session.connection()
    items = [_describe(request, c) for c in all_collections(conn)]
    base = base_url(request)
    return OrjsonResponse({"collections": items, "links": [_link(f"{base}/collections", "self")]})


@router.get("/collections/{collectionId}", summary="One collection")
def collection(request: Request, session: ReadSessionDep, collection_id: CollectionId) -> OrjsonResponse:
    conn = session.connection()
    found = get_collection(conn, collection_id)
    return OrjsonResponse(_describe(request, found, extent(conn, found)))


@router.get("/collections/{collectionId}/queryables", summary="Properties a CQL2 filter may use")
def queryables(request: Request, session: ReadSessionDep, collection_id: CollectionId) -> Response:
    found = get_collection(session.connection(), collection_id)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base_url(request)}/collections/{collection_id}/queryables",
        "type": "object", "title": found.title,
        "properties": {
            "geometry": {"format": "geometry-any", "x-ogc-role": "primary-geometry"},
            **found.queryables,
        },
        "additionalProperties": False,
    }
    if "application/schema+json" not in request.headers.get("accept", ""):
        # the pre-Part 3 form, still what GDAL's OAPIF driver reads to decide which
        # attributes it may filter on server-side
        schema["queryables"] = [{"id": name, "type": prop.get("type", "string")}
                                for name, prop in schema["properties"].items() if name != "geometry"]
    return _schema_response(request, schema)


@router.get("/collections/{collectionId}/schema", summary="JSON Schema of the collection's features")
def schema(request: Request, session: ReadSessionDep, collection_id: CollectionId) -> Response:
    found = get_collection(session.connection(), collection_id)
    return _schema_response(request, property_schema(found))


def _schema_response(request: Request, body: dict[str, Any]) -> Response:
    """A JSON Schema as application/schema+json, or as plain application/json to a client
    that accepts only that (GDAL's OAPIF driver asks for geo+json or json and discards any
    other type)."""
    accept = request.headers.get("accept", "")
    plain = "application/json" in accept and "application/schema+json" not in accept
    return Response(orjson.dumps(body), media_type="application/json" if plain else "application/schema+json")


@dataclass
class SiteFilters:
    """Filters a map's filter panel sends; only applied to the sites collection."""

    kind: Literal["A", "B"] | None = None
    site_type: str | None = None
    province: str | None = None
    comune: str | None = None
    min_land_area_m2: float | None = None
    max_land_area_m2: float | None = None
    min_covered_area_m2: float | None = None
    max_covered_area_m2: float | None = None
    min_floor_area_m2: float | None = None
    max_floor_area_m2: float | None = None
    tenure: Literal["buy", "lease"] | None = None
    max_price_eur: float | None = None
    max_rent_eur: float | None = None
    zone: str | None = None
    sector: str | None = None
    max_motorway_km: float | None = None
    max_airport_km: float | None = None
    max_station_km: float | None = None
    rail_siding: bool | None = None
    fibre: bool | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.kind:
            out.append(Site.kind == self.kind)
        if self.site_type:
            types = _codes(self.site_type, v.SITE_TYPES, "site_type")
            out.append(Site.site_type.in_(types))
        if self.province:
            names = [p.strip().upper() for p in self.province.split(",") if p.strip()]
            out.append(Site.province_code.in_(
                Province.__table__.select().with_only_columns(Province.code)
                .where((Province.abbreviation.in_(names)) | (Province.code.in_(names))).scalar_subquery()
            ))
        if self.comune:
            out.append(Site.comune_istat.in_([c.strip().zfill(6) for c in self.comune.split(",")]))
        ranges = ((Site.land_area_m2, self.min_land_area_m2, self.max_land_area_m2),
                  (Site.covered_area_m2, self.min_covered_area_m2, self.max_covered_area_m2),
                  (Site.gross_floor_area_m2, self.min_floor_area_m2, self.max_floor_area_m2))
        for column, low, high in ranges:
            if low is not None:
                out.append(column >= low)
            if high is not None:
                out.append(column <= high)
        if self.tenure:
            out.append(Site.availability.in_(TENURE[self.tenure]))
        maxima = ((Site.price_eur, self.max_price_eur), (Site.annual_rent_eur, self.max_rent_eur),
                  (Site.dist_motorway_exit_km, self.max_motorway_km),
                  (Site.dist_airport_km, self.max_airport_km), (Site.dist_station_km, self.max_station_km))
        out += [column <= value for column, value in maxima if value is not None]
        if self.zone:
            out.append(Site.zones.contains([self.zone]))
        if self.sector:
            out.append(Site.sectors.contains(_codes(self.sector, v.SECTORS, "sector")))
        if self.rail_siding is not None:
            out.append(Site.rail_siding.is_(self.rail_siding))
        if self.fibre is not None:
            out.append(Site.fibre.is_(self.fibre))
        return out


def _codes(text: str, vocabulary: v.Vocabulary, name: str) -> list[str]:
    codes = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in codes if c not in vocabulary]
    if unknown:
        raise BadRequestError(
            f"Unknown {name} {', '.join(unknown)}; use one of {', '.join(vocabulary)}.",
            f"{name} sconosciuto {', '.join(unknown)}; usare uno tra {', '.join(vocabulary)}.",
        )
    return codes


# the names OGC API - Features' own OpenAPI uses (clients such as GDAL look the items path up by them)
CollectionId = Annotated[str, Path(alias="collectionId", description="collection id, e.g. sites")]
FeatureId = Annotated[str, Path(alias="featureId", description="feature id")]


ITEMS_PARAMETERS = frozenset({"bbox", "bbox-crs", "datetime", "limit", "offset", "sortby", "filter", "filter-lang",
                              "filter-crs", "f"})
SITE_PARAMETERS = frozenset(f.name for f in fields(SiteFilters))


def check_parameters(request: Request, allowed: frozenset[str]) -> None:
    """400 for a parameter the operation does not know (a typo must not return everything
    as if filtered) and for one given twice with different values."""
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise BadRequestError(
            f"Unknown query parameter(s): {', '.join(unknown)}. Known here: {', '.join(sorted(allowed))}.",
            f"Parametri sconosciuti: {', '.join(unknown)}. Ammessi qui: {', '.join(sorted(allowed))}.")
    repeated = sorted(k for k in set(request.query_params) if len(set(request.query_params.getlist(k))) > 1)
    if repeated:
        raise BadRequestError(f"Parameter(s) given twice with different values: {', '.join(repeated)}.",
                              f"Parametri ripetuti con valori diversi: {', '.join(repeated)}.")


@router.get("/collections/{collectionId}/items", summary="Features, filtered and paged", responses=GEOJSON)
def items(
    request: Request,
    session: ReadSessionDep,
    collection_id: CollectionId,
    filters: Annotated[SiteFilters, Depends()],
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (4 numbers, or 6 with heights)")] = None,
    bbox_crs: Annotated[str | None, Query(alias="bbox-crs", description="CRS of bbox (default CRS84)")] = None,
    datetime: Annotated[str | None, Query(description="an RFC 3339 date or interval (open end: ..) on the "
                                          "collection's temporal property (sites: available_from)")] = None,
    limit: Annotated[int, Query(ge=1, description=f"page size, capped at {MAX_LIMIT}")] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    sortby: Annotated[str | None, Query(description="e.g. -land_area_m2,price_eur")] = None,
    filter: Annotated[str | None, Query(description="CQL2 text, e.g. land_area_m2 > 30000")] = None,
    filter_lang: Annotated[Literal["cql2-text", "cql-text"], Query(
        alias="filter-lang", description="cql2-text; cql-text (its pre-standard name, which GDAL's OAPIF "
        "driver looks for and sends) is read the same way")] = "cql2-text",
    filter_crs: Annotated[str | None, Query(alias="filter-crs", description="CRS of geometries in filter")] = None,
    f: Annotated[Literal["json", "geojson"] | None, Query(description="output format (GeoJSON only)")] = None,
) -> Response:
    conn = session.connection()
    found = get_collection(conn, collection_id)
    check_parameters(request, ITEMS_PARAMETERS | (SITE_PARAMETERS if found.id == "sites" else frozenset()))
    limit = min(limit, MAX_LIMIT)
    conditions = filters.conditions() if found.id == "sites" else []
    if datetime is not None:
        conditions.append(_datetime(found, datetime))
    query = ItemsQuery(
        bbox=parse_bbox(bbox, bbox_crs), limit=limit, offset=offset,
        sortby=[s.strip() for s in (sortby or "").split(",") if s.strip()], cql2=filter, filter_crs=filter_crs,
        conditions=conditions,
    )
    matched, features = fetch_items(conn, found, query)
    returned = max(0, min(limit, matched - offset))
    links = [_link(this_url(request, limit=limit), "self", "application/geo+json"),
             _link(f"{base_url(request)}/collections/{found.id}", "collection")]
    if offset + limit < matched:
        links.append(_link(this_url(request, offset=offset + limit, limit=limit), "next", "application/geo+json"))
    if offset > 0:
        links.append(_link(this_url(request, offset=max(0, offset - limit), limit=limit), "prev",
                           "application/geo+json"))
    body = orjson.dumps({
        "type": "FeatureCollection", "numberMatched": matched, "numberReturned": returned,
        "features": orjson.Fragment(features), "links": links,
    })
    return Response(body, media_type="application/geo+json")


def _datetime(collection: Collection, text: str) -> ColumnElement[bool]:
    if collection.temporal is None:
        raise BadRequestError(f"Collection {collection.id} has no temporal property: datetime cannot filter it.",
                              f"La collezione {collection.id} non ha una proprietà temporale: datetime non la filtra.")
    return datetime_condition(collection.temporal, text)


@router.get("/collections/{collectionId}/items/{featureId}", summary="One feature", responses=GEOJSON)
def item(request: Request, session: ReadSessionDep, collection_id: CollectionId, fid: FeatureId) -> Response:
    conn = session.connection()
    found = get_collection(conn, collection_id)
    check_parameters(request, frozenset({"f"}))
    feature = orjson.loads(fetch_item(conn, found, fid))
    collection_url = f"{base_url(request)}/collections/{found.id}"
    feature["links"] = [_link(this_url(request), "self", "application/geo+json"),
                        _link(collection_url, "collection")]
    return Response(orjson.dumps(feature), media_type="application/geo+json")
