"""Italian tax codes: codice fiscale of natural persons (16 characters, omocodia
included) and the 11-digit partita IVA / codice fiscale of companies and bodies.

Both algorithms are those published by the Agenzia delle Entrate (DM 23/12/1976 for the
codice fiscale; the Luhn-style check digit of the partita IVA).
"""

from __future__ import annotations

import re

_ODD = {
    **dict(zip("0123456789", [1, 0, 5, 7, 9, 13, 15, 17, 19, 21], strict=True)),
    **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
               [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16,
                10, 22, 25, 24, 23], strict=True)),
}
_EVEN = {
    **{d: int(d) for d in "0123456789"},
    **{c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")},
}
# Omocodia: digits of the code replaced by these letters when two people would collide.
_OMOCODIA = "LMNPQRSTUV"
_CF_SHAPE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)


def clean(code: str) -> str:
    return re.sub(r"[\s.\-]", "", str(code)).upper()


def cf_check_char(first15: str) -> str:
    total = sum(
        (_ODD if i % 2 == 0 else _EVEN)[c] for i, c in enumerate(first15)
    )
    return chr(ord("A") + total % 26)


Problem = tuple[str, str]  # (English, Italian)


def codice_fiscale_problem(code: str) -> Problem | None:
    """None when ``code`` is a valid 16-character codice fiscale, else why not."""
    code = clean(code)
    if len(code) != 16:
        return (f"{len(code)} characters instead of 16", f"{len(code)} caratteri invece di 16")
    if not _CF_SHAPE.match(code):
        return ("not the pattern of a codice fiscale: 6 letters, birth date, comune, check",
                "non ha la struttura di un codice fiscale: 6 lettere, data di nascita, comune, "
                "carattere di controllo")
    expected = cf_check_char(code[:15])
    if expected != code[15]:
        return (f"the check character should be {expected}, not {code[15]}",
                f"il carattere di controllo dovrebbe essere {expected}, non {code[15]}")
    return None


def partita_iva_problem(code: str) -> Problem | None:
    """None when ``code`` is a valid 11-digit partita IVA, else why not."""
    code = clean(code)
    if not re.fullmatch(r"\d{11}", code):
        return ("not 11 digits", "non è di 11 cifre")
    if code == "0" * 11:
        return ("all zeros", "tutti zeri")
    total = 0
    for i, digit in enumerate(int(c) for c in code[:10]):
        if i % 2 == 0:
            total += digit
        else:
            doubled = digit * 2
            total += doubled - 9 if doubled > 9 else doubled
    check = (10 - total % 10) % 10
    if check != int(code[10]):
        return (f"the check digit should be {check}, not {code[10]}",
                f"la cifra di controllo dovrebbe essere {check}, non {code[10]}")
    return None


def tax_id_kind(code: str) -> str:
    """'cf' for a 16-character code, 'piva' for 11 digits (companies use it as CF too)."""
    return "cf" if len(clean(code)) == 16 else "piva"


def tax_id_problem(code: str) -> Problem | None:
    return (codice_fiscale_problem if tax_id_kind(code) == "cf" else partita_iva_problem)(code)


def decode_omocodia(code: str) -> str:
    """The base code behind an omocode variant (letters back to digits in numeric places)."""
    code = clean(code)
    chars = list(code)
    for position in (6, 7, 9, 10, 12, 13, 14):
        if chars[position] in _OMOCODIA:
            chars[position] = str(_OMOCODIA.index(chars[position]))
    chars[15] = cf_check_char("".join(chars[:15]))
    return "".join(chars)


def complete_partita_iva(first10: str) -> str:
    """The 11-digit partita IVA that starts with ``first10`` (for fictional test data)."""
    return next(first10 + d for d in "0123456789" if partita_iva_problem(first10 + d) is None)


def complete_codice_fiscale(first15: str) -> str:
    """``first15`` with its check character appended."""
    return first15 + cf_check_char(first15)
