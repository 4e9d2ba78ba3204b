"""``opportunity users`` and ``opportunity keys``: accounts and read-only API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.common import catalogue_session, console, fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session
from app.core.errors import OpportunityError

users_cli = typer.Typer(no_args_is_help=True, help="Accounts: proponents, staff, admins.")
keys_cli = typer.Typer(no_args_is_help=True, help="Read-only API keys for frontends.")


def _password(given: str | None) -> str:
    """From the option, else OPPORTUNITY_NEW_PASSWORD (scripts), else asked twice."""
    import os

    return given or os.environ.get("OPPORTUNITY_NEW_PASSWORD") or typer.prompt(
        "Password (12+ characters)", hide_input=True, confirmation_prompt=True)


@users_cli.command("create")
def users_create(
    email: Annotated[str, typer.Argument(help="Sign-in e-mail.")],
    role: Annotated[str, typer.Option(help="proponent, staff or admin.")] = "proponent",
    tax_id: Annotated[str | None, typer.Option(help="Codice fiscale or partita IVA a proponent acts for.")] = None,
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    password: Annotated[str | None, typer.Option(help="Prefer the prompt or OPPORTUNITY_NEW_PASSWORD.")] = None,
) -> None:
    """Create an account."""
    from app.accounts.auth import create_user
    from app.core.schema import AuditEvent

    secret = _password(password)
    with catalogue_session() as session:
        try:
            user = create_user(session, email, secret, role, name, tax_id)
        except OpportunityError as exc:
            raise fail(exc.message) from exc
        session.add(AuditEvent(actor="cli", actor_role="admin", action="user.create", entity_type="user",
                               entity_id=str(user.id), details={"role": role}))
        session.commit()
        console.print(f"created {role} account {user.email} (id {user.id})")


@users_cli.command("list")
def users_list() -> None:
    """Every account."""
    from sqlalchemy import select

    from app.accounts.models import User

    table = Table("id", "email", "role", "tax id", "active", "last login")
    with catalogue_session() as session:
        for u in session.scalars(select(User).order_by(User.id)):
            table.add_row(str(u.id), u.email, u.role, u.tax_id or "", "yes" if u.is_active else "no",
                          f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "")
    Console().print(table)


def _user(session: Session, email: str):
    from app.accounts.auth import find_user

    user = find_user(session, email)
    if user is None:
        raise fail(f"no account for {email}")
    return user


@users_cli.command("password")
def users_password(email: str, password: Annotated[str | None, typer.Option()] = None) -> None:
    """Set a new password; the account's existing tokens stop working."""
    from app.accounts.auth import set_password

    secret = _password(password)
    with catalogue_session() as session:
        try:
            set_password(_user(session, email), secret)
        except OpportunityError as exc:
            raise fail(exc.message) from exc
        session.commit()
    console.print(f"password changed for {email}; its sessions were signed out")


@users_cli.command("deactivate")
def users_deactivate(email: str) -> None:
    """Lock an account out at once (its tokens stop working); nothing is deleted."""
    from app.accounts.auth import deactivate

    with catalogue_session() as session:
        deactivate(_user(session, email))
        session.commit()
    console.print(f"{email} deactivated")


@keys_cli.command("create")
def keys_create(name: Annotated[str, typer.Argument(help="Which frontend will use it.")]) -> None:
    """A new read-only key; printed once on standard output."""
    from app.accounts.auth import create_api_key

    with catalogue_session() as session:
        row, key = create_api_key(session, name)
        prefix = row.prefix
        session.commit()
    console.print(f"API key {prefix} for {name!r} (shown once; send it as the X-API-Key header):")
    print(key)


@keys_cli.command("revoke")
def keys_revoke(prefix: Annotated[str, typer.Argument(help="The key's prefix (the part after olk_).")]) -> None:
    """Revoke a key at once."""
    from app.accounts.auth import revoke_api_key

    with catalogue_session() as session:
        done = revoke_api_key(session, prefix)
        session.commit()
    if not done:
        raise fail(f"no active key with prefix {prefix}")
    console.print(f"key {prefix} revoked")
