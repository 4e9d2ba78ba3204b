"""Detection runs in the catalogue: store a run and its candidates, list them with
overlap flags against catalogue sites, review them (a confirmed candidate becomes a
draft site; a rejected one keeps its reason), and score a run against a reference layer.

Candidates are for staff review, never automatic listings.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial
from typing import Any

import shapely
from pyproj import CRS, Transformer
from shapely import wkb
from shapely.geometry import MultiPolygon
from sqlalchemy import Connection, text

from app.core.errors import ConflictError, InvalidInputError, NotFoundError
from app.core.metrics import DETECTION_RUNS, DETECTION_SECONDS
from app.reference.enrichment import enrich
from geo.detect import Candidate
from geo.evaluate import SiteScores, site_scores
from geo.params import DetectionParams


def store_run(conn: Connection, candidates: list[Candidate], crs: Any, params: DetectionParams,
              inputs: dict[str, Any], created_by: str | None = None, seconds: float | None = None) -> int:
    """One detection run and its candidates (geometries reprojected to WGS84); ``seconds``,
    how long the detection took, goes to the metrics."""
    DETECTION_RUNS.inc()
    if seconds is not None:
        DETECTION_SECONDS.observe(seconds)
    to_wgs84 = Transformer.from_crs(CRS.from_user_input(crs), 4326, always_xy=True).transform
    reproject = partial(shapely.transform, transformation=to_wgs84, interleaved=False)
    run_id = conn.execute(text("""
        INSERT INTO detection_runs (status, parameters, inputs, candidate_count, created_by, finished_at)
        VALUES ('completed', CAST(:params AS jsonb), CAST(:inputs AS jsonb), :n, :by, now()) RETURNING id
    """), {"params": json.dumps(params.to_dict()), "inputs": json.dumps(inputs, default=str),
           "n": len(candidates), "by": created_by}).scalar_one()
    rows = []
    for c in candidates:
        shape = reproject(c.geometry)
        shape = shape if isinstance(shape, MultiPolygon) else MultiPolygon([shape])
        rows.append({"run": run_id, "geom": wkb.dumps(shape, hex=True, srid=4326), "area": c.area_m2,
                     "score": c.score, "evidence": json.dumps(c.evidence, default=str)})
    if rows:
        conn.execute(text("""
            INSERT INTO detection_candidates (run_id, geom, area_m2, score, evidence)
            VALUES (:run, ST_GeomFromEWKB(decode(:geom, 'hex')), :area, :score, CAST(:evidence AS jsonb))
        """), rows)
    conn.execute(text("""
        UPDATE detection_runs SET footprint = (
            SELECT ST_Multi(ST_ConvexHull(ST_Collect(geom))) FROM detection_candidates WHERE run_id = :run)
        WHERE id = :run
    """), {"run": run_id})
    return run_id


def candidates_geojson(conn: Connection, run_id: int, min_score: float = 0, min_area_m2: float = 0,
                       status: str | None = None) -> dict[str, Any]:
    if conn.execute(text("SELECT 1 FROM detection_runs WHERE id = :r"), {"r": run_id}).first() is None:
        raise NotFoundError(f"No detection run {run_id}.", f"Nessuna elaborazione {run_id}.")
    rows = conn.execute(text("""
        SELECT c.id, ST_AsGeoJSON(c.geom, 6)::json AS geometry, c.area_m2, c.score, c.evidence,
               c.review_status, c.review_reason, c.reviewed_by, c.reviewed_at, c.site_id,
               COALESCE((SELECT array_agg(s.id ORDER BY s.id) FROM sites s
                         WHERE s.origin = 'candidacy' AND (ST_Intersects(s.perimeter, c.geom)
                               OR ST_DWithin(s.geom::geography, c.geom::geography, 100))), '{}') AS overlaps
        FROM detection_candidates c
        WHERE c.run_id = :r AND c.score >= :s AND c.area_m2 >= :a AND (CAST(:st AS text) IS NULL OR c.review_status = :st)
        ORDER BY COALESCE((c.evidence->>'already_known')::boolean, false),
                 (c.evidence->>'confidence') IS DISTINCT FROM 'time series', c.score DESC, c.id
    """), {"r": run_id, "s": min_score, "a": min_area_m2, "st": status}).mappings().all()
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r["id"], "geometry": r["geometry"], "properties": {
            "run_id": run_id, "area_m2": r["area_m2"], "score": r["score"], "evidence": r["evidence"],
            "review_status": r["review_status"], "review_reason": r["review_reason"], "site_id": r["site_id"],
            "reviewed_by": r["reviewed_by"],
            "reviewed_at": r["reviewed_at"].isoformat() if r["reviewed_at"] else None,
            "overlaps_sites": list(r["overlaps"]), "known_site_nearby": bool(r["overlaps"]),
        }} for r in rows]}


def review(conn: Connection, candidate_id: int, decision: str, reason: str | None, reviewer: str) -> dict[str, Any]:
    """Confirm (a draft site is created from the polygon) or reject (with a reason)."""
    row = conn.execute(text("SELECT review_status FROM detection_candidates WHERE id = :c FOR UPDATE"),
                       {"c": candidate_id}).first()
    if row is None:
        raise NotFoundError(f"No detection candidate {candidate_id}.", f"Nessun candidato {candidate_id}.")
    if row.review_status != "pending":
        raise ConflictError(f"Candidate {candidate_id} was already reviewed ({row.review_status}).",
                            f"Il candidato {candidate_id} è già stato esaminato ({row.review_status}).")
    if decision == "reject" and not (reason or "").strip():
        raise InvalidInputError("Say why the candidate is rejected.", "Indicare perché il candidato è respinto.")
    site_id = None
    if decision == "confirm":
        site_id = conn.execute(text("""
            INSERT INTO sites (origin, kind, status, name, geom, perimeter, location_precision, site_type,
                               condition, land_area_m2, attributes)
            SELECT 'detection', 'A', 'draft', 'Area dismessa rilevata #' || c.id,
                   ST_PointOnSurface(c.geom), c.geom, 'exact', 'area_dismessa', 'dismesso', c.area_m2,
                   jsonb_build_object('detection_candidate', c.id, 'detection_run', c.run_id)
            FROM detection_candidates c WHERE c.id = :c
            RETURNING id
        """), {"c": candidate_id}).scalar_one()
        enrich(conn, [site_id])
    status = "confirmed" if decision == "confirm" else "rejected"
    conn.execute(text("""
        UPDATE detection_candidates SET review_status = :st, review_reason = :reason, reviewed_by = :by,
               reviewed_at = now(), site_id = :site WHERE id = :c
    """), {"st": status, "reason": reason, "by": reviewer, "site": site_id, "c": candidate_id})
    conn.execute(text("""
        INSERT INTO audit_events (actor, actor_role, action, entity_type, entity_id, from_status, to_status, reason, details)
        VALUES (:by, 'staff', 'detection.review', 'detection_candidate', :c, 'pending', :st, :reason,
                CAST(:details AS jsonb))
    """), {"by": reviewer, "c": str(candidate_id), "st": status, "reason": reason,
           "details": json.dumps({"site_id": site_id})})
    return {"candidate_id": candidate_id, "review_status": status, "site_id": site_id,
            "reviewed_at": dt.datetime.now(dt.UTC).isoformat()}


def evaluate_run(conn: Connection, run_id: int, references_wgs84: list[Any], min_iou: float = 0.3) -> SiteScores:
    """Site-level precision, recall and F1 of a stored run against reference polygons
    (WGS84), measured in UTM 32N metres: a site is found by a candidate with IoU >=
    ``min_iou`` or covering half of it; further fragments of it are false positives."""
    rows = conn.execute(text("SELECT ST_AsBinary(ST_Transform(geom, 32632)) FROM detection_candidates WHERE run_id = :r"),
                        {"r": run_id}).scalars().all()
    to_utm = Transformer.from_crs(4326, 32632, always_xy=True).transform
    references = [shapely.transform(r, to_utm, interleaved=False) for r in references_wgs84]
    return site_scores([wkb.loads(bytes(g)) for g in rows], references, None, min_iou)
