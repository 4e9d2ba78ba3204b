"""Signing in (OAuth2 password flow), the caller's own account, and account and API-key
administration for admins."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.accounts.auth import create_api_key, create_user
from app.accounts.models import User
from app.accounts.signin import sign_in
from app.api.responses import OrjsonResponse, error_responses
from app.api.security import AccountDep, AdminDep, client_ip
from app.core.database import SessionDep
from app.core.schema import AuditEvent

router = APIRouter(tags=["accounts"], responses=error_responses(401, 403, 422, 429, 503))


@router.post("/auth/token", summary="Sign in: an access token for an e-mail and password")
def login(request: Request, session: SessionDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> OrjsonResponse:
    user, token, lifetime = sign_in(session, form.username, form.password, client_ip(request))
    return OrjsonResponse({"access_token": token, "token_type": "bearer", "expires_in": lifetime,
                           "role": user.role})


def _account(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "full_name": user.full_name, "role": user.role,
            "tax_id": user.tax_id, "is_active": user.is_active,
            "created_at": user.created_at.isoformat() if user.created_at else None}


@router.get("/auth/me", summary="The signed-in account")
def me(principal: AccountDep, session: SessionDep) -> OrjsonResponse:
    return OrjsonResponse(_account(session.get(User, principal.user_id)))


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
