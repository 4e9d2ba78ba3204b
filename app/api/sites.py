"""Site report for staff and short-list exports."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from app.api.responses import OrjsonResponse, attachment, error_responses
from app.api.security import StaffDep, require_reader
from app.candidacies.reports import site_report
from app.catalogue.exports import shortlist_rows, to_csv, to_geojson, to_xlsx
from app.core.database import SessionDep
from app.core.errors import BadRequestError
from ingest.fields import field_place

router = APIRouter(tags=["sites"], dependencies=[Depends(require_reader)],
                   responses=error_responses(400, 401, 403, 404, 422, 503))
MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "geojson": "application/geo+json",
}
WRITERS = {"csv": to_csv, "xlsx": to_xlsx, "geojson": to_geojson}
MAX_SHORTLIST = 500


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
    try:
        wanted = [int(i) for i in ids.split(",") if i.strip()]
    except ValueError as exc:
        raise BadRequestError("ids must be site numbers separated by commas, e.g. 12,7,31.",
                              "ids deve essere un elenco di numeri separati da virgole, es. 12,7,31.") from exc
    if not wanted or len(wanted) > MAX_SHORTLIST:
        raise BadRequestError(f"Give between 1 and {MAX_SHORTLIST} site ids.",
                              f"Indicare da 1 a {MAX_SHORTLIST} identificativi di siti.")
    rows = shortlist_rows(session.connection(), list(dict.fromkeys(wanted)))
    return Response(WRITERS[format](rows), media_type=MEDIA[format],
                    headers={"Content-Disposition": attachment(f"short-list.{format}")})
