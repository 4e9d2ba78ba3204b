"""Cell values as owners type them: numbers with units, yes/no, dates, lists, choices."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest import vocabulary as v
from ingest.values import (
    ValueProblem,
    normalise,
    parse_bool,
    parse_choice,
    parse_choices,
    parse_date,
    parse_email,
    parse_integer,
    parse_number,
    parse_phone,
    split_list,
)


@pytest.mark.parametrize("text, quantity, expected", [
    ("12.500 mq", "area", 12_500),
    ("12.500,50 m²", "area", 12_500.5),
    ("1,2 ha", "area", 12_000),
    ("4,2 ettari", "area", 42_000),
    ("€ 1.200.000", "money", 1_200_000),
    ("1.200.000,00 €", "money", 1_200_000),
    ("48 mln", "money", 48_000_000),
    ("2 MW", "power", 2_000),
    ("800 kW", "power", 800),
    ("1,250,000.50", "plain", 1_250_000.5),
    ("12,500.5", "plain", 12_500.5),
    ("1.250", "plain", 1_250),  # Italian thousands by default
    ("1,250", "plain", 1.25),  # Italian decimal comma by default
    ("12.5", "plain", 12.5),  # not three digits after the dot: unambiguous decimal
    ("0.125", "plain", 0.125),
    ("1 500 mq", "area", 1_500),
    ("4,5 km", "length_km", 4.5),
    ("750 m", "length_km", 0.75),
    (1500, "area", 1_500),
    (12.75, "area", 12.75),
])
def test_numbers_with_units(text: object, quantity: str, expected: float) -> None:
    assert parse_number(text, quantity) == pytest.approx(expected)


@pytest.mark.parametrize("text, quantity, message", [
    ("circa", "money", "a number in euro"),
    ("12 acri", "area", "unit 'acri' not understood"),
    ("5 kg", "power", "unit 'kg' not understood"),
    (True, "plain", "a number"),
])
def test_numbers_refused(text: object, quantity: str, message: str) -> None:
    with pytest.raises(ValueProblem, match=message):
        parse_number(text, quantity)


def _italian(value: float) -> str:
    whole, frac = f"{value:,.2f}".split(".")
    return whole.replace(",", ".") + "," + frac


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False).map(lambda x: round(x, 2)))
def test_italian_format_round_trips(value: float) -> None:
    assert parse_number(_italian(value)) == pytest.approx(value, abs=0.005)
    assert parse_number(_italian(value) + " mq", "area") == pytest.approx(value, abs=0.005)


@given(st.floats(min_value=1000, max_value=1e9, allow_nan=False).map(lambda x: round(x, 2)))
def test_english_format_with_both_separators_round_trips(value: float) -> None:
    assert parse_number(f"{value:,.2f}") == pytest.approx(value, abs=0.005)


@given(st.integers(min_value=0, max_value=10**12))
def test_integers_with_dot_thousands(value: int) -> None:
    text = f"{value:,}".replace(",", ".")
    assert parse_number(text) == value


@given(st.integers(min_value=1, max_value=10**6), st.sampled_from(["ha", "mq", "m²", "m2"]))
def test_area_units_scale(value: int, unit: str) -> None:
    factor = 10_000 if unit == "ha" else 1
    assert parse_number(f"{value} {unit}", "area") == value * factor


@pytest.mark.parametrize("text, expected", [
    ("Sì", True), ("si", True), ("YES", True), ("x", True), (1, True), (True, True),
    ("No", False), ("n", False), ("falso", False), (0, False),
])
def test_yes_no(text: object, expected: bool) -> None:
    assert parse_bool(text) is expected


def test_yes_no_refused() -> None:
    with pytest.raises(ValueProblem, match=r"Yes or No"):
        parse_bool("forse")


@pytest.mark.parametrize("text, expected", [
    ("31/12/2027", dt.date(2027, 12, 31)),
    ("1.3.27", dt.date(2027, 3, 1)),
    ("2027-03-01", dt.date(2027, 3, 1)),
    ("1 marzo 2027", dt.date(2027, 3, 1)),
    ("marzo 2027", dt.date(2027, 3, 1)),
    (dt.datetime(2027, 3, 1, 12, 0), dt.date(2027, 3, 1)),
])
def test_dates(text: object, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2027", "domani", "2027"])
def test_dates_refused(text: str) -> None:
    with pytest.raises(ValueProblem, match=r"a date such as 31/12/2027"):
        parse_date(text)


def test_integer_refuses_fractions() -> None:
    assert parse_integer("220") == 220
    with pytest.raises(ValueProblem, match=r"a whole number"):
        parse_integer("2,5")


def test_email_and_phone() -> None:
    assert parse_email(" Info@Esempio.IT ") == "info@esempio.it"
    with pytest.raises(ValueProblem, match=r"an e-mail address"):
        parse_email("info(at)esempio.it")
    assert parse_phone("+39 02 1234 5678") == "+390212345678"
    with pytest.raises(ValueProblem, match=r"a phone number"):
        parse_phone("call me")


def test_lists() -> None:
    assert split_list("101, 102; 105\n106") == ["101", "102", "105", "106"]
    assert split_list(45) == ["45"]


def test_choices_by_code_label_english_and_typo() -> None:
    assert parse_choice("Area libera (greenfield)", v.SITE_TYPES) == "area_libera"
    assert parse_choice("Building", v.SITE_TYPES) == "edificio"
    assert parse_choice("area_dismessa", v.SITE_TYPES) == "area_dismessa"
    assert parse_choice("AREA CON EDIFICI", v.SITE_TYPES) == "area_con_edifici"
    assert parse_choice("Edifcio", v.SITE_TYPES) == "edificio"


def test_choice_refused_lists_the_options_in_each_language() -> None:
    with pytest.raises(ValueProblem, match=r"one of: Vacant land \(greenfield\)") as info:
        parse_choice("Capannone", v.SITE_TYPES)
    assert "uno tra: Area libera (greenfield)" in info.value.expected_it
    assert parse_choice("Vacant land (greenfield)", v.SITE_TYPES) == "area_libera"  # what the English text offers


def test_multiple_choices_with_commas_inside_labels() -> None:
    text = "Scienze della vita (farmaceutica, biotech, medtech), Chimica; Lusso e pelletteria"
    assert parse_choices(text, v.SECTORS) == ["life_sciences", "chemicals", "luxury_leather"]
    assert parse_choices("Terziario/direzionale, Servizi", v.ZONING) == ["terziario_direzionale", "servizi"]
    with pytest.raises(ValueProblem):
        parse_choices("Chimica, Astrologia", v.SECTORS)


def test_normalise() -> None:
    assert normalise("  Superficie  territoriale (m²) ") == "superficie territoriale m2"
    assert normalise("Disponibilità") == "disponibilita"
