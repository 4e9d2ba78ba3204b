"""The catalogue's tables, mirrored exactly by the first Alembic migration.

Geometries are stored in EPSG:4326 (what GeoJSON and map frontends speak); every
distance or area is computed on ``geography`` or after ``ST_Transform`` to
EPSG:32632 (UTM 32N, metres), never in degrees. Columns that the API filters or
matches on are typed; the rest of what an owner declared stays in JSONB
(``attributes``) so that new template fields do not need a redesign.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ingest import vocabulary as v

WGS84 = 4326
METRIC_SRID = 32632


class Base(DeclarativeBase):
    pass


def one_of(column: str, vocabulary: v.Vocabulary, name: str) -> CheckConstraint:
    """CHECK that a text column holds one of a vocabulary's codes (NULL allowed)."""
    codes = ", ".join(f"'{code}'" for code in vocabulary)
    return CheckConstraint(f"{column} IN ({codes})", name=name)


def all_of(column: str, vocabulary: v.Vocabulary, name: str) -> CheckConstraint:
    """CHECK that every element of a text[] column is a vocabulary code."""
    codes = ", ".join(f"'{code}'" for code in vocabulary)
    return CheckConstraint(f"{column} <@ ARRAY[{codes}]::text[]", name=name)


def non_negative(*columns: str, table: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} >= 0", name=f"ck_{table}_{c}_non_negative") for c in columns]


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def _point(nullable: bool = True) -> Any:
    return mapped_column(Geometry("POINT", srid=WGS84, spatial_index=False), nullable=nullable)


def _multipolygon(nullable: bool = True) -> Any:
    return mapped_column(Geometry("MULTIPOLYGON", srid=WGS84, spatial_index=False), nullable=nullable)


def gist(table: str, column: str = "geom") -> Index:
    return Index(f"ix_{table}_{column}", column, postgresql_using="gist")


# -- people -----------------------------------------------------------------------------------


class TaxIdentified:
    """A person or body known by codice fiscale and/or partita IVA (each unique)."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    legal_nature: Mapped[str | None] = mapped_column(String(32))
    codice_fiscale: Mapped[str | None] = mapped_column(String(16), unique=True)
    partita_iva: Mapped[str | None] = mapped_column(String(11), unique=True)
    created_at: Mapped[dt.datetime] = _now()


def tax_identity_checks(table: str) -> tuple[CheckConstraint, ...]:
    return (
        one_of("legal_nature", v.LEGAL_NATURES, f"ck_{table}_legal_nature"),
        CheckConstraint(
            "codice_fiscale IS NOT NULL OR partita_iva IS NOT NULL", name=f"ck_{table}_tax_id"
        ),
        CheckConstraint("partita_iva ~ '^[0-9]{11}$'", name=f"ck_{table}_partita_iva_format"),
    )


class Proponent(TaxIdentified, Base):
    """Whoever fills in and submits candidacies: an owner or a delegate. Remembered so the
    next template comes pre-filled."""

    __tablename__ = "proponents"
    __table_args__ = tax_identity_checks("proponents")

    email: Mapped[str | None] = mapped_column(Text)
    pec: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = _now()


class Owner(TaxIdentified, Base):
    """The holder of the site (proprietario), when different from the proponent."""

    __tablename__ = "owners"
    __table_args__ = tax_identity_checks("owners")

    legal_representative: Mapped[str | None] = mapped_column(Text)


class Delegation(Base):
    """Fac-simile lettera C: an owner lets a delegate handle an application operationally."""

    __tablename__ = "delegations"
    __table_args__ = (
        one_of("delegate_category", v.DELEGATE_CATEGORIES, "ck_delegations_delegate_category"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owners.id", ondelete="RESTRICT"), index=True)
    delegate_id: Mapped[int] = mapped_column(
        ForeignKey("proponents.id", ondelete="RESTRICT"), index=True
    )
    delegate_category: Mapped[str | None] = mapped_column(String(32))
    delegate_email: Mapped[str | None] = mapped_column(Text)
    legal_representative: Mapped[str | None] = mapped_column(Text)
    id_document_type: Mapped[str | None] = mapped_column(Text)
    id_document_number: Mapped[str | None] = mapped_column(Text)
    id_document_expiry: Mapped[dt.date | None] = mapped_column(Date)
    scope: Mapped[str | None] = mapped_column(Text)
    site_name: Mapped[str | None] = mapped_column(Text)
    site_comune_istat: Mapped[str | None] = mapped_column(String(6))
    site_foglio: Mapped[str | None] = mapped_column(Text)
    site_mappali: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]"), nullable=False
    )
    place: Mapped[str | None] = mapped_column(Text)
    signed_on: Mapped[dt.date | None] = mapped_column(Date)
    signed: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), nullable=False)
    created_at: Mapped[dt.datetime] = _now()


# -- candidacies and sites --------------------------------------------------------------------


class Candidacy(Base):
    """One uploaded version of an application. Versions of the same application share a
    ``lineage_id``; exactly one of them is current."""

    __tablename__ = "candidacies"
    __table_args__ = (
        one_of("kind", v.CANDIDACY_KINDS, "ck_candidacies_kind"),
        one_of("status", v.CANDIDACY_STATUSES, "ck_candidacies_status"),
        one_of("proponent_role", v.PROPONENT_ROLES, "ck_candidacies_proponent_role"),
        CheckConstraint("version >= 1", name="ck_candidacies_version_positive"),
        CheckConstraint("file_sha256 ~ '^[0-9a-f]{64}$'", name="ck_candidacies_sha256"),
        UniqueConstraint("lineage_id", "version", name="uq_candidacies_lineage_version"),
        Index(
            "uq_candidacies_current",
            "lineage_id",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        Index("ix_candidacies_duplicate_of_id", "duplicate_of_id",
              postgresql_where=text("duplicate_of_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lineage_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidacies.id", ondelete="RESTRICT")
    )
    is_current: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    kind: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(24), server_default=text("'draft'"), index=True)
    proponent_id: Mapped[int | None] = mapped_column(
        ForeignKey("proponents.id", ondelete="RESTRICT"), index=True
    )
    proponent_role: Mapped[str | None] = mapped_column(String(16))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("owners.id", ondelete="RESTRICT"))
    delegation_id: Mapped[int | None] = mapped_column(
        ForeignKey("delegations.id", ondelete="RESTRICT")
    )
    publication_consent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    file_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    file_path: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str | None] = mapped_column(Text)
    file_size: Mapped[int] = mapped_column(BigInteger)
    template_version: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    validation_report: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _now()
    # when the owner's account stood behind this application: at upload for the owner's
    # own files, on confirmation for what a delegate declared (None until then)
    owner_confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # an upload that looks like another party's application is kept apart and flagged
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("candidacies.id", ondelete="SET NULL"))


class Site(Base):
    """A place in the catalogue: what investors search and match. One row per application
    lineage (updated from its current version) or per confirmed detection candidate."""

    __tablename__ = "sites"
    __table_args__ = (
        one_of("kind", v.CANDIDACY_KINDS, "ck_sites_kind"),
        one_of("status", v.CANDIDACY_STATUSES, "ck_sites_status"),
        one_of("origin", v.SITE_ORIGINS, "ck_sites_origin"),
        one_of("site_type", v.SITE_TYPES, "ck_sites_site_type"),
        one_of("condition", v.SITE_CONDITIONS, "ck_sites_condition"),
        one_of("zoning", v.ZONING, "ck_sites_zoning"),
        one_of("remediation", v.REMEDIATION_STATUSES, "ck_sites_remediation"),
        one_of("availability", v.AVAILABILITY_MODES, "ck_sites_availability"),
        one_of("energy_class", v.ENERGY_CLASSES, "ck_sites_energy_class"),
        one_of("tenure_title", v.TENURE_TITLES, "ck_sites_tenure_title"),
        one_of("location_precision", v.LOCATION_PRECISIONS, "ck_sites_location_precision"),
        one_of("planning_stage", v.PLANNING_STAGES, "ck_sites_planning_stage"),
        all_of("sectors", v.SECTORS, "ck_sites_sectors"),
        all_of("constraints", v.CONSTRAINTS, "ck_sites_constraints"),
        *non_negative(
            "land_area_m2", "covered_area_m2", "gross_floor_area_m2", "useful_height_m",
            "floors", "price_eur", "annual_rent_eur", "power_kw", "project_floor_area_m2",
            "investment_eur", "pop_10km", "pop_20km", "pop_30km",
            table="sites",
        ),
        CheckConstraint(
            "completeness IS NULL OR (completeness >= 0 AND completeness <= 1)",
            name="ck_sites_completeness_range",
        ),
        CheckConstraint(
            "kind = 'B' OR (project_floor_area_m2 IS NULL AND investment_eur IS NULL)",
            name="ck_sites_project_fields_kind_b",
        ),
        gist("sites", "geom"),
        gist("sites", "perimeter"),
        gist("sites", "geom_3857"),
        Index("ix_sites_geog", text("(geom::geography)"), postgresql_using="gist"),
        Index("ix_sites_land_area", "land_area_m2"),
        # covering index for matching (see migration 0003)
        Index("ix_sites_matching", "status", postgresql_include=[
            "land_area_m2", "covered_area_m2", "gross_floor_area_m2", "price_eur", "annual_rent_eur",
            "availability", "site_type", "condition", "zoning", "province_code", "dist_airport_km",
            "dist_station_km", "dist_motorway_exit_km", "power_kw", "rail_siding", "fibre",
            "available_from", "zones", "sectors", "geom_utm", "id",
        ]),
        gist("sites", "geom_utm"),
        Index("ix_sites_price", "price_eur"),
        Index("ix_sites_sectors", "sectors", postgresql_using="gin"),
        Index("ix_sites_zones", "zones", postgresql_using="gin"),
        Index("ix_sites_status_kind", "status", "kind"),
        # a new upload looks for the application it continues by comune and site name
        Index("ix_sites_comune_name", "declared_comune_istat", text("lower(btrim(name))")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), unique=True, server_default=text("gen_random_uuid()")
    )
    origin: Mapped[str] = mapped_column(String(16), server_default=text("'candidacy'"))
    lineage_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), unique=True)
    candidacy_id: Mapped[int | None] = mapped_column(
        ForeignKey("candidacies.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(24), server_default=text("'draft'"))
    name: Mapped[str] = mapped_column(Text)
    # location as declared
    declared_comune_istat: Mapped[str | None] = mapped_column(String(6))
    address: Mapped[str | None] = mapped_column(Text)
    geom = _point(nullable=False)
    # Web Mercator copy for vector tiles, kept by PostgreSQL itself
    geom_3857 = mapped_column(
        Geometry("POINT", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )
    # UTM 32N copy in metres, for distances to an area of interest (migration 0003)
    geom_utm = mapped_column(
        Geometry("POINT", srid=METRIC_SRID, spatial_index=False),
        Computed(f"ST_Transform(geom, {METRIC_SRID})", persisted=True),
    )
    perimeter = _multipolygon()
    location_precision: Mapped[str] = mapped_column(String(16), server_default=text("'exact'"))
    cadastral_foglio: Mapped[str | None] = mapped_column(Text)
    cadastral_mappali: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    cadastral_subalterni: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    # characteristics
    site_type: Mapped[str | None] = mapped_column(String(24), index=True)
    condition: Mapped[str | None] = mapped_column(String(32))
    land_area_m2: Mapped[float | None] = mapped_column(Float)
    covered_area_m2: Mapped[float | None] = mapped_column(Float)
    gross_floor_area_m2: Mapped[float | None] = mapped_column(Float)
    useful_height_m: Mapped[float | None] = mapped_column(Float)
    floors: Mapped[int | None] = mapped_column(Integer)
    year_built: Mapped[int | None] = mapped_column(Integer)
    energy_class: Mapped[str | None] = mapped_column(String(4))
    zoning: Mapped[str | None] = mapped_column(String(32))
    allowed_functions: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )
    constraints: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    remediation: Mapped[str | None] = mapped_column(String(24))
    tenure_title: Mapped[str | None] = mapped_column(String(24))
    # availability
    availability: Mapped[str | None] = mapped_column(String(24))
    price_eur: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    annual_rent_eur: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    available_from: Mapped[dt.date | None] = mapped_column(Date)
    # services declared by the owner
    rail_siding: Mapped[bool | None] = mapped_column(Boolean)
    power_kw: Mapped[float | None] = mapped_column(Float)
    substation: Mapped[bool | None] = mapped_column(Boolean)
    gas: Mapped[bool | None] = mapped_column(Boolean)
    industrial_water: Mapped[bool | None] = mapped_column(Boolean)
    sewer: Mapped[bool | None] = mapped_column(Boolean)
    fibre: Mapped[bool | None] = mapped_column(Boolean)
    declared_distances: Mapped[dict[str, Any]] = mapped_column(
        JSONB, server_default=text("'{}'::jsonb")
    )
    # vocation
    sectors: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    description_it: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    # kind B: investment project
    planning_stage: Mapped[str | None] = mapped_column(String(32))
    project_floor_area_m2: Mapped[float | None] = mapped_column(Float)
    investment_eur: Mapped[Decimal | None] = mapped_column(Numeric(16, 2))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    # computed by the service (enrichment)
    comune_istat: Mapped[str | None] = mapped_column(
        ForeignKey("comuni.istat_code", ondelete="SET NULL"), index=True
    )
    province_code: Mapped[str | None] = mapped_column(String(3), index=True)
    nearest: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    dist_airport_km: Mapped[float | None] = mapped_column(Float)
    dist_station_km: Mapped[float | None] = mapped_column(Float)
    dist_motorway_exit_km: Mapped[float | None] = mapped_column(Float)
    zones: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"))
    pop_10km: Mapped[int | None] = mapped_column(Integer)
    pop_20km: Mapped[int | None] = mapped_column(Integer)
    pop_30km: Mapped[int | None] = mapped_column(Integer)
    completeness: Mapped[float | None] = mapped_column(Float)
    enriched_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # freshness
    last_confirmed_at: Mapped[dt.datetime] = _now()
    created_at: Mapped[dt.datetime] = _now()
    updated_at: Mapped[dt.datetime] = _now()


# -- reference layers -------------------------------------------------------------------------


class Comune(Base):
    __tablename__ = "comuni"
    __table_args__ = (
        CheckConstraint("istat_code ~ '^[0-9]{6}$'", name="ck_comuni_istat_code"),
        CheckConstraint("population >= 0", name="ck_comuni_population_non_negative"),
        gist("comuni"),
        gist("comuni", "geom_3857"),
        Index("ix_comuni_centroid_geog", text("(centroid::geography)"), postgresql_using="gist"),
        Index("ix_comuni_lower_name", text("lower(name)")),
    )

    istat_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(Text, index=True)
    cadastral_code: Mapped[str | None] = mapped_column(String(4), unique=True)
    province_code: Mapped[str] = mapped_column(ForeignKey("provinces.code"), index=True)
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    geom = _multipolygon(nullable=False)
    # a point inside the comune, for the workforce catchment (population within N km)
    centroid = mapped_column(
        Geometry("POINT", srid=WGS84, spatial_index=False),
        Computed("ST_PointOnSurface(geom)", persisted=True),
    )
    # Web Mercator copy for the basemap tiles (migration 0005)
    geom_3857 = mapped_column(
        Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class Province(Base):
    __tablename__ = "provinces"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]{3}$'", name="ck_provinces_code"),
        gist("provinces"),
        gist("provinces", "geom_3857"),
    )

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    abbreviation: Mapped[str] = mapped_column(String(2), unique=True)
    geom = _multipolygon(nullable=False)
    geom_3857 = mapped_column(
        Geometry("MULTIPOLYGON", srid=3857, spatial_index=False),
        Computed("ST_Transform(geom, 3857)", persisted=True),
    )


class ReferenceLayer(Base):
    """What was loaded, from where, when: the registry behind idempotent loading."""

    __tablename__ = "reference_layers"
    __table_args__ = (
        CheckConstraint("layer_type ~ '^[a-z][a-z0-9_]{0,39}$'", name="ck_reference_layers_type"),
        CheckConstraint(
            "category IN ('admin', 'infrastructure', 'zone', 'cadastre', 'landuse', 'register')",
            name="ck_reference_layers_category",
        ),
    )

    layer_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    feature_count: Mapped[int] = mapped_column(Integer)
    content_sha256: Mapped[str] = mapped_column(String(64))
    licence: Mapped[str | None] = mapped_column(Text)
    loaded_at: Mapped[dt.datetime] = _now()


class Infrastructure(Base):
    """Any point (or line) of interest by layer type: airport, airfield, railway station,
    motorway exit, freight terminal, port... Distances are straight-line."""

    __tablename__ = "infrastructure"
    __table_args__ = (
        CheckConstraint("layer_type ~ '^[a-z][a-z0-9_]{0,39}$'", name="ck_infrastructure_type"),
        UniqueConstraint("layer_type", "source", "source_id", name="uq_infrastructure_source"),
        gist("infrastructure"),
        Index("ix_infrastructure_layer_type", "layer_type"),
        Index("ix_infrastructure_geog", text("(geom::geography)"), postgresql_using="gist"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_type: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[str] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(Text)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    geom = mapped_column(Geometry("GEOMETRY", srid=WGS84, spatial_index=False), nullable=False)


class PolicyZone(Base):
    """A policy zone (ZLS, regional aid, ZIS...) as a list of comuni and/or polygons."""

    __tablename__ = "policy_zones"
    __table_args__ = (
        CheckConstraint("zone_type ~ '^[a-z][a-z0-9_]{0,39}$'", name="ck_policy_zones_type"),
        CheckConstraint(
            "comune_istat IS NOT NULL OR geom IS NOT NULL", name="ck_policy_zones_extent"
        ),
        UniqueConstraint("zone_type", "source", "member_id", name="uq_policy_zones_member"),
        gist("policy_zones"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_type: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    member_id: Mapped[str] = mapped_column(Text)
    comune_istat: Mapped[str | None] = mapped_column(String(6), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    geom = _multipolygon()


class CadastralSheet(Base):
    """Reference points of a foglio: approximate location for candidacies without coordinates.
    A foglio split in parts has one point per part, hence no unique key on (belfiore, foglio)."""

    __tablename__ = "cadastral_sheets"
    __table_args__ = (
        gist("cadastral_sheets"),
        Index("ix_cadastral_sheets_belfiore_foglio", "belfiore", "foglio"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    belfiore: Mapped[str] = mapped_column(String(4))
    foglio: Mapped[str] = mapped_column(String(8))
    comune_istat: Mapped[str | None] = mapped_column(String(6), index=True)
    geom = _point(nullable=False)


# -- brownfield detection ---------------------------------------------------------------------


class DetectionRun(Base):
    __tablename__ = "detection_runs"
    __table_args__ = (
        one_of("status", v.RUN_STATUSES, "ck_detection_runs_status"),
        gist("detection_runs", "footprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), server_default=text("'running'"))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    footprint = _multipolygon()
    candidate_count: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = _now()
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DetectionCandidate(Base):
    __tablename__ = "detection_candidates"
    __table_args__ = (
        one_of("review_status", v.REVIEW_STATUSES, "ck_detection_candidates_review_status"),
        CheckConstraint("area_m2 >= 0", name="ck_detection_candidates_area_non_negative"),
        CheckConstraint("score >= 0 AND score <= 1", name="ck_detection_candidates_score_range"),
        gist("detection_candidates"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("detection_runs.id", ondelete="CASCADE"), index=True
    )
    geom = _multipolygon(nullable=False)
    area_m2: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    review_status: Mapped[str] = mapped_column(String(16), server_default=text("'pending'"))
    review_reason: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))


# -- audit ------------------------------------------------------------------------------------


class AuditEvent(Base):
    """Append-only: a trigger rejects UPDATE and DELETE (see the first migration)."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    occurred_at: Mapped[dt.datetime] = _now()
    actor: Mapped[str | None] = mapped_column(Text)
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str | None] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    client_address: Mapped[str | None] = mapped_column(INET)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))


# -- accounts, notifications, rate limits (migration 0004) ------------------------------------


class User(Base):
    """Someone who signs in. A proponent account acts for the person or company whose
    codice fiscale or partita IVA it holds (``tax_id``): it sees the candidacies that
    person submitted, and those where that person is the owner."""

    __tablename__ = "users"
    __table_args__ = (
        one_of("role", v.USER_ROLES, "ck_users_role"),
        CheckConstraint("email = lower(email)", name="ck_users_email_lower"),
        CheckConstraint("role <> 'proponent' OR tax_id IS NOT NULL", name="ck_users_proponent_tax_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(Text, unique=True)
    full_name: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(16))
    tax_id: Mapped[str | None] = mapped_column(String(16), index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    # bumped to revoke every token issued so far (password change, deactivation)
    token_version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    created_at: Mapped[dt.datetime] = _now()
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiKey(Base):
    """A read-only key for a frontend. Only a SHA-256 of the key is kept: keys are 256-bit
    random strings, so a slow password hash would add nothing but latency."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = _now()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """Outbox: messages are written in the same transaction as what caused them and handed
    to the configured notifier later (``opportunity notify deliver``). ``dedupe_key``
    keeps a reminder from being queued twice for the same period."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_pending", "id", postgresql_where=text("sent_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[dt.datetime] = _now()
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    dedupe_key: Mapped[str | None] = mapped_column(Text, unique=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitWindow(Base):
    """Fixed-window counters shared by every worker (the API keeps no state of its own).
    UNLOGGED: losing counters in a crash only forgives a few attempts."""

    __tablename__ = "rate_limits"
    __table_args__ = (Index("ix_rate_limits_window_start", "window_start"), {"prefixes": ["UNLOGGED"]})

    bucket: Mapped[str] = mapped_column(Text, primary_key=True)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, server_default=text("1"))
