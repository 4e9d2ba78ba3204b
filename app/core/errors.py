"""One error hierarchy for the whole service, each class carrying its HTTP status.

Messages are written for the person who can act on them, in English and Italian
(owners read Italian first). Internal details (SQL, tracebacks, file paths on the
server) never go into a message: they go to the log.
"""

from __future__ import annotations

from typing import Any


class OpportunityError(Exception):
    """Base of every error the service reports to a user."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, message_it: str | None = None, details: Any = None):
        super().__init__(message)
        self.message = message
        self.message_it = message_it or message
        self.details = details
        self.headers: dict[str, str] = {}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "message_it": self.message_it,
        }
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequestError(OpportunityError):
    """A query parameter that cannot be understood (bbox, sortby, filter...)."""

    status_code = 400
    code = "bad_request"


class InvalidInputError(OpportunityError):
    status_code = 422
    code = "invalid_input"


class UnauthorizedError(OpportunityError):
    """No credentials, or credentials that are wrong, tampered with or expired."""

    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str, message_it: str | None = None, details: Any = None):
        super().__init__(message, message_it, details)
        self.headers = {"WWW-Authenticate": "Bearer"}


class ForbiddenError(OpportunityError):
    status_code = 403
    code = "forbidden"


class NotFoundError(OpportunityError):
    status_code = 404
    code = "not_found"


class ConflictError(OpportunityError):
    status_code = 409
    code = "conflict"


class PayloadTooLargeError(OpportunityError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaTypeError(OpportunityError):
    status_code = 415
    code = "unsupported_media_type"


class TooManyRequestsError(OpportunityError):
    status_code = 429
    code = "too_many_requests"

    def __init__(self, retry_after_s: int):
        super().__init__(
            f"Too many attempts; try again in {retry_after_s} seconds.",
            f"Troppi tentativi; riprovare tra {retry_after_s} secondi.",
            details={"retry_after_s": retry_after_s},
        )
        self.headers = {"Retry-After": str(retry_after_s)}


class ServiceUnavailableError(OpportunityError):
    status_code = 503
    code = "service_unavailable"


class DatabaseSetupError(ServiceUnavailableError):
    """The catalogue database cannot be created, started or reached."""

    code = "database_setup"


class ServiceBusyError(ServiceUnavailableError):
    """Every worker slot or database connection is taken: try again shortly."""

    code = "service_busy"

    def __init__(self, retry_after_s: int = 5):
        super().__init__(
            f"The service is busy with other requests; nothing was done. Try again in {retry_after_s} seconds.",
            f"Il servizio è occupato da altre richieste; non è stato fatto nulla. "
            f"Riprovare tra {retry_after_s} secondi.",
            details={"retry_after_s": retry_after_s},
        )
        self.headers = {"Retry-After": str(retry_after_s)}


class InsufficientStorageError(ServiceUnavailableError):
    """The upload store is full (HTTP 507)."""

    status_code = 507
    code = "insufficient_storage"
