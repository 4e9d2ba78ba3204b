"""Every problem code of the intake, in both languages: each is produced by a workbook
below, and its Italian message and expected value hold no English words, its English
ones no Italian words (quoted values, which are the owner's or the template's own words,
aside). The test fails when a code of ``ingest`` has no workbook here, so a new check
joins the walk on the day it is written (finding 4 of the issue "What real clients send")."""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from ingest.problems import Problem
from ingest.template import TemplateWriter
from tests.conftest import ROOT
from tests.test_intake import PERSON_PROPONENT, _form_c, _validate
from tests.workbooks import AGENT, OWNER_COMPANY, candidacy_cell, delegate_writer, valid_writer

# words that give a sentence away: none of them is a word of the other language
ENGLISH = {"the", "and", "or", "of", "is", "are", "not", "expected", "found", "give", "check", "with",
           "should", "must", "between", "most", "up", "point", "number", "one", "valid", "characters",
           "instead", "from", "for", "only", "which", "this", "that", "at", "to", "be", "surface", "text",
           "without", "owner", "delegate", "after", "before", "any", "yes", "unit", "understood"}
ITALIAN = {"il", "lo", "della", "delle", "degli", "è", "sono", "deve", "devono", "indicare", "atteso",
           "trovato", "oppure", "fino", "verificare", "compilare", "nel", "nella", "dal", "dalla", "una",
           "tra", "senza", "almeno", "al", "massimo", "numero", "caratteri", "invece", "cifre", "scrivere"}
QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|«[^»]*»")


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[a-zàèéìòù]+", QUOTED.sub(" ", (text or "").lower())))


def _blank(writer: TemplateWriter, *labels: str) -> TemplateWriter:
    for label in labels:
        writer.book["Candidatura"][candidacy_cell(writer, label)].value = None
    return writer


def _without_point(**overrides: object) -> TemplateWriter:
    return _blank(valid_writer(**overrides), "Latitudine (WGS84)", "Longitudine (WGS84)")


def _xy(x: object, y: object, epsg: object) -> TemplateWriter:
    return _without_point(**{"Coordinata X (Est)": x, "Coordinata Y (Nord)": y,
                             "Sistema di riferimento X/Y (EPSG)": epsg})


def _perimeter(points: list[tuple[object, object]], **overrides: object) -> TemplateWriter:
    writer = valid_writer(**overrides)
    writer.vertices(points)  # type: ignore[arg-type]
    return writer


def _just_outside_milano(session: Session) -> TemplateWriter:
    """A point 40 m outside Milano's boundary (within the 100 m border tolerance),
    computed from the loaded boundary."""
    lon, lat = session.execute(text("""
        SELECT ST_X(p), ST_Y(p) FROM (
            SELECT ST_PointOnSurface(ST_Difference(ST_Buffer(geom::geography, 40)::geometry,
                                                   ST_Buffer(geom::geography, 20)::geometry)) AS p
            FROM comuni WHERE istat_code = '015146') ring""")).one()
    return valid_writer(**{"Latitudine (WGS84)": lat, "Longitudine (WGS84)": lon})


MILANO_SQUARE = [(45.4630, 9.1900), (45.4630, 9.1930), (45.4650, 9.1930), (45.4650, 9.1900), (45.4630, 9.1900)]
SQUARE_WKT = "POLYGON((9.19 45.463, 9.193 45.463, 9.193 45.465, 9.19 45.465, 9.19 45.463))"

# code -> the workbooks that produce it (several where the code has several causes)
CASES: dict[str, list[Callable[[Session], TemplateWriter]]] = {
    "approximate_location": [lambda s: _without_point()],
    "below_threshold": [lambda s: _blank(valid_writer(**{
        "Tipologia": "Area libera (greenfield)", "Superficie territoriale (m²)": "5.000"}),
        "Superficie coperta (m²)", "SLP - superficie lorda di pavimento (m²)", "Numero piani")],
    "consent_not_owner": [lambda s: delegate_writer(**{"Nulla osta alla pubblicazione del delegante": "No"})],
    "covered_exceeds_land": [lambda s: valid_writer(**{"Superficie coperta (m²)": "25.000"})],
    "delegate_is_owner": [lambda s: _form_c(PERSON_PROPONENT, {
        "Delegato: denominazione o nome e cognome": PERSON_PROPONENT["Proprietario (denominazione o nome)"],
        "Delegato: codice fiscale o partita IVA": PERSON_PROPONENT["Codice fiscale o partita IVA del proprietario"]})],
    "delegation_to_self": [lambda s: _form_c(
        {"Proprietario (denominazione o nome)": AGENT[0], "Codice fiscale o partita IVA del proprietario": AGENT[1]},
        {"Delegante: denominazione o nome e cognome": AGENT[0], "Delegante: codice fiscale o partita IVA": AGENT[1],
         "Delegante: legale rappresentante": "Mario Esempio"})],
    "delegation_no_legal_rep": [lambda s: _form_c(
        {"Proprietario (denominazione o nome)": OWNER_COMPANY[0],
         "Codice fiscale o partita IVA del proprietario": OWNER_COMPANY[1]},
        {"Delegante: denominazione o nome e cognome": OWNER_COMPANY[0],
         "Delegante: codice fiscale o partita IVA": OWNER_COMPANY[1]})],
    "delegation_future_date": [lambda s: delegate_writer(Data=dt.date(2027, 6, 1))],
    "delegation_after_compilation": [lambda s: delegate_writer(Data=dt.date(2026, 10, 15))],
    "delegation_not_signed": [lambda s: delegate_writer(**{"Firma del delegante apposta": "No"})],
    "delegation_other_site": [lambda s: delegate_writer(**{"Opportunità: comune": "Monza"}),
                              lambda s: delegate_writer(**{"Opportunità: foglio": "12"}),
                              lambda s: delegate_writer(**{"Opportunità: mappali": "10"})],
    "delegation_wrong_delegate": [lambda s: delegate_writer(**{"Delegato: codice fiscale o partita IVA": "06363391001"})],
    "delegation_wrong_owner": [lambda s: delegate_writer(**{"Delegante: codice fiscale o partita IVA": "RSSMRA85T10A562S"})],
    "floor_area_implausible": [lambda s: valid_writer(**{"SLP - superficie lorda di pavimento (m²)": "900.000"})],
    "future_date": [lambda s: valid_writer(**{"Data compilazione": dt.date(2027, 1, 1)})],
    "id_document_expired": [lambda s: delegate_writer(**{"Documento d'identità: scadenza": dt.date(2025, 1, 31)})],
    "implausible_date": [lambda s: valid_writer(**{"Disponibile dal": dt.date(1900, 1, 1)})],
    "implausible_value": [lambda s: valid_writer(**{"Prezzo richiesto (€)": "9.500"}),
                          lambda s: valid_writer(**{"Potenza elettrica disponibile (kW)": "2.000.000"})],
    "incomplete_coordinates": [lambda s: _blank(valid_writer(), "Latitudine (WGS84)"),
                               lambda s: _xy("514.950,3", None, "32632")],
    "invalid_coordinates": [lambda s: _xy("99.999.999", "1", "32632")],
    "invalid_perimeter": [lambda s: _perimeter(MILANO_SQUARE[:2])],
    "invalid_vertex": [lambda s: _perimeter([*MILANO_SQUARE[:2], ("quarantacinque", 9.19), *MILANO_SQUARE[2:]])],
    "invalid_value": [  # one cell of every kind of value
        lambda s: valid_writer(**{"Partita IVA": "00000009102"}),
        lambda s: valid_writer(**{"Codice fiscale": "RSSMRA85T10A562A"}),
        lambda s: valid_writer(**{"Tipologia": "Capannone industriale di lusso"}),
        lambda s: valid_writer(**{"Settori idonei": "Logistica, astronautica"}),
        lambda s: valid_writer(**{"Data compilazione": "31/02/2026"}),
        lambda s: valid_writer(**{"Superficie territoriale (m²)": "12.5.2026"}),
        lambda s: valid_writer(**{"Superficie territoriale (m²)": "12,500"}),
        lambda s: valid_writer(**{"Superficie territoriale (m²)": "20.000 acri"}),
        lambda s: valid_writer(**{"Prezzo richiesto (€)": "tanti"}),
        lambda s: valid_writer(**{"Potenza elettrica disponibile (kW)": "-5"}),
        lambda s: valid_writer(**{"Numero piani": "2,5"}),
        lambda s: valid_writer(**{"Email o PEC": "non-una-mail"}),
        lambda s: valid_writer(**{"Telefono": "chiamare in ufficio"}),
        lambda s: valid_writer(**{"Raccordo ferroviario": "forse"}),
        lambda s: valid_writer(**{"Latitudine (WGS84)": "quarantacinque"}),
        lambda s: valid_writer(**{"Altezza utile (m)": "alta"}),
        lambda s: valid_writer(**{"Distanza dall'aeroporto (km)": "vicina"}),
        lambda s: _xy("514.950,3", "5.034.706,1", "WGS 2000"),
        lambda s: valid_writer(**{"Perimetro (WKT)": "POLYGON((9.19 45.46, 9.19 45.46))"}),
    ],
    "missing_delegation": [lambda s: valid_writer(**{
        "Tipo proponente": "Delegato", "Proprietario (denominazione o nome)": "Anna Esempio",
        "Codice fiscale o partita IVA del proprietario": "RSSMRA85T10A562S"})],
    "missing_epsg": [lambda s: _xy("514.950,3", "5.034.706,1", None)],
    "missing_location": [lambda s: _blank(_without_point(), "Foglio catastale")],
    "missing_owner": [lambda s: valid_writer(**{"Tipo proponente": "Delegato"})],
    "missing_price": [lambda s: _blank(valid_writer(), "Prezzo richiesto (€)")],
    "missing_rent": [lambda s: valid_writer(**{"Modalità di disponibilità": "Locazione"})],
    "missing_tax_id": [lambda s: _blank(valid_writer(), "Partita IVA")],
    "missing_value": [lambda s: _blank(valid_writer(), "Denominazione dell'opportunità"),
                      lambda s: _blank(valid_writer(), "Superficie territoriale (m²)")],
    "old_date": [lambda s: valid_writer(**{"Data compilazione": dt.date(2019, 1, 1)})],
    "on_comune_border": [_just_outside_milano],
    "outside_declared_comune": [lambda s: valid_writer(**{"Latitudine (WGS84)": 45.6983, "Longitudine (WGS84)": 9.6773})],
    "outside_lombardy": [lambda s: valid_writer(**{"Latitudine (WGS84)": 41.9, "Longitudine (WGS84)": 12.5})],
    "perimeter_area_mismatch": [lambda s: _perimeter(MILANO_SQUARE)],
    "personal_data_in_public_text": [lambda s: valid_writer(**{
        "Descrizione (IT)": "Capannone in ottimo stato: scrivere a mario.rossi@example.com o chiamare 333 1234567."})],
    "point_outside_perimeter": [lambda s: _perimeter(MILANO_SQUARE, **{"Latitudine (WGS84)": 45.4800})],
    "province_mismatch": [lambda s: valid_writer(**{"Provincia": "BG"})],
    "two_perimeters": [lambda s: _perimeter(MILANO_SQUARE, **{"Perimetro (WKT)": SQUARE_WKT})],
    "unknown_comune": [lambda s: valid_writer(**{"Comune": "Roma"})],
    "unknown_foglio": [lambda s: _without_point(**{"Foglio catastale": "9999"})],
}


def problem_codes() -> set[str]:
    """Every problem code ``ingest`` can report (read from its source)."""
    found = set()
    for path in (ROOT / "ingest").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("flag", "problem") and len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                found.add(node.args[1].value)
    return found


def test_every_problem_code_has_a_workbook_in_the_walk() -> None:
    assert problem_codes() == set(CASES)


def mixed(problem: Problem) -> list[str]:
    """The other language's words in each language's text of ``problem``."""
    wrong = []
    for name, value, others in (("message_it", problem.message_it, ENGLISH), ("expected_it", problem.expected_it, ENGLISH),
                                ("message_en", problem.message_en, ITALIAN), ("expected", problem.expected, ITALIAN)):
        if bad := words(value) & others:
            wrong.append(f"{problem.code}.{name}: {sorted(bad)} in {value!r}")
    return wrong


@pytest.mark.parametrize("code, index", [(code, i) for code, makers in sorted(CASES.items()) for i in range(len(makers))])
def test_each_problem_speaks_one_language_at_a_time(session: Session, shared_data: Path, code: str, index: int) -> None:
    validation = _validate(session, CASES[code][index](session))
    problems = [p for p in validation.problems if p.code == code]
    assert problems, f"{code}: not produced; got {[p.code for p in validation.problems]}"
    assert [w for p in problems for w in mixed(p)] == []
    for problem in problems:
        assert problem.message_it and problem.message_en


def test_the_word_check_catches_mixed_languages() -> None:
    english_in_italian = Problem("error", "x", None, None, None, "foo", "a valid codice fiscale (the check character "
                                 "should be W, not A)", "Trovato", "Found", expected_it="a valid codice fiscale")
    assert mixed(english_in_italian) == [
        "x.expected_it: ['valid'] in 'a valid codice fiscale'"]
    assert words("atteso 'the owner' al massimo") == {"atteso", "al", "massimo"}
