"""Absolute links in answers (OGC links, TileJSON), from the configured public base URL.

Links are never built from whatever Host header a client sends: with
``OPPORTUNITY_API_PUBLIC_BASE_URL`` set they start with it; without it, with the
request's own host, which the trusted-host check has already limited to
``OPPORTUNITY_API_ALLOWED_HOSTS``."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from app.core.settings import api_settings


def base_url(request: Request) -> str:
    """The service's public root, without a trailing slash."""
    return api_settings().public_base_url or str(request.base_url).rstrip("/")


def this_url(request: Request, **params: Any) -> str:
    """The request's own URL (with ``params`` replaced) under the public root."""
    url = str(request.url.include_query_params(**params) if params else request.url)
    own_root = str(request.base_url).rstrip("/")
    return base_url(request) + url[len(own_root):]
