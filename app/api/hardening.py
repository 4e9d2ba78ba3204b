"""Response headers every answer carries, and a cap on request bodies.

Pure ASGI middleware (not BaseHTTPMiddleware) so that streaming and the lifespan are
untouched. The body cap counts the bytes that actually arrive, so a client that sends
no Content-Length, or a false one, cannot get past it.
"""

from __future__ import annotations

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PayloadTooLargeError

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
# Swagger UI loads its script from a CDN; it is the one page allowed to
DOCS_POLICY = (b"default-src 'self'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
               b"style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: https://fastapi.tiangolo.com; "
               b"frame-ancestors 'none'")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, page_prefixes: tuple[str, ...] = ("/map", "/static"),
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

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = {**HEADERS, b"content-security-policy": policy}
                if self.hsts:
                    extra[b"strict-transport-security"] = b"max-age=31536000; includeSubDomains"
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
        body = orjson.dumps({"error": _too_large(limit).to_dict()})
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _too_large(limit: int) -> PayloadTooLargeError:
    return PayloadTooLargeError(f"The request body is larger than {limit / 1e6:.1f} MB, the limit.",
                                f"Il corpo della richiesta supera {limit / 1e6:.1f} MB, il limite.")


class BodyTooLarge(HTTPException):
    """An HTTPException so that FastAPI's body parsing lets it through (it turns any other
    exception into a 400); the error map answers with ``error``."""

    def __init__(self, error: PayloadTooLargeError) -> None:
        super().__init__(413, error.message)
        self.error = error
