"""Enumerated values of the Excel contract (mission.md, "The Excel files").

Each vocabulary maps a stable code (stored in the catalogue, used by the API) to
its Italian label (what owners pick in the template's drop-down lists) and its
English label. The catalogue's CHECK constraints are built from these codes, so a
new value needs a migration as well as an entry here.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

Vocabulary = Mapping[str, tuple[str, str]]


def _vocab(**entries: tuple[str, str]) -> Vocabulary:
    return MappingProxyType(entries)


CANDIDACY_KINDS = _vocab(
    A=("Area e/o immobile", "Area and/or building"),
    B=("Progetto di investimento", "Investment project"),
)

CANDIDACY_STATUSES = _vocab(
    draft=("Bozza", "Draft"),
    submitted=("Inviata", "Submitted"),
    changes_requested=("Modifiche richieste", "Changes requested"),
    validated=("Validata", "Validated"),
    published=("Pubblicata", "Published"),
    withdrawn=("Ritirata", "Withdrawn"),
    expired=("Scaduta", "Expired"),
)

USER_ROLES = _vocab(
    proponent=("Proponente (proprietario o delegato)", "Proponent (owner or delegate)"),
    staff=("Personale dell'agenzia", "Agency staff"),
    admin=("Amministratore", "Administrator"),
)

PROPONENT_ROLES = _vocab(
    proprietario=("Proprietario", "Owner"),
    comproprietario=("Comproprietario", "Co-owner"),
    delegato=("Delegato", "Delegate"),
)

LEGAL_NATURES = _vocab(
    ente_pubblico=("Ente pubblico", "Public body"),
    persona_giuridica_privata=("Persona giuridica privata", "Private company"),
    persona_fisica=("Persona fisica", "Natural person"),
    ente_non_profit=("Ente non profit", "Non-profit body"),
)

TENURE_TITLES = _vocab(
    proprieta=("Proprietà", "Ownership"),
    comproprieta=("Comproprietà", "Co-ownership"),
    diritto_superficie=("Diritto di superficie", "Building lease right"),
    concessione=("Concessione", "Concession"),
)

SITE_TYPES = _vocab(
    area_libera=("Area libera (greenfield)", "Vacant land (greenfield)"),
    area_dismessa=("Area dismessa (brownfield)", "Disused land (brownfield)"),
    edificio=("Edificio", "Building"),
    area_con_edifici=("Area con edifici", "Land with buildings"),
)

SITE_CONDITIONS = _vocab(
    disponibile=("Disponibile", "Available"),
    inattivo=("Inattivo", "Inactive"),
    dismesso=("Dismesso", "Disused"),
    in_dismissione=("In dismissione", "Being decommissioned"),
    parzialmente_utilizzato=("Parzialmente utilizzato", "Partly in use"),
)

ZONING = _vocab(
    produttivo=("Produttivo", "Industrial"),
    logistica=("Logistica", "Logistics"),
    terziario_direzionale=("Terziario/direzionale", "Offices"),
    commerciale=("Commerciale", "Retail"),
    turistico_ricettivo=("Turistico-ricettivo", "Hospitality"),
    servizi=("Servizi", "Services"),
    residenziale=("Residenziale", "Residential"),
    misto=("Misto", "Mixed use"),
    agricolo=("Agricolo", "Agricultural"),
)

CONSTRAINTS = _vocab(
    paesaggistico=("Paesaggistico", "Landscape"),
    idrogeologico=("Idrogeologico", "Hydrogeological"),
    archeologico=("Archeologico", "Archaeological"),
    fasce_rispetto=("Fasce di rispetto", "Buffer zones"),
    altro=("Altro", "Other"),
)

REMEDIATION_STATUSES = _vocab(
    non_necessaria=("Non necessaria", "Not needed"),
    da_verificare=("Da verificare", "To be assessed"),
    in_corso=("In corso", "In progress"),
    completata=("Completata/certificata", "Completed/certified"),
)

AVAILABILITY_MODES = _vocab(
    vendita=("Vendita", "Sale"),
    locazione=("Locazione", "Lease"),
    vendita_o_locazione=("Vendita o locazione", "Sale or lease"),
    diritto_superficie=("Diritto di superficie", "Building lease right"),
    altro=("Altro", "Other"),
)

ENERGY_CLASSES = _vocab(
    **{c: (c, c) for c in ("A4", "A3", "A2", "A1", "B", "C", "D", "E", "F", "G", "NC")}
)

DELEGATE_CATEGORIES = _vocab(
    intermediario_immobiliare=("Intermediario immobiliare", "Real-estate agent"),
    associazione_imprenditoriale=("Associazione imprenditoriale", "Business association"),
    professionista=("Professionista", "Consultant"),
    altro=("Altro", "Other"),
)

PLANNING_STAGES = _vocab(
    nessuno=("Nessuno", "None"),
    pgt_vigente=("Conforme al PGT vigente", "Compliant with the current plan"),
    piano_attuativo_adottato=("Piano attuativo adottato", "Implementation plan adopted"),
    piano_attuativo_approvato=("Piano attuativo approvato", "Implementation plan approved"),
    accordo_programma=("Accordo di programma", "Programme agreement"),
    titolo_edilizio=("Titolo edilizio rilasciato", "Building permit issued"),
)

SECTORS = _vocab(
    ict=("ICT (software, servizi IT, contenuti digitali, data center)", "ICT"),
    life_sciences=("Scienze della vita (farmaceutica, biotech, medtech)", "Life sciences"),
    professional_services=("Servizi finanziari e professionali", "Financial and professional services"),
    microelectronics=("Microelettronica e semiconduttori", "Microelectronics and semiconductors"),
    agrifood=("Agroalimentare", "Agrifood"),
    agtech_bioeconomy=("Agritech, bioeconomia e chimica verde", "Agtech, bioeconomy and green chemistry"),
    aerospace_defence=("Aerospazio e difesa", "Aerospace and defence"),
    chemicals=("Chimica", "Chemicals"),
    mechanical_industry40=("Meccanica e Industria 4.0", "Mechanical engineering and Industry 4.0"),
    cleantech_energy=("Cleantech, nucleare ed energia", "Cleantech, nuclear and energy"),
    luxury_leather=("Lusso e pelletteria", "Luxury and leather"),
    transport_logistics=("Trasporti e logistica", "Transport and logistics"),
)

ACTIVITIES = _vocab(
    rnd_design=("Ricerca e sviluppo, progettazione", "R&D and design"),
    business_services=("Servizi alle imprese, istruzione e formazione", "Business services, education and training"),
    production=("Produzione industriale", "Industrial production"),
    headquarters=("Sede direzionale", "Headquarters"),
    sales_support=("Vendita, marketing e assistenza tecnica", "Sales, marketing and technical support"),
    logistics=("Logistica", "Logistics"),
    data_centre=("Data center", "Data centre"),
)

LOCATION_PRECISIONS = _vocab(
    exact=("Coordinate dichiarate", "Declared coordinates"),
    cadastral_sheet=("Centro del foglio catastale (approssimata)", "Cadastral sheet point (approximate)"),
    comune=("Comune (approssimata)", "Municipality (approximate)"),
)

SITE_ORIGINS = _vocab(
    candidacy=("Candidatura", "Candidacy"),
    detection=("Rilevamento da satellite", "Satellite detection"),
)

REVIEW_STATUSES = _vocab(
    pending=("Da esaminare", "Pending"),
    confirmed=("Confermata", "Confirmed"),
    rejected=("Respinta", "Rejected"),
)

RUN_STATUSES = _vocab(
    running=("In corso", "Running"),
    completed=("Completata", "Completed"),
    failed=("Fallita", "Failed"),
)
