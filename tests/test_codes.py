"""Codice fiscale (with omocodia) and partita IVA check characters."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ingest.codes import (
    cf_check_char,
    codice_fiscale_problem,
    decode_omocodia,
    partita_iva_problem,
    tax_id_problem,
)

# A widely published example code (fictional person) and the Agenzia delle Entrate's own
# partita IVA, both valid.
KNOWN_CF = "RSSMRA85T10A562S"
KNOWN_PIVA = "06363391001"


def test_known_valid_codes() -> None:
    assert codice_fiscale_problem(KNOWN_CF) is None
    assert codice_fiscale_problem("rss mra 85t10 a562s") is None
    assert partita_iva_problem(KNOWN_PIVA) is None


@pytest.mark.parametrize("code, message", [
    ("RSSMRA85T10A562T", "the check character should be S, not T"),
    ("RSSMRA85T10A562", "15 characters instead of 16"),
    ("RSSMRA85Z10A562S", "not the pattern of a codice fiscale"),
    ("1234567890123456", "not the pattern of a codice fiscale"),
])
def test_invalid_codice_fiscale(code: str, message: str) -> None:
    english, italian = codice_fiscale_problem(code)
    assert message in english and italian


@pytest.mark.parametrize("code, message", [
    ("06363391002", "the check digit should be 1, not 2"),
    ("0636339100", "not 11 digits"),
    ("00000000000", "all zeros"),
    ("0636339100A", "not 11 digits"),
])
def test_invalid_partita_iva(code: str, message: str) -> None:
    english, italian = partita_iva_problem(code)
    assert message in english and italian


def test_omocodia_variants_are_valid_and_decode_to_the_base() -> None:
    # omocodia replaces digits from the right with L M N P Q R S T U V
    base = KNOWN_CF
    letters = "LMNPQRSTUV"
    chars = list(base[:15])
    for position in (14, 13, 12, 10, 9, 7, 6):
        chars[position] = letters[int(base[position])]
        variant = "".join(chars) + cf_check_char("".join(chars))
        assert codice_fiscale_problem(variant) is None, variant
        assert decode_omocodia(variant) == base


@given(st.text(alphabet="0123456789", min_size=10, max_size=10))
def test_partita_iva_check_digit(first10: str) -> None:
    assume(first10 != "0" * 10)  # 00000000000 is refused outright
    valid = [d for d in "0123456789" if partita_iva_problem(first10 + d) is None]
    assert len(valid) == 1  # exactly one check digit fits


@given(st.text(alphabet="0123456789", min_size=11, max_size=11), st.integers(0, 10), st.integers(1, 9))
def test_any_single_digit_change_breaks_a_partita_iva(code: str, position: int, delta: int) -> None:
    if partita_iva_problem(code) is not None:
        return
    changed = code[:position] + str((int(code[position]) + delta) % 10) + code[position + 1:]
    assert partita_iva_problem(changed) is not None


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=1))
def test_a_wrong_check_character_is_caught(check: str) -> None:
    code = KNOWN_CF[:15] + check
    assert (codice_fiscale_problem(code) is None) == (check == "S")


def test_tax_id_dispatches_on_length() -> None:
    assert tax_id_problem(KNOWN_CF) is None
    assert tax_id_problem(KNOWN_PIVA) is None
    assert tax_id_problem("06363391002") is not None
