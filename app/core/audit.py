"""Reading the append-only audit log (every room writes to it: uploads, moves, consent,
sign-ins, accounts, detection reviews)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.schema import AuditEvent


def search(session: Session, *, entity_type: str | None = None, entity_id: str | None = None,
           action: str | None = None, actor: str | None = None, since: dt.date | None = None,
           until: dt.date | None = None, before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Events newest first, filtered (``until`` includes its whole day); page backwards
    with ``before_id``."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    for column, value in ((AuditEvent.entity_type, entity_type), (AuditEvent.entity_id, entity_id),
                          (AuditEvent.action, action), (AuditEvent.actor, actor)):
        if value is not None:
            query = query.where(column == value)
    if since:
        query = query.where(AuditEvent.occurred_at >= since)
    if until:
        query = query.where(AuditEvent.occurred_at < until + dt.timedelta(days=1))
    if before_id:
        query = query.where(AuditEvent.id < before_id)
    return [{
        "id": e.id, "at": e.occurred_at.isoformat(), "actor": e.actor, "actor_role": e.actor_role,
        "action": e.action, "entity_type": e.entity_type, "entity_id": e.entity_id, "from": e.from_status,
        "to": e.to_status, "reason": e.reason, "client_address": str(e.client_address) if e.client_address else None,
        "details": e.details} for e in session.scalars(query)]
