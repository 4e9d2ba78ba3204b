"""Excel intake over HTTP: the template, validation (JSON or annotated workbook) and
submission of candidacies."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import Response

from app.api.responses import OrjsonResponse, error_responses
from app.database import SessionDep
from app.errors import PayloadTooLargeError
from app.intake import check_workbook, submit
from app.settings import upload_settings
from ingest.annotate import annotate
from ingest.template import build_template

router = APIRouter(prefix="/intake", tags=["intake"], responses=error_responses(413, 415, 422, 503))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UploadDep = Annotated[UploadFile, File(description="The filled-in candidacy workbook (.xlsx)")]


async def read_upload(upload: UploadFile) -> bytes:
    """The upload's bytes, refusing more than the configured limit without reading it all."""
    limit = upload_settings().max_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"The file is larger than {limit / 1e6:.1f} MB, the upload limit.",
            f"Il file supera {limit / 1e6:.1f} MB, il limite di caricamento.",
        )
    return data


def client_ip(request: Request) -> str | None:
    """The peer's IP address for the audit log; None when it is not an IP (a socket, a test)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/template", summary="Download the candidacy template (kind A or B)",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def template(kind: Annotated[Literal["A", "B"], Query(description="A: area/building; B: investment project")] = "A") -> Response:
    return _xlsx(build_template(kind), f"opportunity-lombardy-candidatura-{kind}.xlsx")


@router.post("/validate", summary="Validate a workbook without storing it")
async def validate(session: SessionDep, file: UploadDep) -> OrjsonResponse:
    data = await read_upload(file)
    return OrjsonResponse(check_workbook(session, data).report())


@router.post("/validate/annotated", summary="The workbook back, with every problem marked",
             response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def validate_annotated(session: SessionDep, file: UploadDep) -> Response:
    data = await read_upload(file)
    validation = check_workbook(session, data)
    name = (file.filename or "candidatura.xlsx").rsplit(".", 1)[0]
    return _xlsx(annotate(data, validation.problems), f"{name}-verificato.xlsx")


@router.post("/candidacies", status_code=201, summary="Submit a candidacy workbook")
async def submit_candidacy(request: Request, session: SessionDep, file: UploadDep) -> OrjsonResponse:
    """201 with the stored version; 200 when the same file was already stored; 422 with
    the full report when the workbook has errors (nothing is stored)."""
    data = await read_upload(file)
    outcome = submit(session, data, filename=file.filename, client_address=client_ip(request))
    return OrjsonResponse(outcome.to_dict(), status_code=200 if outcome.duplicate else 201)
