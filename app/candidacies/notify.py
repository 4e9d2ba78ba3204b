"""Notifications through an outbox.

Whatever causes a message (a stale site, an expiry) writes a ``notifications`` row in
its own transaction, so a message is never sent for something that was rolled back and
never lost when the mail server is down. ``deliver`` later hands due rows to the
configured notifier and marks them sent; a failure is retried with exponential back-off
and becomes a dead letter, which staff see, after ``max_attempts``. A notifier is any
class with ``send(message)`` (and optionally ``close()``): ``smtp`` (app/candidacies/mail.py),
``log`` and ``file`` ship here, ``module:Class`` loads one of your own (a PEC gateway, a queue).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.candidacies.models import Notification
from app.core.metrics import NOTIFICATIONS
from app.core.settings import notify_settings, storage_settings

log = logging.getLogger("opportunity.notify")


@dataclass(frozen=True)
class Message:
    id: int
    kind: str
    recipient: str
    subject: str
    body: str
    details: dict[str, Any]


class Notifier(Protocol):
    def send(self, message: Message) -> None: ...


class PermanentFailure(Exception):
    """The message can never be delivered as it is (a refused or malformed address): it
    becomes a dead letter at once instead of being retried."""


class Unavailable(Exception):
    """The notifier can send nothing now (mail server down, credentials refused): the run
    stops after this message, and the rest wait untouched for the next run."""


class LogNotifier:
    """Writes each message to the service log: the default, needs nothing."""

    def send(self, message: Message) -> None:
        log.info("notification %s to %s: %s", message.kind, message.recipient, message.subject)


class FileNotifier:
    """Appends each message as one JSON line to ``<data dir>/outbox.jsonl``."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or storage_settings().data_dir / "outbox.jsonl"

    def send(self, message: Message) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(asdict(message), ensure_ascii=False) + "\n")


BUILT_IN: dict[str, type] = {"log": LogNotifier, "file": FileNotifier}
SMTP = "app.candidacies.mail:SmtpNotifier"


def load_notifier(spec: str | None = None) -> Notifier:
    spec = spec or notify_settings().backend
    if spec in BUILT_IN:
        return BUILT_IN[spec]()
    if spec == "smtp":
        spec = SMTP
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"OPPORTUNITY_NOTIFY_BACKEND={spec!r}: use smtp, log, file or module:Class")
    return getattr(importlib.import_module(module), name)()


def enqueue(session: Session, kind: str, recipient: str, subject: str, body: str,
            details: dict[str, Any] | None = None, dedupe_key: str | None = None) -> bool:
    """Queue one message; False when ``dedupe_key`` was queued before (nothing added)."""
    statement = insert(Notification).values(
        kind=kind, recipient=recipient, subject=subject, body=body, details=details or {},
        dedupe_key=dedupe_key,
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Notification.id)
    queued = session.execute(statement).first() is not None
    if queued:
        NOTIFICATIONS.labels("queued").inc()
    return queued


@dataclass(frozen=True)
class Delivery:
    """What one ``deliver`` run did: sent, failed (kept for a later try), dead (given up)."""

    sent: int
    failed: int
    dead: int


def backoff(attempts: int) -> dt.timedelta:
    """Wait before try ``attempts + 1``: ``backoff_s`` doubled per failure, capped."""
    settings = notify_settings()
    return dt.timedelta(seconds=min(settings.backoff_s * 2 ** max(attempts - 1, 0), settings.backoff_max_s))


def deliver(session: Session, notifier: Notifier, limit: int = 500, now: dt.datetime | None = None) -> Delivery:
    """Send the messages that are due, one committed step at a time.

    Each message is claimed (``sending_since``, committed) before it leaves and marked sent
    or failed after: two deliverers never take the same row, and a crash between sending
    and marking leaves the claim behind, which ``_settle_interrupted`` turns into a dead
    letter (outcome unknown) rather than a second copy in someone's inbox."""
    now = now or dt.datetime.now(dt.UTC)
    dead = _settle_interrupted(session, now)
    due = session.scalars(
        select(Notification.id)
        .where(Notification.sent_at.is_(None), Notification.dead_at.is_(None),
               Notification.sending_since.is_(None),
               or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now))
        .order_by(Notification.id).limit(limit)
    ).all()
    sent = failed = 0
    try:
        for row_id in due:
            row = _claim(session, row_id, now)
            if row is None:
                continue
            outcome = _send_one(session, notifier, row, now)
            sent += outcome == "sent"
            failed += outcome in ("failed", "unavailable")
            dead += outcome == "dead"
            if outcome == "unavailable":
                break
    finally:
        close = getattr(notifier, "close", None)
        if close is not None:
            close()
    for label, value in (("sent", sent), ("failed", failed), ("dead", dead)):
        NOTIFICATIONS.labels(label).inc(value)
    return Delivery(sent, failed, dead)


def _claim(session: Session, row_id: int, now: dt.datetime) -> Notification | None:
    claimed = session.execute(
        update(Notification)
        .where(Notification.id == row_id, Notification.sending_since.is_(None),
               Notification.sent_at.is_(None), Notification.dead_at.is_(None))
        .values(sending_since=now, attempts=Notification.attempts + 1)
        .returning(Notification.id)
    ).first()
    session.commit()
    return session.get(Notification, row_id, populate_existing=True) if claimed else None


def _send_one(session: Session, notifier: Notifier, row: Notification, now: dt.datetime) -> str:
    outcome = "sent"
    try:
        notifier.send(Message(row.id, row.kind, row.recipient, row.subject, row.body, row.details))
    except PermanentFailure as exc:
        row.last_error, row.dead_at, outcome = _describe(exc), now, "dead"
    except Exception as exc:  # any other notifier failure is worth another try later
        row.last_error = _describe(exc)
        outcome = "unavailable" if isinstance(exc, Unavailable) else "failed"
        if row.attempts >= notify_settings().max_attempts:
            row.dead_at, outcome = now, "dead"
        else:
            row.next_attempt_at = now + backoff(row.attempts)
    else:
        row.sent_at = now
    row.sending_since = None
    session.commit()
    if outcome != "sent":
        log.warning("notification %s to %s %s: %s", row.id, row.recipient,
                    "given up" if outcome == "dead" else "failed", row.last_error)
    return outcome


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _settle_interrupted(session: Session, now: dt.datetime) -> int:
    """Claims older than the lease belong to a deliverer that died mid-send: whether the
    server took the message is unknown, so it is not sent again on its own; staff see it
    among the dead letters and may send it again after checking."""
    lease = dt.timedelta(seconds=notify_settings().sending_lease_s)
    settled = session.execute(
        update(Notification)
        .where(Notification.sent_at.is_(None), Notification.sending_since < now - lease)
        .values(sending_since=None, dead_at=now,
                last_error="interrupted while sending: it may have arrived; check before sending it again")
        .returning(Notification.id)
    ).all()
    session.commit()
    return len(settled)


NOTIFICATION_STATES = ("pending", "sending", "sent", "dead")


def outbox(session: Session, state: str, limit: int = 100) -> list[Notification]:
    """Messages in one state, newest first: what staff look at when mail goes missing."""
    conditions = {
        "pending": [Notification.sent_at.is_(None), Notification.dead_at.is_(None),
                    Notification.sending_since.is_(None)],
        "sending": [Notification.sending_since.is_not(None)],
        "sent": [Notification.sent_at.is_not(None)],
        "dead": [Notification.dead_at.is_not(None)],
    }[state]
    return list(session.scalars(select(Notification).where(*conditions)
                                .order_by(Notification.id.desc()).limit(limit)))


def resend(session: Session, notification_id: int) -> Notification | None:
    """Put a dead letter back in the queue (attempts start again); None when there is no
    dead letter with this id."""
    row = session.get(Notification, notification_id, with_for_update=True)
    if row is None or row.dead_at is None:
        return None
    row.dead_at = row.next_attempt_at = None
    row.attempts = 0
    session.flush()
    return row
