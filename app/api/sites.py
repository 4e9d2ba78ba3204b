"""Site report for staff, short-list exports, and printed exposés and comparisons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.accounts.auth import Principal
from app.accounts.ratelimit import hit
from app.api.queues import admitted, queue
from app.api.responses import OrjsonResponse, attachment, error_responses
from app.api.security import ReaderDep, StaffDep, caller_key, require_reader
from app.candidacies.reports import site_report
from app.catalogue.exports import shortlist_rows, to_csv, to_geojson, to_xlsx
from app.core.database import SessionDep
from app.core.errors import BadRequestError
from app.core.settings import limit_settings
from app.documents.pdf import comparison_pdf, expose_pdf
from ingest.fields import field_place

router = APIRouter(tags=["sites"], dependencies=[Depends(require_reader)],
                   responses=error_responses(400, 401, 403, 404, 422, 429, 503))
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "geojson": to_geojson}
MAX_SHORTLIST = 500
COMPARE_MIN, COMPARE_MAX = 2, 5
PDF = "application/pdf"
Lang = Annotated[Literal["it", "en"], Query(description="language of the document")]


def site_ids(ids: str, low: int, high: int) -> list[int]:
    """``12,7,31`` as distinct site numbers in the order given, between ``low`` and ``high`` of them."""
    try:
        wanted = list(dict.fromkeys(int(i) for i in ids.split(",") if i.strip()))
    except ValueError as exc:
        raise BadRequestError("ids must be site numbers separated by commas, e.g. 12,7,31.",
                              "ids deve essere un elenco di numeri separati da virgole, es. 12,7,31.") from exc
    if not low <= len(wanted) <= high:
        raise BadRequestError(f"Give between {low} and {high} different site ids.",
                              f"Indicare da {low} a {high} identificativi di siti diversi.")
    return wanted


async def printed(request: Request, session: Session, principal: Principal, render: Callable[[], bytes],
                  filename: str) -> Response:
    """A PDF answer: counted per account or address, then rendered in the worker's printing
    queue (printing takes a few hundred milliseconds of CPU; a flood of PDFs waits there,
    holding no thread, or is told when to come back)."""
    limits = limit_settings()
    await admitted(request, hit, session, f"pdf:{caller_key(request, principal)}", limits.pdfs, limits.window_seconds)
    body = await queue(request, "printing").run(render)
    return Response(body, media_type=PDF, headers={"Content-Disposition": attachment(filename)})


@router.get("/sites/{site_id}/report", summary="Everything known about a site (staff)")
def report(_: StaffDep, session: SessionDep, site_id: int) -> OrjsonResponse:
    body = site_report(session.connection(), site_id)
    return OrjsonResponse({**body, "labels": {k: field_place(k) for k in body["site"]}})


@router.get("/sites/export", summary="Export a short list of published sites",
            response_class=Response,
            responses={200: {"content": {m: {} for m in MEDIA.values()}}})
def export(
    session: SessionDep,
    ids: Annotated[str, Query(description="site ids, comma separated, in the order wanted")],
    format: Annotated[Literal["csv", "xlsx", "geojson"], Query()] = "csv",
) -> Response:
    rows = shortlist_rows(session.connection(), site_ids(ids, 1, MAX_SHORTLIST))
    return Response(WRITERS[format](rows), media_type=MEDIA[format],
                    headers={"Content-Disposition": attachment(f"short-list.{format}")})


@router.get("/sites/compare.pdf", summary="Compare 2-5 published sites side by side (PDF)",
            response_class=Response, responses={200: {"content": {PDF: {}}}})
async def compare(request: Request, session: SessionDep, principal: ReaderDep,
                  ids: Annotated[str, Query(description="2 to 5 site ids, comma separated, in the order wanted")],
                  lang: Lang = "it") -> Response:
    wanted = site_ids(ids, COMPARE_MIN, COMPARE_MAX)
    name = "confronto-siti.pdf" if lang == "it" else "site-comparison.pdf"
    return await printed(request, session, principal, lambda: comparison_pdf(session.connection(), wanted, lang), name)


@router.get("/sites/{site_id}/expose.pdf", summary="A published site's exposé for investors (PDF)",
            response_class=Response, responses={200: {"content": {PDF: {}}}})
async def expose(request: Request, session: SessionDep, principal: ReaderDep, site_id: int,
                 lang: Lang = "it") -> Response:
    name = f"scheda-sito-{site_id}.pdf" if lang == "it" else f"site-profile-{site_id}.pdf"
    return await printed(request, session, principal, lambda: expose_pdf(session.connection(), site_id, lang), name)
