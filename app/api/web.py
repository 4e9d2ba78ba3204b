"""The reference map page (``/map``), its static files, and the vocabularies a
frontend needs to label codes in Italian and English.

MapLibre GL JS comes from the npm registry (package.json, installed by ``make``) and is
served from ``node_modules`` by the service itself: the page fetches nothing from
outside the service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from app.api.responses import OrjsonResponse
from app.api.security import require_reader
from app.errors import ServiceUnavailableError
from app.settings import web_settings
from ingest import vocabulary as v

WEB = Path(__file__).resolve().parent.parent / "web"
PUBLIC_VOCABULARIES = {
    "kind": v.CANDIDACY_KINDS, "site_type": v.SITE_TYPES, "condition": v.SITE_CONDITIONS,
    "zoning": v.ZONING, "availability": v.AVAILABILITY_MODES, "sector": v.SECTORS,
    "remediation": v.REMEDIATION_STATUSES, "constraint": v.CONSTRAINTS, "energy_class": v.ENERGY_CLASSES,
    "planning_stage": v.PLANNING_STAGES, "location_precision": v.LOCATION_PRECISIONS,
    "status": v.CANDIDACY_STATUSES,
}

router = APIRouter(tags=["map"])


@router.get("/vocabulary", summary="Codes used in the catalogue with their Italian and English labels",
            dependencies=[Depends(require_reader)])
def vocabulary() -> OrjsonResponse:
    return OrjsonResponse({name: {code: {"it": it, "en": en} for code, (it, en) in vocab.items()}
                           for name, vocab in PUBLIC_VOCABULARIES.items()})


@router.get("/map", include_in_schema=False)
def map_page() -> FileResponse:
    if not (web_settings().vendor_dir / "maplibre-gl.js").exists():
        raise ServiceUnavailableError(
            "The map page's libraries are not installed: run 'npm ci' (make run does it).",
            "Le librerie della pagina mappa non sono installate: eseguire 'npm ci' (lo fa make run).")
    return FileResponse(WEB / "map.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


def mount_static(app: FastAPI) -> None:
    """``/static``: the page's own files; ``/static/vendor``: MapLibre from node_modules."""
    app.mount("/static/vendor", StaticFiles(directory=web_settings().vendor_dir, check_dir=False), name="vendor")
    app.mount("/static", StaticFiles(directory=WEB), name="static")
