"""Workbooks for tests, built from the real template (synthetic content, fictional people)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from ingest.codes import complete_codice_fiscale, complete_partita_iva
from ingest.fields import SHEET_CANDIDACY
from ingest.template import TemplateWriter

piva = complete_partita_iva
cf = complete_codice_fiscale


OWNER_COMPANY = ("Esempio Test S.r.l.", piva("0000009101"))
AGENT = ("Agenzia Test Esempio", piva("0000009202"))
OWNER_PERSON = ("Anna Esempio", cf("SMPNNA80A41F205"))
# Milano, near the Duomo: a point well inside comune 015146
MILANO_POINT = (45.4641, 9.1916)


def valid_writer(kind: str = "A", name: str = "Sito di prova Milano", **overrides: object) -> TemplateWriter:
    """A complete, valid kind A (or B) candidacy of an owner company in Milano."""
    values: dict[str, object] = {
        "Tipo proponente": "Proprietario",
        "Denominazione o nome e cognome": OWNER_COMPANY[0],
        "Partita IVA": OWNER_COMPANY[1],
        "Natura giuridica": "Persona giuridica privata",
        "Email o PEC": "sedi@esempio-test.example",
        "Titolo di disponibilità": "Proprietà",
        "Denominazione dell'opportunità": name,
        "Comune": "Milano",
        "Latitudine (WGS84)": MILANO_POINT[0],
        "Longitudine (WGS84)": MILANO_POINT[1],
        "Foglio catastale": "388",
        "Mappali": "10, 11",
        "Tipologia": "Area con edifici",
        "Stato": "Disponibile",
        "Superficie territoriale (m²)": "20.000 mq",
        "Superficie coperta (m²)": "8.000",
        "SLP - superficie lorda di pavimento (m²)": "12.000",
        "Numero piani": 2,
        "Destinazione urbanistica PGT": "Terziario/direzionale",
        "Modalità di disponibilità": "Vendita",
        "Prezzo richiesto (€)": "€ 9.500.000",
        "Nulla osta alla pubblicazione": "Sì",
        "Data compilazione": dt.date(2026, 10, 1),
    }
    if kind == "B":
        values.update({
            "Titolo del progetto": "Progetto di prova",
            "SLP di progetto (m²)": "15.000",
            "Valore dell'investimento (€)": "20 mln",
            "Stato dell'iter urbanistico": "Conforme al PGT vigente",
        })
    values.update(overrides)
    writer = TemplateWriter(kind)
    for label, value in values.items():
        if value is not None:
            writer.candidacy(label, value)
    return writer


def delegate_writer(**delega_overrides: object) -> TemplateWriter:
    """A valid candidacy submitted by a delegate with a complete form C."""
    writer = valid_writer(**{
        "Tipo proponente": "Delegato",
        "Denominazione o nome e cognome": AGENT[0],
        "Partita IVA": AGENT[1],
        "Proprietario (denominazione o nome)": OWNER_PERSON[0],
        "Codice fiscale o partita IVA del proprietario": OWNER_PERSON[1],
    })
    delega: dict[str, object] = {
        "Delegante: denominazione o nome e cognome": OWNER_PERSON[0],
        "Delegante: codice fiscale o partita IVA": OWNER_PERSON[1],
        "Documento d'identità: tipo": "Carta d'identità",
        "Documento d'identità: numero": "CA99999ZZ",
        "Documento d'identità: scadenza": dt.date(2030, 6, 30),
        "Delegato: denominazione o nome e cognome": AGENT[0],
        "Delegato: codice fiscale o partita IVA": AGENT[1],
        "Delegato: categoria": "Intermediario immobiliare",
        "Opportunità: denominazione": "Sito di prova Milano",
        "Opportunità: comune": "Milano",
        "Opportunità: foglio": "388",
        "Opportunità: mappali": "10, 11, 12",
        "Luogo": "Milano",
        "Data": dt.date(2026, 9, 30),
        "Firma del delegante apposta": "Sì",
        "Nulla osta alla pubblicazione del delegante": "Sì",
    }
    delega.update(delega_overrides)
    for label, value in delega.items():
        if value is not None:
            writer.delegation(label, value)
    return writer


def rebuild_zip(data: bytes, replace: dict[str, bytes | None] | None = None,
                add: dict[str, bytes] | None = None) -> bytes:
    """Copy an xlsx package, replacing, dropping (None) or adding parts."""
    replace = replace or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename in replace:
                if replace[item.filename] is not None:
                    target.writestr(item.filename, replace[item.filename])
            else:
                target.writestr(item, source.read(item.filename))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def candidacy_cell(writer: TemplateWriter, label: str) -> str:
    return f"B{writer.row_of(SHEET_CANDIDACY, label)}"
