"""What the desk's lists need: candidacies filtered, sorted and counted the way staff
work through them (by status, province, kind, type, date, delegate), and what changed
between two versions of an application.

Filters only narrow ``lifecycle.visible``: who may see what stays decided there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from app.accounts.auth import Principal
from app.candidacies.lifecycle import visible
from app.candidacies.models import Candidacy
from app.catalogue.models import Site
from app.core.settings import freshness_settings
from app.reference.models import Province

SortKey = Literal["submitted_at", "created_at", "site_name", "province", "status", "id"]
# keys of the record that a version comparison leaves out: they say how, not what
UNCOMPARED = frozenset({"compiled_on", "template_version"})


@dataclass(frozen=True)
class Filters:
    """The inbox's filters; None means "any"."""

    status: str | None = None
    province: str | None = None
    kind: str | None = None
    site_type: str | None = None
    delegated: bool | None = None
    submitted_from: dt.date | None = None
    submitted_to: dt.date | None = None
    stale: bool = False
    possible_duplicates: bool = False
    current_only: bool = False


def _stale_condition() -> Any:
    days = freshness_settings().stale_after_days
    return exists().where(Site.lineage_id == Candidacy.lineage_id, Site.status == "published",
                          Site.last_confirmed_at < func.now() - dt.timedelta(days=days))


def _province() -> Any:
    """The province the site lies in (computed), else the one the owner declared."""
    located = select(Province.abbreviation).join(Site, Site.province_code == Province.code).where(
        Site.lineage_id == Candidacy.lineage_id).scalar_subquery()
    return func.coalesce(located, Candidacy.record["province"].astext)


def narrowed(query: Select[Any], f: Filters) -> Select[Any]:
    record = Candidacy.record
    conditions = [
        Candidacy.status == f.status if f.status else None,
        _province() == f.province if f.province else None,
        Candidacy.kind == f.kind if f.kind else None,
        record["site_type"].astext == f.site_type if f.site_type else None,
        (Candidacy.proponent_role == "delegato") if f.delegated
        else (Candidacy.proponent_role != "delegato") if f.delegated is False else None,
        Candidacy.submitted_at >= f.submitted_from if f.submitted_from else None,
        Candidacy.submitted_at < f.submitted_to + dt.timedelta(days=1) if f.submitted_to else None,
        _stale_condition() if f.stale else None,
        Candidacy.duplicate_of_id.is_not(None) if f.possible_duplicates else None,
        Candidacy.is_current if f.current_only else None,
    ]
    present = [c for c in conditions if c is not None]
    return query.where(and_(*present)) if present else query


def _order(sort: SortKey, descending: bool) -> list[Any]:
    column = {"submitted_at": Candidacy.submitted_at, "created_at": Candidacy.created_at,
              "site_name": Candidacy.record["site_name"].astext, "province": _province(),
              "status": Candidacy.status, "id": Candidacy.id}[sort]
    primary = column.desc().nulls_last() if descending else column.asc().nulls_last()
    return [primary, Candidacy.id.desc() if descending else Candidacy.id.asc()]


def page(session: Session, principal: Principal, f: Filters, sort: SortKey = "id", descending: bool = True,
         limit: int = 100, offset: int = 0) -> tuple[list[Candidacy], int]:
    """One page of the candidacies a caller may see, and how many there are in all."""
    query = narrowed(visible(principal), f)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.scalars(query.order_by(*_order(sort, descending)).limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


def counts(session: Session, principal: Principal) -> dict[str, int]:
    """Current applications by status, plus the stale and the flagged-duplicate ones: the
    inbox's tabs."""
    current = visible(principal).where(Candidacy.is_current).subquery()
    by_status = dict(session.execute(select(current.c.status, func.count()).group_by(current.c.status)).all())
    stale = session.scalar(select(func.count()).select_from(
        narrowed(visible(principal), Filters(stale=True, current_only=True)).subquery()))
    duplicates = session.scalar(select(func.count()).select_from(
        narrowed(visible(principal), Filters(possible_duplicates=True, current_only=True)).subquery()))
    return {**{k: int(v) for k, v in by_status.items()}, "stale": int(stale or 0),
            "possible_duplicates": int(duplicates or 0)}


def changes(before: dict[str, Any], after: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields whose value differs between two versions' records, in the newer one's order."""
    keys = [k for k in after if k not in UNCOMPARED] + [k for k in before if k not in after and k not in UNCOMPARED]
    return [{"field": k, "before": before.get(k), "after": after.get(k)}
            for k in keys if before.get(k) != after.get(k)]


def versions(session: Session, candidacy: Candidacy) -> list[dict[str, Any]]:
    """Every version of an application, oldest first, each with what it changed."""
    rows = session.scalars(select(Candidacy).where(Candidacy.lineage_id == candidacy.lineage_id)
                           .order_by(Candidacy.version)).all()
    out, previous = [], None
    for c in rows:
        out.append({"id": c.id, "version": c.version, "status": c.status, "is_current": c.is_current,
                    "created_at": c.created_at.isoformat(), "file_name": c.file_name,
                    "changes": changes(previous.record, c.record) if previous is not None else []})
        previous = c
    return out
