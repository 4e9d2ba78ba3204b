"""JSON responses serialised with orjson: the API's hot paths return large GeoJSON
documents, where serialisation dominates (see docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


class GeoJsonResponse(OrjsonResponse):
    media_type = "application/geo+json"
