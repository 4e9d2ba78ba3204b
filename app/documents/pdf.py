"""Site exposés and comparisons as PDF, in Italian or English: HTML from Jinja2 templates
(autoescaped: owners' text cannot inject markup) printed by WeasyPrint, with a location map
drawn by the service from its own layers (:mod:`geo.mapimage`).

Only public properties reach a page (:mod:`app.documents.exposes` reads the OGC API's set),
and the contact printed is the agency's, never the owner's."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import Connection

from app.core.settings import expose_settings
from app.documents.exposes import ExposeSite, map_content, map_sources, published_sites, zone_names
from geo.mapimage import render_svg
from ingest import vocabulary as v
from ingest.fields import CANDIDACY_SECTIONS, fields_of
from ingest.values import it_number

TEMPLATES = Path(__file__).with_name("templates")
NOT_STATED = {"it": "non indicato", "en": "not stated"}
COMPARE_COLUMNS_MM = 225  # A4 landscape less margins and the label column: maps drawn at print size
YES_NO = {"it": ("Sì", "No"), "en": ("Yes", "No")}
# what each zone type means for an investor; the zone's official name comes from the data
ZONE_MEANING = {
    "zls": ("Zona logistica semplificata (L. 205/2017): procedure amministrative semplificate per chi investe.",
            "Simplified logistics zone (Law 205/2017): simplified administrative procedures for investors."),
    "regional_aid": ("Comune della carta degli aiuti a finalità regionale (art. 107.3.c TFUE): ammessi aiuti di "
                     "Stato agli investimenti. Elenco caricato ancora parziale.",
                     "Comune of the regional-aid map (art. 107.3.c TFEU): state aid to investment allowed. "
                     "The list loaded is still partial."),
}


@lru_cache
def _vocabularies() -> dict[str, v.Vocabulary]:
    found = {f.key: f.vocabulary for f in fields_of(CANDIDACY_SECTIONS) if f.vocabulary and f.kind != "bool"}
    return {**found, "kind": v.CANDIDACY_KINDS, "location_precision": v.LOCATION_PRECISIONS}


class Formats:
    """Figures, dates and codes as a reader of ``lang`` writes them (15.000 m² in Italian)."""

    def __init__(self, lang: str):
        self.lang = lang

    def number(self, value: float | None, digits: int = 0) -> str:
        if value is None:
            return NOT_STATED[self.lang]
        return it_number(float(value), digits) if self.lang == "it" else f"{float(value):,.{digits}f}"

    def area(self, value: float | None) -> str:
        return self.number(value) + " m²" if value is not None else NOT_STATED[self.lang]

    def money(self, value: float | None) -> str:
        return "€ " + self.number(value) if value is not None else NOT_STATED[self.lang]

    def km(self, value: float | None) -> str:
        return self.number(value, 1) + " km" if value is not None else NOT_STATED[self.lang]

    def percent(self, share: float | None) -> str:
        return self.number(100 * share) + " %" if share is not None else NOT_STATED[self.lang]

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return NOT_STATED[self.lang]
        return value.strftime("%d/%m/%Y") if self.lang == "it" else value.strftime("%Y-%m-%d")

    def yes_no(self, value: bool | None) -> str:
        return NOT_STATED[self.lang] if value is None else YES_NO[self.lang][0 if value else 1]

    def code(self, key: str, value: Any) -> str:
        """A vocabulary code (or list of codes) in words."""
        if value is None or value == []:
            return NOT_STATED[self.lang]
        vocabulary = _vocabularies().get(key, {})
        index = 0 if self.lang == "it" else 1
        values = value if isinstance(value, list) else [value]
        return ", ".join(vocabulary[x][index] if x in vocabulary else str(x) for x in values)

    def text(self, it: str, en: str) -> str:
        return it if self.lang == "it" else en


def _zones(site: ExposeSite, names: dict[str, str], lang: str) -> list[dict[str, str]]:
    index = 0 if lang == "it" else 1
    return [{"name": names.get(z, z), "meaning": ZONE_MEANING.get(z, ("", ""))[index]}
            for z in site.properties["zones"] or []]


@lru_cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def _svg(svg: str) -> Markup:
    """matplotlib's SVG without its XML prologue, to sit inline in the page."""
    return Markup(svg[svg.index("<svg"):])


def _print(template: str, **context: Any) -> bytes:
    from weasyprint import HTML  # imported on first print: it loads pango

    html = _environment().get_template(template).render(contact=expose_settings(), **context)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


def expose_pdf(conn: Connection, site_id: int, lang: str) -> bytes:
    """The one-site profile an investor takes away, in ``lang``."""
    (site,) = published_sites(conn, [site_id])
    names = zone_names(conn, list(site.properties["zones"] or []))
    return _print("expose.html", lang=lang, f=Formats(lang), site=site, p=site.properties,
                  zones=_zones(site, names, lang), map_svg=_svg(render_svg(map_content(conn, site, lang))),
                  sources=map_sources(conn), today=dt.date.today())


def comparison_pdf(conn: Connection, ids: list[int], lang: str,
                   assessments: list[dict[str, Any] | None] | None = None, enquiry: str | None = None) -> bytes:
    """2-5 short-listed sites side by side, with how each meets an enquiry when given."""
    sites = published_sites(conn, ids)
    names = zone_names(conn, sorted({z for s in sites for z in s.properties["zones"] or []}))
    width = COMPARE_COLUMNS_MM / len(sites)
    columns = [{"site": s, "p": s.properties, "zones": _zones(s, names, lang),
                "map_svg": _svg(render_svg(map_content(conn, s, lang, named=False), width_mm=width)),
                "match": assessments[i] if assessments else None} for i, s in enumerate(sites)]
    return _print("compare.html", lang=lang, f=Formats(lang), columns=columns, enquiry=enquiry,
                  sources=map_sources(conn), today=dt.date.today())
