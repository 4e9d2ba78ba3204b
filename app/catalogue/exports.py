"""Short-list exports of published sites (public fields only) as CSV, XLSX and GeoJSON.

Exports neutralise spreadsheet formulas: a text cell (or a line in it) starting with
= + - @ (or a tab or carriage return) gets a leading apostrophe, and every CSV field is
quoted, so opening a CSV (with ',' or ';' as list separator) or XLSX never runs one.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import orjson
from openpyxl import Workbook
from sqlalchemy import Connection, text

from app.catalogue.collections import PUBLISHED
from app.core.errors import NotFoundError

EXPORT_COLUMNS = [
    "id", "public_id", "name", "kind", "site_type", "condition", "comune", "comune_istat", "province",
    "lon", "lat", "location_precision", "land_area_m2", "covered_area_m2", "gross_floor_area_m2",
    "availability", "price_eur", "annual_rent_eur", "available_from", "zoning", "power_kw",
    "rail_siding", "fibre", "dist_motorway_exit_km", "dist_airport_km", "dist_station_km", "zones",
    "pop_10km", "pop_20km", "pop_30km", "completeness",
]


# where a spreadsheet may start a new cell: the value's start, a line break, and either
# list separator (a reader whose locale splits on ';' ignores the ',' dialect, and back)
CELL_START = re.compile(r"(^|[\n\r;,])([=+\-@\t\r])")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet could read as a formula, made inert: wherever a cell can
    start inside it, a formula character gets a leading apostrophe."""
    return CELL_START.sub(r"\1'\2", value) if isinstance(value, str) else value


def shortlist_rows(conn: Connection, ids: list[int]) -> list[dict[str, Any]]:
    """Public fields of published sites, in the order asked."""
    rows = conn.execute(text("""
        SELECT s.id, s.public_id::text AS public_id, s.name, s.kind, s.site_type, s.condition,
               c.name AS comune, s.comune_istat, p.abbreviation AS province,
               round(ST_X(s.geom)::numeric, 6)::float AS lon, round(ST_Y(s.geom)::numeric, 6)::float AS lat,
               s.location_precision, s.land_area_m2, s.covered_area_m2, s.gross_floor_area_m2,
               s.availability, s.price_eur::float AS price_eur, s.annual_rent_eur::float AS annual_rent_eur,
               s.available_from, s.zoning, s.power_kw, s.rail_siding, s.fibre, s.dist_motorway_exit_km,
               s.dist_airport_km, s.dist_station_km, array_to_string(s.zones, ';') AS zones,
               s.pop_10km, s.pop_20km, s.pop_30km, s.completeness
        FROM sites s LEFT JOIN comuni c ON c.istat_code = s.comune_istat
        LEFT JOIN provinces p ON p.code = s.province_code
        WHERE s.id = ANY(:ids) AND s.status = :published
    """), {"ids": ids, "published": PUBLISHED}).mappings().all()
    by_id = {r["id"]: dict(r) for r in rows}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise NotFoundError(f"No published site {', '.join(map(str, missing))}.",
                            f"Nessun sito pubblicato {', '.join(map(str, missing))}.")
    return [by_id[i] for i in ids]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    # every field quoted: a ';' or ',' inside a value can never start a new cell, whichever
    # list separator the reader's locale uses (Italian Excel splits on ';')
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_COLUMNS, extrasaction="ignore", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8 correctly


def to_xlsx(rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "Short list"
    sheet.append(EXPORT_COLUMNS)
    for row in rows:
        sheet.append([neutralise(row.get(k)) for k in EXPORT_COLUMNS])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_geojson(rows: list[dict[str, Any]]) -> bytes:
    features = [
        {"type": "Feature", "id": r["id"], "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
         "properties": {k: v for k, v in r.items() if k not in ("lon", "lat")}}
        for r in rows
    ]
    return orjson.dumps({"type": "FeatureCollection", "features": features})

