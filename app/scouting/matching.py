"""Match an investor's requirement to published sites, with reasons and near misses.

Every criterion the requirement gives is either a hard constraint (the default) or a
preference (named in ``preferences``); each has a weight (default 1) and gives every
site a score in [0, 1]. A site's score is ``100 * sum(w * s) / sum(w)``: it explains
itself criterion by criterion, and raising a weight never lowers that criterion's share.
Sites passing every hard constraint are results; those failing one or two are near
misses, each failure stated with what was found and what was asked.

Criteria are evaluated on a columnar snapshot of the published sites (``app.scouting.snapshot``):
every site must be looked at to find near misses, and vectorised arithmetic does that in
milliseconds where SQL expressions take over 100 ms at 100,000 sites. PostgreSQL then
supplies the full rows of the few sites returned. The requirement itself and the
activity presets are in ``app.scouting.requirements``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Connection, bindparam, func, literal_column, select

from app.catalogue.models import Site
from app.core.errors import InvalidInputError
from app.core.settings import freshness_settings
from app.reference.models import Comune
from app.scouting.criteria import (
    Clause,
    area_clause,
    boolean,
    graded_max,
    graded_min,
    limit_clause,
    max_distance,
    range_clause,
)
from app.scouting.requirements import (
    AVAILABLE_NOW,
    BROWNFIELD_CONDITIONS,
    BUILDING_TYPES,
    TENURE,
    Requirement,
    resolve,
)
from app.scouting.snapshot import CHANGES, Snapshot, cached_snapshot, current_version, get_snapshot
from ingest import vocabulary as v

logger = logging.getLogger(__name__)


def clauses(s: Snapshot, r: Requirement) -> list[Clause]:
    """The clauses of every criterion the requirement gives, evaluated on ``s``."""
    out: list[Clause] = []
    f = s.floats
    if r.land_area_m2:
        out.append(range_clause("land_area_m2", f["land_area_m2"], r.land_area_m2, "land area", "superficie territoriale"))
    if r.floor_area_m2:
        floor = np.where(np.isnan(f["gross_floor_area_m2"]), f["covered_area_m2"], f["gross_floor_area_m2"])
        out.append(range_clause("floor_area_m2", floor, r.floor_area_m2, "floor area", "superficie lorda"))
    if r.building is not None:
        has = s.coded("site_type", BUILDING_TYPES)
        out.append(boolean("building", has if r.building else ~has & (s.codes["site_type"] >= 0),
                            ("has buildings", "con edifici") if r.building else ("land without buildings", "area senza edifici"),
                            ("no building", "senza edifici") if r.building else ("has buildings", "con edifici")))
    if r.tenure:
        verb = ("for sale", "in vendita") if r.tenure == "buy" else ("for lease", "in locazione")
        out.append(boolean("tenure", s.coded("availability", TENURE[r.tenure]), verb, (f"not {verb[0]}", f"non {verb[1]}")))
    if r.max_price_eur is not None:
        out.append(limit_clause("max_price_eur", f["price_eur"], "<=", r.max_price_eur, graded_max, ("price", "prezzo"), ("€", "€")))
    if r.max_rent_eur is not None:
        out.append(limit_clause("max_rent_eur", f["annual_rent_eur"], "<=", r.max_rent_eur, graded_max,
                          ("rent", "canone"), ("€/year", "€/anno")))
    if r.provinces:
        codes = _province_codes(s, r.provinces)
        names = ", ".join(p.upper() for p in r.provinces)
        out.append(boolean("provinces", s.coded("province_code", codes),
                            (f"in province {names}", f"in provincia {names}"), (f"outside {names}", f"fuori da {names}")))
    if r.area:
        out.append(area_clause(s, r.area))
    for name, column, layer, what_en, what_it in (
        ("max_motorway_km", "dist_motorway_exit_km", "motorway_exit", "motorway exit", "dal casello autostradale più vicino"),
        ("max_airport_km", "dist_airport_km", "airport", "airport", "dall'aeroporto più vicino"),
        ("max_station_km", "dist_station_km", "railway_station", "railway station", "dalla stazione ferroviaria più vicina"),
    ):
        limit = getattr(r, name)
        if limit is not None:
            out.append(max_distance(s, name, column, layer, limit, what_en, what_it))
    if r.rail_siding:
        out.append(boolean("rail_siding", s.flags["rail_siding"] == 1, ("rail siding on site", "raccordo ferroviario presente"),
                            ("no rail siding (or not stated)", "raccordo ferroviario assente o non indicato")))
    if r.min_power_kw is not None:
        out.append(limit_clause("min_power_kw", f["power_kw"], ">=", r.min_power_kw, graded_min,
                          ("available power", "potenza disponibile"), ("kW", "kW")))
    if r.fibre:
        out.append(boolean("fibre", s.flags["fibre"] == 1, ("fibre available", "fibra disponibile"),
                            ("no fibre (or not stated)", "fibra assente o non indicata")))
    if r.brownfield:
        disused = s.coded("site_type", ("area_dismessa",)) | s.coded("condition", BROWNFIELD_CONDITIONS)
        out.append(boolean("brownfield", disused, ("re-uses disused land or buildings", "riuso di area o edificio dismesso"),
                            ("not a brownfield", "non è un'area dismessa")))
    for zone, flag in (("zls", r.zls), ("regional_aid", r.regional_aid)):
        if flag:
            label = ("the ZLS Lombardia", "nella ZLS Lombardia") if zone == "zls" else \
                ("a regional-aid comune (art. 107.3.c; the list loaded is still partial)",
                 "in un comune della carta aiuti 107.3.c (l'elenco caricato è ancora parziale)")
            member = s.zones.get(zone, np.zeros(len(s), dtype=bool))
            out.append(boolean(zone, member, (f"in {label[0]}", label[1]), (f"not in {label[0]}", f"non {label[1]}")))
    if r.available_by is not None:
        by = np.datetime64(r.available_by, "D")
        ready = (s.available_from <= by) | (np.isnat(s.available_from) & s.coded("condition", AVAILABLE_NOW))

        def available_reason(value: Any, ok: bool, row: Any) -> tuple[str, str]:
            when = row["site_available_from"] if row is not None else None
            text_when = when.strftime("%d/%m/%Y") if when else "now"
            return (f"available from {text_when}, asked by {r.available_by:%d/%m/%Y}",
                    f"disponibile {'dal ' + text_when if when else 'da subito'}, richiesto entro il {r.available_by:%d/%m/%Y}")
        out.append(Clause("available_by", ready, ready.astype(float), None, available_reason))
    if r.sector:
        if r.sector not in v.SECTORS:
            raise InvalidInputError(f"Unknown sector '{r.sector}'; use one of {', '.join(v.SECTORS)}.",
                                    f"Settore '{r.sector}' sconosciuto; usare uno tra {', '.join(v.SECTORS)}.")
        fits = s.no_sectors | s.sectors.get(r.sector, np.zeros(len(s), dtype=bool))
        out.append(boolean("sector", fits, ("suitable for the sector (or no restriction declared)", "adatto al settore (o nessuna restrizione)"),
                            ("the owner lists other sectors", "il proprietario indica altri settori")))
    if r.zoning:
        unknown = [z for z in r.zoning if z not in v.ZONING]
        if unknown:
            raise InvalidInputError(f"Unknown zoning {', '.join(unknown)}; use {', '.join(v.ZONING)}.",
                                    f"Destinazione {', '.join(unknown)} sconosciuta; usare {', '.join(v.ZONING)}.")
        allowed = ", ".join(r.zoning)
        out.append(boolean("zoning", s.coded("zoning", r.zoning),
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


def _province_codes(s: Snapshot, abbreviations: list[str]) -> list[str]:
    """ISTAT codes of the provinces named, from the snapshot (provinces are reference
    data: one query per request saved)."""
    wanted = [a.strip().upper() for a in abbreviations]
    missing = [a for a in wanted if a not in s.provinces]
    if missing:
        raise InvalidInputError(f"Unknown province {', '.join(missing)}; use abbreviations such as MI, BG.",
                                f"Provincia {', '.join(missing)} sconosciuta; usare sigle come MI, BG.")
    return [s.provinces[a] for a in wanted]


# -- running it -------------------------------------------------------------------------------


SITE_SUMMARY = {
    "id": Site.id, "public_id": Site.public_id, "name": Site.name, "kind": Site.kind,
    "site_type": Site.site_type, "condition": Site.condition, "comune_istat": Site.comune_istat,
    "province_code": Site.province_code,
    "comune": select(Comune.name).where(Comune.istat_code == Site.comune_istat).scalar_subquery(),
    "land_area_m2": Site.land_area_m2, "gross_floor_area_m2": Site.gross_floor_area_m2,
    "availability": Site.availability, "price_eur": Site.price_eur, "annual_rent_eur": Site.annual_rent_eur,
    "available_from": Site.available_from, "completeness": Site.completeness,
    "last_confirmed": func.date(func.timezone("UTC", Site.last_confirmed_at)),
    "lon": func.ST_X(Site.geom), "lat": func.ST_Y(Site.geom),
}


# built once: composing the statement anew cost about a millisecond a request
_ROWS = (select(*(col.label(f"site_{name}") for name, col in {**SITE_SUMMARY, "nearest": Site.nearest}.items()),
                literal_column(CHANGES).label("changes"))
         .where(Site.id.in_(bindparam("ids", expanding=True)), Site.status == "published"))


# added to the key of a row outside the mask: keys lie within ±10^6, so such rows sort last
_OUTSIDE = 1e12


def _pick(key: np.ndarray, ids: np.ndarray, mask: np.ndarray, count: int) -> np.ndarray:
    """Indices of the first ``count`` rows of ``mask`` by ``key``, ties by id. Only the rows
    at or below a cut-off that lets at least ``count`` through (all ties of the last one
    included) are sorted exactly; gathering 50,000 candidates and partitioning them cost
    over a millisecond a pick."""
    total = int(np.count_nonzero(mask))
    if total == 0 or count <= 0:
        return np.empty(0, dtype=np.intp)
    if total <= count:
        rows = np.flatnonzero(mask)
    else:
        masked = key + _OUTSIDE * ~mask
        rows = np.flatnonzero(masked <= _cutoff(masked, count))
    return rows[np.lexsort((ids[rows], key[rows]))[:count]]


def _cutoff(keys: np.ndarray, count: int) -> float:
    """A key no smaller than the ``count``-th smallest of ``keys`` (which has at least
    ``count`` rows inside the mask), close enough that a few hundred rows pass it: read
    from a strided sample of about 4,000 keys when that checks out, else exact."""
    step = len(keys) // 4096
    if step >= 2:
        sample = keys[::step]
        j = min(len(sample) - 1, 2 * count // step + 8)
        cut = float(np.partition(sample, j)[j])
        if cut < _OUTSIDE / 2 and np.count_nonzero(keys <= cut) >= count:
            return cut
    return float(np.partition(keys, count - 1)[count - 1])


def match(conn: Connection, requirement: Requirement) -> dict[str, Any]:
    r = resolve(requirement)
    for attempt in range(3):
        snapshot = cached_snapshot(conn) if attempt == 0 else get_snapshot(conn, force=attempt == 2)
        answer = _match(conn, snapshot, r)
        if answer is not None:
            return answer
    raise RuntimeError("the catalogue changed three times while matching")


@dataclass(frozen=True)
class _Scored:
    parts: list[Clause]
    soft: set[str]
    weights: dict[str, float]
    total_weight: float
    score: np.ndarray
    stale: np.ndarray
    fails: np.ndarray


def _clauses_or_refuse(s: Snapshot, r: Requirement) -> list[Clause]:
    parts = clauses(s, r)
    if not parts:
        raise InvalidInputError("The requirement gives no criterion to match on.",
                                "La richiesta non indica alcun criterio.")
    return parts


def check_requirement(conn: Connection, requirement: Requirement) -> None:
    """Refuse, now, a requirement no match could be made of (no criterion, an unknown
    preset or province): an enquiry keeps its requirement for every later publication."""
    _clauses_or_refuse(get_snapshot(conn), resolve(requirement))


def _scored(s: Snapshot, r: Requirement) -> _Scored:
    parts = _clauses_or_refuse(s, r)
    soft = set(r.preferences)
    weights = {c.name: float(r.weights.get(c.name, 1.0)) for c in parts}
    total_weight = sum(weights.values()) or 1.0
    score = 100 * sum(weights[c.name] * c.score for c in parts) / total_weight
    stale = stale_mask(s)
    score *= 1.0 - (1.0 - freshness_settings().stale_score_factor) * stale  # np.where: 0.9 ms
    fails = sum((~c.passes).astype(np.int16) for c in parts if c.name not in soft)
    if isinstance(fails, int):  # no hard constraint at all
        fails = np.zeros(len(s), dtype=np.int16)
    return _Scored(parts, soft, weights, total_weight, score, stale, fails)


def assess(conn: Connection, requirements: list[Requirement], site_id: int,
           skip_invalid: bool = False) -> list[dict[str, Any] | None]:
    """How one published site stands against each requirement: ``state`` "match" or
    "near_miss" (one or two hard criteria failed) with its score and reasons, or None.
    The snapshot position and the site's row are looked up once for all of them.
    ``skip_invalid``: a requirement no match can be made of gives None (logged) instead of
    refusing them all: a stored enquiry must never stop a site's publication."""
    s = get_snapshot(conn)
    at = int(np.searchsorted(s.ids, site_id))
    row = conn.execute(_ROWS, {"ids": [site_id]}).mappings().first() \
        if at < len(s) and s.ids[at] == site_id else None
    if row is None:
        return [None] * len(requirements)
    out: list[dict[str, Any] | None] = []
    for number, requirement in enumerate(requirements):
        try:
            x = _scored(s, resolve(requirement))
        except InvalidInputError as refused:
            if not skip_invalid:
                raise
            logger.warning("requirement %d skipped against site %d: %s", number, site_id, refused.message)
            out.append(None)
            continue
        failed = int(x.fails[at])
        if failed > 2:
            out.append(None)
            continue
        explained = _explain(x, [row], np.array([at]), ranked=not failed)[0]
        out.append({"state": "near_miss" if failed else "match", "score": explained["score"],
                    "criteria": explained["criteria"]})
    return out


def _match(conn: Connection, s: Snapshot, r: Requirement) -> dict[str, Any] | None:
    x = _scored(s, r)
    score, fails = x.score, x.fails
    results = _pick(-score, s.ids, fails == 0, r.limit)
    # fewer failures first, then the better score (scores lie in [0, 100])
    near = _pick(fails * 1000.0 - score, s.ids, (fails >= 1) & (fails <= 2), r.near_misses)
    wanted = s.ids[np.concatenate([results, near])].tolist()
    fetched = conn.execute(_ROWS, {"ids": wanted}).mappings().all()
    rows = {row["site_id"]: row for row in fetched}
    changes = fetched[0]["changes"] if fetched else current_version(conn)[1]
    if changes != s.version[1] or len(rows) != len(wanted):
        return None  # the sites changed since the snapshot was taken: reload it
    explain = _explain(x, [rows[i] for i in wanted[:len(results)]], results, ranked=True)
    misses = _explain(x, [rows[i] for i in wanted[len(results):]], near, ranked=False)
    return {
        "requirement": r.model_dump(mode="json", exclude_none=True),
        "criteria": [{"criterion": c.name, "hard": c.name not in x.soft, "weight": x.weights[c.name]} for c in x.parts],
        "matching": int((fails == 0).sum()),
        "results": explain,
        "near_misses": misses,
        "method": ("score = 100 × Σ weight × criterion score / Σ weight, × "
                   f"{freshness_settings().stale_score_factor} for stale sites (not confirmed for "
                   f"{freshness_settings().stale_after_days} days); distances are straight-line"),
    }


def stale_mask(s: Snapshot) -> np.ndarray:
    """Sites whose data nobody confirmed within the stale period: they rank lower."""
    today = np.datetime64(dt.date.today(), "D")
    return s.confirmed < today - np.timedelta64(freshness_settings().stale_after_days, "D")


_SITE_KEYS = tuple((name, f"site_{name}") for name in SITE_SUMMARY)


def _explain(x: _Scored, rows: list[Any], at: np.ndarray, ranked: bool) -> list[dict[str, Any]]:
    """The answer's entries for the snapshot positions ``at`` (with their database rows):
    each criterion's outcome, value, score, contribution and reasons. The positions'
    values are taken out of the arrays once per criterion; indexing numpy scalars site by
    site took most of the time of an answer."""
    positions = at.tolist()
    columns = []
    for c in x.parts:
        values = ([None] * len(positions) if c.value is None or not positions
                  else c.exact(at).tolist() if c.exact is not None else c.value[at].tolist())
        columns.append((c, c.name not in x.soft, x.weights[c.name], c.passes[at].tolist(), c.score[at].tolist(), values))
    scores, stale = x.score[at].tolist(), x.stale[at].tolist()
    out = []
    for k, row in enumerate(rows):
        site = {name: row[key] for name, key in _SITE_KEYS}
        site["public_id"] = str(site["public_id"])
        for key in ("available_from", "last_confirmed"):
            site[key] = site[key].isoformat() if site[key] else None
        for key in ("price_eur", "annual_rent_eur"):
            site[key] = float(site[key]) if site[key] is not None else None
        criteria, failed = [], []
        for c, hard, weight, passes, part_scores, values in columns:
            ok, value, part_score = passes[k], values[k], part_scores[k]
            reason_en, reason_it = c.explain(value, ok, row)
            shown = None if value is None or value != value else round(value, 3)  # NaN: not stated
            criteria.append({
                "criterion": c.name, "hard": hard, "passed": ok, "weight": weight, "value": shown,
                "score": round(part_score, 3), "contribution": round(100 * weight * part_score / x.total_weight, 2),
                "reason": reason_en, "reason_it": reason_it,
            })
            if not ok and hard:
                failed.append({"criterion": c.name, "value": shown, "reason": reason_en, "reason_it": reason_it})
        entry: dict[str, Any] = {"site": site, "score": round(scores[k], 2), "completeness": site["completeness"],
                                 "stale": stale[k], "criteria": criteria}
        if ranked:
            entry["rank"] = k + 1
        else:
            entry["fails"] = failed
            entry["summary"] = "fails only: " + "; ".join(f["reason"] for f in failed)
            entry["summary_it"] = "non soddisfa solo: " + "; ".join(f["reason_it"] for f in failed)
        out.append(entry)
    return out
