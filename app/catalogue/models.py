"""The sites table: typed columns for everything filtered or matched, JSONB for the
rest, and the enrichment columns computed from the reference layers."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
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
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import (
    METRIC_SRID,
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


class SiteListing(Base):
    """The listed GeoJSON feature of a site (public properties only), kept by the triggers
    of ``app.catalogue.listings``."""

    __tablename__ = "site_listings"

    id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), primary_key=True)
    feature: Mapped[str] = mapped_column(Text)
