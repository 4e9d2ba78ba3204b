"""Excel intake over HTTP: the template, validation (JSON or annotated workbook) and
submission of candidacies.

Parsing and storing a workbook is blocking work: it never runs on the event loop. Each
upload endpoint reads the file, counts the attempt, then waits (without holding a
thread or a database connection) for one of a few parsing slots per worker and runs the
work in a thread. When no slot frees up in time the client gets 503 with Retry-After
and nothing is stored, so reads stay answered during any burst of uploads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.accounts.auth import Principal
from app.accounts.ratelimit import hit
from app.api.queues import admitted, queue
from app.api.responses import OrjsonResponse, attachment, error_responses
from app.api.security import PrincipalDep, ProponentDep, caller_key, client_ip, require_reader
from app.candidacies.intake import check_workbook, proponent_prefill, submit
from app.core.database import SessionDep
from app.core.errors import OpportunityError, PayloadTooLargeError
from app.core.metrics import UPLOADS
from app.core.settings import limit_settings, upload_settings
from ingest.annotate import annotate
from ingest.problems import WorkbookRejected
from ingest.template import build_template

router = APIRouter(prefix="/intake", tags=["intake"], dependencies=[Depends(require_reader)],
                   responses=error_responses(401, 413, 415, 422, 429, 503, 507))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UploadDep = Annotated[UploadFile, File(description="The filled-in candidacy workbook (.xlsx)")]
T = TypeVar("T")


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


def limit_uploads(session: Session, request: Request, principal: Principal) -> None:
    """Uploads cost a parse each: counted per account, or per address for the public."""
    limits = limit_settings()
    hit(session, f"upload:{caller_key(request, principal)}", limits.uploads, limits.window_seconds)


async def offload(request: Request, session: Session, principal: Principal, work: Callable[[], T]) -> T:
    """Count the upload, wait in the parsing queue, run ``work`` in a thread."""
    await admitted(request, limit_uploads, session, request, principal)
    return await queue(request, "parsing").run(work)


def _xlsx(data: bytes, filename: str) -> Response:
    return Response(data, media_type=XLSX, headers={"Content-Disposition": attachment(filename)})


@router.get("/template", summary="Download the candidacy template (kind A or B)",
            response_class=Response, responses={200: {"content": {XLSX: {}}}})
def template(principal: PrincipalDep, session: SessionDep,
             kind: Annotated[Literal["A", "B"], Query(description="A: area/building; B: investment project")] = "A",
             ) -> Response:
    """Blank for the public; a signed-in proponent gets its registry data filled in."""
    prefill = proponent_prefill(session, principal.tax_id) if principal.tax_id else None
    return _xlsx(build_template(kind, prefill), f"opportunity-lombardy-candidatura-{kind}.xlsx")


@router.post("/validate", summary="Validate a workbook without storing it")
async def validate(request: Request, principal: PrincipalDep, session: SessionDep, file: UploadDep) -> OrjsonResponse:
    data = await read_upload(file)
    report = await offload(request, session, principal, lambda: check_workbook(session, data).report())
    return OrjsonResponse(report)


@router.post("/validate/annotated", summary="The workbook back, with every problem marked",
             response_class=Response, responses={200: {"content": {XLSX: {}}}})
async def validate_annotated(request: Request, principal: PrincipalDep, session: SessionDep,
                             file: UploadDep) -> Response:
    data = await read_upload(file)

    def work() -> bytes:
        validation = check_workbook(session, data)
        session.close()  # annotating needs no database: give the connection back first
        return annotate(data, validation.problems)

    annotated = await offload(request, session, principal, work)
    name = (file.filename or "candidatura.xlsx").rsplit(".", 1)[0]
    return _xlsx(annotated, f"{name}-verificato.xlsx")


@router.post("/candidacies", status_code=201, summary="Submit a candidacy workbook",
             responses={507: {"description": "The upload store is full: nothing was stored."}})
async def submit_candidacy(
    request: Request, principal: ProponentDep, session: SessionDep, file: UploadDep,
    draft: Annotated[bool, Query(description="store as a draft, to submit later")] = False,
) -> OrjsonResponse:
    """201 with the stored version; 200 when the same file was already stored; 422 with
    the full report when the workbook has errors (nothing is stored); 403 when a
    proponent uploads a workbook in someone else's name; 503 when the service is too
    busy to take it now (nothing is stored; try again after Retry-After)."""
    try:
        data = await read_upload(file)
        outcome = await offload(request, session, principal, lambda: submit(
            session, data, filename=file.filename, client_address=client_ip(request), actor=principal.actor,
            acting_for=principal.tax_id, draft=draft, actor_role=principal.role))
    except OpportunityError as exc:  # refused: counted by the reason the uploader was given
        UPLOADS.labels(exc.code).inc()
        raise
    except WorkbookRejected as exc:
        UPLOADS.labels(f"rejected:{exc.code}").inc()
        raise
    UPLOADS.labels("duplicate" if outcome.duplicate else "stored").inc()
    return OrjsonResponse(outcome.to_dict(), status_code=200 if outcome.duplicate else 201)
