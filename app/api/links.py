"""Absolute links in answers (OGC links, TileJSON), from the configured public base URL.

Links are never built from whatever Host header a client sends: with
``OPPORTUNITY_API_PUBLIC_BASE_URL`` set they start with it; without it, with the
request's own host, which the trusted-host check has already limited to
``OPPORTUNITY_API_ALLOWED_HOSTS``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from app.core.settings import api_settings


def base_url(request: Request) -> str:
    """The service's public root, without a trailing slash."""
    return api_settings().public_base_url or str(request.base_url).rstrip("/")


def this_url(request: Request, **params: Any) -> str:
    """The request's own URL under the public root, each query parameter once (a client
    that appends its own parameters to a next link must not make the links grow), with
    ``params`` replaced."""
    query = {**dict(request.query_params), **{k: str(v) for k, v in params.items()}}
    own_root = str(request.base_url).rstrip("/")
    path = str(request.url.replace(query="")).rstrip("?")[len(own_root):]
    return base_url(request) + path + (f"?{urlencode(query)}" if query else "")
