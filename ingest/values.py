"""Cell values as owners type them: Italian or English numbers with units, yes/no,
dates, lists and choices from a vocabulary.

Every parser takes the raw cell value (str, int, float, datetime, bool or None) and
returns the typed value or raises :class:`ValueProblem` with what was expected, in
Italian and English. Italian number format (dot thousands, comma decimals) is the
default and English is read where unambiguous ("1,250,000.50"). A surface, an amount of
money or a power written with one comma and exactly three digits after it ("12,500",
"€ 850,000", "1,500 kW") reads two ways (twelve and a half, or twelve thousand five
hundred): that is refused with both readings and how to write it, unless an English
unit settles it ("12,500 sqm").
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from difflib import get_close_matches
from typing import Any


class ValueProblem(ValueError):
    def __init__(self, expected_en: str, expected_it: str):
        super().__init__(expected_en)
        self.expected_en = expected_en
        self.expected_it = expected_it


def normalise(text: str) -> str:
    """Lowercase, no accents, punctuation as spaces, single spaces: for matching labels."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    ascii_text = "".join(c for c in decomposed if not unicodedata.combining(c))
    ascii_text = ascii_text.replace("²", "2").lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_text).split())


# -- numbers ----------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?\d[\d.,' \u00a0\u202f]*")
# multiplier by unit, per quantity; keys are normalised unit spellings
UNITS: dict[str, dict[str, float]] = {
    "area": {"": 1, "mq": 1, "m2": 1, "m 2": 1, "metri quadri": 1, "metri quadrati": 1,
             "sqm": 1, "ha": 10_000, "ettari": 10_000, "ettaro": 10_000, "km2": 1_000_000},
    "money": {"": 1, "mln": 1_000_000, "milioni": 1_000_000, "milione": 1_000_000, "m": 1_000_000,
              "mio": 1_000_000, "mila": 1_000, "k": 1_000, "keur": 1_000},
    "power": {"": 1, "kw": 1, "kva": 1, "mw": 1_000, "mva": 1_000, "w": 0.001},
    "length_km": {"": 1, "km": 1, "m": 0.001, "metri": 0.001, "chilometri": 1},
    "length_m": {"": 1, "m": 1, "metri": 1, "ml": 1, "cm": 0.01},
    "plain": {"": 1},
}
_UNIT_NAMES = {
    "area": ("m² (or ha)", "m² (o ha)"),
    "money": ("euro", "euro"),
    "power": ("kW (or MW)", "kW (o MW)"),
    "length_km": ("km", "km"),
    "length_m": ("metres", "metri"),
    "plain": ("", ""),
}


# where one comma and three digits could be a decimal comma (Italian) or a thousands
# separator (English), for these quantities the two readings differ by a factor of 1,000
AMBIGUOUS_QUANTITIES = {"area", "money", "power"}
ENGLISH_UNITS = {"sqm", "sq m", "square metres", "square meters"}
_ONE_COMMA_THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2},\d{3}$")
_CURRENCY_WORDS = {"eur", "euro", "di"}


def it_number(value: float, digits: int = 0) -> str:
    """A figure as Italians write it: 15.000 (thousands), 2,5 (decimals)."""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "§").replace(".", ",").replace("§", ".")


_SPACE_GROUPS = re.compile(r"([1-9]\d{0,2}(?:['\u0020\u00a0\u202f]\d{3})+)(?:[.,](\d+))?")


def _groups(separator: str) -> re.Pattern[str]:
    """Thousands written with ``separator``: 1-3 digits, then groups of exactly three."""
    return re.compile(rf"[1-9]\d{{0,2}}(?:{re.escape(separator)}\d{{3}})+")


_GROUPED = {".": _groups("."), ",": _groups(",")}


class MalformedNumber(ValueError):
    """Separators that fit neither the Italian nor the English way of writing numbers."""


def _decimal_string(number_text: str) -> str:
    """'12.500,5' / '12,500.5' / '1.250' / '1,25' / '1 250 000' as a Python float literal.

    Thousands separators must stand between groups of three digits after a first group
    of one to three, and a decimal separator once, after them: '1.2.3', '12.500.5' or
    '12.5.2026' fit no reading and raise :class:`MalformedNumber` instead of losing their
    separators. One dot before three digits is Italian thousands ('12.500'), one comma is
    an Italian decimal comma (the ambiguous '12,500' of an area is refused earlier)."""
    text = number_text.strip()
    sign = text[0] if text[0] in "+-" else ""
    text = text[len(sign):]
    if any(c in "' \u00a0\u202f" for c in text):  # thousands by spaces or apostrophes
        spaced = _SPACE_GROUPS.fullmatch(text)
        if not spaced:
            raise MalformedNumber(number_text)
        return sign + re.sub(r"\D", "", spaced[1]) + (f".{spaced[2]}" if spaced[2] else "")
    if "." in text and "," in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        whole, _, frac = text.rpartition(decimal)
        thousands = "." if decimal == "," else ","
        if not (_GROUPED[thousands].fullmatch(whole) and frac.isdigit()):
            raise MalformedNumber(number_text)
        return f"{sign}{whole.replace(thousands, '')}.{frac}"
    separator = "." if "." in text else "," if "," in text else ""
    if not separator:
        if not text.isdigit():
            raise MalformedNumber(number_text)
        return sign + text
    if text.count(separator) > 1:  # 1.250.000 or 1,250,000
        if not _GROUPED[separator].fullmatch(text):
            raise MalformedNumber(number_text)
        return sign + text.replace(separator, "")
    whole, frac = text.split(separator)
    if not (whole.isdigit() and frac.isdigit()):
        raise MalformedNumber(number_text)
    if separator == "." and len(frac) == 3 and _GROUPED["."].fullmatch(text):
        return sign + whole + frac  # 12.500: Italian thousands (the default)
    return f"{sign}{whole}.{frac}"


def parse_number(value: Any, quantity: str = "plain") -> float:
    """A number with an optional unit of ``quantity`` (area, money, power, length_km...)."""
    unit_en, unit_it = _UNIT_NAMES[quantity]
    unit_en, unit_it = (f" in {unit_en}", f" in {unit_it}") if unit_en else ("", "")
    if isinstance(value, bool):
        raise ValueProblem(f"a number{unit_en}", f"un numero{unit_it}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    text = text.replace("€", " eur ").replace("m²", " m2 ").replace("m^2", " m2 ")
    match = _NUMBER.search(text)
    if not match:
        raise ValueProblem(f"a number{unit_en}", f"un numero{unit_it}")
    number_text = match.group().strip()
    unit = normalise(text[: match.start()] + " " + text[match.end():])
    if quantity == "money":  # "€ 12 mln", "1,2 milioni di euro": the multiplier is what counts
        unit = " ".join(word for word in unit.split() if word not in _CURRENCY_WORDS)
    multipliers = UNITS[quantity]
    if unit not in multipliers:
        raise ValueProblem(
            f"a number{unit_en} (unit '{unit}' not understood)",
            f"un numero{unit_it} (unità '{unit}' non riconosciuta)",
        )
    compact = re.sub(r"[' \u00a0\u202f]", "", number_text)
    if quantity in AMBIGUOUS_QUANTITIES and _ONE_COMMA_THOUSANDS.match(compact):
        if unit in ENGLISH_UNITS:
            return float(compact.replace(",", "")) * multipliers[unit]
        _ambiguous(compact, unit_en, unit_it, multipliers[unit])
    try:
        number = float(_decimal_string(number_text))
    except MalformedNumber as exc:
        found = number_text.strip()
        raise ValueProblem(
            f"a number{unit_en}: '{found}' fits no way of writing one; thousands go in groups of three "
            "digits after the first (12.500 or 12,500 sqm, 1.250.000) and the decimals after one comma "
            "(12.500,5) or one point (12,500.5)",
            f"un numero{unit_it}: '{found}' non si legge come numero; le migliaia vanno in gruppi di tre "
            "cifre dopo il primo (12.500, 1.250.000) e i decimali dopo una sola virgola (12.500,5)",
        ) from exc
    return number * multipliers[unit]


def _ambiguous(compact: str, unit_en: str, unit_it: str, multiplier: float) -> None:
    whole, frac = compact.split(",")
    small, large = float(f"{whole}.{frac}") * multiplier, float(whole + frac) * multiplier
    en_small, en_large = f"{small:,.3f}".rstrip("0").rstrip("."), f"{large:,.0f}"
    it_small, it_large = it_number(small, 3).rstrip("0").rstrip(","), it_number(large)
    raise ValueProblem(
        f"an unambiguous number{unit_en}: '{compact}' reads as {en_small} (Italian decimal comma) or as "
        f"{en_large} (English thousands); write {it_large.replace('.', '')} or {it_large} for {en_large}, "
        f"or {it_small} for {en_small}",
        f"un numero non ambiguo{unit_it}: '{compact}' si legge {it_small} (virgola decimale) oppure "
        f"{it_large} (migliaia all'inglese); scrivere {it_large.replace('.', '')} o {it_large} per {it_large}, "
        f"oppure {it_small} per {it_small}",
    )


def parse_integer(value: Any) -> int:
    number = parse_number(value)
    if number != int(number):
        raise ValueProblem("a whole number", "un numero intero")
    return int(number)


# -- yes/no, dates, text ----------------------------------------------------------------------

_YES = {"si", "s", "yes", "y", "true", "vero", "x", "1", "presente", "disponibile"}
_NO = {"no", "n", "false", "falso", "0", "assente", "non disponibile"}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    key = normalise(str(value))
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise ValueProblem("Yes or No", "Sì o No")


_MONTHS = {
    name: index
    for index, names in enumerate(
        [("gennaio", "january", "jan", "gen"), ("febbraio", "february", "feb"),
         ("marzo", "march", "mar"), ("aprile", "april", "apr"), ("maggio", "may", "mag"),
         ("giugno", "june", "jun", "giu"), ("luglio", "july", "jul", "lug"),
         ("agosto", "august", "aug", "ago"), ("settembre", "september", "sep", "set"),
         ("ottobre", "october", "oct", "ott"), ("novembre", "november", "nov"),
         ("dicembre", "december", "dec", "dic")],
        start=1,
    )
    for name in names
}


def parse_date(value: Any) -> dt.date:
    """Excel dates, dd/mm/yyyy (Italian order), yyyy-mm-dd, '1 marzo 2027', 'marzo 2027'."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text)
    dmy = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})", text)
    words = re.fullmatch(r"(?:(\d{1,2})\s+)?([A-Za-zà]+)\s+(\d{4})", text)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if dmy:
            year = int(dmy[3]) + (2000 if len(dmy[3]) == 2 else 0)
            return dt.date(year, int(dmy[2]), int(dmy[1]))
        if words and normalise(words[2]) in _MONTHS:
            return dt.date(int(words[3]), _MONTHS[normalise(words[2])], int(words[1] or 1))
    except ValueError:
        pass
    raise ValueProblem("a date such as 31/12/2027", "una data come 31/12/2027")


def parse_text(value: Any) -> str:
    text = " ".join(str(value).split()) if not isinstance(value, str) else value.strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    if not text:
        raise ValueProblem("some text", "un testo")
    return text


_EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[A-Za-z]{2,}$")


def parse_email(value: Any) -> str:
    text = parse_text(value).lower()
    if not _EMAIL.match(text):
        raise ValueProblem("an e-mail address such as nome@dominio.it",
                           "un indirizzo e-mail come nome@dominio.it")
    return text


def parse_phone(value: Any) -> str:
    text = parse_text(value)
    digits = re.sub(r"[\s./()\-]", "", text)
    if isinstance(value, int | float):
        digits = str(int(value))
    if not re.fullmatch(r"\+?\d{6,15}", digits):
        raise ValueProblem("a phone number (6 to 15 digits, + allowed)",
                           "un numero di telefono (da 6 a 15 cifre, + ammesso)")
    return digits


def split_list(value: Any) -> list[str]:
    """'a; b, c' or one per line -> ['a', 'b', 'c']."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value)) if float(value).is_integer() else str(value)
    parts = re.split(r"[;,\n|]+", str(value))
    return [p.strip() for p in parts if p.strip()]


# -- vocabularies -----------------------------------------------------------------------------


_CHOICE_INDEXES: dict[int, tuple[Mapping[str, tuple[str, str]], dict[str, str]]] = {}


def choice_index(vocabulary: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """Normalised code, Italian and English label -> code (built once per vocabulary)."""
    cached = _CHOICE_INDEXES.get(id(vocabulary))
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    index: dict[str, str] = {}
    for code, (label_it, label_en) in vocabulary.items():
        for key in (code, label_it, label_en, code.replace("_", " ")):
            index.setdefault(normalise(key), code)
    _CHOICE_INDEXES[id(vocabulary)] = (vocabulary, index)
    return index


def parse_choice(value: Any, vocabulary: Mapping[str, tuple[str, str]], fuzzy: bool = True) -> str:
    """A code from its code, Italian or English label; small typos are forgiven when fuzzy."""
    index = choice_index(vocabulary)
    key = normalise(str(value))
    if key in index:
        return index[key]
    close = get_close_matches(key, list(index), n=1, cutoff=0.85) if fuzzy else []
    if close:
        return index[close[0]]
    raise ValueProblem("one of: " + "; ".join(en for _, en in vocabulary.values()),
                       "uno tra: " + "; ".join(it for it, _ in vocabulary.values()))


def parse_choices(value: Any, vocabulary: Mapping[str, tuple[str, str]]) -> list[str]:
    """Several vocabulary values separated by ; or new lines, or by commas. Labels may
    themselves hold commas ("Scienze della vita (farmaceutica, biotech, medtech)"), so
    comma-separated pieces are joined back greedily into the longest known label."""
    codes: list[str] = []
    for part in re.split(r"[;\n|]+", str(value)):
        tokens = [t.strip() for t in part.split(",") if t.strip()]
        start = 0
        while start < len(tokens):
            for end in range(len(tokens), start, -1):
                try:
                    single = end == start + 1
                    code = parse_choice(", ".join(tokens[start:end]), vocabulary, fuzzy=single)
                except ValueProblem:
                    if end == start + 1:
                        raise
                    continue
                if code not in codes:
                    codes.append(code)
                start = end
                break
    return codes
