"""The catalogue as OGC API - Features collections: which tables, which public
properties, which filters. The HTTP layer (``app/api/features.py``) only translates
requests into :class:`ItemsQuery` and answers with what :func:`fetch_items` returns.

GeoJSON is assembled by PostgreSQL (``json_build_object``/``ST_AsGeoJSON``) and passed
through as a pre-serialised fragment: no Python object is built per feature.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pyproj import Transformer
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Select,
    Text,
    and_,
    bindparam,
    func,
    literal_column,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSON, aggregate_order_by
from sqlalchemy.exc import DataError, ProgrammingError

from app.catalogue import cql2
from app.catalogue.models import Site, SiteListing
from app.core.errors import BadRequestError, NotFoundError
from app.reference.models import Comune, Infrastructure, PolicyZone, Province

PUBLISHED = "published"
# Public properties of a site: no people, no file paths, no internal ids of candidacies.
SITE_PROPERTIES: dict[str, ColumnElement[Any]] = {
    "public_id": Site.public_id, "name": Site.name, "kind": Site.kind, "site_type": Site.site_type,
    "condition": Site.condition, "comune_istat": Site.comune_istat, "province_code": Site.province_code,
    "address": Site.address, "location_precision": Site.location_precision,
    "land_area_m2": Site.land_area_m2, "covered_area_m2": Site.covered_area_m2,
    "gross_floor_area_m2": Site.gross_floor_area_m2, "useful_height_m": Site.useful_height_m,
    "floors": Site.floors, "year_built": Site.year_built, "energy_class": Site.energy_class,
    "zoning": Site.zoning, "allowed_functions": Site.allowed_functions,
    "constraints": Site.constraints, "remediation": Site.remediation,
    "availability": Site.availability, "price_eur": Site.price_eur,
    "annual_rent_eur": Site.annual_rent_eur, "available_from": Site.available_from,
    "rail_siding": Site.rail_siding, "power_kw": Site.power_kw, "substation": Site.substation,
    "gas": Site.gas, "industrial_water": Site.industrial_water, "sewer": Site.sewer,
    "fibre": Site.fibre, "sectors": Site.sectors, "description_it": Site.description_it,
    "description_en": Site.description_en, "planning_stage": Site.planning_stage,
    "project_floor_area_m2": Site.project_floor_area_m2, "investment_eur": Site.investment_eur,
    "dist_airport_km": Site.dist_airport_km, "dist_station_km": Site.dist_station_km,
    "dist_motorway_exit_km": Site.dist_motorway_exit_km, "nearest": Site.nearest,
    "zones": Site.zones, "pop_10km": Site.pop_10km, "pop_20km": Site.pop_20km,
    "pop_30km": Site.pop_30km, "completeness": Site.completeness,
    "last_confirmed_at": Site.last_confirmed_at,
}
SORTABLE_SITE = (
    "name", "land_area_m2", "covered_area_m2", "gross_floor_area_m2", "price_eur", "annual_rent_eur",
    "dist_airport_km", "dist_station_km", "dist_motorway_exit_km", "completeness", "pop_30km",
    "available_from", "last_confirmed_at",
)
@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    table: Any  # mapped class
    geometry: ColumnElement[Any]
    fid: ColumnElement[Any]
    properties: dict[str, ColumnElement[Any]]
    where: Callable[[], ColumnElement[bool]] = true
    sortable: tuple[str, ...] = ()
    precision: int = 6
    # heavy properties left out of item lists (they stay in /items/{id})
    detail_only: frozenset[str] = frozenset()
    # the listed features kept as text (app.catalogue.listings), else built per page
    listing: Any = None
    # the property Part 1's datetime parameter filters on (app.catalogue.temporal)
    temporal: Any = None

    @property
    def queryables(self) -> dict[str, dict[str, Any]]:
        """Every returned property a CQL2 filter may compare, with its JSON Schema type:
        the scalar ones (lists and objects may only be tested with IS [NOT] NULL)."""
        return {name: schema for name, column in self.properties.items()
                if (schema := _json_type(column)).get("type") not in (None, "array", "object")}

    @property
    def null_only(self) -> dict[str, ColumnElement[Any]]:
        """Returned properties that are lists or objects: IS [NOT] NULL is all they take."""
        return {name: column for name, column in self.properties.items() if name not in self.queryables}


def site_collection() -> Collection:
    return Collection(
        "sites", "Sites", "Published land and buildings of the Opportunity Lombardy catalogue. "
        "The datetime parameter filters on available_from, the day a site becomes available.",
        Site, Site.geom, Site.id, SITE_PROPERTIES, lambda: Site.status == PUBLISHED,
        SORTABLE_SITE, detail_only=frozenset({"nearest"}), listing=SiteListing, temporal=Site.available_from,
    )


def reference_collections(conn: Connection) -> list[Collection]:
    """Admin units, then one collection per infrastructure layer type and zone type."""
    collections = [
        Collection("comuni", "Comuni", "Lombardy municipalities with ISTAT population.", Comune,
                   Comune.geom, Comune.istat_code,
                   {"name": Comune.name, "istat_code": Comune.istat_code,
                    "province_code": Comune.province_code, "population": Comune.population,
                    "population_year": Comune.population_year},
                   sortable=("name", "population"), precision=5),
        Collection("provinces", "Provinces", "The 12 provinces of Lombardy.", Province, Province.geom,
                   Province.code, {"name": Province.name, "code": Province.code,
                                   "abbreviation": Province.abbreviation}, sortable=("name",),
                   precision=5),
    ]
    for layer in conn.execute(select(Infrastructure.layer_type).distinct().order_by(Infrastructure.layer_type)).scalars():
        collections.append(Collection(
            f"infrastructure.{layer}", layer.replace("_", " ").capitalize(),
            f"Infrastructure layer '{layer}'.", Infrastructure, Infrastructure.geom, Infrastructure.id,
            {"name": Infrastructure.name, "code": Infrastructure.code, "layer_type": Infrastructure.layer_type,
             "source": Infrastructure.source, "properties": Infrastructure.properties},
            lambda layer=layer: Infrastructure.layer_type == layer, ("name",),
        ))
    for zone in conn.execute(select(PolicyZone.zone_type).distinct().order_by(PolicyZone.zone_type)).scalars():
        collections.append(Collection(
            f"zones.{zone}", zone.upper() if len(zone) <= 3 else zone.replace("_", " ").capitalize(),
            f"Policy zone '{zone}': the comuni (or polygons) it covers.", PolicyZone,
            func.coalesce(PolicyZone.geom, select(Comune.geom).where(Comune.istat_code == PolicyZone.comune_istat).scalar_subquery()),
            PolicyZone.id,
            {"zone_type": PolicyZone.zone_type, "name": PolicyZone.name, "comune_istat": PolicyZone.comune_istat,
             "note": PolicyZone.note},
            lambda zone=zone: PolicyZone.zone_type == zone, ("comune_istat",), precision=5,
        ))
    return collections


def all_collections(conn: Connection) -> list[Collection]:
    return [site_collection(), *reference_collections(conn)]


def get_collection(conn: Connection, collection_id: str) -> Collection:
    if collection_id == "sites":
        return site_collection()
    for collection in reference_collections(conn):
        if collection.id == collection_id:
            return collection
    raise NotFoundError(f"No collection '{collection_id}'. See /collections.",
                        f"Nessuna collezione '{collection_id}'. Vedere /collections.")


# -- queries ----------------------------------------------------------------------------------


@dataclass
class ItemsQuery:
    bbox: tuple[float, float, float, float] | None = None
    limit: int = 100
    offset: int = 0
    sortby: list[str] = field(default_factory=list)
    cql2: str | None = None
    filter_crs: str | None = None
    conditions: list[ColumnElement[bool]] = field(default_factory=list)


CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# CRSs a bbox or a CQL2 filter may be given in: (SRID, latitude first?)
SUPPORTED_CRS = {
    CRS84: (4326, False),
    "http://www.opengis.net/def/crs/EPSG/0/4326": (4326, True),  # EPSG:4326 is latitude, longitude
    "http://www.opengis.net/def/crs/EPSG/0/3857": (3857, False),
}
_TO_CRS84 = {3857: Transformer.from_crs(3857, 4326, always_xy=True)}


def crs_of(uri: str | None, parameter: str) -> tuple[int, bool]:
    """(SRID, latitude first) of a CRS URI a request names; 400 for one not supported."""
    if uri is None:
        return SUPPORTED_CRS[CRS84]
    found = SUPPORTED_CRS.get(uri.strip()) or SUPPORTED_CRS.get(
        {"EPSG:4326": "http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:3857": "http://www.opengis.net/def/crs/EPSG/0/3857",
         "CRS84": CRS84, "OGC:CRS84": CRS84}.get(uri.strip().upper(), ""))
    if found is None:
        raise BadRequestError(
            f"{parameter} {uri} is not supported; use one of {', '.join(SUPPORTED_CRS)}.",
            f"{parameter} {uri} non è supportato; usare uno tra {', '.join(SUPPORTED_CRS)}.",
        )
    return found


def parse_bbox(text: str | None, crs: str | None = None) -> tuple[float, float, float, float] | None:
    """minLon,minLat,maxLon,maxLat in CRS84 from a bbox of 4 numbers (or 6, with heights)
    in ``crs`` (``bbox-crs``)."""
    if not text:
        return None
    srid, lat_first = crs_of(crs, "bbox-crs")
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if lat_first and len(values) == 4:
        values = [values[1], values[0], values[3], values[2]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values) or not (
            values[0] <= values[2] and values[1] <= values[3]):
        raise BadRequestError(
            "bbox must be minLon,minLat,maxLon,maxLat (4 numbers, or 6 with heights), e.g. 9.0,45.3,9.4,45.6.",
            "bbox deve essere minLon,minLat,maxLon,maxLat (4 numeri, o 6 con le quote), es. 9.0,45.3,9.4,45.6.",
        )
    if srid != 4326:
        (x0, x1), (y0, y1) = _TO_CRS84[srid].transform([values[0], values[2]], [values[1], values[3]])
        values = [x0, y0, x1, y1]
    return values[0], values[1], values[2], values[3]


def property_schema(collection: Collection) -> dict[str, Any]:
    """JSON Schema of a collection's features, with numbers, integers, booleans and dates
    typed as they are (clients such as GDAL type their fields from it)."""
    properties: dict[str, Any] = {}
    for name, column in collection.properties.items():
        properties[name] = _json_type(column)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
            "title": collection.title,
            "properties": {"type": {"const": "Feature"}, "id": _json_type(collection.fid),
                           "geometry": {"format": "geometry-any"},
                           "properties": {"type": "object", "properties": properties}}}


def _json_type(column: ColumnElement[Any]) -> dict[str, Any]:
    if isinstance(column.type, JSON):  # JSONB too; its python_type says nothing
        return {"type": "object"}
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return {}
    if python_type is bool:
        return {"type": "boolean"}
    if python_type is int:
        return {"type": "integer"}
    if python_type in (float, Decimal):
        return {"type": "number"}
    if python_type is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if python_type is dt.date:
        return {"type": "string", "format": "date"}
    if python_type is list:
        return {"type": "array", "items": {"type": "string"}}
    if python_type is dict:
        return {"type": "object"}
    return {"type": "string", "format": "uuid"} if python_type is uuid.UUID else {"type": "string"}


def cql2_condition(collection: Collection, text: str, crs: str | None = None) -> ColumnElement[bool]:
    """A CQL2 text filter over the collection's queryables (and its geometry), with
    geometry literals in ``crs`` (``filter-crs``)."""
    mapping = {name: collection.properties[name] for name in collection.queryables}
    mapping["geometry"] = collection.geometry
    srid, lat_first = crs_of(crs, "filter-crs")
    return cql2.condition(text, mapping, f"/collections/{collection.id}/queryables", srid, lat_first,
                          collection.null_only)


def _sort_keys(collection: Collection, sortby: list[str]) -> list[tuple[ColumnElement[Any], bool]]:
    """(column, descending) for each sortby item, refused when not sortable."""
    keys = []
    for item in sortby:
        name = item.lstrip("+-")
        if name not in collection.sortable:
            raise BadRequestError(
                f"Cannot sort by '{name}'; sortable: {', '.join(collection.sortable) or 'none'}.",
                f"Impossibile ordinare per '{name}'; ordinabili: {', '.join(collection.sortable) or 'nessuno'}.",
            )
        keys.append((collection.properties[name], item.startswith("-")))
    return keys


def _conditions(collection: Collection, query: ItemsQuery) -> ColumnElement[bool]:
    conditions = [collection.where(), *query.conditions]
    if query.bbox:
        envelope = func.ST_MakeEnvelope(*(bindparam(k, type_=Float) for k in ("x0", "y0", "x1", "y1")), 4326)
        conditions.append(collection.geometry.op("&&")(envelope))
    if query.cql2:
        conditions.append(cql2_condition(collection, query.cql2, query.filter_crs))
    return and_(*conditions)


def feature_json(collection: Collection, listing: bool = False) -> ColumnElement[Any]:
    args: list[Any] = []
    for name, column in collection.properties.items():
        if listing and name in collection.detail_only:
            continue
        args += [literal_column(f"'{name}'"), column]
    return func.json_build_object(
        literal_column("'type'"), literal_column("'Feature'"),
        literal_column("'id'"), collection.fid,
        literal_column("'geometry'"), func.ST_AsGeoJSON(collection.geometry, collection.precision).cast(JSON),
        literal_column("'properties'"), func.json_build_object(*args),
    )


def fetch_items(conn: Connection, collection: Collection, query: ItemsQuery) -> tuple[int, str]:
    """(numberMatched, JSON array text of the page's features), in one round trip.

    The rows in the filter are found once (a materialised CTE: one bitmap scan of the
    spatial index) and serve both the count and the page: counting and paging each on
    their own read the box twice, 27 ms instead of 12 for 13,000 sites around Milan.
    JSON is built for the page's rows only. A page with no filter, sort or CQL2 beyond a
    bbox (what a map and GDAL ask) reuses its statement with the numbers as parameters:
    composing and caching-keying it anew took a worker 0.6 ms a request. Only those are
    kept, two per collection: sort orders a caller chooses would make the cache grow."""
    params: dict[str, Any] = {"limit": query.limit, "offset": query.offset}
    if query.bbox:
        params.update(zip(("x0", "y0", "x1", "y1"), query.bbox, strict=True))
    if query.conditions or query.cql2 or query.sortby:
        statement = _items_statement(collection, query)
    else:
        key = (collection.id, query.bbox is not None)
        statement = _STATEMENTS.get(key)
        if statement is None:
            statement = _STATEMENTS[key] = _items_statement(collection, query)
    try:
        row = conn.execute(statement, params).one()
    except (ProgrammingError, DataError) as exc:
        if not query.cql2:
            raise
        # the checks above know every combination this service was shown; a new one the
        # database refuses is the caller's filter, not a server error
        raise BadRequestError(
            "The CQL2 filter compares values the database cannot compare; check each property's type at "
            f"/collections/{collection.id}/queryables.",
            "Il filtro CQL2 confronta valori che il database non può confrontare; verificare il tipo di ogni "
            f"proprietà in /collections/{collection.id}/queryables.") from exc
    return row.matched, row.features


_STATEMENTS: dict[tuple[str, bool], Select[Any]] = {}


def _items_statement(collection: Collection, query: ItemsQuery) -> Select[Any]:
    keys = _sort_keys(collection, query.sortby)
    matches = (select(collection.fid.label("fid"), *(column.label(f"k{i}") for i, (column, _) in enumerate(keys)))
               .select_from(collection.table).where(_conditions(collection, query))
               .cte("matches").prefix_with("MATERIALIZED"))
    order = [(matches.c[f"k{i}"].desc() if descending else matches.c[f"k{i}"].asc()).nulls_last()
             for i, (_, descending) in enumerate(keys)] + [matches.c.fid.asc()]
    page_keys = (select(matches.c.fid, func.row_number().over(order_by=order).label("n"))
                 .order_by(*order).limit(bindparam("limit")).offset(bindparam("offset")).subquery())
    matched = select(func.count()).select_from(matches).scalar_subquery()
    if collection.listing is not None:
        page = (select(collection.listing.feature, page_keys.c.n)
                .join(page_keys, collection.listing.id == page_keys.c.fid).subquery())
        joined = func.string_agg(page.c.feature, aggregate_order_by(literal_column("','"), page.c.n))
        features = select(func.concat("[", joined, "]")).scalar_subquery()
        return select(matched.label("matched"), features.label("features"))
    page = (select(feature_json(collection, listing=True).label("feature"), page_keys.c.n)
            .select_from(collection.table).join(page_keys, collection.fid == page_keys.c.fid).subquery())
    features = select(
        func.coalesce(func.json_agg(aggregate_order_by(page.c.feature, page.c.n)).cast(Text), "[]")
    ).scalar_subquery()
    return select(matched.label("matched"), features.label("features"))


def fetch_item(conn: Connection, collection: Collection, fid: str) -> str:
    key: Any = fid
    if collection.fid.type.python_type is int:
        key = int(fid) if fid.isascii() and fid.isdigit() and len(fid) < 19 else None
    row = None
    if key is not None:
        row = conn.execute(
            select(feature_json(collection).cast(Text)).select_from(collection.table)
            .where(collection.where(), collection.fid == key)
        ).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"No feature '{fid}' in collection '{collection.id}'.",
                            f"Nessun elemento '{fid}' nella collezione '{collection.id}'.")
    return row


def extent(conn: Connection, collection: Collection) -> list[float] | None:
    box = conn.execute(
        select(func.ST_XMin(func.ST_Extent(collection.geometry)), func.ST_YMin(func.ST_Extent(collection.geometry)),
               func.ST_XMax(func.ST_Extent(collection.geometry)), func.ST_YMax(func.ST_Extent(collection.geometry)))
        .select_from(collection.table).where(collection.where())
    ).one()
    return [round(v, 6) for v in box] if box[0] is not None else None
