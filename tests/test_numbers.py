"""Numbers that read two ways are refused with both readings, money with multipliers and a
currency sign works, values orders of magnitude off are warned about, Italian messages
use the Italian number format, and GEOS' reasons reach owners in plain words (review
finding 5 of the catalogue issue, with its values)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ingest.coordinates import parse_wkt_perimeter, plain_invalidity
from ingest.values import ValueProblem, it_number, parse_number
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
