"""E-mail through a real SMTP server (aiosmtpd, STARTTLS with a test CA, AUTH required):
what arrives, how accents travel, retries after a refused connection, dead letters staff
see, and no second copy after a crash between sending and marking sent."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.candidacies.mail import SmtpNotifier
from app.candidacies.notify import Delivery, deliver, enqueue
from app.core import settings
from app.core.settings import SmtpSettings

SENDER = "Invest in Lombardy <noreply@investinlombardy.example>"
NAME = "Cascina Nicolò & Società Agricola Sant'Angelo – Lodigiano"
USER, PASSWORD = "agenzia", "segreta-di-prova"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Inbox:
    """The server side: what arrived, over TLS or not, from whom."""

    messages: list[tuple[email.message.EmailMessage, bytes, bool, bool]] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        self.messages.append((parsed, raw, session.ssl is not None, bool(session.authenticated)))
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, Path]:
    """A throwaway certificate authority and a server certificate for 127.0.0.1."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return server_context, ca_file


class Server:
    def __init__(self, tls: tuple[ssl.SSLContext, Path], port: int) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=port, tls_context=tls[0],
                                     require_starttls=True, authenticator=_authenticate, auth_require_tls=True)

    def __enter__(self) -> Inbox:
        self.controller.start()
        return self.inbox

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp(tls: tuple[ssl.SSLContext, Path], monkeypatch: pytest.MonkeyPatch) -> SmtpSettings:
    port = _free_port()
    values = {"HOST": "127.0.0.1", "PORT": str(port), "USERNAME": USER, "PASSWORD": PASSWORD,
              "SENDER": SENDER, "CA_FILE": str(tls[1]), "TIMEOUT_S": "5"}
    for key, value in values.items():
        monkeypatch.setenv(f"OPPORTUNITY_SMTP_{key}", value)
    return SmtpSettings()


@pytest.fixture
def outbox(engine: Engine, reference_loaded: list) -> Iterator[Session]:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))
    with Session(engine) as db:
        yield db
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM notifications"))


def _queue(db: Session, recipient: str = "sedi@esempio-test.example", n: int = 1) -> None:
    for i in range(n):
        enqueue(db, "stale_reminder", recipient, f"Conferma i dati di '{NAME}' / Please confirm '{NAME}'",
                f"Il sito '{NAME}' non è confermato da 400 giorni.\nAcceda al servizio.\n\n"
                f"The site '{NAME}' has not been confirmed for 400 days.", {"n": i})
    db.commit()


def _later(minutes: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


def test_message_arrives_over_starttls_with_both_parts_and_accents(
        tls: tuple[ssl.SSLContext, Path], smtp: SmtpSettings, outbox: Session) -> None:
    _queue(outbox)
    with Server(tls, smtp.port) as inbox, SmtpNotifier(smtp) as notifier:
        assert deliver(outbox, notifier) == Delivery(1, 0, 0)
    [(mail, raw, over_tls, authenticated)] = inbox.messages
    assert over_tls and authenticated
    assert mail["Subject"] == f"Conferma i dati di '{NAME}' / Please confirm '{NAME}'"
    assert mail["To"] == "sedi@esempio-test.example" and mail["From"] == SENDER
    assert mail["Auto-Submitted"] == "auto-generated"
    row_id = outbox.execute(text("SELECT id FROM notifications")).scalar_one()
    assert f"notification-{row_id}" in mail["Message-ID"]
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert headers.isascii() and b"=?utf-8?" in headers.lower()  # RFC 2047, not raw UTF-8
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert mail.get_body(("plain",)).get_content_charset() == "utf-8"
    assert f"Il sito '{NAME}' non è confermato" in plain and "replies to this address are not read" in plain
    assert "Cascina Nicolò &amp; Società" in html and "<br>" in html and NAME not in html
    state = outbox.execute(text("SELECT attempts, sent_at IS NOT NULL AS sent, sending_since FROM notifications")).one()
    assert tuple(state) == (1, True, None)


def test_a_refused_connection_is_retried_after_the_back_off(
        tls: tuple[ssl.SSLContext, Path], smtp: SmtpSettings, outbox: Session) -> None:
    _queue(outbox, n=3)
    # nothing listens yet: one message records the failure, the run stops, the others wait
    assert deliver(outbox, SmtpNotifier(smtp)) == Delivery(0, 1, 0)
    rows = outbox.execute(text("SELECT attempts, last_error, next_attempt_at > now() AS later "
                               "FROM notifications ORDER BY id")).all()
    assert [r.attempts for r in rows] == [1, 0, 0]
    assert "cannot reach 127.0.0.1" in rows[0].last_error and "ConnectionRefused" in rows[0].last_error
    assert rows[0].later is True
    with Server(tls, smtp.port) as inbox:
        assert deliver(outbox, SmtpNotifier(smtp)) == Delivery(2, 0, 0)  # the first is not due yet
        assert deliver(outbox, SmtpNotifier(smtp), now=_later(2)) == Delivery(1, 0, 0)
        assert deliver(outbox, SmtpNotifier(smtp), now=_later(60)) == Delivery(0, 0, 0)
    assert len(inbox.messages) == 3


def test_refused_credentials_keep_every_message_queued(
        tls: tuple[ssl.SSLContext, Path], smtp: SmtpSettings, outbox: Session) -> None:
    _queue(outbox, n=2)
    wrong = smtp.model_copy(update={"password": SecretStr("not-it")})
    with Server(tls, smtp.port) as inbox:
        assert deliver(outbox, SmtpNotifier(wrong)) == Delivery(0, 1, 0)
    error = outbox.execute(text("SELECT last_error FROM notifications WHERE attempts = 1")).scalar_one()
    assert "SMTPAuthenticationError" in error and inbox.messages == []
    assert outbox.execute(text("SELECT count(*) FROM notifications WHERE dead_at IS NULL")).scalar_one() == 2


def test_a_refused_address_is_a_dead_letter_at_once_and_staff_can_resend_it(
        tls: tuple[ssl.SSLContext, Path], smtp: SmtpSettings, outbox: Session, api: TestClient, accounts: dict) -> None:
    _queue(outbox, "nobody@esempio-test.example")
    _queue(outbox, "not-an-address")
    with Server(tls, smtp.port) as inbox:
        assert deliver(outbox, SmtpNotifier(smtp)) == Delivery(0, 0, 2)
    assert inbox.messages == []
    dead = api.get("/notifications", params={"state": "dead"}, headers=accounts["staff"]).json()
    assert [d["recipient"] for d in dead] == ["not-an-address", "nobody@esempio-test.example"]
    assert "is not an e-mail address" in dead[0]["last_error"] and "550" in dead[1]["last_error"]
    assert api.get("/notifications", params={"state": "dead"}).status_code == 401
    assert api.get("/notifications", headers=accounts["owner"]).status_code == 403
    again = api.post(f"/notifications/{dead[1]['id']}/resend", headers=accounts["staff"])
    assert again.status_code == 200 and again.json()["attempts"] == 0 and again.json()["dead_at"] is None
    missing = api.post(f"/notifications/{dead[1]['id']}/resend", headers=accounts["staff"])
    error = missing.json()["error"]
    assert missing.status_code == 404 and error["message"] == f"There is no dead letter #{dead[1]['id']}."
    assert "non recapitato" in error["message_it"]
    assert [d["id"] for d in api.get("/notifications", params={"state": "pending"},
                                     headers=accounts["staff"]).json()] == [dead[1]["id"]]


def test_repeated_failures_end_as_a_dead_letter(
        smtp: SmtpSettings, outbox: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_NOTIFY_MAX_ATTEMPTS", "2")
    settings.notify_settings.cache_clear()
    try:
        _queue(outbox)
        assert deliver(outbox, SmtpNotifier(smtp)) == Delivery(0, 1, 0)
        assert deliver(outbox, SmtpNotifier(smtp), now=_later(5)) == Delivery(0, 0, 1)
        assert deliver(outbox, SmtpNotifier(smtp), now=_later(600)) == Delivery(0, 0, 0)
    finally:
        settings.notify_settings.cache_clear()
    row = outbox.execute(text("SELECT attempts, dead_at IS NOT NULL AS dead FROM notifications")).one()
    assert tuple(row) == (2, True)


CRASH_AFTER_SEND = """
import os, sys
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from app.candidacies.mail import SmtpNotifier
from app.candidacies.notify import deliver

class CrashAfterSend(SmtpNotifier):
    def send(self, message):
        super().send(message)
        os._exit(3)  # the server has the message; the row is never marked sent

with Session(create_engine(sys.argv[1])) as session:
    deliver(session, CrashAfterSend())
"""


def test_no_second_copy_after_a_crash_between_send_and_mark(
        tls: tuple[ssl.SSLContext, Path], smtp: SmtpSettings, outbox: Session, database_url: str) -> None:
    _queue(outbox)
    with Server(tls, smtp.port) as inbox:
        crashed = subprocess.run([sys.executable, "-c", CRASH_AFTER_SEND, database_url], cwd=ROOT,
                                 capture_output=True, text=True, timeout=120, check=False)
        assert crashed.returncode == 3, crashed.stderr
        assert len(inbox.messages) == 1
        # another run at once: the claim is still held, nothing is sent
        assert deliver(outbox, SmtpNotifier(smtp)) == Delivery(0, 0, 0)
        # past the lease: outcome unknown, so a dead letter for a person to check, not a resend
        assert deliver(outbox, SmtpNotifier(smtp), now=_later(11)) == Delivery(0, 0, 1)
        assert len(inbox.messages) == 1
    row = outbox.execute(text("SELECT attempts, sent_at, sending_since, last_error FROM notifications")).one()
    assert row.attempts == 1 and row.sent_at is None and row.sending_since is None
    assert row.last_error.startswith("interrupted while sending: it may have arrived")
