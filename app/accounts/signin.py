"""Signing in: password check, throttling that stops guessing without letting anyone lock
the real user out, and the audit record of every attempt.

Per address: every attempt counts (429 past the limit). Per account and address: wrong
passwords count (429 for that pair only). Per account, all addresses together: wrong
passwords past a threshold slow every further attempt down (up to a few seconds)
instead of refusing it, so the user with the right password still gets in.
"""

from __future__ import annotations

import time

from sqlalchemy.orm import Session

from app.accounts.auth import authenticate, issue_token
from app.accounts.models import User
from app.accounts.ratelimit import count, current, hit
from app.core.errors import UnauthorizedError
from app.core.schema import AuditEvent
from app.core.settings import limit_settings


def _audit(session: Session, email: str, ok: bool, role: str | None, address: str | None) -> None:
    """Committed at once: a failed attempt is recorded although the request then fails."""
    session.add(AuditEvent(actor=email.replace("\x00", "")[:200], actor_role=role,
                           action="auth.login" if ok else "auth.login_failed", entity_type="user",
                           client_address=address))
    session.commit()


def admit(session: Session, email: str, address: str | None) -> float:
    """Count the attempt (429 past the limits) and return how long it must wait first:
    the slow-down for an account under attack. The caller waits (the API on its event
    loop, so a waiting attempt holds no thread)."""
    account = email.strip().lower()
    limits = limit_settings()
    window = limits.window_seconds
    if address:  # unknown peers (a Unix socket) would otherwise share one bucket
        hit(session, f"login:ip:{address}", limits.logins, window)
        failures = current(session, f"login-fail:{account}:{address}", window)
        if failures.hits >= limits.login_failures_per_address:
            raise failures.refuse(limits.login_failures_per_address)
    excess = current(session, f"login-fail:{account}", window).hits - limits.login_failures_before_slowdown
    session.commit()  # give the connection back before any wait
    return min(excess * limits.login_slowdown_step_s, limits.login_slowdown_max_s) if excess > 0 else 0.0


def sign_in(session: Session, email: str, password: str, address: str | None,
            csrf: str | None = None) -> tuple[User, str, int]:
    """The account, an access token and its lifetime in seconds; 401 or 429 otherwise.
    ``csrf`` binds a browser session's CSRF token into the token. Waits in this thread:
    for commands and tests; the API admits, waits and verifies separately."""
    time.sleep(admit(session, email, address))
    return verify(session, email, password, address, csrf)


def verify(session: Session, email: str, password: str, address: str | None,
           csrf: str | None = None) -> tuple[User, str, int]:
    """The password check (argon2id: the expensive part) and its audit record."""
    account = email.strip().lower()
    try:
        user = authenticate(session, email, password)
    except UnauthorizedError:
        session.rollback()
        window = limit_settings().window_seconds
        count(session, f"login-fail:{account}", window)
        if address:
            count(session, f"login-fail:{account}:{address}", window)
        _audit(session, email, False, None, address)
        raise
    token, lifetime = issue_token(user, csrf=csrf)
    _audit(session, user.email, True, user.role, address)
    return user, token, lifetime
