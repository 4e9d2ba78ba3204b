"""Free text published as typed (site name, address, descriptions, project texts): an
e-mail address, a phone number or a codice fiscale written there would reach the public
map, so the owner gets a warning at the cell and staff see it before publishing. A mixin
of the cross-field checker (``ingest.checks``)."""

from __future__ import annotations

import re

from ingest.problems import Severity

PUBLIC_TEXT = ("site_name", "address", "description_it", "description_en", "project_title",
               "project_timing", "partners_sought")
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Italian landlines (0...) and mobiles (3..), with or without +39, spaced or not
_PHONE_IN_TEXT = re.compile(r"(?<![\w.,])(?:(?:\+|00)39[\s.-]?)?(?:0\d{1,3}|3\d{2})(?:[\s./-]?\d{2,4}){2,3}(?!\w|[.,]\d)")
_CF_IN_TEXT = re.compile(r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b")


def personal_data(text: str) -> list[tuple[str, str]]:
    """What personal data a free text seems to hold: (English, Italian) names."""
    found = []
    if _EMAIL_IN_TEXT.search(text):
        found.append(("an e-mail address", "un indirizzo e-mail"))
    if any(sum(ch.isdigit() for ch in m.group()) >= 8 for m in _PHONE_IN_TEXT.finditer(text)):
        found.append(("a phone number", "un numero di telefono"))
    if _CF_IN_TEXT.search(text.upper()):
        found.append(("a codice fiscale", "un codice fiscale"))
    return found


class PublicTextChecks:
    """Needs the checker's ``v`` and ``flag``."""

    def public_text(self) -> None:
        """Fields published as typed must not carry an owner's contact or tax code: the
        owner sees a warning at the cell, staff see it before publishing."""
        for key in PUBLIC_TEXT:
            value = self.v.get(key)
            found = personal_data(value) if isinstance(value, str) else []
            if found:
                kinds_en = ", ".join(en for en, _ in found)
                kinds_it = ", ".join(it for _, it in found)
                self.flag(Severity.WARNING, "personal_data_in_public_text", key,
                          f"This text is published on the public map and seems to contain {kinds_en}. "
                          "Remove it: investors contact the agency, never the owner directly.",
                          f"Questo testo è pubblicato sulla mappa pubblica e sembra contenere {kinds_it}. "
                          "Eliminarlo: gli investitori contattano l'agenzia, mai direttamente il proprietario.",
                          ("text without e-mail addresses, phone numbers or tax codes",
                           "un testo senza indirizzi e-mail, numeri di telefono o codici fiscali"))

