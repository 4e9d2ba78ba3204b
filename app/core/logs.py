"""JSON logs, one object a line, each carrying the id of the request it belongs to; the
same id goes into every audit event written during that request, so a log line and the
audit record of one action can be joined (``details.request_id``)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from contextvars import ContextVar
from typing import Any

from sqlalchemy import event

from app.core.schema import AuditEvent

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, request_id (when inside a request), and the
    exception's traceback as text (logs are for operators; answers never carry it)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }
        if (request_id := REQUEST_ID.get()) is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_json_logs(level: int = logging.INFO) -> None:
    """The service's own loggers (``opportunity.*``) write JSON lines to stderr, once.
    They still propagate: a host that collects the root logger (pytest's caplog, a log
    shipper's handler) sees them too."""
    logger = logging.getLogger("opportunity")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)


@event.listens_for(AuditEvent, "before_insert")
def _carry_request_id(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    request_id = REQUEST_ID.get()
    if request_id is not None:
        target.details = {**(target.details or {}), "request_id": request_id}
