"""CQL2 text filters, checked before they reach SQL.

pygeofilter parses the text and turns the tree into SQLAlchemy expressions with bound
parameters (never SQL text). What it does not do, and a public endpoint must: bound
the size of what it accepts, refuse functions it cannot translate, and make sure every
value has the type of the property it is compared with, so that a typo answers 400
with a message instead of a database error. What desktop clients send is read as they
mean it: date properties take ISO date and date-time strings ('2026-06-01',
'2026-06-01T', '2026-06-01T10:00:00Z', as GDAL writes them), yes/no properties take
true/false and 1/0, and every returned property can be tested with IS [NOT] NULL, even
an array or an object that nothing else may compare.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import uuid
from pathlib import Path
from typing import Any

import pygeofilter.parsers.cql2_text.parser as pygeofilter_cql2
import shapely.geometry
from lark import Lark, v_args
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import handle
from pygeofilter.backends.sqlalchemy import filters
from pygeofilter.backends.sqlalchemy.evaluate import SQLAlchemyFilterEvaluator
from sqlalchemy import ColumnElement, func
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import BadRequestError

# pygeofilter's CQL2 text grammar, with what the standard says and it does not do:
# AND binds tighter than OR, NOT applies to any condition ("NOT (a OR b)"), and a quote
# inside a string is doubled ('Sant''Angelo'), as GDAL writes it.
_CONDITIONS = (
    '''?condition: condition_1
          | condition "AND"i condition_1                                 -> and_
          | condition "OR"i condition_1                                   -> or_

?condition_1: predicate
            | "NOT"i predicate                                               -> not_
            | "NOT"i "(" predicate ")"                                       -> not_
            | "(" condition ")"''',
    '''?condition: condition_and
          | condition "OR"i condition_and -> or_

?condition_and: condition_1
              | condition_and "AND"i condition_1 -> and_

?condition_1: predicate
            | "NOT"i condition_1 -> not_
            | "(" condition ")"''',
)
_STRINGS = ("""SINGLE_QUOTED: "'" /.*?/ "'\"""", """SINGLE_QUOTED: "'" /(?:[^']|'')*/ "'\"""")


def _grammar() -> str:
    text = Path(pygeofilter_cql2.__file__).with_name("grammar.lark").read_text()
    for old, new in (_CONDITIONS, _STRINGS):
        if old not in text:  # a new pygeofilter: the patch must be looked at again
            raise RuntimeError("pygeofilter's CQL2 grammar changed; update app/catalogue/cql2.py")
        text = text.replace(old, new)
    return text


@v_args(meta=False, inline=True)
class _Transformer(pygeofilter_cql2.CQLTransformer):
    def SINGLE_QUOTED(self, token: str) -> str:
        return token[1:-1].replace("''", "'")


_PARSER = Lark(_grammar(), parser="lalr", maybe_placeholders=False, transformer=_Transformer(),
               import_paths=[os.path.dirname(os.path.dirname(pygeofilter_cql2.__file__))])


def parse(text: str) -> Any:
    return _PARSER.parse(text)


MAX_CHARS = 4_000
MAX_NODES = 300  # also bounds the nesting depth, so walking the tree cannot overflow the stack
FUNCTIONS = frozenset(filters.function_map)
NUMBER, TEXT, DATE, BOOL, GEOMETRY, UUID, OTHER = "number", "text", "date", "boolean", "geometry", "uuid", "other"
KIND_IT = {NUMBER: "un numero", TEXT: "un testo", DATE: "una data", BOOL: "un sì/no", GEOMETRY: "una geometria",
           UUID: "un identificativo", OTHER: "un valore"}


def _bad(en: str, it: str) -> BadRequestError:
    return BadRequestError(f"The CQL2 filter cannot be used: {en}", f"Il filtro CQL2 non è utilizzabile: {it}")


def kind_of(column: Any) -> str:
    """The family of values a mapped column holds."""
    if getattr(column.type, "geometry_type", None) is not None:
        return GEOMETRY
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return OTHER
    if python_type is bool:
        return BOOL
    if issubclass(python_type, int | float) or python_type.__name__ == "Decimal":
        return NUMBER
    if issubclass(python_type, dt.date):
        return DATE
    if python_type is uuid.UUID:
        return UUID
    return TEXT if python_type is str else OTHER


_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})T?")
SPATIAL = (ast.SpatialComparisonPredicate, ast.SpatialDistancePredicate, ast.Relate)


def _date_literal(text: str) -> dt.date | None:
    """An ISO date or date-time string as a date (midnight or no time at all: GDAL writes
    '2026-06-01T') or a date-time; None when it is neither."""
    try:
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text[:10])
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.date() if moment.timetz().replace(tzinfo=None) == dt.time() else moment


class _Checker:
    """Walks the parsed tree once: size, functions and value types."""

    def __init__(self, kinds: dict[str, str], null_only: frozenset[str] = frozenset()) -> None:
        self.kinds, self.null_only, self.nodes = kinds, null_only, 0

    def node(self, node: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _bad(f"it is too complex (more than {MAX_NODES} terms); split it or use bbox and the "
                       "typed filters.",
                       f"è troppo complesso (più di {MAX_NODES} termini); suddividerlo o usare bbox e i "
                       "filtri tipizzati.")
        if isinstance(node, ast.Function) and node.name.lower() in ("bbox", "envelope"):
            return self._envelope(node)
        if isinstance(node, ast.Function) and node.name not in FUNCTIONS:
            raise _bad(f"the function {node.name}() is not supported; available: {', '.join(sorted(FUNCTIONS))}.",
                       f"la funzione {node.name}() non è supportata; disponibili: {', '.join(sorted(FUNCTIONS))}.")
        if isinstance(node, ast.Function) and any(self._kind(a) not in (TEXT, OTHER) for a in node.arguments):
            raise _bad(f"{node.name.upper()}() works on text only.", f"{node.name.upper()}() vale solo per i testi.")
        if isinstance(node, ast.IsNull) and isinstance(node.lhs, ast.Attribute):
            return node  # any returned property may be tested for a value
        if isinstance(node, ast.IsNull) and not isinstance(node.lhs, ast.Node):
            raise _bad("IS NULL tests a property, e.g. description_en IS NULL.",
                       "IS NULL verifica una proprietà, es. description_en IS NULL.")
        if isinstance(node, ast.Attribute) and node.name in self.null_only:
            raise _bad(f"{node.name} is a list or an object: only '{node.name} IS NULL' or "
                       f"'{node.name} IS NOT NULL' can test it.",
                       f"{node.name} è un elenco o un oggetto: si può solo verificare '{node.name} IS NULL' "
                       f"o '{node.name} IS NOT NULL'.")
        if isinstance(node, SPATIAL):
            self._spatial(node)
        if isinstance(node, ast.Comparison | ast.Between | ast.In | ast.Like):
            node = self._typed(node)
        if isinstance(node, ast.Arithmetic):
            for side in (node.lhs, node.rhs):
                if self._kind(side) not in (NUMBER, OTHER):
                    raise _bad("arithmetic (+ - * /) works on numbers only.",
                               "l'aritmetica (+ - * /) vale solo per i numeri.")
        if isinstance(node, ast.Not):  # not a dataclass in pygeofilter
            return ast.Not(self.node(node.sub_node))
        if dataclasses.is_dataclass(node):
            changes = {f.name: self._child(getattr(node, f.name)) for f in dataclasses.fields(node)
                       if isinstance(getattr(node, f.name), ast.Node | list)}
            node = dataclasses.replace(node, **changes) if changes else node
        return node

    def _spatial(self, node: Any) -> None:
        """Both sides of a spatial predicate are geometries (a BBOX, a WKT literal or the
        geometry property), never a text that looks like one or another property."""
        for side in (node.lhs, node.rhs):
            is_envelope = isinstance(side, ast.Function) and side.name.lower() in ("bbox", "envelope")
            if not is_envelope and self._kind(side) not in (GEOMETRY, OTHER):
                shown = side.name if isinstance(side, ast.Attribute) else repr(side)
                raise _bad(f"{type(node).__name__} compares geometries, and {shown} is not one; write e.g. "
                           "S_INTERSECTS(geometry, BBOX(9.0,45.3,9.4,45.6)).",
                           f"{type(node).__name__} confronta geometrie, e {shown} non lo è; scrivere ad es. "
                           "S_INTERSECTS(geometry, BBOX(9.0,45.3,9.4,45.6)).")

    @staticmethod
    def _envelope(node: ast.Function) -> values.Envelope:
        """CQL2's BBOX(minx, miny, maxx, maxy[, ...]) literal, which the parser reads as a
        function call; 6 numbers (with heights) keep the horizontal ones."""
        args = node.arguments
        if len(args) not in (4, 6) or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
            raise _bad("BBOX takes 4 numbers (minLon, minLat, maxLon, maxLat) or 6 with heights.",
                       "BBOX richiede 4 numeri (minLon, minLat, maxLon, maxLat) o 6 con le quote.")
        x1, y1, x2, y2 = (args[0], args[1], args[3], args[4]) if len(args) == 6 else args
        return values.Envelope(x1, x2, y1, y2)

    def _child(self, value: Any) -> Any:
        return [self.node(v) for v in value] if isinstance(value, list) else self.node(value)

    def _kind(self, value: Any) -> str:
        if isinstance(value, ast.Attribute):
            return self.kinds.get(value.name, OTHER)
        if isinstance(value, ast.Function):
            return TEXT if value.name.lower() in ("lower", "casei", "accenti") else OTHER
        if isinstance(value, ast.Arithmetic):
            return NUMBER
        if isinstance(value, bool):
            return BOOL
        if isinstance(value, int | float):
            return NUMBER
        if isinstance(value, dt.date):
            return DATE
        if isinstance(value, str):
            return TEXT
        if isinstance(value, values.Geometry | values.Envelope):
            return GEOMETRY
        return OTHER

    def _typed(self, node: Any) -> Any:
        """The comparison with its values made the type of what they are compared with
        (a property, a text function, arithmetic, or a literal), or 400."""
        if isinstance(node, ast.Like) and isinstance(node.pattern, ast.Node):
            raise _bad("LIKE takes a quoted pattern, e.g. name LIKE 'Cap%'.",
                       "LIKE richiede un modello tra apici, es. name LIKE 'Cap%'.")
        if isinstance(node.lhs, ast.Attribute):
            name, kind = node.lhs.name, self.kinds.get(node.lhs.name, OTHER)
        else:  # a function, arithmetic or a literal on the left
            name = f"{node.lhs.name}()" if isinstance(node.lhs, ast.Function) else repr(node.lhs)
            kind = self._kind(node.lhs)
        if kind == GEOMETRY and isinstance(node.lhs, ast.Attribute):
            raise _bad(f"{name} is a geometry: use a spatial predicate, e.g. S_INTERSECTS({name}, "
                       "BBOX(9.0,45.3,9.4,45.6)).",
                       f"{name} è una geometria: usare un predicato spaziale, es. S_INTERSECTS({name}, "
                       "BBOX(9.0,45.3,9.4,45.6)).")
        if isinstance(node, ast.Like):
            if kind != TEXT:
                raise _bad(f"LIKE works on text, and {name} is {kind}.",
                           f"LIKE vale per i testi, e {name} è {KIND_IT[kind]}.")
            self._value(name, kind, node.pattern)  # a number or a date as the pattern says so
            return node
        fields = {"rhs": node.rhs} if isinstance(node, ast.Comparison) else (
            {"low": node.low, "high": node.high} if isinstance(node, ast.Between) else {"sub_nodes": node.sub_nodes})
        typed = {key: [self._value(name, kind, v) for v in value] if isinstance(value, list)
                 else self._value(name, kind, value) for key, value in fields.items()}
        return dataclasses.replace(node, **typed)

    def _value(self, name: str, kind: str, value: Any) -> Any:
        found = self._kind(value)
        if isinstance(value, ast.Node) and OTHER not in (kind, found) and found != kind:
            other = value.name if isinstance(value, ast.Attribute) else "the expression"
            raise _bad(f"{name} is {kind} and {other} is {found}: they cannot be compared.",
                       f"{name} è {KIND_IT[kind]} e {other} è {KIND_IT[found]}: non sono confrontabili.")
        if kind == OTHER or found == OTHER or found == kind or isinstance(value, ast.Node):
            return value
        if kind == DATE and found == TEXT and (day := _date_literal(value)) is not None:
            return day
        if kind == BOOL and found == NUMBER and value in (0, 1):
            return bool(value)  # GDAL writes booleans as 1 and 0
        if kind == UUID and found == TEXT:
            try:
                return uuid.UUID(value)
            except ValueError:
                pass
        example = {NUMBER: f"{name} > 30000", TEXT: f"{name} = 'Milano'", DATE: f"{name} < DATE('2027-01-01')",
                   BOOL: f"{name} = true"}.get(kind, name)
        raise _bad(f"{name} is {kind}, compared here with {found} ({value!r}); write e.g. {example}.",
                   f"{name} è {KIND_IT[kind]}, confrontato qui con {KIND_IT[found]} ({value!r}); "
                   f"scrivere ad es. {example}.")


class _Evaluator(SQLAlchemyFilterEvaluator):
    """pygeofilter's SQLAlchemy evaluator, with geometry literals (and BBOX envelopes,
    which it leaves without an SRID) read in the request's ``filter-crs`` and brought to
    WGS84 like the stored geometries."""

    def __init__(self, mapping: dict[str, Any], srid: int = 4326, lat_first: bool = False) -> None:
        super().__init__(mapping, None)
        self.srid, self.lat_first = srid, lat_first

    def _literal(self, wkt: str) -> Any:
        geometry = func.ST_GeomFromEWKT(f"SRID={self.srid};{wkt}")
        if self.lat_first:
            geometry = func.ST_FlipCoordinates(geometry)
        return func.ST_Transform(geometry, 4326) if self.srid != 4326 else geometry

    @handle(values.Envelope)
    def envelope(self, node: values.Envelope) -> Any:
        return self._literal(shapely.geometry.box(node.x1, node.y1, node.x2, node.y2).wkt)

    @handle(values.Geometry)
    def geometry(self, node: values.Geometry) -> Any:
        return self._literal(shapely.geometry.shape(node.__geo_interface__).wkt)


def condition(text: str, mapping: dict[str, Any], queryables_url: str, srid: int = 4326,
              lat_first: bool = False, null_only: dict[str, Any] | None = None) -> ColumnElement[bool]:
    """The SQL condition of a CQL2 text filter over ``mapping`` (property -> column), its
    geometry literals in ``srid`` (latitude first where that CRS says so); ``null_only``
    properties (lists, objects) may only be tested with IS [NOT] NULL."""
    null_only = null_only or {}
    if len(text) > MAX_CHARS:
        raise _bad(f"it is longer than {MAX_CHARS} characters.", f"supera {MAX_CHARS} caratteri.")
    try:
        tree = parse(text)
    except RecursionError:
        raise _bad("it is nested too deeply.", "è annidato troppo in profondità.") from None
    except Exception as exc:  # the parser raises several kinds of lark errors
        line = (str(exc).strip().splitlines() or ["syntax error"])[0][:160]
        raise BadRequestError(f"The CQL2 filter cannot be parsed: {line}",
                              f"Il filtro CQL2 non è interpretabile: {line}") from exc
    unknown = sorted(_attributes(tree) - set(mapping) - set(null_only))
    if unknown:
        names = ", ".join(unknown)
        raise BadRequestError(f"The CQL2 filter uses {names}, not queryable; see {queryables_url}.",
                              f"Il filtro CQL2 usa {names}, non interrogabile; vedere {queryables_url}.")
    tree = _Checker({name: kind_of(column) for name, column in mapping.items()}, frozenset(null_only)).node(tree)
    try:
        return _Evaluator({**null_only, **mapping}, srid, lat_first).evaluate(tree)
    except (ValueError, TypeError, NotImplementedError, KeyError, AttributeError, SQLAlchemyError) as exc:
        line = (str(exc).strip().splitlines() or ["unsupported"])[0][:160]
        raise _bad(line, line) from exc


def _attributes(node: Any) -> set[str]:
    """Every property name a parsed CQL2 expression refers to."""
    if isinstance(node, ast.Attribute):
        return {node.name}
    found: set[str] = set()
    for child in getattr(node, "get_sub_nodes", lambda: [])() or []:
        found |= _attributes(child)
    return found
