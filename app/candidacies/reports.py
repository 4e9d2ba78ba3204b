"""Everything known about a site, for staff: its facts and enrichment, what is missing
for completeness, and the history of its application (versions, people, audit trail)."""

from __future__ import annotations

from typing import Any

import orjson
from geoalchemy2 import Geometry
from sqlalchemy import Connection, select, text

from app.candidacies.models import Candidacy, Delegation, Owner, Proponent
from app.catalogue.models import Site
from app.core.errors import NotFoundError
from app.core.schema import AuditEvent
from app.reference.enrichment import COMPLETENESS


def _row(mapping: Any) -> dict[str, Any]:
    return {k: (float(v) if hasattr(v, "as_tuple") else v) for k, v in dict(mapping).items()}


def site_report(conn: Connection, site_id: int) -> dict[str, Any]:
    site = conn.execute(select(Site.__table__).where(Site.id == site_id)).mappings().first()
    if site is None:
        raise NotFoundError(f"No site {site_id}.", f"Nessun sito {site_id}.")
    geometries = {c.name for c in Site.__table__.columns if isinstance(c.type, Geometry)}
    report: dict[str, Any] = {"site": {k: v for k, v in _row(site).items() if k not in geometries}}
    report["site"]["geometry"] = orjson.loads(conn.execute(
        text("SELECT ST_AsGeoJSON(geom, 6) FROM sites WHERE id = :i"), {"i": site_id}).scalar_one())
    perimeter = conn.execute(text("SELECT ST_AsGeoJSON(perimeter, 6) FROM sites WHERE id = :i"),
                             {"i": site_id}).scalar_one()
    report["site"]["perimeter"] = orjson.loads(perimeter) if perimeter else None
    present = conn.execute(text(
        "SELECT " + ", ".join(f"COALESCE({item.predicate}, false)" for item in COMPLETENESS)
        + " FROM sites WHERE id = :i"), {"i": site_id}).one()
    report["completeness_missing"] = [
        {"item": item.key, "label_en": item.label_en, "label_it": item.label_it, "weight": item.weight}
        for item, there in zip(COMPLETENESS, present, strict=True) if not there
    ]
    if site["lineage_id"] is not None:
        versions = conn.execute(select(Candidacy.__table__).where(Candidacy.lineage_id == site["lineage_id"])
                                .order_by(Candidacy.version)).mappings().all()
        report["versions"] = [
            {k: v for k, v in _row(c).items() if k not in ("record",)} for c in versions
        ]
        current = next((c for c in versions if c["is_current"]), None)
        if current is not None:
            report["record"] = current["record"]
            for key, model, column in (("proponent", Proponent, current["proponent_id"]),
                                       ("owner", Owner, current["owner_id"]),
                                       ("delegation", Delegation, current["delegation_id"])):
                row = conn.execute(select(model.__table__).where(model.id == column)).mappings().first() \
                    if column else None
                report[key] = _row(row) if row else None
        ids = [str(c["id"]) for c in versions]
        report["audit"] = [
            _row(e) for e in conn.execute(
                select(AuditEvent.__table__).where(AuditEvent.entity_type == "candidacy",
                                                   AuditEvent.entity_id.in_(ids)).order_by(AuditEvent.id)
            ).mappings()
        ]
    return report


LOCATION = text("""
SELECT s.id, ST_AsGeoJSON(s.geom, 6) AS point, ST_AsGeoJSON(s.perimeter, 6) AS perimeter, s.zones,
       (SELECT COALESCE(jsonb_agg(jsonb_build_object(
                   'layer', n.key, 'name', n.value ->> 'name', 'km', (n.value ->> 'km')::float,
                   'point', ST_AsGeoJSON(ST_ClosestPoint(i.geom, s.geom), 6)::jsonb) ORDER BY n.key), '[]'::jsonb)
          FROM jsonb_each(s.nearest) n JOIN infrastructure i ON i.id = (n.value ->> 'id')::int
         WHERE n.key IN ('airport', 'railway_station', 'motorway_exit')) AS nearest
FROM sites s WHERE s.lineage_id = :lineage
""")


def site_location(conn: Connection, lineage_id: Any) -> dict[str, Any] | None:
    """Where an application's site lies, for the desk's small map: its point and perimeter,
    its zones, and its nearest airport, station and motorway exit with their positions."""
    row = conn.execute(LOCATION, {"lineage": lineage_id}).mappings().first()
    if row is None:
        return None
    return {"site_id": row["id"], "point": orjson.loads(row["point"]) if row["point"] else None,
            "perimeter": orjson.loads(row["perimeter"]) if row["perimeter"] else None,
            "zones": list(row["zones"] or []), "nearest": row["nearest"]}
