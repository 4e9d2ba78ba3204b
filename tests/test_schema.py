"""Property-based tests of the whole HTTP API against its own OpenAPI document
(schemathesis): for every operation, generated requests never get a 5xx and every
response conforms to the schema. Driven from one test because schemathesis' pytest
plugin does not load with this pytest version; failures are gathered per operation.

Run as the public and as staff, with ``OPPORTUNITY_TEST_SCHEMA_EXAMPLES`` examples per
operation (20 in the suite; the release check runs 100 of each, about ten minutes):

    OPPORTUNITY_TEST_SCHEMA_EXAMPLES=100 make test PYTEST_ARGS="tests/test_schema.py"

Not checked: that every schema-valid request is accepted. The schema cannot say that an
uploaded file must be a workbook, or that a requirement needs at least one criterion;
those refusals are tested with their messages elsewhere."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from sqlalchemy import Engine, text

from app.api.main import create_app
from app.core.settings import limit_settings

EXAMPLES = int(os.environ.get("OPPORTUNITY_TEST_SCHEMA_EXAMPLES", "20"))


@pytest.mark.parametrize("caller", ["public", "staff"])
def test_every_operation_conforms_to_the_schema(database_url: str, catalogue: list[int], accounts: dict,
                                                engine: Engine, monkeypatch: pytest.MonkeyPatch, caller: str) -> None:
    # generated requests would hit the rate limits and make results depend on order
    for limit in ("LOGINS", "UPLOADS", "AREA_MATCHES", "PDFS"):
        monkeypatch.setenv(f"OPPORTUNITY_LIMIT_{limit}", "1000000")
    limit_settings.cache_clear()
    headers = accounts["staff"] if caller == "staff" else {}
    schema = schemathesis.openapi.from_asgi("/api", create_app(database_url))
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        try:
            check()
        except BaseExceptionGroup as group:  # schemathesis' aggregated failures of one operation
            failures[operation.label] = str(group)[:1500]
        except Exception as exc:  # a check's assertion, or a server error the app re-raised
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    limit_settings.cache_clear()
    with engine.begin() as conn:  # what the generated requests counted must not limit later tests
        conn.execute(text("DELETE FROM rate_limits"))
        # nor what they kept open: a generated enquiry alerts on every later publication
        conn.execute(text("DELETE FROM enquiries"))
        conn.execute(text("DELETE FROM notifications"))
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
