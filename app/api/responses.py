"""JSON responses serialised with orjson: the API's hot paths return large GeoJSON
documents, where serialisation dominates (see docs/benchmarks.md)."""

from __future__ import annotations

import ipaddress
import json
import re
import unicodedata
from typing import Any
from urllib.parse import quote

import orjson
from fastapi.responses import JSONResponse
from pydantic import BaseModel

# for routes answering application/geo+json: documented, so clients and schema checks expect it
GEOJSON: dict[int | str, dict[str, Any]] = {200: {"content": {"application/geo+json": {}}, "description": "GeoJSON"}}
OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY


def _default(value: Any) -> Any:
    """Types orjson does not know but the catalogue holds (INET columns)."""
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network
                  | ipaddress.IPv6Network):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=_default, option=OPTIONS)
        except orjson.JSONEncodeError:
            # text that is not valid Unicode (a lone surrogate echoed from a request):
            # escaped the standard library's way instead of failing the answer
            return json.dumps(content, default=_default, ensure_ascii=True).encode()


def attachment(filename: str) -> str:
    """A Content-Disposition header value for a download (RFC 6266): an ASCII fallback
    without quotes, backslashes or control characters, and the full name as UTF-8 in
    ``filename*``. A name with a line feed or a euro sign can no longer break the header."""
    name = "".join(ch for ch in filename if unicodedata.category(ch)[0] != "C").strip() or "download"
    fallback = re.sub(r'[^A-Za-z0-9._ -]', "_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode())
    return f'attachment; filename="{fallback.strip() or "download"}"; filename*=UTF-8\'\'{quote(name, safe="")}'


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
    429: "Too many attempts: wait for Retry-After seconds",
    503: "Catalogue temporarily unavailable or busy: try again after Retry-After seconds",
    507: "No room left to store the upload: nothing was stored",
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses an endpoint can answer."""
    return {code: {"model": ErrorResponse, "description": DESCRIPTIONS[code]} for code in codes}
