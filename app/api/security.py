"""Who may call what: small dependencies an endpoint declares in its signature.

A bearer token (OAuth2 password flow, ``/auth/token``) identifies an account; an
``X-API-Key`` header identifies a read-only frontend; anything else is the anonymous
public. Staff endpoints accept staff and admins; proponent endpoints accept proponents
and staff (who act on anyone's candidacy), never the public.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy.orm import Session

from app.accounts.auth import (
    ANONYMOUS,
    Principal,
    principal_from_api_key,
    principal_from_session,
    principal_from_token,
)
from app.core.errors import ForbiddenError, UnauthorizedError
from app.core.settings import api_settings, auth_settings

oauth2 = OAuth2PasswordBearer(tokenUrl="auth/token", auto_error=False)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


SESSION_COOKIE = "ol_session"
CSRF_COOKIE = "ol_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that do no I/O are ``async def``: FastAPI runs a plain ``def`` dependency in
# the thread pool, and each hand-off cost a request tens of microseconds of the worker's
# time (profiled under the load bench). Only the credential lookups touch the database,
# and they run in the thread pool.


async def current_principal(request: Request, token: Annotated[str | None, Depends(oauth2)],
                            api_key: Annotated[str | None, Depends(api_key_header)]) -> Principal:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not token and not api_key and not cookie:
        return ANONYMOUS  # the public: no session, no connection
    return await run_in_threadpool(_lookup, request, token, api_key, cookie)


def _lookup(request: Request, token: str | None, api_key: str | None, cookie: str | None) -> Principal:
    """The credential's account, in a session of its own that ends here: the request does
    not hold a connection while it reads its body or waits for a parsing slot."""
    with request.app.state.sessionmaker() as session:
        if token:
            principal = principal_from_token(session, token)
        elif api_key:
            principal = principal_from_api_key(session, api_key)
        else:
            principal = _cookie_principal(request, session, cookie or "")
        session.commit()
    return principal


def _cookie_principal(request: Request, session: Session, cookie: str) -> Principal:
    """A stale session cookie leaves a browser anonymous (public pages keep working; the
    desk asks it to sign in again); a missing CSRF token is refused."""
    try:
        return principal_from_session(session, cookie, request.headers.get(CSRF_HEADER),
                                      request.method in SAFE_METHODS)
    except UnauthorizedError:
        return ANONYMOUS


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def require_reader(principal: PrincipalDep) -> Principal:
    """The public catalogue: open, unless the deployment asks frontends for an API key."""
    if principal.role == "anonymous" and auth_settings().require_api_key:
        raise UnauthorizedError("This catalogue needs an API key (X-API-Key header).",
                                "Questo catalogo richiede una chiave API (intestazione X-API-Key).")
    return principal


def _account(principal: Principal) -> Principal:
    if principal.role in ("anonymous", "reader"):
        raise UnauthorizedError("Sign in first (the desk's sign-in page, or POST /auth/token).",
                                "Accedere prima (pagina di accesso dello sportello, o POST /auth/token).")
    return principal


async def require_account(principal: PrincipalDep) -> Principal:
    """Any signed-in account (an API key is not one)."""
    return _account(principal)


async def require_proponent(principal: PrincipalDep) -> Principal:
    if _account(principal).role not in ("proponent", "staff", "admin"):
        raise ForbiddenError("Only proponents and staff can do this.", "Solo proponenti e personale possono farlo.")
    return principal


async def require_staff(principal: PrincipalDep) -> Principal:
    if not _account(principal).is_staff:
        raise ForbiddenError("Only the agency's staff can do this.", "Solo il personale dell'agenzia può farlo.")
    return principal


async def require_admin(principal: PrincipalDep) -> Principal:
    if _account(principal).role != "admin":
        raise ForbiddenError("Only administrators can do this.", "Solo gli amministratori possono farlo.")
    return principal


ReaderDep = Annotated[Principal, Depends(require_reader)]
AccountDep = Annotated[Principal, Depends(require_account)]
ProponentDep = Annotated[Principal, Depends(require_proponent)]
StaffDep = Annotated[Principal, Depends(require_staff)]
AdminDep = Annotated[Principal, Depends(require_admin)]


def caller_key(request: Request, principal: Principal) -> str:
    """Whom a rate limit counts: the account, or the address for the public and for
    read-only keys."""
    return f"user:{principal.user_id}" if principal.user_id else f"ip:{client_ip(request)}"


def client_ip(request: Request) -> str | None:
    """The client's IP address for the audit log and rate limits; None when the peer is
    not an IP (a Unix socket, the test client).

    ``X-Forwarded-For`` is believed only from the proxies listed in
    ``OPPORTUNITY_API_TRUSTED_PROXIES``: the client is the nearest address in the chain
    that is not one of them. From anyone else the header is ignored, so it can neither
    dodge a rate limit nor forge the address written to the audit log."""
    peer = _ip(request.client.host if request.client else None)
    if peer is None or not _trusted(peer):
        return str(peer) if peer else None
    chain = [_ip(part.strip()) for part in request.headers.get("x-forwarded-for", "").split(",")]
    for address in reversed(chain):
        if address is None:
            return str(peer)  # a malformed hop: stop believing the chain there
        if not _trusted(address):
            return str(address)
    return str(peer)


def _ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value) if value else None
    except ValueError:
        return None


@lru_cache(maxsize=1)
def _proxies(configured: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in configured)


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(address in net for net in _proxies(tuple(api_settings().trusted_proxies)))
