"""Signing in (OAuth2 password flow for programs, an HttpOnly cookie session for the
desk's pages), the caller's own account and registry data, and account and API-key
administration for admins."""

from __future__ import annotations

import asyncio
import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts.auth import (
    authenticate,
    create_api_key,
    create_user,
    issue_token,
    revoke_api_key,
    revoke_session,
    set_password,
)
from app.accounts.models import ApiKey, User
from app.accounts.ratelimit import count, current
from app.accounts.signin import admit, verify
from app.api.queues import admitted, queue
from app.api.responses import OrjsonResponse, error_responses
from app.api.security import CSRF_COOKIE, SESSION_COOKIE, AccountDep, AdminDep, client_ip
from app.candidacies.intake import proponent_prefill
from app.candidacies.registry import correct_proponent
from app.core.database import SessionDep
from app.core.errors import InvalidInputError, NotFoundError, UnauthorizedError
from app.core.schema import AuditEvent
from app.core.settings import auth_settings, limit_settings

router = APIRouter(tags=["accounts"], responses=error_responses(401, 403, 422, 429, 503))


async def _sign_in(request: Request, session: Session, email: str, password: str,
                   csrf: str | None = None) -> tuple[User, str, int]:
    """Admit the attempt (rate limits), wait out any slow-down on the event loop, then
    check the password in the hashing queue: a flood of sign-ins holds no thread while
    it waits, and never more hashing threads than the queue's slots."""
    address = client_ip(request)
    delay = await admitted(request, admit, session, email, address)
    if delay:
        await asyncio.sleep(delay)
    return await queue(request, "hashing").run(lambda: verify(session, email, password, address, csrf))


@router.post("/auth/token", summary="Sign in: an access token for an e-mail and password")
async def login(request: Request, session: SessionDep,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> OrjsonResponse:
    user, token, lifetime = await _sign_in(request, session, form.username, form.password)
    return OrjsonResponse({"access_token": token, "token_type": "bearer", "expires_in": lifetime,
                           "role": user.role})


class Credentials(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class NewPassword(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class Registry(BaseModel):
    """What a proponent may correct of its own registry data (not its tax identifiers)."""

    name: str | None = Field(default=None, min_length=1, max_length=300)
    legal_nature: Literal["ente_pubblico", "persona_giuridica_privata", "persona_fisica",
                          "ente_non_profit"] | None = None
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    pec: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^[0-9+ ()./-]{5,40}$")


def _session_response(body: dict[str, Any], token: str, csrf: str, lifetime: int) -> OrjsonResponse:
    """The session token in an HttpOnly cookie no script can read; the CSRF token in a
    readable one that the desk's pages echo in X-CSRF-Token (the token binds the two)."""
    response = OrjsonResponse({**body, "csrf_token": csrf, "expires_in": lifetime})
    secure = auth_settings().secure_cookies
    response.set_cookie(SESSION_COOKIE, token, max_age=lifetime, httponly=True, secure=secure, samesite="strict")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=lifetime, httponly=False, secure=secure, samesite="strict")
    return response


@router.post("/auth/session", summary="Sign in from a browser: an HttpOnly session cookie and a CSRF token")
async def open_session(request: Request, session: SessionDep, body: Credentials) -> OrjsonResponse:
    csrf = secrets.token_urlsafe(24)
    user, token, lifetime = await _sign_in(request, session, body.email, body.password, csrf=csrf)
    return _session_response({"role": user.role, "email": user.email}, token, csrf, lifetime)


@router.delete("/auth/session", summary="Sign out of this browser: the session cookie stops working at once")
def close_session(principal: AccountDep, session: SessionDep, request: Request) -> OrjsonResponse:
    """Only the browser session is ended; a program's bearer token simply expires."""
    cookie = request.cookies.get(SESSION_COOKIE)
    ended = bool(cookie) and revoke_session(session, cookie)
    if ended:
        session.add(AuditEvent(actor=principal.actor, actor_role=principal.role, action="auth.logout",
                               entity_type="user", entity_id=str(principal.user_id),
                               client_address=client_ip(request)))
    session.commit()
    response = OrjsonResponse({"signed_out": ended})
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, secure=auth_settings().secure_cookies, httponly=name == SESSION_COOKIE,
                               samesite="strict")
    return response


@router.post("/auth/password", summary="Change your password (other sessions are signed out)")
async def change_password(principal: AccountDep, session: SessionDep, body: NewPassword,
                          request: Request) -> OrjsonResponse:
    """Both argon2id computations (checking the current password, hashing the new one) run
    in the hashing queue, like a sign-in's."""
    # a stolen session must not become a way to guess the password: wrong current
    # passwords are limited per account like wrong sign-ins from one address
    bucket, window = f"password-fail:{principal.user_id}", limit_settings().window_seconds

    def admit_change() -> None:
        failures, limit = current(session, bucket, window), limit_settings().login_failures_per_address
        if failures.hits >= limit:
            raise failures.refuse(limit)
        session.commit()

    def change() -> User:
        try:
            user = authenticate(session, principal.email or "", body.current_password)
        except UnauthorizedError:
            session.rollback()
            count(session, bucket, window)
            raise InvalidInputError("The current password is wrong.", "La password attuale è errata.") from None
        set_password(user, body.new_password)
        session.add(AuditEvent(actor=principal.actor, actor_role=principal.role, action="auth.password_change",
                               entity_type="user", entity_id=str(user.id), client_address=client_ip(request)))
        session.commit()
        session.refresh(user)
        return user

    await admitted(request, admit_change)
    user = await queue(request, "hashing").run(change)
    csrf = secrets.token_urlsafe(24)
    token, lifetime = issue_token(user, csrf=csrf)
    return _session_response({"changed": True, "access_token": token} if SESSION_COOKIE not in request.cookies
                             else {"changed": True}, token, csrf, lifetime)


def _account(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "full_name": user.full_name, "role": user.role,
            "tax_id": user.tax_id, "is_active": user.is_active,
            "created_at": user.created_at.isoformat() if user.created_at else None}


@router.get("/auth/me", summary="The signed-in account (and a proponent's registry data)")
def me(principal: AccountDep, session: SessionDep) -> OrjsonResponse:
    account = _account(session.get(User, principal.user_id))
    if principal.tax_id:
        account["registry"] = proponent_prefill(session, principal.tax_id)
    return OrjsonResponse(account)


@router.patch("/auth/me/registry", summary="Correct your registry data (they pre-fill your next template)",
              responses=error_responses(404))
def correct_registry(principal: AccountDep, session: SessionDep, body: Registry,
                     request: Request) -> OrjsonResponse:
    if not principal.tax_id:
        raise NotFoundError("Only proponent accounts have registry data.",
                            "Solo gli account proponente hanno dati anagrafici.")
    values = body.model_dump(exclude_unset=True)
    person = correct_proponent(session, principal.tax_id, values)
    session.add(AuditEvent(actor=principal.actor, actor_role=principal.role, action="proponent.correct",
                           entity_type="proponent", entity_id=str(person.id), client_address=client_ip(request),
                           details={"fields": sorted(values)}))
    session.commit()
    return OrjsonResponse(proponent_prefill(session, principal.tax_id))


class NewUser(BaseModel):
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    password: str = Field(min_length=12, max_length=256)
    role: Literal["proponent", "staff", "admin"]
    full_name: str | None = Field(default=None, max_length=200)
    tax_id: str | None = Field(default=None, max_length=20,
                               description="codice fiscale or partita IVA a proponent acts for")


class NewApiKey(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="which frontend uses it")


@router.get("/admin/users", summary="Accounts (admin)")
def users(_: AdminDep, session: SessionDep) -> OrjsonResponse:
    return OrjsonResponse([_account(u) for u in session.scalars(select(User).order_by(User.id))])


@router.post("/admin/users", status_code=201, summary="Create an account (admin)",
             responses=error_responses(409))
def add_user(admin: AdminDep, session: SessionDep, body: NewUser, request: Request) -> OrjsonResponse:
    user = create_user(session, body.email, body.password, body.role, body.full_name, body.tax_id)
    session.add(AuditEvent(actor=admin.actor, actor_role=admin.role, action="user.create", entity_type="user",
                           entity_id=str(user.id), client_address=client_ip(request),
                           details={"role": user.role}))
    session.commit()
    return OrjsonResponse(_account(user), status_code=201)


@router.post("/admin/api-keys", status_code=201, summary="Create a read-only API key (admin)")
def add_api_key(admin: AdminDep, session: SessionDep, body: NewApiKey, request: Request) -> OrjsonResponse:
    row, key = create_api_key(session, body.name)
    session.add(AuditEvent(actor=admin.actor, actor_role=admin.role, action="api_key.create",
                           entity_type="api_key", entity_id=row.prefix, client_address=client_ip(request)))
    session.commit()
    return OrjsonResponse({"name": row.name, "prefix": row.prefix, "key": key,
                           "note": "Shown once: store it now."}, status_code=201)


@router.get("/admin/api-keys", summary="Read-only API keys (admin): names and prefixes, never the keys")
def api_keys(_: AdminDep, session: SessionDep) -> OrjsonResponse:
    return OrjsonResponse([{"name": k.name, "prefix": k.prefix, "created_at": k.created_at.isoformat(),
                            "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None}
                           for k in session.scalars(select(ApiKey).order_by(ApiKey.id))])


@router.delete("/admin/api-keys/{prefix}", summary="Revoke an API key (admin)", responses=error_responses(404))
def delete_api_key(admin: AdminDep, session: SessionDep, prefix: Annotated[str, Path(max_length=16)],
                   request: Request) -> OrjsonResponse:
    if not revoke_api_key(session, prefix):
        raise NotFoundError(f"No active API key {prefix}.", f"Nessuna chiave API attiva {prefix}.")
    session.add(AuditEvent(actor=admin.actor, actor_role=admin.role, action="api_key.revoke",
                           entity_type="api_key", entity_id=prefix, client_address=client_ip(request)))
    session.commit()
    return OrjsonResponse({"prefix": prefix, "revoked": True})
