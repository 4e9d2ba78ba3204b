"""Reference layers in the catalogue: the registry of what is loaded (by content hash),
the writers that replace one source's features in one transaction, and the loader for
any file staff provide (GeoJSON, GeoPackage, Shapefile, CSV).

Every load is idempotent: a source whose content hash is already registered in
``reference_layers`` is skipped, and a changed source replaces its own features in one
transaction (upsert by natural key, then delete what the source no longer has).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely import wkb
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, text

from geo.layers import (
    CsvColumns,
    LayerError,
    file_sha256,
    is_service_url,
    read_layer,
    read_service,
    service_digest,
)

LAYER_TYPE_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
SOURCE_MAX = 200  # reference_layers.source
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


def registered(conn: Connection, layer_type: str, source: str) -> Any:
    """(content_sha256, feature_count) of a loaded source, or None."""
    return conn.execute(
        text(
            "SELECT content_sha256, feature_count FROM reference_layers "
            "WHERE layer_type = :t AND source = :s"
        ),
        {"t": layer_type, "s": source},
    ).first()


def register(
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


def load_once(
    conn: Connection,
    layer_type: str,
    source: str,
    category: str,
    digest: str,
    licence: str | None,
    write: Callable[[], int],
) -> LoadResult:
    """Run ``write`` (which returns the feature count) unless this exact content is loaded."""
    known = registered(conn, layer_type, source)
    if known is not None and known.content_sha256 == digest:
        return LoadResult(layer_type, source, known.feature_count, changed=False)
    count = write()
    register(conn, layer_type, source, category, count, digest, licence)
    return LoadResult(layer_type, source, count, changed=True)


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    if isinstance(geometry, Polygon):
        return MultiPolygon([geometry])
    if isinstance(geometry, MultiPolygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]
    return MultiPolygon(polygons)


def to_wkb(geometry: BaseGeometry) -> str:
    return wkb.dumps(geometry, hex=True, srid=4326)



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
            "geom": to_wkb(f.geometry),
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


def _read(path: Path | str, options: LayerFileOptions) -> tuple[gpd.GeoDataFrame, str, str]:
    """The layer in WGS84, the name it is registered under, and a fingerprint of its content."""
    if is_service_url(str(path)):
        url = str(path)
        source = options.source or url
        if len(source) > SOURCE_MAX:
            raise LayerError(
                f"The address is longer than {SOURCE_MAX} characters: give the layer a shorter name with --source.",
                f"L'indirizzo supera {SOURCE_MAX} caratteri: dare allo strato un nome più breve con --source.")
        frame = read_service(url, crs=options.crs)
        return frame, source, service_digest(frame)
    frame = read_layer(Path(path), crs=options.crs, columns=options.csv_columns)
    return frame, options.source or Path(path).name, file_sha256(Path(path))


def load_layer_file(conn: Connection, path: Path | str, options: LayerFileOptions) -> LoadResult:
    """Load a staff-provided file, or a layer published by an OGC API - Features or WFS 2.0
    service (an http(s) address), as an infrastructure layer or a policy zone."""
    _check_options(options)
    frame, source, content = _read(path, options)
    shown = source
    name_col = _field(frame, options.name_field, ("name", "nome", "denominazione", "label"))
    id_col = _field(frame, options.id_field, ("id", "fid", "code", "codice"))
    records = []
    for index, row in frame.iterrows():
        props = {k: _clean(v) for k, v in row.items() if k != "geometry"}
        source_id = str(props.get(id_col)) if id_col and props.get(id_col) is not None else None
        records.append((source_id or f"row-{index + 1}", props.get(name_col), props, row.geometry))
    digest = hashlib.sha256((content + json.dumps(options.__dict__, default=str)).encode()).hexdigest()

    if options.category == "zone":
        if not all(isinstance(geom, (Polygon, MultiPolygon)) for *_, geom in records):
            raise LayerError(
                f"{shown}: a zone layer needs polygons.",
                f"{shown}: uno strato di zone richiede poligoni.",
            )

        def write() -> int:
            members = [
                {"member_id": sid, "note": name, "geom": to_wkb(as_multipolygon(geom))}
                for sid, name, _, geom in records
            ]
            return replace_zone_members(conn, options.layer_type, source, source, members)

    else:
        def write() -> int:
            features = [Feature(sid, name, None, props, geom) for sid, name, props, geom in records]
            return replace_infrastructure(conn, options.layer_type, source, features)

    return load_once(conn, options.layer_type, source, options.category, digest, None, write)


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
