"""What the catalogue computes about every site, in SQL where PostGIS does it best.

* comune and province by point in polygon;
* for each infrastructure layer type, the nearest feature and its straight-line
  distance in km on the WGS84 ellipsoid: candidates by KNN on the geography GiST index
  (a sphere), the nearest of them chosen and measured on the ellipsoid;
* policy zones the site is in (zones defined by comune or by polygon);
* workforce catchment: people living within 10, 20 and 30 km, summing the ISTAT
  population of every comune whose representative point (ST_PointOnSurface) lies
  within that distance. A comune counts whole or not at all: at 10 km this
  over- or under-counts border comuni, at 20-30 km the error is a few per cent;
* a data-completeness score in [0, 1] (the reliability index of Mutafriches).

Run for new or changed sites (``enrich(conn, [ids])``) and for all sites when a
reference layer changes (``opportunity enrich``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

# Distance columns kept typed because the API filters and matching use them.
DISTANCE_COLUMNS = {
    "airport": "dist_airport_km",
    "railway_station": "dist_station_km",
    "motorway_exit": "dist_motorway_exit_km",
}
CATCHMENT_KM = (10, 20, 30)
# The geography index orders by distance on a sphere; the nearest feature is then chosen
# on the ellipsoid (WGS84) among this many sphere-nearest candidates. The two distances
# differ by under 0.5%, so the ellipsoid's nearest is always among the first few.
KNN_CANDIDATES = 10
# only candidates this close to the sphere's best are measured on the ellipsoid (the
# ellipsoid is expensive against long lines, and the two never differ by more than this)
SPHERE_ELLIPSOID_GAP = 0.006


@dataclass(frozen=True)
class CompletenessItem:
    key: str
    predicate: str  # SQL over sites, true when the information is there
    weight: float
    label_en: str
    label_it: str


COMPLETENESS: tuple[CompletenessItem, ...] = (
    CompletenessItem("land_area", "land_area_m2 IS NOT NULL", 2, "land area", "superficie territoriale"),
    CompletenessItem("floor_area", "(gross_floor_area_m2 IS NOT NULL OR site_type = 'area_libera')", 1,
                     "floor area", "SLP"),
    CompletenessItem("price", "(price_eur IS NOT NULL OR annual_rent_eur IS NOT NULL)", 2,
                     "price or rent", "prezzo o canone"),
    CompletenessItem("availability", "availability IS NOT NULL", 1, "sale or lease", "modalità di disponibilità"),
    CompletenessItem("available_from", "available_from IS NOT NULL", 1, "availability date", "data di disponibilità"),
    CompletenessItem("zoning", "zoning IS NOT NULL", 1, "zoning", "destinazione urbanistica"),
    CompletenessItem("power", "power_kw IS NOT NULL", 1, "electrical power", "potenza elettrica"),
    CompletenessItem("fibre", "fibre IS NOT NULL", 1, "fibre", "fibra ottica"),
    CompletenessItem("rail", "rail_siding IS NOT NULL", 0.5, "rail siding", "raccordo ferroviario"),
    CompletenessItem("utilities", "(gas IS NOT NULL AND sewer IS NOT NULL)", 0.5, "gas and sewer",
                     "gas e fognatura"),
    CompletenessItem("remediation", "(remediation IS NOT NULL OR site_type = 'area_libera')", 1,
                     "remediation status", "stato bonifica"),
    CompletenessItem("building", "(site_type IN ('area_libera', 'area_dismessa') OR "
                     "(year_built IS NOT NULL AND useful_height_m IS NOT NULL))", 1,
                     "building age and height", "anno e altezza dell'edificio"),
    CompletenessItem("perimeter", "perimeter IS NOT NULL", 1, "perimeter", "perimetro"),
    CompletenessItem("location", "location_precision = 'exact'", 1, "exact location", "posizione esatta"),
    CompletenessItem("sectors", "cardinality(sectors) > 0", 1, "suitable sectors", "settori idonei"),
    CompletenessItem("description", "(description_it IS NOT NULL AND description_en IS NOT NULL)", 1,
                     "description in Italian and English", "descrizione in italiano e inglese"),
)


def completeness_sql() -> str:
    total = sum(item.weight for item in COMPLETENESS)
    terms = " + ".join(f"(CASE WHEN {item.predicate} THEN {item.weight} ELSE 0 END)" for item in COMPLETENESS)
    return f"round((({terms}) / {total})::numeric, 3)::float"


def _scope(site_ids: list[int] | None, alias: str = "s") -> tuple[str, dict]:
    if site_ids is None:
        return "TRUE", {}
    return f"{alias}.id = ANY(:ids)", {"ids": list(site_ids)}


def enrich(conn: Connection, site_ids: list[int] | None = None) -> int:
    """Recompute every computed column for ``site_ids`` (all sites when None).

    One UPDATE writes each row once: enriching is a bulk rewrite of the sites table, and
    every extra pass would leave another dead version of every row behind."""
    where, params = _scope(site_ids, "s0")
    distance_sets = ", ".join(
        f"{column} = (x.nearest -> '{layer}' ->> 'km')::float" for layer, column in DISTANCE_COLUMNS.items()
    )
    population_sets = ", ".join(f"pop_{km}km = x.pop_{km}" for km in CATCHMENT_KM)
    sums = ", ".join(
        f"COALESCE(sum(c.population) FILTER (WHERE ST_DWithin(c.centroid::geography, s0.geom::geography, {km * 1000})), 0)"
        f" AS pop_{km}"
        for km in CATCHMENT_KM
    )
    conn.execute(text(f"""
        UPDATE sites s SET
            comune_istat = x.istat_code, province_code = x.province_code,
            nearest = x.nearest, {distance_sets}, {population_sets}, zones = x.zones,
            completeness = {completeness_sql()}, enriched_at = now()
        FROM (
            SELECT s0.id, c.istat_code, c.province_code, COALESCE(n.nearest, '{{}}'::jsonb) AS nearest,
                   p.pop_10, p.pop_20, p.pop_30,
                   COALESCE((
                       SELECT array_agg(DISTINCT z.zone_type ORDER BY z.zone_type) FROM policy_zones z
                       WHERE z.comune_istat = c.istat_code OR (z.geom IS NOT NULL AND ST_Covers(z.geom, s0.geom))
                   ), '{{}}') AS zones
            FROM sites s0
            LEFT JOIN LATERAL (
                SELECT istat_code, province_code FROM comuni WHERE ST_Covers(comuni.geom, s0.geom) LIMIT 1
            ) c ON TRUE
            LEFT JOIN LATERAL (
                SELECT jsonb_object_agg(t.layer_type, jsonb_build_object(
                           'id', k.id, 'name', k.name, 'code', k.code,
                           'km', round((ST_Distance(s0.geom::geography, k.geom::geography, true) / 1000)::numeric, 3),
                           'method', 'straight_line')) AS nearest
                FROM (SELECT DISTINCT layer_type FROM infrastructure) t
                CROSS JOIN LATERAL (
                    SELECT c.id, c.name, c.code, c.geom FROM (
                        SELECT i.id, i.name, i.code, i.geom, min(i.d) OVER () AS best, i.d FROM (
                            SELECT i.id, i.name, i.code, i.geom, i.geom::geography <-> s0.geom::geography AS d
                            FROM infrastructure i WHERE i.layer_type = t.layer_type
                            ORDER BY i.geom::geography <-> s0.geom::geography LIMIT {KNN_CANDIDATES}
                        ) i
                    ) c
                    WHERE c.d <= c.best * {1 + SPHERE_ELLIPSOID_GAP} + 1
                    ORDER BY ST_Distance(c.geom::geography, s0.geom::geography, true), c.id LIMIT 1
                ) k
            ) n ON TRUE
            LEFT JOIN LATERAL (
                SELECT {sums} FROM comuni c
                WHERE ST_DWithin(c.centroid::geography, s0.geom::geography, {max(CATCHMENT_KM) * 1000})
            ) p ON TRUE
            WHERE {where}
        ) x
        WHERE x.id = s.id
    """), params)
    scope, params = _scope(site_ids)
    _flag_comune_mismatch(conn, scope, params)
    if site_ids is not None:
        return len(set(site_ids))
    return conn.execute(text("SELECT count(*) FROM sites")).scalar_one()


def _flag_comune_mismatch(conn: Connection, where: str, params: dict) -> None:
    """Warn on the current candidacy where the point lies in another comune than declared
    (possible within the border tolerance, or for an approximate location)."""
    conn.execute(text(f"""
        UPDATE candidacies c SET validation_report = jsonb_set(
            c.validation_report, '{{enrichment}}', jsonb_build_array(jsonb_build_object(
                'severity', 'warning', 'code', 'comune_differs',
                'message_en', 'The site lies in comune ' || s.comune_istat || ', not in the declared '
                              || s.declared_comune_istat || '.',
                'message_it', 'Il sito si trova nel comune ' || s.comune_istat || ', non nel comune dichiarato '
                              || s.declared_comune_istat || '.')))
        FROM sites s
        WHERE c.id = s.candidacy_id AND s.comune_istat IS DISTINCT FROM s.declared_comune_istat
          AND s.declared_comune_istat IS NOT NULL AND {where}
    """), params)


def refresh_clusters(conn: Connection) -> None:
    """Recount the low-zoom tile clusters (materialized view ``site_clusters``). Call it
    whenever sites are published, withdrawn or moved: until then the clusters show the
    previous set (detail tiles, from zoom 12, always read the sites table)."""
    conn.execute(text("SELECT refresh_site_clusters()"))  # the owner's right, lent (migration 0007)
