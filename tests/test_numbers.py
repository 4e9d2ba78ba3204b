"""Numbers that read two ways are refused with both readings, money with multipliers and a
currency sign works, values orders of magnitude off are warned about, Italian messages
use the Italian number format, and GEOS' reasons reach owners in plain words (review
finding 5 of the catalogue issue, with its values)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from ingest.coordinates import parse_wkt_perimeter, plain_invalidity
from ingest.values import UNITS, ValueProblem, it_number, parse_number
from tests.test_intake import _validate
from tests.workbooks import candidacy_cell, valid_writer


@pytest.mark.parametrize("text, quantity, small, large", [
    ("12,500", "area", "12.5", "12,500"),
    ("2,500 m²", "area", "2.5", "2,500"),
    ("€ 850,000", "money", "850", "850,000"),
    ("1,500 kW", "power", "1.5", "1,500"),
])
def test_a_number_that_reads_two_ways_is_refused_with_both_readings(
        text: str, quantity: str, small: str, large: str) -> None:
    with pytest.raises(ValueProblem) as refused:
        parse_number(text, quantity)
    assert f"reads as {small} (Italian decimal comma) or as {large} (English thousands)" in refused.value.expected_en
    assert "si legge" in refused.value.expected_it and "migliaia all'inglese" in refused.value.expected_it


@pytest.mark.parametrize("text, quantity, expected", [
    ("12,500 sqm", "area", 12_500),  # an English unit settles it
    ("€ 12 mln", "money", 12_000_000),
    ("€ 1,2 mln", "money", 1_200_000),
    ("1,2 milioni di euro", "money", 1_200_000),
    ("€ 250 k", "money", 250_000),
    ("12.500 mq", "area", 12_500),  # Italian thousands: the default
    ("1,25 ha", "area", 12_500),
    ("1,250,000.50 €", "money", 1_250_000.5),  # English, both separators: unambiguous
    ("0,500", "area", 0.5),  # no English writer puts a thousands comma after a zero
])
def test_numbers_that_read_one_way(text: str, quantity: str, expected: float) -> None:
    assert parse_number(text, quantity) == pytest.approx(expected)


def test_italian_figures() -> None:
    assert it_number(15000) == "15.000" and it_number(2.5, 1) == "2,5" and it_number(1234567.891, 2) == "1.234.567,89"


def test_the_ambiguous_cell_is_an_error_at_its_cell(session: Session) -> None:
    writer = valid_writer(**{"Superficie territoriale (m²)": "12,500"})
    validation = _validate(session, writer)
    problem = next(p for p in validation.errors if p.field == "land_area_m2")
    assert problem.cell == candidacy_cell(writer, "Superficie territoriale (m²)")
    assert "'12,500' reads as 12.5" in problem.message_en or "'12,500' reads as 12.5" in (problem.expected or "")
    assert not validation.ok


def test_italian_messages_print_italian_numbers(session: Session) -> None:
    validation = _validate(session, valid_writer(**{"Superficie coperta (m²)": "25.000"}))
    problem = next(p for p in validation.errors if p.code == "covered_exceeds_land")
    assert "(25.000 m²) supera la superficie territoriale (20.000 m²)" in problem.message_it
    assert "(25,000 m²) exceeds the land area (20,000 m²)" in problem.message_en


@pytest.mark.parametrize("overrides, field", [
    ({"Prezzo richiesto (€)": "9.500"}, "price_eur"),  # 0.47 €/m² of 20,000 m²: a factor of 1,000 lost
    ({"Potenza elettrica disponibile (kW)": "2.000.000"}, "power_kw"),  # 100 kW/m²
])
def test_values_orders_of_magnitude_off_are_warned_about(session: Session, overrides: dict, field: str) -> None:
    validation = _validate(session, valid_writer(**overrides))
    warning = next(p for p in validation.warnings if p.code == "implausible_value" and p.field == field)
    assert "check the unit and the thousands separator" in warning.message_en
    assert "verificare l'unità e il separatore delle migliaia" in warning.message_it
    assert validation.ok  # a warning, never an error


def test_geos_reasons_reach_owners_in_plain_words() -> None:
    assert plain_invalidity("Self-intersection[10.02 45.13]") == (
        "its outline crosses itself near longitude 10.02000, latitude 45.13000",
        "il contorno si interseca vicino a longitudine 10,02000, latitudine 45,13000")
    with pytest.raises(ValueProblem) as bowtie:
        parse_wkt_perimeter("POLYGON((9.18 45.46, 9.19 45.47, 9.19 45.46, 9.18 45.47, 9.18 45.46))")
    assert "its outline crosses itself near longitude 9.18500" in bowtie.value.expected_en
    assert "Self-intersection" not in bowtie.value.expected_en + bowtie.value.expected_it
    assert "il contorno si interseca" in bowtie.value.expected_it


# -- malformed numbers (finding 1 of the issue "What real clients send") -------------------

MALFORMED = ["12.500.5", "1.2.3", "12.5.2026", "1,2,3", "1.234,5.6", "1,23.456", "12.50.000", "1 2 3",
             "1.000,000.5", "12..500", "0.500.000", "1'25'000", "1.250 000"]


@pytest.mark.parametrize("text", MALFORMED)
@pytest.mark.parametrize("quantity", sorted(UNITS))
def test_separators_that_fit_no_reading_are_refused_never_dropped(text: str, quantity: str) -> None:
    with pytest.raises(ValueProblem) as refused:
        parse_number(text, quantity)
    assert f"'{text}' fits no way of writing one; thousands go in groups of three digits" in refused.value.expected_en
    assert f"'{text}' non si legge come numero; le migliaia vanno in gruppi di tre cifre" in refused.value.expected_it


def test_a_malformed_number_is_an_error_at_its_cell_in_both_languages(session: Session) -> None:
    writer = valid_writer(**{"Superficie territoriale (m²)": "12.5.2026"})
    validation = _validate(session, writer)
    problem = next(p for p in validation.errors if p.field == "land_area_m2")
    assert problem.cell == candidacy_cell(writer, "Superficie territoriale (m²)")
    assert problem.found == "12.5.2026"
    assert "'12.5.2026' fits no way of writing one" in problem.message_en
    assert "'12.5.2026' non si legge come numero" in problem.message_it
    assert not validation.ok


def readings(text: str) -> set[float]:
    """What an Italian reader (dot thousands, decimal comma) and an English one (comma
    thousands, decimal point) take ``text`` for; spaces group thousands in both. Empty
    when neither can read it. Written from the two conventions, not from the parser."""
    found = set()
    for thousands, decimal in ((".", ","), (",", ".")):
        for grouping in (thousands, " "):
            match = re.fullmatch(rf"[-+]?(?:(?P<grouped>[1-9]\d{{0,2}}(?:{re.escape(grouping)}\d{{3}})+)|(?P<plain>\d+))"
                                 rf"(?:{re.escape(decimal)}(?P<frac>\d+))?", text)
            if match:
                whole = (match["grouped"] or match["plain"]).replace(grouping, "")
                value = float(f"{whole}.{match['frac'] or 0}")
                found.add(-value if text.startswith("-") else value)
    return found


NUMBERISH = st.from_regex(r"\A[-+]?[0-9][0-9., ]{0,11}\Z", fullmatch=True).map(str.strip)


@settings(max_examples=2500, deadline=None)
@given(text=NUMBERISH, quantity=st.sampled_from(sorted(UNITS)))
@example(text="12.500.5", quantity="area")
@example(text="1.2.3", quantity="plain")
@example(text="12,500", quantity="area")
@example(text="0,500", quantity="area")
def test_any_number_accepted_is_what_an_italian_or_english_reader_takes(text: str, quantity: str) -> None:
    """Every numeric field: a string the parser accepts reads as an Italian or an English
    reader would read it (the only reading when there is one), and a string neither reads
    is refused: nothing is silently changed."""
    expected = readings(text)
    try:
        value = parse_number(text, quantity)
    except ValueProblem:
        assert len(expected) != 1, f"{text!r} refused, though it reads only as {expected}"
        return
    assert expected, f"{text!r} accepted as {value} but no reader reads it"
    assert any(value == pytest.approx(reading) for reading in expected), (text, value, expected)
    if len(expected) == 1:
        assert value == pytest.approx(expected.pop())


@settings(max_examples=500, deadline=None)
@given(value=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       digits=st.sampled_from([0, 1, 2]))
def test_italian_figures_round_trip(value: object, digits: int) -> None:
    """What the service writes in Italian (it_number, as in its messages) reads back."""
    number = round(float(value), digits)
    assert parse_number(it_number(number, digits), "plain") == pytest.approx(number)
