"""Match an investor's requirement to published sites, with reasons and near misses.

Every criterion the requirement gives is either a hard constraint (``must``, the
default) or a preference (named in ``preferences``); each has a weight (default 1) and
gives every site a score in [0, 1]. A site's score is ``100 * sum(w * s) / sum(w)``: it
explains itself criterion by criterion, and raising a weight never lowers that
criterion's share. Sites passing every hard constraint are results; those failing one
or two are near misses, each failure stated with what was found and what was asked.

Scores and pass/fail are SQL expressions evaluated by PostgreSQL; the hard constraints
also go into the WHERE clause of the results query, where the indexes serve them.
Activity presets (``data/presets/*.json``) are data: they fill in what the investor
did not say.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import shape
from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Numeric,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy import Text as SqlText
from sqlalchemy.dialects.postgresql import ARRAY

from app.errors import InvalidInputError
from app.models import Comune, Province, Site
from ingest import vocabulary as v

PRESETS_DIR = Path(__file__).resolve().parent.parent / "data" / "presets"
TENURE = {
    "buy": ("vendita", "vendita_o_locazione"),
    "lease": ("locazione", "vendita_o_locazione", "diritto_superficie"),
}
BUILDING_TYPES = ("edificio", "area_con_edifici")
BROWNFIELD_CONDITIONS = ("dismesso", "in_dismissione", "inattivo")


# -- the requirement --------------------------------------------------------------------------


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float | None = Field(default=None, ge=0, le=1e8)
    max: float | None = Field(default=None, ge=0, le=1e8)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self


class AreaOfInterest(BaseModel):
    """A point with a radius, or a GeoJSON polygon (WGS84)."""

    model_config = ConfigDict(extra="forbid")
    point: tuple[float, float] | None = Field(default=None, description="[longitude, latitude]")
    radius_km: float | None = Field(default=None, ge=0.1, le=300)
    polygon: dict[str, Any] | None = Field(default=None, description="GeoJSON Polygon or MultiPolygon")

    @model_validator(mode="after")
    def _one_shape(self) -> AreaOfInterest:
        if (self.point is None) == (self.polygon is None):
            raise ValueError("give either point with radius_km, or polygon")
        if self.point is not None and self.radius_km is None:
            raise ValueError("a point needs radius_km")
        if self.point is not None and not (-180 <= self.point[0] <= 180 and -90 <= self.point[1] <= 90):
            raise ValueError("point must be [longitude, latitude] in degrees")
        if self.polygon is not None:
            try:
                geometry = shape(self.polygon)
            except Exception as exc:  # shapely raises several kinds for bad GeoJSON
                raise ValueError(f"polygon is not valid GeoJSON: {exc}") from exc
            if geometry.geom_type not in ("Polygon", "MultiPolygon") or not geometry.is_valid:
                raise ValueError("polygon must be a valid GeoJSON Polygon or MultiPolygon")
        return self


class Requirement(BaseModel):
    """What an investor needs. Criteria left out are ignored."""

    model_config = ConfigDict(extra="forbid")

    activity: str | None = Field(default=None, description="a preset: " + ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.json"))))
    sector: str | None = Field(default=None, description="one of " + ", ".join(v.SECTORS))
    land_area_m2: Range | None = None
    floor_area_m2: Range | None = Field(default=None, description="covered area or SLP")
    building: bool | None = Field(default=None, description="true: needs a building; false: needs land")
    tenure: Literal["buy", "lease"] | None = None
    max_price_eur: float | None = Field(default=None, ge=1, le=1e11)
    max_rent_eur: float | None = Field(default=None, ge=1, le=1e10, description="per year")
    provinces: list[str] | None = Field(default=None, description="abbreviations, e.g. MI, BG")
    area: AreaOfInterest | None = None
    max_motorway_km: float | None = Field(default=None, ge=0.1, le=500)
    max_airport_km: float | None = Field(default=None, ge=0.1, le=500)
    max_station_km: float | None = Field(default=None, ge=0.1, le=500)
    rail_siding: bool | None = None
    min_power_kw: float | None = Field(default=None, ge=1, le=1e7)
    fibre: bool | None = None
    brownfield: bool | None = Field(default=None, description="true: disused land or buildings")
    zls: bool | None = None
    regional_aid: bool | None = None
    available_by: dt.date | None = None
    zoning: list[str] | None = Field(default=None, description="compatible zoning codes")
    preferences: list[str] = Field(default_factory=list, description="criteria that rank but do not exclude")
    weights: dict[str, float] = Field(default_factory=dict, description="criterion -> weight (default 1)")
    limit: int = Field(default=20, ge=1, le=100)
    near_misses: int = Field(default=10, ge=0, le=50)

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= w <= 1000 for w in value.values()):
            raise ValueError("weights must be between 0 and 1000")
        return value


@lru_cache
def load_presets() -> dict[str, dict[str, Any]]:
    """Activity presets by name, from data/presets/*.json."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(PRESETS_DIR.glob("*.json"))}


def resolve(requirement: Requirement) -> Requirement:
    """The requirement with its activity preset's values filled in where the investor said
    nothing; the investor's own values, preferences and weights win."""
    if requirement.activity is None:
        return requirement
    preset = load_presets().get(requirement.activity)
    if preset is None:
        raise InvalidInputError(
            f"Unknown activity '{requirement.activity}'; presets: {', '.join(load_presets())}.",
            f"Attività '{requirement.activity}' sconosciuta; preimpostazioni: {', '.join(load_presets())}.",
        )
    given = requirement.model_dump(exclude_unset=True)
    merged = {**preset["requirement"], **given}
    explicit_hard = set(given) - set(requirement.preferences)
    preferences = [p for p in preset.get("preferences", []) if p not in explicit_hard]
    merged["preferences"] = list(dict.fromkeys([*preferences, *requirement.preferences]))
    merged["weights"] = {**preset.get("weights", {}), **requirement.weights}
    return Requirement.model_validate(merged)


# -- criteria ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    """One criterion made concrete for a requirement: SQL to pass and to score, the
    observed value to report, and how to say it."""

    name: str
    passes: ColumnElement[bool]
    score: ColumnElement[float]
    observed: ColumnElement[Any]
    explain: Callable[[Any, bool], tuple[str, str]]


def _fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "not stated"
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def _it(text: str) -> str:
    """Italian number format for an English-formatted figure."""
    return text.replace(",", "§").replace(".", ",").replace("§", ".").replace("not stated", "non indicato")


def _graded_max(column: ColumnElement[Any], limit: float) -> ColumnElement[float]:
    """1 at zero, 0.5 at the limit, 0 at twice the limit; unknown scores 0."""
    c = cast(column, Float)
    return case(
        (c.is_(None), 0.0),
        (c <= limit, 1 - 0.5 * c / limit),
        else_=func.greatest(0.0, 0.5 - 0.5 * (c - limit) / limit),
    )


def _graded_min(column: ColumnElement[Any], minimum: float) -> ColumnElement[float]:
    c = cast(column, Float)
    return case((c.is_(None), 0.0), (c >= minimum, 1.0), else_=0.5 * c / minimum)


def _flag(passes: ColumnElement[bool]) -> ColumnElement[float]:
    return case((passes, 1.0), else_=0.0)


def _max_distance(name: str, layer: str, column: ColumnElement[Any], limit: float,
                  what_en: str, what_it: str) -> Clause:
    """Straight-line distance to the nearest feature of ``layer`` at most ``limit`` km."""
    def explain(value: Any, ok: bool) -> tuple[str, str]:
        if not value:
            return (f"distance to the nearest {what_en} unknown (no such layer loaded), asked ≤ {_fmt(limit, 'km')}",
                    f"distanza {what_it} sconosciuta (strato non caricato), richiesto ≤ {_it(_fmt(limit, 'km'))}")
        km, name, code = value.get("km"), value.get("name") or "", value.get("code") or ""
        label = f"{name} ({code})" if code and not code.isdigit() and code != name else name
        return (f"{_fmt(km, 'km')} to the nearest {what_en} {label} (straight line), asked ≤ {_fmt(limit, 'km')}".replace("  ", " "),
                f"{_it(_fmt(km, 'km'))} {what_it} {label} (in linea d'aria), richiesto ≤ {_it(_fmt(limit, 'km'))}".replace("  ", " "))
    observed = Site.nearest.op("->")(layer)
    return Clause(name, func.coalesce(column <= limit, false()), _graded_max(column, limit), observed, explain)


def _range(name: str, column: ColumnElement[Any], r: Range, what_en: str, what_it: str) -> Clause:
    c = cast(column, Float)
    conditions = []
    if r.min is not None:
        conditions.append(c >= r.min)
    if r.max is not None:
        conditions.append(c <= r.max)
    passes = func.coalesce(and_(*conditions), false())
    below = 0.5 * c / r.min if r.min else literal(0.0)
    above = 0.5 * r.max / func.nullif(c, 0) if r.max else literal(0.0)
    score = case((c.is_(None), 0.0), (passes, 1.0),
                 (c < (r.min or 0), below), else_=func.coalesce(above, 0.0))
    asked = " – ".join(x for x in (f"≥ {_fmt(r.min, 'm²', 0)}" if r.min is not None else "",
                                   f"≤ {_fmt(r.max, 'm²', 0)}" if r.max is not None else "") if x)

    def explain(value: Any, ok: bool) -> tuple[str, str]:
        return (f"{what_en} {_fmt(value, 'm²', 0)}, asked {asked}",
                f"{what_it} {_it(_fmt(value, 'm²', 0))}, richiesto {_it(asked)}")
    return Clause(name, passes, score, column, explain)


def _boolean(name: str, passes: ColumnElement[bool], observed: ColumnElement[Any],
             yes: tuple[str, str], no: tuple[str, str]) -> Clause:
    passes = func.coalesce(passes, false())
    return Clause(name, passes, _flag(passes), observed, lambda value, ok: yes if ok else no)


def clauses(conn: Connection, r: Requirement) -> list[Clause]:
    """The clauses of every criterion the requirement gives."""
    out: list[Clause] = []
    floor = func.coalesce(Site.gross_floor_area_m2, Site.covered_area_m2)
    if r.land_area_m2:
        out.append(_range("land_area_m2", Site.land_area_m2, r.land_area_m2, "land area", "superficie territoriale"))
    if r.floor_area_m2:
        out.append(_range("floor_area_m2", floor, r.floor_area_m2, "floor area", "superficie lorda"))
    if r.building is not None:
        has = Site.site_type.in_(BUILDING_TYPES)
        out.append(_boolean("building", has if r.building else ~has, Site.site_type,
                            ("has buildings", "con edifici") if r.building else ("land without buildings", "area senza edifici"),
                            ("no building", "senza edifici") if r.building else ("has buildings", "con edifici")))
    if r.tenure:
        modes = TENURE[r.tenure]
        verb = ("for sale", "in vendita") if r.tenure == "buy" else ("for lease", "in locazione")
        out.append(_boolean("tenure", Site.availability.in_(modes), Site.availability, verb,
                            (f"not {verb[0]}", f"non {verb[1]}")))
    if r.max_price_eur is not None:
        limit = r.max_price_eur
        def price_reason(value: Any, ok: bool) -> tuple[str, str]:
            return (f"price {_fmt(value, '€', 0)}, asked ≤ {_fmt(limit, '€', 0)}",
                    f"prezzo {_it(_fmt(value, '€', 0))}, richiesto ≤ {_it(_fmt(limit, '€', 0))}")
        out.append(Clause("max_price_eur", func.coalesce(Site.price_eur <= limit, false()),
                          _graded_max(Site.price_eur, limit), Site.price_eur, price_reason))
    if r.max_rent_eur is not None:
        rent_limit = r.max_rent_eur
        def rent_reason(value: Any, ok: bool) -> tuple[str, str]:
            return (f"rent {_fmt(value, '€/year', 0)}, asked ≤ {_fmt(rent_limit, '€/year', 0)}",
                    f"canone {_it(_fmt(value, '€/anno', 0))}, richiesto ≤ {_it(_fmt(rent_limit, '€/anno', 0))}")
        out.append(Clause("max_rent_eur", func.coalesce(Site.annual_rent_eur <= rent_limit, false()),
                          _graded_max(Site.annual_rent_eur, rent_limit), Site.annual_rent_eur, rent_reason))
    if r.provinces:
        codes = _province_codes(conn, r.provinces)
        names = ", ".join(p.upper() for p in r.provinces)
        out.append(_boolean("provinces", Site.province_code.in_(codes), Site.province_code,
                            (f"in province {names}", f"in provincia {names}"),
                            (f"outside {names}", f"fuori da {names}")))
    if r.area:
        out.append(_area_clause(r.area))
    if r.max_motorway_km is not None:
        out.append(_max_distance("max_motorway_km", "motorway_exit", Site.dist_motorway_exit_km,
                                 r.max_motorway_km, "motorway exit", "dal casello autostradale più vicino"))
    if r.max_airport_km is not None:
        out.append(_max_distance("max_airport_km", "airport", Site.dist_airport_km, r.max_airport_km,
                                 "airport", "dall'aeroporto più vicino"))
    if r.max_station_km is not None:
        out.append(_max_distance("max_station_km", "railway_station", Site.dist_station_km,
                                 r.max_station_km, "railway station", "dalla stazione ferroviaria più vicina"))
    if r.rail_siding:
        out.append(_boolean("rail_siding", Site.rail_siding.is_(True), Site.rail_siding,
                            ("rail siding on site", "raccordo ferroviario presente"),
                            ("no rail siding (or not stated)", "raccordo ferroviario assente o non indicato")))
    if r.min_power_kw is not None:
        minimum = r.min_power_kw
        def power_reason(value: Any, ok: bool) -> tuple[str, str]:
            return (f"{_fmt(value, 'kW', 0)} available, asked ≥ {_fmt(minimum, 'kW', 0)}",
                    f"{_it(_fmt(value, 'kW', 0))} disponibili, richiesto ≥ {_it(_fmt(minimum, 'kW', 0))}")
        out.append(Clause("min_power_kw", func.coalesce(Site.power_kw >= minimum, false()),
                          _graded_min(Site.power_kw, minimum), Site.power_kw, power_reason))
    if r.fibre:
        out.append(_boolean("fibre", Site.fibre.is_(True), Site.fibre, ("fibre available", "fibra disponibile"),
                            ("no fibre (or not stated)", "fibra assente o non indicata")))
    if r.brownfield:
        disused = or_(Site.site_type == "area_dismessa", Site.condition.in_(BROWNFIELD_CONDITIONS))
        out.append(_boolean("brownfield", disused, Site.condition,
                            ("re-uses disused land or buildings", "riuso di area o edificio dismesso"),
                            ("not a brownfield", "non è un'area dismessa")))
    for zone, flag in (("zls", r.zls), ("regional_aid", r.regional_aid)):
        if flag:
            label = ("the ZLS Lombardia", "nella ZLS Lombardia") if zone == "zls" else \
                ("a regional-aid comune (art. 107.3.c)", "in un comune della carta aiuti 107.3.c")
            out.append(_boolean(zone, Site.zones.contains(cast([zone], ARRAY(SqlText))), Site.zones,
                                (f"in {label[0]}", label[1]), (f"not in {label[0]}", f"non {label[1]}")))
    if r.available_by is not None:
        by = r.available_by
        ready = or_(Site.available_from <= by,
                    and_(Site.available_from.is_(None), Site.condition.in_(("disponibile", "dismesso", "inattivo"))))
        def available_reason(value: Any, ok: bool) -> tuple[str, str]:
            when = value.strftime("%d/%m/%Y") if value else "now"
            return (f"available from {when}, asked by {by:%d/%m/%Y}",
                    f"disponibile {'dal ' + when if value else 'da subito'}, richiesto entro il {by:%d/%m/%Y}")
        out.append(Clause("available_by", func.coalesce(ready, false()), _flag(func.coalesce(ready, false())),
                          Site.available_from, available_reason))
    if r.sector:
        if r.sector not in v.SECTORS:
            raise InvalidInputError(f"Unknown sector '{r.sector}'; use one of {', '.join(v.SECTORS)}.",
                                    f"Settore '{r.sector}' sconosciuto; usare uno tra {', '.join(v.SECTORS)}.")
        fits = or_(func.cardinality(Site.sectors) == 0, Site.sectors.contains(cast([r.sector], ARRAY(SqlText))))
        out.append(_boolean("sector", fits, Site.sectors,
                            ("suitable for the sector (or no restriction declared)", "adatto al settore (o nessuna restrizione)"),
                            ("the owner lists other sectors", "il proprietario indica altri settori")))
    if r.zoning:
        unknown = [z for z in r.zoning if z not in v.ZONING]
        if unknown:
            raise InvalidInputError(f"Unknown zoning {', '.join(unknown)}; use {', '.join(v.ZONING)}.",
                                    f"Destinazione {', '.join(unknown)} sconosciuta; usare {', '.join(v.ZONING)}.")
        allowed = ", ".join(r.zoning)
        out.append(_boolean("zoning", Site.zoning.in_(r.zoning), Site.zoning,
                            (f"zoning compatible ({allowed})", f"destinazione compatibile ({allowed})"),
                            (f"zoning not among {allowed}", f"destinazione non tra {allowed}")))
    names = {c.name for c in out}
    unknown = sorted((set(r.preferences) | set(r.weights)) - names)
    if unknown:
        raise InvalidInputError(
            f"Preferences or weights name criteria the requirement does not give: {', '.join(unknown)}.",
            f"Preferenze o pesi citano criteri non indicati nella richiesta: {', '.join(unknown)}.",
        )
    return out


def _province_codes(conn: Connection, abbreviations: list[str]) -> list[str]:
    wanted = [a.strip().upper() for a in abbreviations]
    found = dict(conn.execute(select(Province.abbreviation, Province.code).where(Province.abbreviation.in_(wanted))).all())
    missing = [a for a in wanted if a not in found]
    if missing:
        raise InvalidInputError(f"Unknown province {', '.join(missing)}; use abbreviations such as MI, BG.",
                                f"Provincia {', '.join(missing)} sconosciuta; usare sigle come MI, BG.")
    return list(found.values())


def _area_clause(area: AreaOfInterest) -> Clause:
    if area.point is not None:
        lon, lat = area.point
        radius = float(area.radius_km or 0)
        centre = func.geography(func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326))
        site = func.geography(Site.geom)
        distance_km = func.ST_Distance(site, centre) / 1000
        passes = func.ST_DWithin(site, centre, radius * 1000)

        def explain(value: Any, ok: bool) -> tuple[str, str]:
            return (f"{_fmt(value, 'km')} from the point of interest, asked ≤ {_fmt(radius, 'km')}",
                    f"{_it(_fmt(value, 'km'))} dal punto indicato, richiesto ≤ {_it(_fmt(radius, 'km'))}")
        return Clause("area", passes, _graded_max(distance_km, radius), distance_km, explain)
    polygon = func.ST_SetSRID(func.ST_GeomFromGeoJSON(json.dumps(area.polygon)), 4326)
    inside = func.ST_Intersects(Site.geom, polygon)
    return _boolean("area", inside, inside, ("inside the area of interest", "dentro l'area indicata"),
                    ("outside the area of interest", "fuori dall'area indicata"))


# -- running it -------------------------------------------------------------------------------


SITE_SUMMARY = {
    "id": Site.id, "public_id": Site.public_id, "name": Site.name, "kind": Site.kind,
    "site_type": Site.site_type, "condition": Site.condition, "comune_istat": Site.comune_istat,
    "province_code": Site.province_code,
    "comune": select(Comune.name).where(Comune.istat_code == Site.comune_istat).scalar_subquery(),
    "land_area_m2": Site.land_area_m2,
    "gross_floor_area_m2": Site.gross_floor_area_m2, "availability": Site.availability,
    "price_eur": Site.price_eur, "annual_rent_eur": Site.annual_rent_eur,
    "completeness": Site.completeness, "lon": func.ST_X(Site.geom), "lat": func.ST_Y(Site.geom),
}


def match(conn: Connection, requirement: Requirement) -> dict[str, Any]:
    r = resolve(requirement)
    parts = clauses(conn, r)
    if not parts:
        raise InvalidInputError("The requirement gives no criterion to match on.",
                                "La richiesta non indica alcun criterio.")
    soft = set(r.preferences)
    weights = {c.name: float(r.weights.get(c.name, 1.0)) for c in parts}
    total_weight = sum(weights.values()) or 1.0
    hard = [c for c in parts if c.name not in soft]
    score = 100 * sum((weights[c.name] * c.score for c in parts), literal(0.0)) / total_weight
    fails = sum((case((c.passes, 0), else_=1) for c in hard), literal(0))
    columns = [
        *(col.label(f"site_{name}") for name, col in SITE_SUMMARY.items()),
        func.round(cast(score, Numeric), 2).label("score"),
        fails.label("fails"),
        *(c.passes.label(f"pass_{i}") for i, c in enumerate(parts)),
        *(cast(c.score, Float).label(f"score_{i}") for i, c in enumerate(parts)),
        *(c.observed.label(f"seen_{i}") for i, c in enumerate(parts)),
    ]
    published = Site.status == "published"
    hard_filter = and_(*(c.passes for c in hard)) if hard else true()
    results = conn.execute(
        select(*columns).where(published, hard_filter)
        .order_by(score.desc(), Site.id).limit(r.limit)
    ).mappings().all()
    matching = conn.execute(select(func.count()).select_from(Site).where(published, hard_filter)).scalar_one()
    near: list[Any] = []
    if hard and r.near_misses:
        near = conn.execute(
            select(*columns).where(published, fails.between(1, 2))
            .order_by(fails, score.desc(), Site.id).limit(r.near_misses)
        ).mappings().all()
    return {
        "requirement": r.model_dump(mode="json", exclude_none=True),
        "criteria": [{"criterion": c.name, "hard": c.name not in soft, "weight": weights[c.name]} for c in parts],
        "matching": matching,
        "results": [_explain(row, parts, soft, weights, total_weight, rank) for rank, row in enumerate(results, 1)],
        "near_misses": [_explain(row, parts, soft, weights, total_weight) for row in near],
        "method": "score = 100 × Σ weight × criterion score / Σ weight; distances are straight-line",
    }


def _explain(row: Any, parts: list[Clause], soft: set[str], weights: dict[str, float],
             total_weight: float, rank: int | None = None) -> dict[str, Any]:
    site = {name: row[f"site_{name}"] for name in SITE_SUMMARY}
    site["public_id"] = str(site["public_id"])
    for key in ("price_eur", "annual_rent_eur"):
        site[key] = float(site[key]) if site[key] is not None else None
    criteria, failed = [], []
    for i, c in enumerate(parts):
        ok = bool(row[f"pass_{i}"])
        value = row[f"seen_{i}"]
        reason_en, reason_it = c.explain(value, ok)
        entry = {
            "criterion": c.name, "hard": c.name not in soft, "passed": ok, "weight": weights[c.name],
            "score": round(row[f"score_{i}"], 3),
            "contribution": round(100 * weights[c.name] * row[f"score_{i}"] / total_weight, 2),
            "reason": reason_en, "reason_it": reason_it,
        }
        criteria.append(entry)
        if not ok and c.name not in soft:
            failed.append({"criterion": c.name, "reason": reason_en, "reason_it": reason_it})
    out: dict[str, Any] = {"site": site, "score": float(row["score"]), "completeness": site["completeness"],
                           "criteria": criteria}
    if rank is not None:
        out["rank"] = rank
    else:
        out["fails"] = failed
        out["summary"] = "fails only: " + "; ".join(f["reason"] for f in failed)
        out["summary_it"] = "non soddisfa solo: " + "; ".join(f["reason_it"] for f in failed)
    return out
