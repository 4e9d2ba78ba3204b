"""The typed record a workbook becomes: what the catalogue stores and matches on.

Field names are the keys of ``ingest.fields``; a test checks the two stay in step.
Coordinates are WGS84; ``location_precision`` says whether they were declared or
approximated from the cadastral sheet.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict


class DelegationRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delegante_name: str | None = None
    delegante_tax_id: str | None = None
    delegante_legal_rep: str | None = None
    id_doc_type: str | None = None
    id_doc_number: str | None = None
    id_doc_expiry: dt.date | None = None
    delegato_name: str | None = None
    delegato_tax_id: str | None = None
    delegato_category: str | None = None
    delegato_email: str | None = None
    scope: str | None = None
    site_name: str | None = None
    site_comune: str | None = None
    site_foglio: str | None = None
    site_mappali: list[str] = []
    place: str | None = None
    signed_on: dt.date | None = None
    signed: bool | None = None
    owner_publication_consent: bool | None = None


class CandidacyRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    candidacy_code: str | None = None
    # proponent
    proponent_role: str | None = None
    proponent_name: str | None = None
    proponent_cf: str | None = None
    proponent_piva: str | None = None
    proponent_legal_nature: str | None = None
    proponent_email: str | None = None
    proponent_phone: str | None = None
    # ownership
    owner_name: str | None = None
    owner_tax_id: str | None = None
    tenure_title: str | None = None
    # location
    site_name: str | None = None
    comune: str | None = None
    province: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    coord_x: float | None = None
    coord_y: float | None = None
    coord_epsg: str | None = None
    perimeter_wkt: str | None = None
    foglio: str | None = None
    mappali: list[str] = []
    subalterni: list[str] = []
    # characteristics
    site_type: str | None = None
    condition: str | None = None
    land_area_m2: float | None = None
    covered_area_m2: float | None = None
    gross_floor_area_m2: float | None = None
    useful_height_m: float | None = None
    floors: int | None = None
    year_built: int | None = None
    energy_class: str | None = None
    zoning: str | None = None
    allowed_functions: list[str] = []
    constraints: list[str] = []
    remediation: str | None = None
    # availability
    availability: str | None = None
    price_eur: float | None = None
    annual_rent_eur: float | None = None
    available_from: dt.date | None = None
    # infrastructure declared by the owner
    motorway_exit_km: float | None = None
    motorway_exit_name: str | None = None
    station_km: float | None = None
    rail_siding: bool | None = None
    airport_km: float | None = None
    power_kw: float | None = None
    substation: bool | None = None
    gas: bool | None = None
    industrial_water: bool | None = None
    sewer: bool | None = None
    fibre: bool | None = None
    # vocation
    sectors: list[str] = []
    description_it: str | None = None
    description_en: str | None = None
    # kind B
    project_title: str | None = None
    project_functions: list[str] = []
    project_floor_area_m2: float | None = None
    investment_eur: float | None = None
    planning_stage: str | None = None
    project_timing: str | None = None
    partners_sought: str | None = None
    expected_jobs: int | None = None
    # consents
    publication_consent: bool | None = None
    compiled_on: dt.date | None = None
    template_version: str | None = None
    # resolved by validation
    comune_istat: str | None = None
    lon: float | None = None
    lat: float | None = None
    location_precision: str | None = None
    owner_consent: bool = False
    delegation: DelegationRecord | None = None

    def json_ready(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
