"""Sign-in throttling and client addresses: guessing is limited, the real user is never
locked out, and X-Forwarded-For is believed only from configured proxies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.accounts.auth import create_user
from app.accounts.ratelimit import current, hit
from app.api.main import create_app
from app.core import settings
from app.core.errors import TooManyRequestsError

EMAIL = "signin.victim@example.org"
RIGHT = "the-right-password-42"


@pytest.fixture
def app(database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """A served app with one account; small limits so the tests stay short."""
    for name, value in {"LOGINS": "3", "LOGIN_FAILURES_PER_ADDRESS": "2", "LOGIN_FAILURES_BEFORE_SLOWDOWN": "3",
                        "LOGIN_SLOWDOWN_STEP_S": "0.01", "LOGIN_SLOWDOWN_MAX_S": "0.05"}.items():
        monkeypatch.setenv(f"OPPORTUNITY_LIMIT_{name}", value)
    settings.limit_settings.cache_clear()
    with Session(engine) as db:
        create_user(db, EMAIL, RIGHT, "staff", "Victim")
        db.commit()
    application = create_app(database_url)
    try:
        with TestClient(application):  # runs the lifespan once: the pool lives on app.state
            yield application
    finally:
        settings.limit_settings.cache_clear()
        settings.api_settings.cache_clear()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = :e"), {"e": EMAIL})
            conn.execute(text("DELETE FROM rate_limits"))


def _from(app: FastAPI, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def _login(client: TestClient, password: str, headers: dict[str, str] | None = None):
    return client.post("/auth/token", data={"username": EMAIL, "password": password}, headers=headers or {})


def test_one_address_is_limited_with_a_message(app: FastAPI) -> None:
    client = _from(app, "198.51.100.7")
    statuses = [_login(client, f"wrong-{i}").status_code for i in range(2)]
    assert statuses == [401, 401]
    refused = _login(client, RIGHT)  # the pair (account, address) has used its 2 failures
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert "Too many attempts" in refused.json()["error"]["message"]
    assert "Troppi tentativi" in refused.json()["error"]["message_it"]


def test_attempts_per_address_are_capped_whatever_the_account(app: FastAPI) -> None:
    client = _from(app, "198.51.100.8")
    statuses = [client.post("/auth/token", data={"username": f"nobody{i}@example.org", "password": "x" * 12})
                .status_code for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def _failures(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM audit_events WHERE action = 'auth.login_failed' "
                                 "AND actor = :e"), {"e": EMAIL}).scalar()


def test_guesses_from_many_addresses_do_not_lock_the_real_user_out(app: FastAPI, engine: Engine) -> None:
    before = _failures(engine)
    for i in range(11):
        assert _login(_from(app, f"203.0.113.{i + 1}"), "guess-" + str(i)).status_code == 401
    answer = _login(_from(app, "192.0.2.50"), RIGHT)
    assert answer.status_code == 200, answer.text
    assert answer.json()["access_token"]
    assert _failures(engine) - before == 11


def test_forwarded_for_is_ignored_from_an_untrusted_peer(app: FastAPI, engine: Engine) -> None:
    client = _from(app, "127.0.0.1")
    statuses = [_login(client, "wrong", {"X-Forwarded-For": f"10.9.8.{i}"}).status_code for i in range(3)]
    assert statuses == [401, 401, 429]  # rotating the header does not escape the pair's limit
    with engine.connect() as conn:
        addresses = [str(a) for a in conn.execute(text(
            "SELECT client_address FROM audit_events WHERE actor = :e ORDER BY id DESC LIMIT 2"),
            {"e": EMAIL}).scalars()]
    assert addresses == ["127.0.0.1", "127.0.0.1"]


def test_forwarded_for_is_believed_from_a_trusted_proxy(app: FastAPI, engine: Engine,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_API_TRUSTED_PROXIES", '["127.0.0.0/8"]')
    settings.api_settings.cache_clear()
    client = _from(app, "127.0.0.1")
    # the client forged the first hop; the proxy appended the address it saw
    assert _login(client, "wrong", {"X-Forwarded-For": "1.2.3.4, 198.51.100.99"}).status_code == 401
    with engine.connect() as conn:
        address = conn.execute(text("SELECT client_address FROM audit_events WHERE actor = :e "
                                    "ORDER BY id DESC LIMIT 1"), {"e": EMAIL}).scalar()
    assert str(address) == "198.51.100.99"


def test_a_mistyped_trusted_proxy_is_refused_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_API_TRUSTED_PROXIES", '["10.0.0.300"]')
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        settings.ApiSettings()


def test_a_burst_across_a_window_boundary_is_still_limited(engine: Engine) -> None:
    """Fixed windows alone let a client spend a window's attempts just before a boundary
    and as many just after; the sliding estimate carries the previous window's count."""
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # a boundary of 60 s windows
    at = lambda s: start + dt.timedelta(seconds=s)  # noqa: E731
    bucket = "test-boundary-burst"
    try:
        with Session(engine) as db:
            for _ in range(3):
                hit(db, bucket, 3, 60, now=at(59))
            with pytest.raises(TooManyRequestsError) as refused:
                hit(db, bucket, 3, 60, now=at(61))  # one second into the next window
            # 1 (the refused attempt counts) + 3 x (1 - 1/60) > 3; the next one passes when
            # 1 + 3 x weight <= 2: at 40 s into the window, 39 s from now
            assert refused.value.headers["Retry-After"] == "39"
            assert "try again in 39 seconds" in refused.value.message
            # a client that waits as told: 2 here + 3 x (1 - 40/60) = 3, at the limit, not past it
            hit(db, bucket, 3, 60, now=at(100))
            assert current(db, bucket, 60, now=at(100)).hits == 3
            assert current(db, bucket, 60, now=at(150)).hits == 1  # 2 x (1 - 30/60) of the window before
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rate_limits WHERE window_start < :end"), {"end": at(240)})
