"""Response headers every answer carries (500s included), caps on request headers and
bodies.

Pure ASGI middleware (not BaseHTTPMiddleware) so that streaming and the lifespan are
untouched. The body cap counts the bytes that actually arrive, so a client that sends
no Content-Length, or a false one, cannot get past it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import OpportunityError, PayloadTooLargeError

log = logging.getLogger("opportunity.api")

HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
    b"permissions-policy": b"geolocation=(), camera=(), microphone=()",
    b"cross-origin-opener-policy": b"same-origin",
}
# JSON and tiles need no content policy beyond "nothing"; pages list what they load
API_POLICY = b"default-src 'none'; frame-ancestors 'none'"
PAGE_POLICY = (b"default-src 'self'; img-src 'self' data: blob:; worker-src 'self' blob:; "
               b"style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# Swagger UI and ReDoc come from the service's own npm packages; their pages start them
# with an inline script
DOCS_POLICY = (b"default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
               b"img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, page_prefixes: tuple[str, ...] = ("/map", "/desk", "/static"),
                 hsts: bool = False) -> None:
        self.app, self.page_prefixes, self.hsts = app, page_prefixes, hsts

    def _policy(self, path: str) -> bytes:
        if path.startswith(("/docs", "/redoc")):
            return DOCS_POLICY
        return PAGE_POLICY if path.startswith(self.page_prefixes) else API_POLICY

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self._policy(scope["path"])
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = {**HEADERS, b"content-security-policy": policy}
                if self.hsts:
                    extra[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # answered here rather than by Starlette's outermost error middleware, which
            # sits outside this one and would send a 500 without the headers above
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            await _send_json(send_with_headers, 500, OpportunityError(
                "Internal error. It has been logged; please try again or contact the service.",
                "Errore interno. È stato registrato; riprovare o contattare il servizio."))


async def _send_json(send: Send, status: int, error: OpportunityError, extra: list[tuple[bytes, bytes]] = ()) -> None:
    body = orjson.dumps({"error": error.to_dict()})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


class HeaderLimit:
    """431 for requests with too many header lines or too many header bytes, before any
    of them is looked at by the application."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_count: int) -> None:
        self.app, self.max_bytes, self.max_count = app, max_bytes, max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            size = sum(len(k) + len(v) + 4 for k, v in headers)
            if len(headers) > self.max_count or size > self.max_bytes:
                error = OpportunityError(
                    f"The request headers are too large (at most {self.max_count} headers and "
                    f"{self.max_bytes // 1024} KB in all).",
                    f"Le intestazioni della richiesta sono troppo grandi (al massimo {self.max_count} "
                    f"intestazioni e {self.max_bytes // 1024} KB in tutto).")
                error.code = "request_header_fields_too_large"
                await _send_json(send, 431, error, [(b"connection", b"close")])
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """413 for bodies over ``default`` bytes, or over ``uploads`` on multipart uploads."""

    def __init__(self, app: ASGIApp, default: int, uploads: int) -> None:
        self.app, self.default, self.uploads = app, default, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        # multipart framing adds a few hundred bytes around the file itself
        limit = self.uploads + 64 * 1024 if multipart else self.default
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(_too_large(limit))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        await _send_json(send, 413, _too_large(limit), [(b"connection", b"close")])


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit / 1e6:.1f} MB, the limit.",
                                f"Il corpo della richiesta supera {limit / 1e6:.1f} MB, il limite.")


class BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing lets it through (it turns any other
    exception into a 400); the error map answers with ``error``."""

    def __init__(self, error: PayloadTooLargeError) -> None:
        super().__init__(413, error.message)
        self.error = error


class KeepAliveLimit:
    """Closes a connection after ``requests`` responses on it, like nginx's
    ``keepalive_requests`` (uvicorn has no such setting). Workers share one listening
    socket and the first to wake accepts every pending connection: with a few long-lived
    connections (a proxy's upstream pool, a load generator) one worker was measured
    serving all four of the benchmark's connections while the other idled. A closed
    connection's successor goes to a worker free to accept it, so the load evens out
    within a few dozen requests. Connections are told apart by the client's address and
    port; the table is bounded."""

    TRACKED = 4096

    def __init__(self, app: ASGIApp, requests: int) -> None:
        self.app, self.requests = app, requests
        self.served: OrderedDict[tuple[str, int], int] = OrderedDict()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] != "http" or not self.requests or not client:
            await self.app(scope, receive, send)
            return
        key = (client[0], client[1])
        served = self.served.pop(key, 0) + 1
        if served < self.requests:
            self.served[key] = served
            if len(self.served) > self.TRACKED:
                self.served.popitem(last=False)
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)
        await self.app(scope, receive, closing)
