"""``/metrics`` in Prometheus' text format, for the agency's monitoring only; the
middleware that counts and times every request by its route template (``/sites/{site_id}``,
never the concrete path: one series per route, not per site); and the one that gives
every request its id (a caller's sane ``X-Request-ID``, else a new one), echoed in the
answer and carried into the logs and the audit log."""

from __future__ import annotations

import ipaddress
import re
import time
import uuid
from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.security import PrincipalDep, client_ip
from app.core.errors import ForbiddenError
from app.core.logs import REQUEST_ID
from app.core.metrics import REQUEST_SECONDS, REQUESTS, exposition
from app.core.settings import api_settings

router = APIRouter(tags=["health"])


@lru_cache(maxsize=8)
def _networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(a, strict=False) for a in allowed)


def may_read_metrics(request: Request, staff: bool) -> bool:
    """Staff, and the addresses OPPORTUNITY_API_METRICS_ALLOW names (the monitoring host)."""
    if staff:
        return True
    address = client_ip(request)
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in _networks(tuple(api_settings().metrics_allow)))


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, principal: PrincipalDep) -> Response:
    if not may_read_metrics(request, principal.is_staff):
        raise ForbiddenError("The metrics are for the agency's monitoring (OPPORTUNITY_API_METRICS_ALLOW).",
                             "Le metriche sono per il monitoraggio dell'agenzia (OPPORTUNITY_API_METRICS_ALLOW).")
    body, media_type = exposition()
    return Response(body, media_type=media_type)


SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestObservation:
    """Each HTTP request's id and its count and time, in one layer around the app.

    The id (``X-Request-ID``) is the proxy's or client's when it is a short plain token,
    else a new one; it is set for the request's logs and audit events and returned with
    the answer. The request is counted and timed by route template when its answer
    starts (before the body is sent, so a client that reads /metrics right after sees
    its request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, counted = time.perf_counter(), False
        given = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if SANE_ID.fullmatch(given) else uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)

        def count(status: int) -> None:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            REQUESTS.labels(route, scope["method"], str(status)).inc()
            REQUEST_SECONDS.labels(route, scope["method"]).observe(time.perf_counter() - started)

        async def observed(message: Message) -> None:
            nonlocal counted
            if message["type"] == "http.response.start" and not counted:
                counted = True
                count(message["status"])
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode("latin-1"))]}
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            REQUEST_ID.reset(token)
            if not counted:  # no answer started: the server's own failure
                count(500)
