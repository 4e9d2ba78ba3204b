"""Checks across fields: tax codes, where the site is, surfaces, dates and admissibility
thresholds; the delegation rules of form C (``ingest.form_c``), values orders of
magnitude off (``ingest.plausibility``) and personal data in public text
(``ingest.public_text``) are mixed in.

Reference data (comuni, the region, cadastral sheets) comes in through the
:class:`ReferenceLookup` protocol so that this module stays free of the database; the
service implements it on PostGIS (``app.reference.lookup``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Point

from ingest.coordinates import ValueProblem, parse_wkt_perimeter, xy_to_lonlat
from ingest.fields import field_place
from ingest.form_c import DelegationChecks
from ingest.parser import ParsedWorkbook, SheetValues, parse_workbook
from ingest.plausibility import PlausibilityChecks
from ingest.problems import Problem, Severity
from ingest.public_text import PublicTextChecks
from ingest.record import CandidacyRecord, DelegationRecord
from ingest.reference import ComuneRef, ReferenceLookup
from ingest.values import it_number, normalise
from ingest.workbook import Workbook


@dataclass(frozen=True)
class Thresholds:
    """Admissibility warnings from earlier regional calls (mission.md); configurable."""

    greenfield_min_land_m2: float = 10_000
    brownfield_min_floor_m2: float = 1_000
    comune_border_tolerance_m: float = 100
    oldest_compilation: dt.date = dt.date(2020, 1, 1)


@dataclass
class Validation:
    record: CandidacyRecord
    problems: list[Problem]
    perimeter: MultiPolygon | None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "problems": [{**p.to_dict(), **field_place(p.field)} for p in self.problems],
        }


class _Checker(DelegationChecks, PlausibilityChecks, PublicTextChecks):
    def __init__(self, parsed: ParsedWorkbook, lookup: ReferenceLookup, thresholds: Thresholds,
                 today: dt.date):
        self.parsed = parsed
        self.c = parsed.candidacy
        self.v = parsed.candidacy.values
        self.lookup = lookup
        self.t = thresholds
        self.today = today
        self.resolved: dict[str, Any] = {}
        self.perimeter = parsed.perimeter

    def flag(self, severity: Severity, code: str, key: str | None, en: str, it: str,
             expected: str | tuple[str, str] | None = None, sheet: SheetValues | None = None) -> None:
        """A problem at ``key``'s cell; ``expected`` as (English, Italian), or one text
        that needs no translation (a value, a code, a name)."""
        sheet = sheet or self.c
        expected_en, expected_it = expected if isinstance(expected, tuple) else (expected, expected)
        sheet.problem(severity, code, key, sheet.raw.get(key) if key else None, expected_en, expected_it,
                      en, it)

    # -- people -------------------------------------------------------------------------------

    def proponent(self) -> None:
        if not ({"proponent_cf", "proponent_piva"} & (set(self.v) | set(self.c.raw))):
            self.flag(Severity.ERROR, "missing_tax_id", "proponent_cf",
                      "Give the proponent's codice fiscale or partita IVA.",
                      "Indicare il codice fiscale o la partita IVA del proponente.",
                      ("a codice fiscale or a partita IVA", "un codice fiscale o una partita IVA"))
        if self.v.get("proponent_role") == "delegato":
            for key, label in (("owner_name", "Proprietario"),
                               ("owner_tax_id", "Codice fiscale o partita IVA del proprietario")):
                if key not in self.v and key not in self.c.raw:
                    self.flag(Severity.ERROR, "missing_owner", key,
                              f"A delegate submits for an owner: fill in '{label}'.",
                              f"Un delegato presenta per conto del proprietario: compilare '{label}'.",
                              ("the owner's details", "i dati del proprietario"))

    # -- location -----------------------------------------------------------------------------

    def comune(self) -> ComuneRef | None:
        raw = self.v.get("comune")
        if raw is None:
            return None
        found = self.lookup.comune(str(raw))
        if found is None:
            self.flag(Severity.ERROR, "unknown_comune", "comune",
                      f"'{raw}' is not a comune of Lombardy. Write its name as ISTAT lists it "
                      "(e.g. Cologno Monzese) or its 6-digit ISTAT code.",
                      f"'{raw}' non è un comune della Lombardia. Scriverne il nome come da "
                      "elenco ISTAT (es. Cologno Monzese) o il codice ISTAT a 6 cifre.",
                      ("a comune of Lombardy", "un comune della Lombardia"))
            return None
        self.resolved["comune_istat"] = found.istat_code
        province = self.v.get("province")
        if province and normalise(province) not in (normalise(found.province), ):
            self.flag(Severity.WARNING, "province_mismatch", "province",
                      f"{found.name} is in province {found.province}, not '{province}'.",
                      f"{found.name} è in provincia di {found.province}, non '{province}'.",
                      found.province)
        return found

    def perimeter_shape(self) -> None:
        wkt = self.v.get("perimeter_wkt")
        if wkt:
            if self.perimeter is not None:
                self.flag(Severity.WARNING, "two_perimeters", "perimeter_wkt",
                          "Both a WKT perimeter and sheet Perimetro are filled in; the WKT is used.",
                          "Sono compilati sia il perimetro WKT sia il foglio Perimetro; si usa il WKT.")
            self.perimeter = parse_wkt_perimeter(wkt)

    def point(self) -> tuple[float, float, str, str] | None:
        """(lon, lat, precision, key of the cell it came from)."""
        v, raw = self.v, self.c.raw
        has_lat, has_lon = "latitude" in raw, "longitude" in raw
        if has_lat != has_lon:
            missing = "longitude" if has_lat else "latitude"
            self.flag(Severity.ERROR, "incomplete_coordinates", missing,
                      "Give both latitude and longitude.", "Indicare sia latitudine sia longitudine.")
            return None
        if "latitude" in v and "longitude" in v:
            return v["longitude"], v["latitude"], "exact", "latitude"
        if has_lat:
            return None  # unreadable: already reported
        if "coord_x" in raw or "coord_y" in raw:
            if not ("coord_x" in v and "coord_y" in v):
                if "coord_x" in raw and "coord_y" in raw:
                    return None
                self.flag(Severity.ERROR, "incomplete_coordinates", "coord_x",
                          "Give both X and Y.", "Indicare sia X sia Y.")
                return None
            if "coord_epsg" not in v:
                if "coord_epsg" not in raw:
                    self.flag(Severity.ERROR, "missing_epsg", "coord_epsg",
                              "X/Y need their reference system: choose the EPSG code.",
                              "X/Y richiedono il sistema di riferimento: scegliere il codice EPSG.",
                              ("32632, 7791, 6707 or 3003", "32632, 7791, 6707 o 3003"))
                return None
            try:
                lon, lat = xy_to_lonlat(v["coord_x"], v["coord_y"], int(v["coord_epsg"]))
            except ValueProblem as exc:
                self.c.problem(Severity.ERROR, "invalid_coordinates", "coord_x", raw.get("coord_x"),
                               exc.expected_en, exc.expected_it,
                               f"Coordinates X/Y: expected {exc.expected_en}.",
                               f"Coordinate X/Y: atteso {exc.expected_it}.")
                return None
            return lon, lat, "exact", "coord_x"
        if self.perimeter is not None:
            inner = self.perimeter.representative_point()
            return inner.x, inner.y, "exact", "perimeter_wkt"
        return None

    def location(self, comune: ComuneRef | None) -> None:
        self.perimeter_shape()
        found = self.point()
        if found is None and not self.c.problems_for({"latitude", "longitude", "coord_x", "coord_y", "coord_epsg"}):
            foglio = self.v.get("foglio")
            if comune and foglio:
                point = self.lookup.cadastral_point(comune.istat_code, str(foglio))
                if point is None:
                    self.flag(Severity.ERROR, "unknown_foglio", "foglio",
                              f"Foglio {foglio} is not among the cadastral sheets of {comune.name}; "
                              "check it or give the coordinates.",
                              f"Il foglio {foglio} non è tra i fogli catastali di {comune.name}; "
                              "verificarlo o indicare le coordinate.")
                    return
                self.flag(Severity.WARNING, "approximate_location", "foglio",
                          f"No coordinates: the site is placed at the reference point of foglio "
                          f"{foglio} of {comune.name}, typically within 0.5-2 km. Add coordinates "
                          "for an exact position.",
                          f"Coordinate assenti: il sito è collocato nel punto di riferimento del "
                          f"foglio {foglio} di {comune.name}, di norma entro 0,5-2 km. Aggiungere "
                          "le coordinate per una posizione esatta.")
                found = (*point, "cadastral_sheet", "foglio")
            elif comune is not None or "comune" not in self.v:
                self.flag(Severity.ERROR, "missing_location", "latitude",
                          "Give the site's coordinates (latitude/longitude, or X/Y with EPSG), "
                          "a perimeter, or at least comune and foglio.",
                          "Indicare le coordinate del sito (latitudine/longitudine, o X/Y con "
                          "EPSG), un perimetro, o almeno comune e foglio.")
        if found is None:
            return
        lon, lat, precision, key = found
        if not self.lookup.in_lombardy(lon, lat):
            self.flag(Severity.ERROR, "outside_lombardy", key,
                      f"The coordinates ({lat:.5f}, {lon:.5f}) fall outside Lombardy: check "
                      "them, and that latitude and longitude are not swapped.",
                      f"Le coordinate ({lat:.5f}, {lon:.5f}) cadono fuori dalla Lombardia: "
                      "verificarle, e che latitudine e longitudine non siano invertite.",
                      ("a point in Lombardy", "un punto in Lombardia"))
            return
        self.resolved.update(lon=lon, lat=lat, location_precision=precision)
        if comune is not None and precision == "exact":
            distance = self.lookup.distance_to_comune_m(comune.istat_code, lon, lat)
            if distance > self.t.comune_border_tolerance_m:
                actual = self.lookup.comune_at(lon, lat)
                where = actual.name if actual else "another comune"
                self.flag(Severity.ERROR, "outside_declared_comune", key,
                          f"The coordinates fall in {where}, {distance / 1000:.1f} km from "
                          f"{comune.name}, the comune declared. Correct the comune or the "
                          "coordinates.",
                          f"Le coordinate cadono in {where if actual else 'un altro comune'}, a "
                          f"{distance / 1000:.1f} km da {comune.name}, il comune dichiarato. "
                          "Correggere il comune o le coordinate.",
                          (f"a point in {comune.name}", f"un punto a {comune.name}"))
            elif distance > 0:
                self.flag(Severity.WARNING, "on_comune_border", key,
                          f"The point is {distance:.0f} m outside {comune.name}, within the "
                          "border tolerance; check it.",
                          f"Il punto è {distance:.0f} m fuori da {comune.name}, entro la "
                          "tolleranza di confine; verificarlo.")
        if self.perimeter is not None and precision == "exact":
            if not self.perimeter.buffer(0.002).contains(Point(lon, lat)):
                self.flag(Severity.WARNING, "point_outside_perimeter", key,
                          "The coordinates are not inside the perimeter given.",
                          "Le coordinate non sono all'interno del perimetro indicato.")
            self._perimeter_area()

    def _perimeter_area(self) -> None:
        area = metric_area_m2(self.perimeter)
        declared = self.v.get("land_area_m2")
        if declared and not 0.5 <= area / declared <= 1.5:
            self.flag(Severity.WARNING, "perimeter_area_mismatch", "land_area_m2",
                      f"The perimeter encloses {area:,.0f} m², the declared land area is "
                      f"{declared:,.0f} m².",
                      f"Il perimetro racchiude {it_number(area)} m², la superficie territoriale "
                      f"dichiarata è {it_number(declared)} m².")

    # -- characteristics ----------------------------------------------------------------------

    def surfaces(self) -> None:
        v = self.v
        land, covered, floor = (v.get(k) for k in
                                ("land_area_m2", "covered_area_m2", "gross_floor_area_m2"))
        site_type = v.get("site_type")
        needs = {"area_libera": ("land_area_m2",), "area_dismessa": ("land_area_m2",),
                 "edificio": ("covered_area_m2", "gross_floor_area_m2"),
                 "area_con_edifici": ("land_area_m2", "covered_area_m2", "gross_floor_area_m2")}
        for key in needs.get(site_type, ()):
            if key not in v and key not in self.c.raw:
                self.flag(Severity.ERROR, "missing_value", key,
                          f"A site of this type needs '{_label(key)}'.",
                          f"Un sito di questa tipologia richiede '{_label(key)}'.", ("a surface in m²", "una superficie in m²"))
        if land is not None and covered is not None and covered > land:
            self.flag(Severity.ERROR, "covered_exceeds_land", "covered_area_m2",
                      f"The covered area ({covered:,.0f} m²) exceeds the land area ({land:,.0f} m²).",
                      f"La superficie coperta ({it_number(covered)} m²) supera la superficie "
                      f"territoriale ({it_number(land)} m²).",
                      (f"at most {land:,.0f} m²", f"al massimo {it_number(land)} m²"))
        floors = v.get("floors")
        if floor is not None and covered and floors and floor > covered * floors * 1.05:
            self.flag(Severity.WARNING, "floor_area_implausible", "gross_floor_area_m2",
                      f"SLP {floor:,.0f} m² is more than covered area × floors "
                      f"({covered:,.0f} × {floors}).",
                      f"La SLP di {it_number(floor)} m² supera superficie coperta × piani "
                      f"({it_number(covered)} × {floors}).")
        elif floor is not None and land and floor > land * 10:
            self.flag(Severity.WARNING, "floor_area_implausible", "gross_floor_area_m2",
                      f"SLP {floor:,.0f} m² is more than ten times the land area.",
                      f"La SLP di {it_number(floor)} m² supera dieci volte la superficie territoriale.")
        if site_type == "area_libera" and land is not None and land < self.t.greenfield_min_land_m2:
            self.flag(Severity.WARNING, "below_threshold", "land_area_m2",
                      f"Greenfield land below {self.t.greenfield_min_land_m2:,.0f} m² was not "
                      "admissible in earlier regional calls.",
                      f"Le aree libere sotto {it_number(self.t.greenfield_min_land_m2)} m² non erano "
                      "ammissibili nei precedenti bandi regionali.")
        if site_type in ("area_dismessa", "edificio", "area_con_edifici"):
            measure = floor if floor is not None else covered
            if measure is not None and measure < self.t.brownfield_min_floor_m2:
                self.flag(Severity.WARNING, "below_threshold", "gross_floor_area_m2",
                          f"Brownfields and buildings below {self.t.brownfield_min_floor_m2:,.0f} "
                          "m² of SLP were not admissible in earlier regional calls.",
                          f"Aree dismesse ed edifici sotto {it_number(self.t.brownfield_min_floor_m2)} "
                          "m² di SLP non erano ammissibili nei precedenti bandi regionali.")

    def availability(self) -> None:
        mode = self.v.get("availability")
        declared = set(self.v) | set(self.c.raw)
        if mode in ("vendita", "vendita_o_locazione") and "price_eur" not in declared:
            self.flag(Severity.WARNING, "missing_price", "price_eur",
                      "For sale but no asking price: investors filter on price.",
                      "In vendita ma senza prezzo richiesto: gli investitori filtrano per prezzo.")
        if mode in ("locazione", "vendita_o_locazione") and "annual_rent_eur" not in declared:
            self.flag(Severity.WARNING, "missing_rent", "annual_rent_eur",
                      "For lease but no annual rent: investors filter on rent.",
                      "In locazione ma senza canone annuo: gli investitori filtrano per canone.")

    def dates(self) -> None:
        compiled = self.v.get("compiled_on")
        if compiled and compiled > self.today:
            self.flag(Severity.ERROR, "future_date", "compiled_on",
                      f"The compilation date {compiled:%d/%m/%Y} is in the future.",
                      f"La data di compilazione {compiled:%d/%m/%Y} è nel futuro.",
                      (f"a date up to {self.today:%d/%m/%Y}", f"una data fino al {self.today:%d/%m/%Y}"))
        elif compiled and compiled < self.t.oldest_compilation:
            self.flag(Severity.WARNING, "old_date", "compiled_on",
                      f"The compilation date {compiled:%d/%m/%Y} is old: confirm the data is current.",
                      f"La data di compilazione {compiled:%d/%m/%Y} è datata: confermare che i "
                      "dati siano attuali.")
        available = self.v.get("available_from")
        if available and not dt.date(1950, 1, 1) <= available <= self.today.replace(year=self.today.year + 20):
            self.flag(Severity.ERROR, "implausible_date", "available_from",
                      f"'Available from' {available:%d/%m/%Y} is not plausible.",
                      f"'Disponibile dal' {available:%d/%m/%Y} non è plausibile.")

    def run(self) -> Validation:
        self.proponent()
        comune = self.comune()
        self.location(comune)
        self.surfaces()
        self.plausibility()
        self.availability()
        self.dates()
        self.public_text()
        self.delegation(comune)
        values = {k: v for k, v in self.v.items()}
        if self.perimeter is not None:
            values["perimeter_wkt"] = self.perimeter.wkt
        delegation = None
        if self.parsed.delegation is not None:
            delegation = DelegationRecord(**self.parsed.delegation.values)
        record = CandidacyRecord(**values, **self.resolved, delegation=delegation)
        problems = self.parsed.problems
        problems.sort(key=lambda p: (p.severity != Severity.ERROR, p.sheet or "", _row(p.cell)))
        return Validation(record, problems, self.perimeter)


_TO_UTM32N = Transformer.from_crs(4326, 32632, always_xy=True)


def metric_area_m2(geometry: MultiPolygon) -> float:
    """Area in m² after projecting WGS84 to UTM 32N (Lombardy's metric CRS)."""
    return shapely.transform(geometry, _TO_UTM32N.transform, interleaved=False).area


def _row(cell: str | None) -> int:
    digits = "".join(ch for ch in cell or "" if ch.isdigit())
    return int(digits) if digits else 0


def _label(key: str) -> str:
    from ingest.fields import CANDIDACY_SECTIONS, fields_of

    return next((f.label for f in fields_of(CANDIDACY_SECTIONS) if f.key == key), key)


def validate(parsed: ParsedWorkbook, lookup: ReferenceLookup,
             thresholds: Thresholds = Thresholds(), today: dt.date | None = None) -> Validation:
    return _Checker(parsed, lookup, thresholds, today or dt.date.today()).run()


def validate_workbook(workbook: Workbook, lookup: ReferenceLookup,
                      thresholds: Thresholds = Thresholds(), today: dt.date | None = None) -> Validation:
    """Parse and check a workbook already read by :func:`ingest.workbook.read_workbook`."""
    return validate(parse_workbook(workbook), lookup, thresholds, today)
