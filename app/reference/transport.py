"""Roads and railways from ``../shared/data`` (Regione Lombardia's road and rail graphs):
motorway exits with names people read, motorway-to-motorway interchanges as their own
layer, and the motorway and railway lines themselves.

The junction file has no exit names, only road-graph codes (``A4``, ``BSSPEXSS11``,
``BSTGOVEST``...); the name of an exit is built from them: its motorways, the comune it
lies in and the roads it leads to, e.g. "A4 – Brescia (SP ex SS 11, Tangenziale Ovest)".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from shapely.geometry import LineString, shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection

from app.reference.layers import Feature, LoadResult, load_once, replace_infrastructure
from geo.layers import file_sha256

LICENCE = "Regione Lombardia road and rail graph (via gisgeolab/D-DUST), CC-BY 4.0: Regione Lombardia"
JUNCTIONS = "reference/transport/motorway_junctions_lombardia.geojson"
EXIT_KIND = "motorway access (to local/provincial roads)"
ROAD_PATTERNS = (
    (re.compile(r"^SSEX[A-Z]{2}SPEXSS(\w+)$"), "SP ex SS {}"),
    (re.compile(r"^SSEX[A-Z]{2}SP(\w+)$"), "SP {}"),
    (re.compile(r"^[A-Z]{2}SPEXSS(\w+)$"), "SP ex SS {}"),
    (re.compile(r"^[A-Z]{2}SP(\w+)$"), "SP {}"),
    (re.compile(r"^SS(\w+)$"), "SS {}"),
    (re.compile(r"^A(\d+\w*)$"), "A{}"),
    (re.compile(r"^[A-Z]{2}TG(\w+)$"), "Tangenziale {}"),
    (re.compile(r"^RA(A\w+)$"), "Raccordo {}"),
)
LOCAL_ROADS = {"COM", "VF", ""}  # local (comunale) roads and unnamed links: nothing to read


def road_name(code: str) -> str | None:
    """A readable road from a road-graph code; None for local roads."""
    if code in LOCAL_ROADS:
        return None
    for pattern, template in ROAD_PATTERNS:
        match = pattern.match(code)
        if match:
            number = match.group(1).lstrip("0") or "0"
            for word in ("OVEST", "EST", "NORD", "SUD"):
                number = number.replace(word, word.title())
            return template.format(number)
    return code


def exit_name(motorways: str, comune: str, other_roads: str) -> str:
    roads = list(dict.fromkeys(n for n in map(road_name, other_roads.split("|")) if n))
    name = f"{' / '.join(motorways.split('|'))} – {comune}"
    return f"{name} ({', '.join(roads)})" if roads else name


def _junctions(path: Path, exits: bool) -> list[Feature]:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = []
    for item in data["features"]:
        p = item["properties"]
        if (p["kind"] == EXIT_KIND) != exits:
            continue
        name = exit_name(p["motorways"], p["comune"], p.get("other_roads") or "")
        features.append(Feature(
            source_id=p["codice"], name=name, code=p["codice"],
            properties={"name_it": name, "name_en": name, "motorways": p["motorways"].split("|"),
                        "comune": p["comune"], "comune_istat": p["com_istat_code"], "province": p["prov_acr"],
                        "kind": p["kind"], "ramp_length_m": p.get("ramp_length_m")},
            geometry=shape(item["geometry"])))
    return features


MAX_VERTICES = 64


def pieces(geometry: BaseGeometry) -> list[LineString]:
    """A line cut into pieces of at most ``MAX_VERTICES`` vertices, each sharing its first
    vertex with the previous one. Nearest-feature search looks at the few features whose
    boxes are nearest: one railway of 17,285 vertices across the region would be a
    candidate for every site, and measuring a site against it costs 17,285 segments."""
    parts = list(geometry.geoms) if hasattr(geometry, "geoms") else [geometry]
    out = []
    for part in parts:
        coords = list(part.coords)
        for start in range(0, max(len(coords) - 1, 1), MAX_VERTICES - 1):
            chunk = coords[start:start + MAX_VERTICES]
            if len(chunk) >= 2:
                out.append(LineString(chunk))
    return out


def _lines(path: Path, describe: Callable[[dict], tuple[str, dict]]) -> list[Feature]:
    data = json.loads(path.read_text(encoding="utf-8"))
    features = []
    for i, item in enumerate(data["features"]):
        name, properties = describe(item.get("properties") or {})
        for j, piece in enumerate(pieces(shape(item["geometry"]))):
            features.append(Feature(f"{i}.{j}", name, None, {**properties, "source_feature": i}, piece))
    return features


def _railway(p: dict) -> tuple[str, dict]:
    tracks, power = p.get("DN_BIN"), p.get("DALIM")
    detail = ", ".join(x.lower() for x in (tracks, power) if x)
    return (f"Linea ferroviaria ({detail})" if detail else "Linea ferroviaria",
            {"tracks": tracks, "electrification": power})


def load_transport(conn: Connection, shared: Path) -> list[LoadResult]:
    """Exits, interchanges, motorway and railway lines, each an infrastructure layer."""
    junctions = shared / JUNCTIONS
    layers = [
        ("motorway_exit", junctions, lambda: _junctions(junctions, exits=True)),
        ("motorway_interchange", junctions, lambda: _junctions(junctions, exits=False)),
        ("motorway", shared / "reference/transport/motorways_lombardia.geojson",
         lambda: _lines(shared / "reference/transport/motorways_lombardia.geojson",
                        lambda _p: ("Autostrada", {}))),
        ("railway_line", shared / "reference/transport/railway_lines_lombardia.geojson",
         lambda: _lines(shared / "reference/transport/railway_lines_lombardia.geojson", _railway)),
    ]
    results = []
    for layer_type, path, features in layers:
        source = f"shared/{path.name}"
        results.append(load_once(
            conn, layer_type, source, "infrastructure", file_sha256(path), LICENCE,
            lambda layer_type=layer_type, source=source, features=features:
                replace_infrastructure(conn, layer_type, source, features())))
    return results
