"""E-mail by SMTP: how the outbox's messages reach owners and staff.

One connection per delivery run (STARTTLS or implicit TLS, the password from the
environment), a plain-text part and an HTML alternative rendered from the templates
beside this module, headers encoded as RFC 2047 where names carry accents. A reply the
server gives with a 5xx code, or an address that is not one, is a ``PermanentFailure``:
the message becomes a dead letter at once instead of being retried for hours.
"""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Self

from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.candidacies.notify import Message, PermanentFailure, Unavailable
from app.core.settings import SmtpSettings, expose_settings, smtp_settings

TEMPLATES = Path(__file__).with_name("mail_templates")
_ENV = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   keep_trailing_newline=True)


def render(subject: str, body: str) -> tuple[str, str]:
    """The plain-text and HTML bodies of a message, with the agency's signature."""
    contact = expose_settings()
    paragraphs = [block.splitlines() for block in body.strip().split("\n\n") if block.strip()]
    values = {"subject": subject, "body": body.strip(), "paragraphs": paragraphs,
              "contact_name": contact.contact_name, "contact_web": contact.contact_web}
    return _ENV.get_template("message.txt").render(values), _ENV.get_template("message.html").render(values)


def compose(settings: SmtpSettings, message_id: int, recipient: str, subject: str, body: str) -> EmailMessage:
    """An RFC 5322 message; its Message-ID names the outbox row, so a copy that ever
    arrived twice would be recognisable as the same message."""
    if "@" not in recipient or any(c in recipient for c in "\r\n<>,; "):
        raise PermanentFailure(f"{recipient!r} is not an e-mail address")
    sender = settings.sender or ""
    domain = sender.rpartition("@")[2].strip(">") or "opportunity.invalid"
    text, html = render(subject, body)
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = Address(addr_spec=recipient)
    if settings.reply_to:
        mail["Reply-To"] = settings.reply_to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=f"notification-{message_id}", domain=domain)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(text, charset="utf-8")
    mail.add_alternative(html, subtype="html", charset="utf-8")
    return mail


class SmtpNotifier:
    """``OPPORTUNITY_NOTIFY_BACKEND=smtp``: sends through ``OPPORTUNITY_SMTP_*``."""

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self.settings = settings or smtp_settings()
        if not self.settings.host or not self.settings.sender:
            raise ValueError("OPPORTUNITY_NOTIFY_BACKEND=smtp needs OPPORTUNITY_SMTP_HOST and "
                             "OPPORTUNITY_SMTP_SENDER (for example 'Invest in Lombardy <noreply@example.org>')")
        self._client: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _tls(self) -> ssl.SSLContext:
        ca_file = self.settings.ca_file
        return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(s.host or "", s.port, timeout=s.timeout_s, context=self._tls())
        else:
            client = smtplib.SMTP(s.host or "", s.port, timeout=s.timeout_s)
            if s.security == "starttls":
                client.starttls(context=self._tls())
        if s.username:
            client.login(s.username, s.password.get_secret_value() if s.password else "")
        return client

    def send(self, message: Message) -> None:
        mail = compose(self.settings, message.id, message.recipient, message.subject, message.body)
        if self._client is None:
            try:
                self._client = self._connect()
            except (OSError, smtplib.SMTPException) as exc:
                raise Unavailable(f"cannot reach {self.settings.host}:{self.settings.port}: "
                                  f"{type(exc).__name__}: {exc}") from exc
        try:
            self._client.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(code >= 500 for code in codes):
                raise PermanentFailure(f"the server refused {message.recipient}: {codes}") from exc
            raise
        except smtplib.SMTPResponseException as exc:
            self.close()
            if exc.smtp_code >= 500:
                raise PermanentFailure(f"the server refused the message: {exc.smtp_code}") from exc
            raise
        except smtplib.SMTPServerDisconnected:
            self._client = None
            raise

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
