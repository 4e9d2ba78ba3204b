"""Access control for staff-only endpoints, until roles and accounts arrive (issue 5)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header

from app.errors import ForbiddenError
from app.settings import auth_settings


def require_staff(x_staff_token: Annotated[str | None, Header()] = None) -> None:
    expected = auth_settings().staff_token
    if not expected:
        raise ForbiddenError(
            "Staff endpoints are closed: no staff credentials are configured on this server.",
            "Gli endpoint del personale sono chiusi: nessuna credenziale configurata sul server.",
        )
    if not x_staff_token or not secrets.compare_digest(x_staff_token, expected):
        raise ForbiddenError("Staff credentials are missing or wrong.",
                             "Credenziali del personale mancanti o errate.")


StaffDep = Annotated[None, Depends(require_staff)]
