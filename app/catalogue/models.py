"""Tables of the catalogue: the sites (typed columns for everything filtered or matched,
JSONB for the rest, computed enrichment) and the reference layers around them.
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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import (
    METRIC_SRID,
    WGS84,
    Base,
    all_of,
    gist,
    multipolygon_column,
    non_negative,
    one_of,
    point_column,
    timestamp_column,
)
from ingest import vocabulary as v


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
    geom = point_column(nullable=False)
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
    perimeter = multipolygon_column()
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
    last_confirmed_at: Mapped[dt.datetime] = timestamp_column()
    created_at: Mapped[dt.datetime] = timestamp_column()
    updated_at: Mapped[dt.datetime] = timestamp_column()



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
    geom = multipolygon_column(nullable=False)
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
    geom = multipolygon_column(nullable=False)
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
    loaded_at: Mapped[dt.datetime] = timestamp_column()


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
        # nearest feature of one layer type: an index walk, not a sort of the whole layer
        Index("ix_infrastructure_type_geog", "layer_type", text("(geom::geography)"), postgresql_using="gist"),
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
    geom = multipolygon_column()


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
    geom = point_column(nullable=False)


class MatchSearch(Base):
    """One recorded ``POST /match`` for unmet-demand analytics. Deliberately without
    personal data: no address, no account, no contact; ``caller`` says only whether it
    was the public, a read-only frontend or the agency's staff."""

    __tablename__ = "match_searches"
    __table_args__ = (
        one_of("caller", ("public", "reader", "staff"), "ck_match_searches_caller"),
        Index("ix_match_searches_at", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = timestamp_column()
    caller: Mapped[str] = mapped_column(String(8))
    activity: Mapped[str | None] = mapped_column(String(64))
    provinces: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'::text[]"), nullable=False)
    requirement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    matching: Mapped[int] = mapped_column(Integer)
    # the best near misses: for each, the hard criteria it failed with the value found
    near_misses: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))


class Enquiry(Base):
    """An investor's requirement kept open by staff: new or changed sites that fit it are
    alerted. The contact stays here, never in a public answer."""

    __tablename__ = "enquiries"
    __table_args__ = (
        one_of("status", ("open", "closed"), "ck_enquiries_status"),
        one_of("outcome", ("site_proposed", "visited", "chosen", "lost"), "ck_enquiries_outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    investor_ref: Mapped[str | None] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(Text)
    requirement: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(8), server_default=text("'open'"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = timestamp_column()
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class EnquiryAlert(Base):
    """A site newly fitting (or newly near) an open enquiry, with the match's reasons."""

    __tablename__ = "enquiry_alerts"
    __table_args__ = (one_of("state", ("match", "near_miss"), "ck_enquiry_alerts_state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(ForeignKey("enquiries.id", ondelete="CASCADE"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    created_at: Mapped[dt.datetime] = timestamp_column()
