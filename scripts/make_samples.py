"""Generate the sample workbooks in data/sample/ from the current template.

    uv run python scripts/make_samples.py [--shared ../shared/data]

Places are real: each site sits on the reference point of a real cadastral sheet
(foglio) read from the shared ANNCSU data, in a real comune. Owners, delegates and
their tax codes are fictional ("Esempio"), with valid check characters computed here.
Two workbooks carry deliberate errors; ``expected.json`` lists each planted problem
with its cell, and the values each valid sample must be stored with. The tests read
that manifest.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from pathlib import Path
from typing import Any

from pyproj import Transformer

from ingest.codes import complete_codice_fiscale, complete_partita_iva
from ingest.fields import SHEET_CANDIDACY, SHEET_DELEGATION
from ingest.template import TemplateWriter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "sample"
FIXED_TIME = dt.datetime(2026, 10, 15, 9, 0, 0)


piva = complete_partita_iva
cf = complete_codice_fiscale


# Fictional parties
COMPANY = ("Esempio Logistica Padana S.r.l.", piva("0000000101"))
BUILDER = ("Esempio Sviluppo Immobiliare S.p.A.", piva("0000000202"))
AGENCY = ("Agenzia Immobiliare Esempio S.a.s.", piva("0000000303"))
OTHER_AGENCY = piva("0000000404")
PERSON = ("Mario Esempio", cf("SMPMRA70A01D150"))
OTHER_PERSON = cf("SMPLRA75B41F205")


def foglio_point(shared: Path, istat: str, foglio: str) -> tuple[float, float]:
    with (shared / "reference/cadastre/fogli_catastali_lombardia.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["com_istat_code"] == istat and row["foglio"] == foglio:
                return float(row["lon"]), float(row["lat"])
    raise SystemExit(f"foglio {foglio} of {istat} not in the shared cadastral data")


class Filler(TemplateWriter):
    """Remember which cell each field went to, for the manifest."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.cells: dict[tuple[str, str], str] = {}

    def put(self, sheet: str, label: str, value: Any) -> str:
        ref = super().put(sheet, label, value)
        self.cells[(sheet, label)] = ref
        return ref

    def c(self, label: str, value: Any) -> str:
        return self.candidacy(label, value)

    def d(self, label: str, value: Any) -> str:
        return self.delegation(label, value)

    def save(self, name: str) -> None:
        self.book.properties.creator = "Opportunity Lombardy sample generator"
        self.book.properties.created = FIXED_TIME
        self.book.properties.modified = FIXED_TIME
        self.book.save(OUT / name)


def company_owner(f: Filler, name: str, vat: str, email: str) -> None:
    f.c("Tipo proponente", "Proprietario")
    f.c("Denominazione o nome e cognome", name)
    f.c("Partita IVA", vat)
    f.c("Natura giuridica", "Persona giuridica privata")
    f.c("Email o PEC", email)
    f.c("Telefono", "+39 02 0000 0000")
    f.c("Titolo di disponibilità", "Proprietà")


def greenfield_cremona(shared: Path) -> dict[str, Any]:
    lon, lat = foglio_point(shared, "019036", "0010")
    f = Filler("A")
    company_owner(f, *COMPANY, "immobili@esempio-logistica.example")
    f.c("Denominazione dell'opportunità", "Area logistica Cremona - foglio 10")
    f.c("Comune", "Cremona")
    f.c("Provincia", "CR")
    f.c("Latitudine (WGS84)", round(lat, 6))
    f.c("Longitudine (WGS84)", round(lon, 6))
    f.c("Foglio catastale", "10")
    f.c("Mappali", "101, 102, 105")
    f.c("Tipologia", "Area libera (greenfield)")
    f.c("Stato", "Disponibile")
    f.c("Superficie territoriale (m²)", "4,2 ha")
    f.c("Destinazione urbanistica PGT", "Logistica")
    f.c("Funzioni insediabili", "Logistica, Produttivo")
    f.c("Vincoli", "Fasce di rispetto")
    f.c("Stato bonifica", "Non necessaria")
    f.c("Modalità di disponibilità", "Vendita o locazione")
    f.c("Prezzo richiesto (€)", "€ 3.150.000")
    f.c("Canone annuo (€)", "210.000 €")
    f.c("Disponibile dal", dt.date(2027, 3, 1))
    f.c("Distanza dal casello autostradale (km)", "4,5 km")
    f.c("Nome del casello autostradale", "Cremona (A21)")
    f.c("Raccordo ferroviario", "No")
    f.c("Potenza elettrica disponibile (kW)", "1,5 MW")
    f.c("Fibra ottica / banda ultralarga", "Sì")
    f.c("Settori idonei", "Trasporti e logistica, Agroalimentare")
    f.c("Descrizione (IT)", "Area pianeggiante in zona produttiva, accesso da strada provinciale.")
    f.c("Description (EN)", "Flat plot in an industrial zone, access from a provincial road.")
    f.c("Nulla osta alla pubblicazione", "Sì")
    f.c("Data compilazione", dt.date(2026, 10, 15))
    f.save("01_area_libera_cremona.xlsx")
    return {"kind": "A", "comune_istat": "019036", "site_type": "area_libera",
            "land_area_m2": 42000.0, "price_eur": 3150000.0, "annual_rent_eur": 210000.0,
            "power_kw": 1500.0, "location_precision": "exact", "publication_consent": True,
            "sectors": ["transport_logistics", "agrifood"], "lon": round(lon, 6), "lat": round(lat, 6)}


def building_sesto(shared: Path) -> dict[str, Any]:
    lon, lat = foglio_point(shared, "015209", "0010")
    x, y = Transformer.from_crs(4326, 32632, always_xy=True).transform(lon, lat)
    f = Filler("A")
    company_owner(f, *BUILDER, "patrimonio@esempio-sviluppo.example")
    f.c("Denominazione dell'opportunità", "Ex stabilimento Esempio - Sesto San Giovanni")
    f.c("Comune", "015209")
    f.c("Indirizzo", "Via Esempio 1")
    f.c("Coordinata X (Est)", f"{x:.1f}".replace(".", ","))
    f.c("Coordinata Y (Nord)", f"{y:.1f}".replace(".", ","))
    f.c("Sistema di riferimento X/Y (EPSG)", "32632 - WGS84 / UTM 32N")
    f.c("Foglio catastale", "10")
    f.c("Mappali", "45; 46")
    f.c("Subalterni", "701, 702")
    f.c("Tipologia", "Area con edifici")
    f.c("Stato", "Dismesso")
    f.c("Superficie territoriale (m²)", "18.500 mq")
    f.c("Superficie coperta (m²)", "9.200 mq")
    f.c("SLP - superficie lorda di pavimento (m²)", "11.800 m²")
    f.c("Altezza utile (m)", "9,5 m")
    f.c("Numero piani", 2)
    f.c("Anno di costruzione o ristrutturazione", 1968)
    f.c("Classe energetica", "G")
    f.c("Destinazione urbanistica PGT", "Produttivo")
    f.c("Vincoli", "Altro")
    f.c("Stato bonifica", "Completata/certificata")
    f.c("Modalità di disponibilità", "Vendita")
    f.c("Prezzo richiesto (€)", "€ 6.400.000")
    f.c("Raccordo ferroviario", "No")
    f.c("Cabina elettrica MT/AT", "Sì")
    f.c("Potenza elettrica disponibile (kW)", "800 kW")
    f.c("Allacciamento gas", "Sì")
    f.c("Fognatura", "Sì")
    f.c("Settori idonei", "Meccanica e Industria 4.0; Scienze della vita (farmaceutica, biotech, medtech)")
    f.c("Nulla osta alla pubblicazione", "Sì")
    f.c("Data compilazione", "15/10/2026")
    f.save("02_edificio_dismesso_sesto.xlsx")
    return {"kind": "A", "comune_istat": "015209", "site_type": "area_con_edifici",
            "condition": "dismesso", "land_area_m2": 18500.0, "covered_area_m2": 9200.0,
            "gross_floor_area_m2": 11800.0, "price_eur": 6400000.0, "location_precision": "exact",
            "lon": round(lon, 5), "lat": round(lat, 5)}


def project_brescia(shared: Path) -> dict[str, Any]:
    lon, lat = foglio_point(shared, "017029", "0010")
    f = Filler("B")
    company_owner(f, *BUILDER, "patrimonio@esempio-sviluppo.example")
    f.c("Denominazione dell'opportunità", "Polo tecnologico Esempio Brescia")
    f.c("Comune", "Brescia")
    f.c("Latitudine (WGS84)", f"{lat:.6f}".replace(".", ","))
    f.c("Longitudine (WGS84)", f"{lon:.6f}".replace(".", ","))
    f.c("Tipologia", "Area dismessa (brownfield)")
    f.c("Stato", "Dismesso")
    f.c("Superficie territoriale (m²)", "24.000")
    f.c("Superficie coperta (m²)", "6.000")
    f.c("SLP - superficie lorda di pavimento (m²)", "7.500")
    f.c("Destinazione urbanistica PGT", "Misto")
    f.c("Stato bonifica", "In corso")
    f.c("Modalità di disponibilità", "Diritto di superficie")
    f.c("Settori idonei", "ICT (software, servizi IT, contenuti digitali, data center), Microelettronica e semiconduttori")
    f.c("Titolo del progetto", "Riconversione in polo per ricerca e produzione avanzata")
    f.c("Funzioni previste", "Produttivo, Terziario/direzionale, Servizi")
    f.c("SLP di progetto (m²)", "21.000 m²")
    f.c("Valore dell'investimento (€)", "48 mln")
    f.c("Stato dell'iter urbanistico", "Piano attuativo adottato")
    f.c("Tempi di realizzazione", "36 mesi dall'approvazione")
    f.c("Partner ricercati", "Investitore industriale, operatore R&D")
    f.c("Addetti previsti", 220)
    f.c("Nulla osta alla pubblicazione", "Sì")
    f.c("Data compilazione", dt.date(2026, 10, 15))
    # an indicative perimeter of about 150 x 160 m around the sheet's reference point
    dx, dy = 0.00095, 0.00072
    f.vertices([(round(lat + vy, 6), round(lon + vx, 6))
                for vx, vy in [(-dx, -dy), (dx, -dy), (dx, dy), (-dx, dy)]])
    f.save("03_progetto_investimento_brescia.xlsx")
    return {"kind": "B", "comune_istat": "017029", "site_type": "area_dismessa",
            "project_floor_area_m2": 21000.0, "investment_eur": 48000000.0,
            "planning_stage": "piano_attuativo_adottato", "has_perimeter": True,
            "location_precision": "exact"}


def agency_for_person(f: Filler) -> None:
    """The fictional agency submits, as delegate, for the fictional owner Mario Esempio."""
    f.c("Tipo proponente", "Delegato")
    f.c("Denominazione o nome e cognome", AGENCY[0])
    f.c("Partita IVA", AGENCY[1])
    f.c("Natura giuridica", "Persona giuridica privata")
    f.c("Email o PEC", "incarichi@agenzia-esempio.example")
    f.c("Proprietario (denominazione o nome)", PERSON[0])
    f.c("Codice fiscale o partita IVA del proprietario", PERSON[1])
    f.c("Titolo di disponibilità", "Proprietà")


def delegate_viadana(shared: Path) -> dict[str, Any]:
    f = Filler("A")
    agency_for_person(f)
    f.c("Denominazione dell'opportunità", "Capannone Esempio Viadana")
    f.c("Comune", "Viadana")
    f.c("Foglio catastale", "10")
    f.c("Mappali", "210, 211")
    f.c("Tipologia", "Edificio")
    f.c("Stato", "Inattivo")
    f.c("Superficie territoriale (m²)", "6.800")
    f.c("Superficie coperta (m²)", "3.900")
    f.c("SLP - superficie lorda di pavimento (m²)", "4.100")
    f.c("Altezza utile (m)", "8")
    f.c("Destinazione urbanistica PGT", "Produttivo")
    f.c("Modalità di disponibilità", "Locazione")
    f.c("Canone annuo (€)", "156.000")
    f.c("Settori idonei", "Agroalimentare, Trasporti e logistica")
    f.c("Nulla osta alla pubblicazione", "Sì")
    f.c("Data compilazione", dt.date(2026, 10, 15))
    f.d("Delegante: denominazione o nome e cognome", PERSON[0])
    f.d("Delegante: codice fiscale o partita IVA", PERSON[1])
    f.d("Documento d'identità: tipo", "Carta d'identità")
    f.d("Documento d'identità: numero", "CA00000AA")
    f.d("Documento d'identità: scadenza", dt.date(2031, 1, 31))
    f.d("Delegato: denominazione o nome e cognome", AGENCY[0])
    f.d("Delegato: codice fiscale o partita IVA", AGENCY[1])
    f.d("Delegato: categoria", "Intermediario immobiliare")
    f.d("Delegato: email", "incarichi@agenzia-esempio.example")
    f.d("Opportunità: denominazione", "Capannone Esempio Viadana")
    f.d("Opportunità: comune", "Viadana")
    f.d("Opportunità: foglio", "10")
    f.d("Opportunità: mappali", "210, 211, 212")
    f.d("Luogo", "Viadana")
    f.d("Data", dt.date(2026, 10, 10))
    f.d("Firma del delegante apposta", "Sì")
    f.d("Nulla osta alla pubblicazione del delegante", "Sì")
    f.save("04_delegato_lettera_c_viadana.xlsx")
    lon, lat = foglio_point(shared, "020066", "0010")
    return {"kind": "A", "comune_istat": "020066", "site_type": "edificio",
            "location_precision": "cadastral_sheet", "proponent_role": "delegato",
            "publication_consent": True, "warnings": ["approximate_location"],
            "lon": round(lon, 4), "lat": round(lat, 4)}


def errors_bergamo(shared: Path) -> list[dict[str, str]]:
    f = Filler("A")
    f.c("Tipo proponente", "Proprietario")
    f.c("Denominazione o nome e cognome", PERSON[0])
    cf_cell = f.c("Codice fiscale", PERSON[1][:15] + ("A" if PERSON[1][15] != "A" else "B"))
    f.c("Natura giuridica", "Persona fisica")
    email_cell = f.c("Email o PEC", "mario.esempio(at)example")
    f.c("Titolo di disponibilità", "Proprietà")
    f.c("Denominazione dell'opportunità", "Area Esempio Bergamo")
    f.c("Comune", "Bergamo")
    lat_cell = f.c("Latitudine (WGS84)", "45°27'51\"N")  # Milano, not Bergamo
    f.c("Longitudine (WGS84)", "9°11'24\"E")
    type_cell = f.c("Tipologia", "Capannone")
    f.c("Stato", "Disponibile")
    f.c("Superficie territoriale (m²)", "8.000")
    covered_cell = f.c("Superficie coperta (m²)", "12.000")
    f.c("Destinazione urbanistica PGT", "Produttivo")
    mode_cell = f.row_of(SHEET_CANDIDACY, "Modalità di disponibilità")
    f.c("Nulla osta alla pubblicazione", "Sì")
    date_cell = f.c("Data compilazione", dt.date(2099, 1, 1))
    f.save("05_errori_vari_bergamo.xlsx")
    return [
        {"code": "invalid_value", "cell": cf_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "invalid_value", "cell": email_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "invalid_value", "cell": type_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "covered_exceeds_land", "cell": covered_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "outside_declared_comune", "cell": lat_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "missing_value", "cell": f"B{mode_cell}", "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "future_date", "cell": date_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
    ]


def errors_delegate_pavia(shared: Path) -> list[dict[str, str]]:
    lon, lat = foglio_point(shared, "018110", "0002")
    x, y = Transformer.from_crs(4326, 3003, always_xy=True).transform(lon, lat)
    f = Filler("A")
    agency_for_person(f)
    f.c("Denominazione dell'opportunità", "Magazzino Esempio Pavia")
    f.c("Comune", "Pavia")
    x_cell = f.c("Coordinata X (Est)", round(y, 1))  # X and Y swapped
    f.c("Coordinata Y (Nord)", round(x, 1))
    f.c("Sistema di riferimento X/Y (EPSG)", "3003 - Monte Mario / Gauss-Boaga Ovest")
    f.c("Foglio catastale", "2")
    f.c("Mappali", "15")
    f.c("Tipologia", "Edificio")
    f.c("Stato", "Disponibile")
    f.c("Superficie coperta (m²)", "2.500")
    f.c("SLP - superficie lorda di pavimento (m²)", "2.500")
    f.c("Destinazione urbanistica PGT", "Logistica")
    f.c("Modalità di disponibilità", "Vendita")
    price_cell = f.c("Prezzo richiesto (€)", "circa due milioni")
    f.c("Nulla osta alla pubblicazione", "Sì")
    f.c("Data compilazione", dt.date(2026, 10, 15))
    owner_cell = f.d("Delegante: denominazione o nome e cognome", "Laura Esempio")
    owner_cell = f.d("Delegante: codice fiscale o partita IVA", OTHER_PERSON)
    f.d("Documento d'identità: tipo", "Carta d'identità")
    f.d("Documento d'identità: numero", "CA11111BB")
    expiry_cell = f.d("Documento d'identità: scadenza", dt.date(2024, 5, 31))
    f.d("Delegato: denominazione o nome e cognome", "Altra agenzia")
    delegate_cell = f.d("Delegato: codice fiscale o partita IVA", OTHER_AGENCY)
    f.d("Delegato: categoria", "Intermediario immobiliare")
    f.d("Opportunità: denominazione", "Magazzino Esempio")
    comune_cell = f.d("Opportunità: comune", "Vigevano")
    f.d("Luogo", "Pavia")
    f.d("Data", dt.date(2026, 10, 1))
    signed_cell = f.d("Firma del delegante apposta", "No")
    f.save("06_errori_delega_pavia.xlsx")
    return [
        {"code": "invalid_coordinates", "cell": x_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "invalid_value", "cell": price_cell, "severity": "error", "sheet": SHEET_CANDIDACY},
        {"code": "delegation_wrong_owner", "cell": owner_cell, "severity": "error", "sheet": SHEET_DELEGATION},
        {"code": "id_document_expired", "cell": expiry_cell, "severity": "error", "sheet": SHEET_DELEGATION},
        {"code": "delegation_wrong_delegate", "cell": delegate_cell, "severity": "error", "sheet": SHEET_DELEGATION},
        {"code": "delegation_other_site", "cell": comune_cell, "severity": "error", "sheet": SHEET_DELEGATION},
        {"code": "delegation_not_signed", "cell": signed_cell, "severity": "error", "sheet": SHEET_DELEGATION},
        {"code": "consent_not_owner", "cell": f.cells[(SHEET_CANDIDACY, "Nulla osta alla pubblicazione")], "severity": "warning", "sheet": SHEET_CANDIDACY},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    shared = parser.parse_args().shared
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {
        "valid": {
            "01_area_libera_cremona.xlsx": greenfield_cremona(shared),
            "02_edificio_dismesso_sesto.xlsx": building_sesto(shared),
            "03_progetto_investimento_brescia.xlsx": project_brescia(shared),
            "04_delegato_lettera_c_viadana.xlsx": delegate_viadana(shared),
        },
        "invalid": {
            "05_errori_vari_bergamo.xlsx": errors_bergamo(shared),
            "06_errori_delega_pavia.xlsx": errors_delegate_pavia(shared),
        },
    }
    (OUT / "expected.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {len(manifest['valid']) + len(manifest['invalid'])} samples to {OUT}")


if __name__ == "__main__":
    main()
