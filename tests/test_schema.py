"""Property-based tests of the whole HTTP API against its own OpenAPI document
(schemathesis): for every operation, generated requests never get a 5xx and every
response conforms to the schema. Driven from one test because schemathesis' pytest
plugin does not load with this pytest version; failures are gathered per operation.

Not checked: that every schema-valid request is accepted. The schema cannot say that an
uploaded file must be a workbook, or that a requirement needs at least one criterion;
those refusals are tested with their messages elsewhere."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from app.api.main import create_app
from app.core.settings import limit_settings

EXAMPLES = 20


def test_every_operation_conforms_to_the_schema(database_url: str, catalogue: list[int],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # generated sign-in attempts would hit the login rate limit and make results depend on order
    monkeypatch.setenv("OPPORTUNITY_LIMIT_LOGINS", "1000000")
    monkeypatch.setenv("OPPORTUNITY_LIMIT_UPLOADS", "1000000")
    limit_settings.cache_clear()
    schema = schemathesis.openapi.from_asgi("/api", create_app(database_url))
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        try:
            check()
        except BaseExceptionGroup as group:  # schemathesis' aggregated failures of one operation
            failures[operation.label] = str(group)[:1500]
        except Exception as exc:  # a check's assertion, or a server error the app re-raised
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    limit_settings.cache_clear()
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
