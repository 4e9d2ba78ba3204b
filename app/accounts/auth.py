"""Who is calling: accounts, passwords, signed tokens and read-only API keys.

Passwords are hashed with argon2id (pwdlib); access tokens are HS256 JWTs (PyJWT) that
carry the account id, its role and its ``token_version``: every request re-reads the
account, so deactivating it or bumping the version revokes tokens at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.accounts.models import ApiKey, RevokedSession, User
from app.core.errors import ConflictError, ForbiddenError, InvalidInputError, UnauthorizedError
from app.core.settings import auth_settings, storage_settings
from ingest import codes
from ingest import vocabulary as v

Role = Literal["anonymous", "reader", "proponent", "staff", "admin"]
ALGORITHM = "HS256"
ISSUER = "opportunity-lombardy"
API_KEY_PREFIX = "olk_"
MIN_SECRET_LENGTH = 32
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Principal:
    """The caller of one request. ``tax_id`` is set for proponents only."""

    role: Role
    user_id: int | None = None
    email: str | None = None
    tax_id: str | None = None
    api_key: str | None = None  # the key's public prefix

    @property
    def is_staff(self) -> bool:
        return self.role in ("staff", "admin")

    @property
    def actor(self) -> str:
        """How the audit log names the caller."""
        return self.email or (f"api-key:{self.api_key}" if self.api_key else "anonymous")


ANONYMOUS = Principal("anonymous")


class SecretKeyError(RuntimeError):
    """Raised at start-up in production when no proper secret key is configured."""


# -- secrets and passwords --------------------------------------------------------------------


@lru_cache
def _hasher() -> PasswordHash:
    return PasswordHash((Argon2Hasher(),))


@lru_cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so that a wrong e-mail takes as
    long as a wrong password and does not reveal which accounts exist."""
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInputError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            f"La password deve avere almeno {MIN_PASSWORD_LENGTH} caratteri.",
        )
    return _hasher().hash(password)


def secret_key() -> str:
    """The signing key: from OPPORTUNITY_AUTH_SECRET_KEY; in development, when unset, a
    random key kept in ``var/secret_key`` (0600) and shared by the machine's workers."""
    settings = auth_settings()
    configured = settings.secret_key.get_secret_value() if settings.secret_key else None
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise SecretKeyError(
                f"OPPORTUNITY_AUTH_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        return configured
    if settings.environment == "production":
        raise SecretKeyError(
            "OPPORTUNITY_ENV=production needs OPPORTUNITY_AUTH_SECRET_KEY (32+ random characters); "
            "the service will not sign tokens with a generated development key in production."
        )
    return _development_key(storage_settings().data_dir / "secret_key")


def _development_key(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another worker wrote it first
            return path.read_text().strip()
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key


# -- accounts ---------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    """The account of an e-mail address, however it was typed."""
    email = normalise_email(email)
    if "\x00" in email:  # PostgreSQL text cannot hold it: no account can match
        return None
    return session.scalars(select(User).where(User.email == email)).first()


def create_user(session: Session, email: str, password: str, role: str, full_name: str | None = None,
                tax_id: str | None = None) -> User:
    """A new account; proponents need the codice fiscale or partita IVA they act for."""
    email = normalise_email(email)
    if role not in v.USER_ROLES:
        raise InvalidInputError(f"'{role}' is not a role; use one of: {', '.join(v.USER_ROLES)}.",
                                f"'{role}' non è un ruolo; usare uno tra: {', '.join(v.USER_ROLES)}.")
    if "@" not in email:
        raise InvalidInputError(f"'{email}' is not an e-mail address.", f"'{email}' non è un indirizzo e-mail.")
    code = codes.clean(tax_id) if tax_id else None
    if role == "proponent" and not code:
        raise InvalidInputError(
            "A proponent account needs the codice fiscale or partita IVA it acts for.",
            "Un account proponente richiede il codice fiscale o la partita IVA per cui agisce.",
        )
    if code and codes.tax_id_problem(code) is not None:
        raise InvalidInputError(f"'{tax_id}' is neither a valid codice fiscale nor a partita IVA.",
                                f"'{tax_id}' non è un codice fiscale né una partita IVA validi.")
    if find_user(session, email) is not None:
        raise ConflictError(f"An account for {email} already exists.", f"Esiste già un account per {email}.")
    user = User(email=email, password_hash=hash_password(password), role=role, full_name=full_name,
                tax_id=code)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> User:
    """The active account with these credentials; one message for every failure."""
    user = find_user(session, email)
    if user is None or not user.is_active:
        _hasher().verify(password, _dummy_hash())
        raise _bad_credentials()
    valid, rehashed = _hasher().verify_and_update(password, user.password_hash)
    if not valid:
        raise _bad_credentials()
    if rehashed:
        user.password_hash = rehashed
    user.last_login_at = func.now()
    return user


def _bad_credentials() -> UnauthorizedError:
    return UnauthorizedError("Wrong e-mail or password.", "E-mail o password errate.")


def set_password(user: User, password: str) -> None:
    """New password; tokens issued before it stop working."""
    user.password_hash = hash_password(password)
    user.token_version = User.token_version + 1


def deactivate(user: User) -> None:
    user.is_active = False
    user.token_version = User.token_version + 1


# -- tokens -----------------------------------------------------------------------------------


def issue_token(user: User, now: dt.datetime | None = None, csrf: str | None = None) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds. A browser session's token
    carries the CSRF token its pages must echo (``csrf``), so the pair is bound by the
    signature and nothing is kept on the server."""
    now = now or dt.datetime.now(dt.UTC)
    lifetime = auth_settings().token_minutes * 60
    claims = {
        "sub": str(user.id), "role": user.role, "ver": user.token_version, "iss": ISSUER,
        "iat": now, "exp": now + dt.timedelta(seconds=lifetime),
        **({"csrf": csrf, "jti": secrets.token_urlsafe(16)} if csrf else {}),
    }
    return jwt.encode(claims, secret_key(), algorithm=ALGORITHM), lifetime


def _claims(token: str) -> dict[str, Any]:
    try:
        return jwt.decode(token, secret_key(), algorithms=[ALGORITHM], issuer=ISSUER,
                          options={"require": ["sub", "exp", "iat", "ver"]})
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedError("Your session has expired; sign in again.",
                                "La sessione è scaduta; accedere di nuovo.") from exc
    except jwt.PyJWTError as exc:
        raise UnauthorizedError("The access token is not valid; sign in again.",
                                "Il token di accesso non è valido; accedere di nuovo.") from exc


def principal_from_session(session: Session, token: str, csrf: str | None, safe_method: bool) -> Principal:
    """The account behind a browser's session cookie. A request that changes something
    must echo the session's CSRF token in ``X-CSRF-Token`` (403 otherwise): a cookie
    alone, which a browser attaches by itself, never suffices."""
    claims = _claims(token)
    expected = claims.get("csrf")
    if not isinstance(expected, str):
        raise UnauthorizedError("The session cookie is not valid; sign in again.",
                                "Il cookie di sessione non è valido; accedere di nuovo.")
    if not safe_method and not (csrf and hmac.compare_digest(csrf.encode(), expected.encode())):
        raise ForbiddenError("The page's security token is missing or stale: reload the page and try again.",
                             "Il codice di sicurezza della pagina manca o è scaduto: ricaricare la pagina e riprovare.")
    if session.get(RevokedSession, str(claims.get("jti"))) is not None:
        raise UnauthorizedError("You have signed out of this session; sign in again.",
                                "È uscito da questa sessione; accedere di nuovo.")
    return _principal(session, claims)


def revoke_session(session: Session, token: str) -> bool:
    """Sign a browser session out (idempotent); False when the token is not a browser
    session's. Expired revocations are purged on the way."""
    claims = _claims(token)
    if "jti" not in claims:
        return False
    now = dt.datetime.now(dt.UTC)
    session.execute(delete(RevokedSession).where(RevokedSession.expires_at < now))
    session.merge(RevokedSession(jti=str(claims["jti"]), expires_at=dt.datetime.fromtimestamp(claims["exp"], dt.UTC)))
    return True


def principal_from_token(session: Session, token: str) -> Principal:
    """The account behind a bearer token; 401 when the token is forged, altered, expired,
    revoked, or its account is gone or inactive, and when it is a browser session's
    cookie value: that one works only as the cookie, with its CSRF token and its
    sign-out (a cookie copied into an Authorization header would skip both)."""
    claims = _claims(token)
    if "csrf" in claims or "jti" in claims:
        raise UnauthorizedError("A browser session's cookie is not an access token; get one from /auth/token.",
                                "Il cookie di una sessione del browser non è un token di accesso; ottenerne uno "
                                "da /auth/token.")
    return _principal(session, claims)


def _principal(session: Session, claims: dict[str, Any]) -> Principal:
    user = session.get(User, int(claims["sub"])) if str(claims["sub"]).isdigit() else None
    if user is None or not user.is_active or user.token_version != claims["ver"]:
        raise UnauthorizedError("The access token has been revoked; sign in again.",
                                "Il token di accesso è stato revocato; accedere di nuovo.")
    return Principal(user.role, user.id, user.email, user.tax_id if user.role == "proponent" else None)


# -- API keys ---------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(session: Session, name: str) -> tuple[ApiKey, str]:
    """A new read-only key; the key itself is returned once and never stored."""
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(name=name, prefix=prefix, key_sha256=_digest(key))
    session.add(row)
    session.flush()
    return row, key


def revoke_api_key(session: Session, prefix: str) -> bool:
    result = session.execute(update(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
                             .values(revoked_at=func.now()))
    return bool(result.rowcount)


def principal_from_api_key(session: Session, key: str) -> Principal:
    row = session.scalars(select(ApiKey).where(ApiKey.key_sha256 == _digest(key))).first()
    if row is None or row.revoked_at is not None:
        raise UnauthorizedError("The API key is not valid or has been revoked.",
                                "La chiave API non è valida o è stata revocata.")
    return Principal("reader", api_key=row.prefix)
