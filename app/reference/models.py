"""Tables of the reference layers around the sites: comuni, provinces, any point or
line layer (infrastructure), policy zones, cadastral sheets, and the registry of what
was loaded from where."""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.core.schema import (
    WGS84,
    Base,
    gist,
    multipolygon_column,
    point_column,
    timestamp_column,
)


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
