"""JSON responses serialised with orjson: the API's hot paths return large GeoJSON
documents, where serialisation dominates (see docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


class ErrorBody(BaseModel):
    code: str
    message: str
    message_it: str
    details: Any = None


class ErrorResponse(BaseModel):
    """Every error: a stable code and messages in English and Italian."""

    error: ErrorBody


DESCRIPTIONS = {
    400: "A parameter cannot be understood", 401: "Not signed in, or the token is invalid or expired",
    403: "Not allowed for this role or this record", 404: "Not found",
    409: "Conflicts with the current state", 413: "Upload too large", 415: "Not a supported file type", 422: "Invalid input",
    429: "Too many attempts: wait for Retry-After seconds", 503: "Catalogue temporarily unavailable",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an endpoint can answer."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}
