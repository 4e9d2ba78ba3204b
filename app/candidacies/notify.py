"""Notifications through an outbox.

Whatever causes a message (a stale site, an expiry) writes a ``notifications`` row in
its own transaction, so a message is never sent for something that was rolled back and
never lost when the mail server is down. ``deliver`` later hands pending rows to the
configured notifier and marks them sent; rows that keep failing stop after
``max_attempts``. A notifier is any class with ``send(message)``: ``log`` and ``file``
ship here, ``module:Class`` loads one of your own (SMTP, PEC gateway, a queue).
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
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


def load_notifier(spec: str | None = None) -> Notifier:
    spec = spec or notify_settings().backend
    if spec in BUILT_IN:
        return BUILT_IN[spec]()
    module, _, name = spec.partition(":")
    if not name:
        raise ValueError(f"OPPORTUNITY_NOTIFY_BACKEND={spec!r}: use log, file or module:Class")
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


def deliver(session: Session, notifier: Notifier, limit: int = 500) -> tuple[int, int]:
    """Send pending messages; (sent, failed). Rows are locked with SKIP LOCKED so that two
    deliverers running at once never send the same message twice."""
    rows = session.scalars(
        select(Notification)
        .where(Notification.sent_at.is_(None), Notification.attempts < notify_settings().max_attempts)
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    sent = failed = 0
    for row in rows:
        row.attempts = row.attempts + 1
        try:
            notifier.send(Message(row.id, row.kind, row.recipient, row.subject, row.body, row.details))
        except Exception as exc:  # any notifier failure: keep the row for the next run
            row.last_error = f"{type(exc).__name__}: {exc}"[:500]
            failed += 1
            continue
        row.sent_at = func.now()
        sent += 1
    session.commit()
    NOTIFICATIONS.labels("sent").inc(sent)
    NOTIFICATIONS.labels("failed").inc(failed)
    return sent, failed
