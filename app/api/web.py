"""The reference map page (``/map``), the API documentation pages (``/docs``,
``/redoc``), their static files, and the vocabularies a frontend needs to label codes
in Italian and English.

MapLibre GL JS, Swagger UI and ReDoc come from the npm registry (package.json, installed
by ``make``) and are served from ``node_modules`` by the service itself: no page fetches
anything from outside the service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select, text

from app.api.responses import OrjsonResponse
from app.api.security import require_reader
from app.core.database import ReadSessionDep
from app.core.errors import ServiceUnavailableError
from app.core.settings import web_settings
from app.reference.models import Province
from ingest import vocabulary as v

WEB = Path(__file__).resolve().parent.parent / "web"
PUBLIC_VOCABULARIES = {
    "kind": v.CANDIDACY_KINDS, "site_type": v.SITE_TYPES, "condition": v.SITE_CONDITIONS,
    "zoning": v.ZONING, "availability": v.AVAILABILITY_MODES, "sector": v.SECTORS,
    "remediation": v.REMEDIATION_STATUSES, "constraint": v.CONSTRAINTS, "energy_class": v.ENERGY_CLASSES,
    "planning_stage": v.PLANNING_STAGES, "location_precision": v.LOCATION_PRECISIONS,
    "status": v.CANDIDACY_STATUSES, "legal_nature": v.LEGAL_NATURES,
    "tenure_title": v.TENURE_TITLES,
}

router = APIRouter(tags=["map"])


@router.get("/vocabulary", summary="Codes used in the catalogue with their Italian and English labels",
            dependencies=[Depends(require_reader)])
def vocabulary(db: ReadSessionDep) -> OrjsonResponse:
    """The codes of the Excel contract; from the loaded reference layers, the provinces by
    abbreviation (the ``province`` filter's values) ordered by name and the policy zones by
    type with their official names: pages take every choice and label from here instead
    of lists of their own."""
    labelled = {name: {code: {"it": it, "en": en} for code, (it, en) in vocab.items()}
                for name, vocab in PUBLIC_VOCABULARIES.items()}
    provinces = db.execute(select(Province.abbreviation, Province.name).order_by(Province.name)).all()
    labelled["province"] = {code: {"it": name, "en": name} for code, name in provinces}
    zones = db.execute(text("SELECT DISTINCT ON (zone_type) zone_type, name FROM policy_zones "
                            "ORDER BY zone_type, id")).all()
    labelled["zone"] = {zone: {"it": name, "en": name} for zone, name in zones}
    return OrjsonResponse(labelled)


def _page(name: str) -> FileResponse:
    if not (web_settings().vendor_dir / "maplibre-gl.js").exists():
        raise ServiceUnavailableError(
            "The pages' map library is not installed: run 'npm ci' (make run does it).",
            "La libreria delle mappe delle pagine non è installata: eseguire 'npm ci' (lo fa make run).")
    return FileResponse(WEB / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/map", include_in_schema=False)
def map_page() -> FileResponse:
    return _page("map.html")


@router.get("/desk", include_in_schema=False)
def desk_page() -> FileResponse:
    """The desk for owners, delegates and staff: one page whose views call this API."""
    return _page("desk.html")


def _root(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_swagger_ui_html(
        openapi_url=f"{root}/api", title="Opportunity Lombardy API",
        swagger_js_url=f"{root}/static/docs/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{root}/static/docs/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{root}/static/docs/swagger-ui/favicon-32x32.png")


@router.get("/redoc", include_in_schema=False)
def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    return get_redoc_html(openapi_url=f"{root}/api", title="Opportunity Lombardy API",
                          redoc_js_url=f"{root}/static/docs/redoc/redoc.standalone.js",
                          redoc_favicon_url=f"{root}/static/docs/swagger-ui/favicon-32x32.png",
                          with_google_fonts=False)


def mount_static(app: FastAPI) -> None:
    """``/static``: the pages' own files; ``/static/vendor``: MapLibre; ``/static/docs``:
    Swagger UI and ReDoc; all from node_modules."""
    settings = web_settings()
    app.mount("/static/vendor", StaticFiles(directory=settings.vendor_dir, check_dir=False), name="vendor")
    app.mount("/static/docs/swagger-ui", StaticFiles(directory=settings.swagger_ui_dir, check_dir=False),
              name="swagger-ui")
    app.mount("/static/docs/redoc", StaticFiles(directory=settings.redoc_dir, check_dir=False), name="redoc")
    app.mount("/static", StaticFiles(directory=WEB), name="static")
