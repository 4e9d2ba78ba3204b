"""Map every error to a JSON body with a stable code and messages a user can act on.

Anything unexpected becomes a plain 500 whose body says nothing about the
internals; the traceback goes to the log only.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.api.responses import OrjsonResponse
from app.core.errors import (
    BadRequestError,
    InvalidInputError,
    OpportunityError,
    ServiceBusyError,
    ServiceUnavailableError,
)
from geo.layers import LayerError
from ingest.problems import WorkbookRejected

log = logging.getLogger("opportunity.api")


OGC_PATHS = ("/collections",)  # OGC API - Features: invalid parameters are 400 with an OGC exception


def _respond(error: OpportunityError, path: str = "") -> OrjsonResponse:
    body: dict[str, Any] = {"error": error.to_dict()}
    if path.startswith(OGC_PATHS) and error.status_code in (400, 404):
        body |= {"code": "InvalidParameterValue" if error.status_code == 400 else "NotFound",
                 "description": error.message}
    return OrjsonResponse(body, status_code=error.status_code, headers=error.headers or None)


async def _opportunity_error(request: Request, exc: OpportunityError) -> OrjsonResponse:
    return _respond(exc, request.url.path)


async def _layer_error(_: Request, exc: LayerError) -> OrjsonResponse:
    return _respond(InvalidInputError(exc.message, exc.message_it))


async def _workbook_rejected(_: Request, exc: WorkbookRejected) -> OrjsonResponse:
    error = OpportunityError(
        exc.message_en, exc.message_it,
        details={"sheet": exc.sheet, "cell": exc.cell} if exc.sheet or exc.cell else None,
    )
    error.status_code, error.code = exc.status, exc.code
    return _respond(error)


async def _validation_error(request: Request, exc: RequestValidationError) -> OrjsonResponse:
    details = [
        {"location": list(e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()
    ]
    error_class = BadRequestError if request.url.path.startswith(OGC_PATHS) else InvalidInputError
    return _respond(
        error_class(
            "The request is not valid; see details for each parameter.",
            "La richiesta non è valida; vedere i dettagli per ciascun parametro.",
            details=details,
        ),
        request.url.path,
    )


async def _http_error(_: Request, exc: StarletteHTTPException) -> OrjsonResponse:
    carried = getattr(exc, "error", None)
    if isinstance(carried, OpportunityError):
        return _respond(carried)
    error = OpportunityError(str(exc.detail), str(exc.detail))
    error.status_code = exc.status_code
    error.code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _respond(error)


async def _database_down(_: Request, exc: OperationalError) -> OrjsonResponse:
    log.error("database unavailable: %s", exc)
    error = ServiceUnavailableError(
        "The catalogue database is not reachable; nothing was changed. Try again in a minute.",
        "Il database del catalogo non è raggiungibile; non è stato modificato nulla. Riprovare tra un minuto.",
    )
    error.headers = {"Retry-After": "30"}
    return _respond(error)


async def _pool_exhausted(_: Request, exc: PoolTimeout) -> OrjsonResponse:
    """Every connection of the pool is in use: the caller should come back shortly."""
    log.warning("connection pool exhausted: %s", exc)
    return _respond(ServiceBusyError())


async def _bad_value(_: Request, exc: DataError) -> OrjsonResponse:
    """PostgreSQL refused a value the request carried (a NUL character, a number out of
    range): the caller's input, not a fault of the service."""
    log.info("value refused by the database: %s", exc.orig)
    return _respond(InvalidInputError(
        "A value in the request cannot be used (control characters such as NUL, or a number out of range).",
        "Un valore della richiesta non è utilizzabile (caratteri di controllo come NUL, o un numero fuori intervallo).",
    ))


async def _unexpected(_: Request, exc: Exception) -> OrjsonResponse:
    log.exception("unhandled error", exc_info=exc)
    return _respond(
        OpportunityError(
            "Internal error. It has been logged; please try again or contact the service.",
            "Errore interno. È stato registrato; riprovare o contattare il servizio.",
        )
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OpportunityError, _opportunity_error)
    app.add_exception_handler(LayerError, _layer_error)
    app.add_exception_handler(WorkbookRejected, _workbook_rejected)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DataError, _bad_value)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(Exception, _unexpected)
