"""The delegation rules of form C ("fac-simile lettera C"): when a delegate submits, a
delegation must exist whose delegante is the owner and whose delegato is the proponent,
two different people or companies; a company or body delegating names its legal
representative; the ID document is unexpired; the form is signed, not after the day
the candidacy was filled in nor in the future, and covers this site; the publication
consent counts only as the owner's. A mixin of the cross-field checker (``ingest.checks``)."""

from __future__ import annotations

from ingest import codes
from ingest.parser import SheetValues
from ingest.problems import Severity
from ingest.reference import ComuneRef
from ingest.values import normalise


class DelegationChecks:
    """Needs the checker's ``parsed``, ``c``, ``v``, ``lookup``, ``today``, ``resolved`` and ``flag``."""

    def delegation(self, comune: ComuneRef | None) -> None:
        role = self.v.get("proponent_role")
        d = self.parsed.delegation
        consent = self.v.get("publication_consent")
        if role != "delegato":
            self.resolved["owner_consent"] = bool(consent)
            return
        self.resolved["owner_consent"] = bool(d and d.values.get("owner_publication_consent"))
        if d is None:
            self.c.problem(Severity.ERROR, "missing_delegation", "proponent_role", "delegato",
                           "a filled-in sheet Delega", None,
                           "The proponent is a delegate, but sheet Delega (form C) is not filled "
                           "in. The owner must delegate you there, signed, with an ID document.",
                           "Il proponente è un delegato, ma il foglio Delega (lettera C) non è "
                           "compilato. Il proprietario deve delegarla lì, firmando, con un "
                           "documento d'identità.")
            return
        dv = d.values
        owner = codes.clean(self.v.get("owner_tax_id", ""))
        if dv.get("delegante_tax_id") and owner and dv["delegante_tax_id"] != owner:
            self.flag(Severity.ERROR, "delegation_wrong_owner", "delegante_tax_id",
                      f"The delegation is signed by {dv['delegante_tax_id']}, not by the owner "
                      f"declared in sheet Candidatura ({owner}).",
                      f"La delega è firmata da {dv['delegante_tax_id']}, non dal proprietario "
                      f"dichiarato nel foglio Candidatura ({owner}).", owner, sheet=d)
        proponent_ids = {self.v.get("proponent_cf"), self.v.get("proponent_piva")} - {None}
        self._two_parties(d, owner, proponent_ids)
        if dv.get("delegato_tax_id") and dv["delegato_tax_id"] not in proponent_ids:
            self.flag(Severity.ERROR, "delegation_wrong_delegate", "delegato_tax_id",
                      f"The delegation names {dv['delegato_tax_id']} as delegate, not the "
                      "proponent of this candidacy.",
                      f"La delega nomina come delegato {dv['delegato_tax_id']}, non il "
                      "proponente di questa candidatura.", ", ".join(sorted(proponent_ids)), sheet=d)
        expiry = dv.get("id_doc_expiry")
        reference_day = self.v.get("compiled_on") or self.today
        if expiry and expiry < reference_day:
            self.flag(Severity.ERROR, "id_document_expired", "id_doc_expiry",
                      f"The owner's ID document expired on {expiry:%d/%m/%Y}; attach a valid one.",
                      f"Il documento d'identità del delegante è scaduto il {expiry:%d/%m/%Y}; "
                      "allegarne uno valido.", (f"a date after {reference_day:%d/%m/%Y}", f"una data dopo il {reference_day:%d/%m/%Y}"), sheet=d)
        if dv.get("signed") is False:
            self.flag(Severity.ERROR, "delegation_not_signed", "signed",
                      "The delegation is not signed by the owner.",
                      "La delega non è firmata dal delegante.", ("Yes", "Sì"), sheet=d)
        self._signing_date(d)
        self._delegation_covers(d, comune)
        if consent and not dv.get("owner_publication_consent"):
            self.flag(Severity.WARNING, "consent_not_owner", "publication_consent",
                      "A delegation covers only handling the application: the consent to publish "
                      "must be the owner's ('Nulla osta alla pubblicazione del delegante' in "
                      "sheet Delega). The site will not be published until the owner consents.",
                      "La delega copre solo la gestione operativa della domanda: il nulla osta "
                      "alla pubblicazione spetta al proprietario ('Nulla osta alla pubblicazione "
                      "del delegante' nel foglio Delega). Il sito non sarà pubblicato senza.")

    def _two_parties(self, d: SheetValues, owner: str, proponent_ids: set[str]) -> None:
        """Owner and delegate are two parties; a company or body names who signs for it."""
        dv = d.values
        if owner and owner in proponent_ids:
            self.flag(Severity.ERROR, "delegate_is_owner", "owner_tax_id",
                      f"The proponent is declared a delegate but is the owner ({owner}): an owner "
                      "submits in its own name ('Tipo proponente': Proprietario), without form C.",
                      f"Il proponente si dichiara delegato ma è il proprietario ({owner}): il "
                      "proprietario presenta a proprio nome ('Tipo proponente': Proprietario), "
                      "senza lettera C.",
                      ("an owner other than the proponent", "un proprietario diverso dal proponente"))
        delegante, delegato = dv.get("delegante_tax_id"), dv.get("delegato_tax_id")
        if delegante and delegato and codes.clean(delegante) == codes.clean(delegato):
            self.flag(Severity.ERROR, "delegation_to_self", "delegato_tax_id",
                      f"The delegation names the owner ({delegante}) as its own delegate: owner and "
                      "delegate must be two different people or companies.",
                      f"La delega nomina il delegante ({delegante}) come proprio delegato: "
                      "delegante e delegato devono essere due persone o società diverse.",
                      ("a delegate other than the owner", "un delegato diverso dal delegante"), sheet=d)
        if delegante and codes.tax_id_kind(delegante) == "piva" and not dv.get("delegante_legal_rep"):
            self.flag(Severity.ERROR, "delegation_no_legal_rep", "delegante_legal_rep",
                      f"The owner {delegante} is a company or body (an 11-digit code): form C must "
                      "name its legal representative, who signs it.",
                      f"Il delegante {delegante} è una società o un ente (codice di 11 cifre): la "
                      "lettera C deve indicare il legale rappresentante, che la firma.",
                      ("the legal representative's full name", "nome e cognome del legale rappresentante"),
                      sheet=d)

    def _signing_date(self, d: SheetValues) -> None:
        """Signed by now, and before the delegate filled in the candidacy it covers."""
        signed_on, compiled = d.values.get("signed_on"), self.v.get("compiled_on")
        if signed_on and signed_on > self.today:
            self.flag(Severity.ERROR, "delegation_future_date", "signed_on",
                      f"The delegation is dated {signed_on:%d/%m/%Y}, in the future: give the day "
                      "the owner signed it.",
                      f"La delega è datata {signed_on:%d/%m/%Y}, nel futuro: indicare il giorno in "
                      "cui il delegante l'ha firmata.",
                      (f"a date up to {self.today:%d/%m/%Y}", f"una data fino al {self.today:%d/%m/%Y}"),
                      sheet=d)
        elif signed_on and compiled and signed_on > compiled:
            self.flag(Severity.ERROR, "delegation_after_compilation", "signed_on",
                      f"The delegation is dated {signed_on:%d/%m/%Y}, after the candidacy was filled "
                      f"in ({compiled:%d/%m/%Y}): the owner delegates before the delegate fills it in.",
                      f"La delega è datata {signed_on:%d/%m/%Y}, dopo la compilazione della "
                      f"candidatura ({compiled:%d/%m/%Y}): il delegante delega prima che il "
                      "delegato la compili.",
                      (f"a date up to {compiled:%d/%m/%Y}", f"una data fino al {compiled:%d/%m/%Y}"), sheet=d)

    def _delegation_covers(self, d: SheetValues, comune: ComuneRef | None) -> None:
        dv = d.values
        site_comune = dv.get("site_comune")
        if site_comune and comune:
            delegated = self.lookup.comune(str(site_comune))
            if delegated is None or delegated.istat_code != comune.istat_code:
                self.flag(Severity.ERROR, "delegation_other_site", "site_comune",
                          f"The delegation covers a site in '{site_comune}', not in {comune.name}.",
                          f"La delega riguarda un sito a '{site_comune}', non a {comune.name}.",
                          comune.name, sheet=d)
                return
        foglio, mappali = self.v.get("foglio"), set(self.v.get("mappali", []))
        if dv.get("site_foglio") and foglio and normalise(dv["site_foglio"]).lstrip("0") != normalise(foglio).lstrip("0"):
            self.flag(Severity.ERROR, "delegation_other_site", "site_foglio",
                      f"The delegation covers foglio {dv['site_foglio']}, the candidacy foglio {foglio}.",
                      f"La delega riguarda il foglio {dv['site_foglio']}, la candidatura il foglio {foglio}.",
                      str(foglio), sheet=d)
        delegated_mappali = set(dv.get("site_mappali", []))
        if delegated_mappali and mappali - delegated_mappali:
            missing = ", ".join(sorted(mappali - delegated_mappali))
            self.flag(Severity.ERROR, "delegation_other_site", "site_mappali",
                      f"The delegation does not cover mappali {missing} of the candidacy.",
                      f"La delega non comprende i mappali {missing} della candidatura.",
                      ", ".join(sorted(mappali)), sheet=d)

