"""The field dictionary of the Excel contract: one place that both the template
generator and the parser read, so the two can never disagree.

Labels are Italian (the template's language) with English help. The parser finds a
field by its normalised label or one of its aliases, never by cell address.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from ingest import vocabulary as v
from ingest.values import normalise

TEMPLATE_VERSION = "OL-2026.1"
SUPPORTED_TEMPLATE_VERSIONS = (TEMPLATE_VERSION,)
SHEET_CANDIDACY = "Candidatura"
SHEET_PERIMETER = "Perimetro"
SHEET_DELEGATION = "Delega"
SHEET_INSTRUCTIONS = "Istruzioni"

Kind = Literal[
    "text", "email", "phone", "tax_id", "cf", "piva", "choice", "choices", "bool", "date",
    "integer", "year", "area", "money", "power", "length_km", "length_m", "angle_lat",
    "angle_lon", "number", "epsg", "wkt", "list",
]


@dataclass(frozen=True, eq=False)
class Field:  # compared and hashed by identity: fields are module constants
    key: str
    label: str
    help_en: str
    kind: Kind = "text"
    vocabulary: v.Vocabulary | None = None
    required: bool = False
    kinds: tuple[str, ...] = ("A", "B")  # candidacy kinds the field belongs to
    aliases: tuple[str, ...] = ()
    number_format: str | None = None

    @property
    def match_keys(self) -> tuple[str, ...]:
        return tuple(normalise(x) for x in (self.label, *self.aliases))


@dataclass(frozen=True)
class Section:
    title: str
    title_en: str
    fields: tuple[Field, ...]
    kinds: tuple[str, ...] = ("A", "B")


AREA = '#,##0" m²"'
MONEY = '"€" #,##0'
KM = '0.0" km"'
KW = '#,##0" kW"'
DATE = "dd/mm/yyyy"
EPSG_CHOICES = {
    "4326": ("4326 - WGS84 lat/lon", "4326 - WGS84 lat/lon"),
    "32632": ("32632 - WGS84 / UTM 32N", "32632 - WGS84 / UTM 32N"),
    "7791": ("7791 - RDN2008 / UTM 32N", "7791 - RDN2008 / UTM 32N"),
    "6707": ("6707 - RDN2008 / UTM 32N (N-E)", "6707 - RDN2008 / UTM 32N (N-E)"),
    "3003": ("3003 - Monte Mario / Gauss-Boaga Ovest", "3003 - Monte Mario / Gauss-Boaga West"),
}
YES_NO = {"si": ("Sì", "Yes"), "no": ("No", "No")}

CANDIDACY_SECTIONS: tuple[Section, ...] = (
    Section("Candidatura", "Candidacy", (
        Field("kind", "Tipo di candidatura", "A: area and/or building; B: investment project",
              "choice", v.CANDIDACY_KINDS, required=True),
        Field("candidacy_code", "Codice candidatura",
              "Filled in by the service when you update an existing candidacy: leave as it is",
              aliases=("codice della candidatura",)),
    )),
    Section("Proponente", "Proponent", (
        Field("proponent_role", "Tipo proponente", "Owner, co-owner or delegate (form C)",
              "choice", v.PROPONENT_ROLES, required=True),
        Field("proponent_name", "Denominazione o nome e cognome", "Company name or full name",
              required=True, aliases=("denominazione proponente", "nome e cognome")),
        Field("proponent_cf", "Codice fiscale", "Tax code (16 characters, or 11 digits for bodies)",
              "tax_id", aliases=("codice fiscale proponente", "cf")),
        Field("proponent_piva", "Partita IVA", "VAT number (11 digits)", "piva",
              aliases=("p iva", "piva", "partita iva proponente")),
        Field("proponent_legal_nature", "Natura giuridica", "Legal nature", "choice",
              v.LEGAL_NATURES, required=True),
        Field("proponent_email", "Email o PEC", "E-mail or certified e-mail", "email",
              required=True, aliases=("email pec", "email", "pec")),
        Field("proponent_phone", "Telefono", "Phone number", "phone"),
    )),
    Section("Proprietà", "Ownership", (
        Field("owner_name", "Proprietario (denominazione o nome)",
              "Owner, if different from the proponent (required for a delegate)",
              aliases=("proprietario", "denominazione proprietario")),
        Field("owner_tax_id", "Codice fiscale o partita IVA del proprietario",
              "Owner's tax code or VAT number", "tax_id",
              aliases=("cf piva proprietario", "codice fiscale proprietario")),
        Field("tenure_title", "Titolo di disponibilità", "Title: ownership, co-ownership, ...",
              "choice", v.TENURE_TITLES, required=True),
    )),
    Section("Localizzazione", "Location", (
        Field("site_name", "Denominazione dell'opportunità", "Name of the site",
              required=True, aliases=("denominazione opportunita", "nome del sito")),
        Field("comune", "Comune", "Municipality name or ISTAT code", required=True,
              aliases=("comune o codice istat", "codice istat")),
        Field("province", "Provincia", "Province (e.g. MI)", aliases=("sigla provincia",)),
        Field("address", "Indirizzo", "Street address"),
        Field("latitude", "Latitudine (WGS84)", "Latitude, decimal or DMS", "angle_lat",
              aliases=("latitudine", "lat")),
        Field("longitude", "Longitudine (WGS84)", "Longitude, decimal or DMS", "angle_lon",
              aliases=("longitudine", "lon")),
        Field("coord_x", "Coordinata X (Est)", "X (easting) in the CRS below", "number",
              aliases=("coordinata x", "x")),
        Field("coord_y", "Coordinata Y (Nord)", "Y (northing) in the CRS below", "number",
              aliases=("coordinata y", "y")),
        Field("coord_epsg", "Sistema di riferimento X/Y (EPSG)",
              "EPSG code of X/Y: 32632, 7791, 6707, 3003", "epsg", EPSG_CHOICES,
              aliases=("codice epsg", "epsg")),
        Field("perimeter_wkt", "Perimetro (WKT)", "Optional perimeter as WKT, or use sheet Perimetro",
              "wkt", aliases=("perimetro",)),
        Field("foglio", "Foglio catastale", "Cadastral sheet number", aliases=("foglio",)),
        Field("mappali", "Mappali", "Cadastral parcels, separated by commas", "list",
              aliases=("particelle", "mappale")),
        Field("subalterni", "Subalterni", "Sub-units, separated by commas", "list"),
    )),
    Section("Caratteristiche", "Characteristics", (
        Field("site_type", "Tipologia", "Greenfield, brownfield, building, land with buildings",
              "choice", v.SITE_TYPES, required=True),
        Field("condition", "Stato", "Available, inactive, disused, ...", "choice",
              v.SITE_CONDITIONS, required=True, aliases=("stato dell area",)),
        Field("land_area_m2", "Superficie territoriale (m²)", "Land area in m² (or ha)", "area",
              aliases=("superficie territoriale", "st"), number_format=AREA),
        Field("covered_area_m2", "Superficie coperta (m²)", "Covered area in m²", "area",
              aliases=("superficie coperta", "sc"), number_format=AREA),
        Field("gross_floor_area_m2", "SLP - superficie lorda di pavimento (m²)",
              "Gross floor area in m²", "area", aliases=("slp", "superficie lorda di pavimento"),
              number_format=AREA),
        Field("useful_height_m", "Altezza utile (m)", "Clear height in metres", "length_m"),
        Field("floors", "Numero piani", "Number of floors", "integer", aliases=("piani",)),
        Field("year_built", "Anno di costruzione o ristrutturazione",
              "Year built or last renovated", "year", aliases=("anno di costruzione",)),
        Field("energy_class", "Classe energetica", "Energy performance class", "choice",
              v.ENERGY_CLASSES),
        Field("zoning", "Destinazione urbanistica PGT", "Zoning in the municipal plan", "choice",
              v.ZONING, required=True, aliases=("destinazione urbanistica",)),
        Field("allowed_functions", "Funzioni insediabili", "Allowed uses (several)", "choices",
              v.ZONING),
        Field("constraints", "Vincoli", "Constraints (several)", "choices", v.CONSTRAINTS),
        Field("remediation", "Stato bonifica", "Environmental remediation status", "choice",
              v.REMEDIATION_STATUSES, aliases=("bonifica",)),
    )),
    Section("Disponibilità", "Availability", (
        Field("availability", "Modalità di disponibilità", "Sale, lease, ...", "choice",
              v.AVAILABILITY_MODES, required=True, aliases=("modalita",)),
        Field("price_eur", "Prezzo richiesto (€)", "Asking price in euro", "money",
              aliases=("prezzo",), number_format=MONEY),
        Field("annual_rent_eur", "Canone annuo (€)", "Annual rent in euro", "money",
              aliases=("canone",), number_format=MONEY),
        Field("available_from", "Disponibile dal", "Available from (date)", "date",
              aliases=("disponibilita dal",), number_format=DATE),
    )),
    Section("Infrastrutture e servizi", "Infrastructure and services", (
        Field("motorway_exit_km", "Distanza dal casello autostradale (km)",
              "Distance to the motorway exit", "length_km", number_format=KM,
              aliases=("distanza casello",)),
        Field("motorway_exit_name", "Nome del casello autostradale", "Name of the motorway exit",
              aliases=("casello",)),
        Field("station_km", "Distanza dalla stazione ferroviaria (km)",
              "Distance to the railway station", "length_km", number_format=KM,
              aliases=("distanza stazione",)),
        Field("rail_siding", "Raccordo ferroviario", "Rail siding on site", "bool", YES_NO),
        Field("airport_km", "Distanza dall'aeroporto (km)", "Distance to the airport",
              "length_km", number_format=KM, aliases=("distanza aeroporto",)),
        Field("power_kw", "Potenza elettrica disponibile (kW)", "Available power in kW (or MW)",
              "power", number_format=KW, aliases=("potenza elettrica",)),
        Field("substation", "Cabina elettrica MT/AT", "Medium/high-voltage substation", "bool",
              YES_NO, aliases=("cabina mt at",)),
        Field("gas", "Allacciamento gas", "Gas connection", "bool", YES_NO, aliases=("gas",)),
        Field("industrial_water", "Acqua industriale", "Industrial water", "bool", YES_NO),
        Field("sewer", "Fognatura", "Sewer connection", "bool", YES_NO),
        Field("fibre", "Fibra ottica / banda ultralarga", "Fibre / ultra-broadband", "bool",
              YES_NO, aliases=("fibra ottica", "banda ultralarga")),
    )),
    Section("Vocazione", "Vocation", (
        Field("sectors", "Settori idonei", "Suitable sectors (several)", "choices", v.SECTORS),
        Field("description_it", "Descrizione (IT)", "Description in Italian",
              aliases=("descrizione",)),
        Field("description_en", "Description (EN)", "Description in English",
              aliases=("descrizione en", "description")),
    )),
    Section("Progetto di investimento", "Investment project", (
        Field("project_title", "Titolo del progetto", "Project title", required=True,
              kinds=("B",)),
        Field("project_functions", "Funzioni previste", "Planned uses (several)", "choices",
              v.ZONING, kinds=("B",)),
        Field("project_floor_area_m2", "SLP di progetto (m²)", "Planned gross floor area",
              "area", required=True, kinds=("B",), number_format=AREA),
        Field("investment_eur", "Valore dell'investimento (€)", "Investment value in euro",
              "money", required=True, kinds=("B",), number_format=MONEY,
              aliases=("valore investimento",)),
        Field("planning_stage", "Stato dell'iter urbanistico", "Planning stage", "choice",
              v.PLANNING_STAGES, required=True, kinds=("B",), aliases=("iter urbanistico",)),
        Field("project_timing", "Tempi di realizzazione", "Time to complete", kinds=("B",)),
        Field("partners_sought", "Partner ricercati", "Partners sought", kinds=("B",)),
        Field("expected_jobs", "Addetti previsti", "Expected jobs", "integer", kinds=("B",)),
    ), kinds=("B",)),
    Section("Consensi", "Consents", (
        Field("publication_consent", "Nulla osta alla pubblicazione",
              "Owner's consent to publish the site (Yes/No)", "bool", YES_NO, required=True),
        Field("compiled_on", "Data compilazione", "Date of filling in", "date", required=True,
              number_format=DATE),
        Field("template_version", "Versione modello", "Template version: do not change",
              required=True, aliases=("versione del modello",)),
    )),
)

DELEGATION_SECTIONS: tuple[Section, ...] = (
    Section("Delegante (proprietario)", "Delegating owner", (
        Field("delegante_name", "Delegante: denominazione o nome e cognome",
              "Owner who delegates", required=True, aliases=("delegante",)),
        Field("delegante_tax_id", "Delegante: codice fiscale o partita IVA",
              "Owner's tax code or VAT number", "tax_id", required=True),
        Field("delegante_legal_rep", "Delegante: legale rappresentante",
              "Legal representative (for companies and bodies)"),
        Field("id_doc_type", "Documento d'identità: tipo", "ID document type", required=True),
        Field("id_doc_number", "Documento d'identità: numero", "ID document number",
              required=True),
        Field("id_doc_expiry", "Documento d'identità: scadenza", "ID document expiry date",
              "date", required=True, number_format=DATE),
    )),
    Section("Delegato", "Delegate", (
        Field("delegato_name", "Delegato: denominazione o nome e cognome", "Delegate",
              required=True, aliases=("delegato",)),
        Field("delegato_tax_id", "Delegato: codice fiscale o partita IVA",
              "Delegate's tax code or VAT number", "tax_id", required=True),
        Field("delegato_category", "Delegato: categoria", "Category of delegate", "choice",
              v.DELEGATE_CATEGORIES, required=True),
        Field("delegato_email", "Delegato: email", "Delegate's e-mail", "email"),
    )),
    Section("Oggetto e opportunità", "Scope and site", (
        Field("scope", "Oggetto della delega", "What is delegated", required=True),
        Field("site_name", "Opportunità: denominazione", "Site name", required=True),
        Field("site_comune", "Opportunità: comune", "Site municipality", required=True),
        Field("site_foglio", "Opportunità: foglio", "Cadastral sheet"),
        Field("site_mappali", "Opportunità: mappali", "Cadastral parcels", "list"),
    )),
    Section("Sottoscrizione", "Signature", (
        Field("place", "Luogo", "Place", required=True),
        Field("signed_on", "Data", "Date", "date", required=True, number_format=DATE),
        Field("signed", "Firma del delegante apposta", "Signed by the owner (Yes/No)", "bool",
              YES_NO, required=True, aliases=("firma",)),
        Field("owner_publication_consent", "Nulla osta alla pubblicazione del delegante",
              "The owner's own consent to publication (Yes/No): a delegation does not cover it",
              "bool", YES_NO),
    )),
)

DELEGATION_SCOPE = "Compilazione e gestione operativa della domanda di candidatura"


def fields_of(sections: tuple[Section, ...], kind: str | None = None) -> list[Field]:
    return [
        f for s in sections if kind is None or kind in s.kinds
        for f in s.fields if kind is None or kind in f.kinds
    ]


@dataclass(eq=False)
class LabelIndex:
    """Normalised label -> field, for one sheet's dictionary."""

    fields: list[Field]
    by_key: dict[str, Field] = field(init=False)

    def __post_init__(self) -> None:
        self.by_key = {}
        for f in self.fields:
            for key in f.match_keys:
                self.by_key.setdefault(key, f)

    def find(self, label: str) -> Field | None:
        key = normalise(label)
        if not key:
            return None
        return self.by_key.get(key) or self.by_key.get(key.removesuffix(" m2").strip())


@lru_cache(maxsize=1)
def _places() -> dict[str, tuple[str, str, str]]:
    places: dict[str, tuple[str, str, str]] = {}
    for section in (*CANDIDACY_SECTIONS, *DELEGATION_SECTIONS):
        for f in section.fields:
            places.setdefault(f.key, (section.title, section.title_en, f.label))
    return places


def field_place(key: str | None) -> dict[str, str | None]:
    """The template section (Italian, English) and label of a field key, so that a report
    can group problems the way the owner sees the sheet."""
    section_it, section_en, label = _places().get(key or "", (None, None, None))
    return {"section": section_it, "section_en": section_en, "label": label}


def declared_sections(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A stored record's declared values as the owner filled them in: the sheets' sections
    in the workbook's order (Candidatura, then Delega), each filled field with its label
    (Italian, and the English help), its value, and for coded values their labels in
    both languages. Values the service resolved (coordinates from a foglio, the ISTAT
    code) are not declarations and are left to the location."""
    sheets = ((CANDIDACY_SECTIONS, record), (DELEGATION_SECTIONS, record.get("delegation") or {}))
    sections = []
    for section_list, values in sheets:
        for section in section_list:
            filled = [spec for spec in section.fields if values.get(spec.key) not in (None, "", [])]
            if filled:
                sections.append({"section": section.title, "section_en": section.title_en,
                                 "fields": [_declared(spec, values[spec.key]) for spec in filled]})
    return sections


def _declared(spec: Field, value: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {"key": spec.key, "label": spec.label, "label_en": spec.help_en, "value": value}
    if spec.vocabulary and spec.kind in ("choice", "choices"):
        codes = value if isinstance(value, list) else [value]
        shown["labels"] = {lang: ", ".join(spec.vocabulary[c][i] if c in spec.vocabulary else str(c) for c in codes)
                           for i, lang in enumerate(("it", "en"))}
    return shown
