"""The outbox as staff see it: what was sent, what waits, and the dead letters that need
a person (a refused address, a mail server down for hours, a send cut short)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from app.api.responses import OrjsonResponse, error_responses
from app.api.security import StaffDep
from app.candidacies.models import Notification
from app.candidacies.notify import outbox, resend
from app.core.database import SessionDep
from app.core.errors import NotFoundError
from app.core.schema import AuditEvent

router = APIRouter(tags=["notifications"], responses=error_responses(401, 403, 422, 429, 503))


def _row(row: Notification) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "recipient": row.recipient, "subject": row.subject,
            "created_at": row.created_at.isoformat(), "attempts": row.attempts, "last_error": row.last_error,
            "next_attempt_at": row.next_attempt_at and row.next_attempt_at.isoformat(),
            "sent_at": row.sent_at and row.sent_at.isoformat(), "dead_at": row.dead_at and row.dead_at.isoformat()}


@router.get("/notifications", summary="Notifications in one state, newest first (staff)")
def list_notifications(
    _: StaffDep, session: SessionDep,
    state: Annotated[Literal["pending", "sending", "sent", "dead"], Query()] = "dead",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> OrjsonResponse:
    return OrjsonResponse([_row(row) for row in outbox(session, state, limit)])


@router.post("/notifications/{notification_id}/resend", responses=error_responses(404),
             summary="Queue a dead letter again, after checking it did not arrive (staff)")
def resend_notification(staff: StaffDep, session: SessionDep,
                        notification_id: Annotated[int, Path(ge=1, le=2**62)]) -> OrjsonResponse:
    row = resend(session, notification_id)
    if row is None:
        raise NotFoundError(f"There is no dead letter #{notification_id}.",
                            f"Non c'è alcun messaggio non recapitato con numero {notification_id}.")
    session.add(AuditEvent(actor=staff.actor, actor_role=staff.role, action="notification.resend",
                           entity_type="notification", entity_id=str(notification_id)))
    session.commit()
    return OrjsonResponse(_row(row))
