"""What an investor asks for: the requirement model (hard constraints, preferences,
weights), its bounds, and the activity presets (``data/presets/*.json``) that fill in
what the investor did not say. Presets are data, not code."""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from shapely.geometry import shape

from app.core.errors import InvalidInputError
from ingest import vocabulary as v

PRESETS_DIR = Path(__file__).resolve().parents[2] / "data" / "presets"
MAX_LIST = 50  # more provinces, zonings or criteria than exist is an error, not work
MAX_VERTICES = 5_000  # a province's outline simplified to 100 m has about 2,000
TENURE = {
    "buy": ("vendita", "vendita_o_locazione"),
    "lease": ("locazione", "vendita_o_locazione", "diritto_superficie"),
}
BUILDING_TYPES = ("edificio", "area_con_edifici")
BROWNFIELD_CONDITIONS = ("dismesso", "in_dismissione", "inattivo")
AVAILABLE_NOW = ("disponibile", "dismesso", "inattivo")


# -- the requirement --------------------------------------------------------------------------


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid")
    min: float | None = Field(default=None, ge=0, le=1e8)
    max: float | None = Field(default=None, ge=0, le=1e8)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self


Longitude = Annotated[float, Field(ge=-180, le=180)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
# [longitude, latitude], or with a height, which is dropped
Position = tuple[Longitude, Latitude] | tuple[Longitude, Latitude, float]
Ring = Annotated[list[Position], Field(min_length=4, max_length=MAX_VERTICES)]


class GeoPolygon(BaseModel):
    """A GeoJSON Polygon, and nothing else: any other member is refused, so nothing but
    the outline is ever stored with a search."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1, max_length=100)]


class GeoMultiPolygon(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[Annotated[list[Ring], Field(min_length=1, max_length=100)]],
                           Field(min_length=1, max_length=100)]


def _rings(polygon: GeoPolygon | GeoMultiPolygon) -> list[list[Position]]:
    return polygon.coordinates if isinstance(polygon, GeoPolygon) else [r for p in polygon.coordinates for r in p]


class AreaOfInterest(BaseModel):
    """A point with a radius, or a GeoJSON polygon (WGS84)."""

    model_config = ConfigDict(extra="forbid")
    point: tuple[float, float] | None = Field(default=None, description="[longitude, latitude]")
    radius_km: float | None = Field(default=None, ge=0.1, le=300)
    polygon: Annotated[GeoPolygon | GeoMultiPolygon, Field(discriminator="type")] | None = Field(
        default=None, description=f"GeoJSON Polygon or MultiPolygon: type and coordinates only, at most "
                                  f"{MAX_VERTICES} vertices")

    @model_validator(mode="after")
    def _one_shape(self) -> AreaOfInterest:
        if (self.point is None) == (self.polygon is None):
            raise ValueError("give either point with radius_km, or polygon")
        if self.point is not None and self.radius_km is None:
            raise ValueError("a point needs radius_km")
        if self.point is not None and not (-180 <= self.point[0] <= 180 and -90 <= self.point[1] <= 90):
            raise ValueError("point must be [longitude, latitude] in degrees")
        if self.polygon is not None:
            vertices = sum(len(ring) for ring in _rings(self.polygon))
            if vertices > MAX_VERTICES:
                raise ValueError(f"polygon has {vertices} vertices; simplify it to at most {MAX_VERTICES}")
            self.polygon.coordinates = _flat(self.polygon)
            try:
                geometry = shape(self.polygon.model_dump())
            except Exception as exc:  # shapely raises several kinds for bad rings
                raise ValueError(f"polygon is not valid GeoJSON: {exc}") from exc
            if not geometry.is_valid:
                raise ValueError("polygon must be a valid Polygon or MultiPolygon (its outline crosses itself)")
        return self

    def summary(self) -> dict[str, Any]:
        """What a recorded search keeps of the area beside its near misses: its kind and
        size, not the outline again for every site."""
        if self.polygon is None:
            return {"point": list(self.point or ()), "radius_km": self.radius_km}
        return {"polygon_vertices": sum(len(ring) for ring in _rings(self.polygon))}


def _flat(polygon: GeoPolygon | GeoMultiPolygon) -> Any:
    """The coordinates without heights, rounded to 7 decimals (1 cm)."""
    def ring(points: list[Position]) -> list[Position]:
        return [(round(p[0], 7), round(p[1], 7)) for p in points]
    if isinstance(polygon, GeoPolygon):
        return [ring(r) for r in polygon.coordinates]
    return [[ring(r) for r in part] for part in polygon.coordinates]


class Requirement(BaseModel):
    """What an investor needs. Criteria left out are ignored."""

    model_config = ConfigDict(extra="forbid")

    activity: str | None = Field(default=None, max_length=64, description="a preset: " + ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.json"))))
    sector: str | None = Field(default=None, max_length=64, description="one of " + ", ".join(v.SECTORS))
    land_area_m2: Range | None = None
    floor_area_m2: Range | None = Field(default=None, description="covered area or SLP")
    building: bool | None = Field(default=None, description="true: needs a building; false: needs land")
    tenure: Literal["buy", "lease"] | None = None
    max_price_eur: float | None = Field(default=None, ge=1, le=1e11)
    max_rent_eur: float | None = Field(default=None, ge=1, le=1e10, description="per year")
    provinces: list[Annotated[str, Field(max_length=8)]] | None = Field(
        default=None, max_length=MAX_LIST, description="abbreviations, e.g. MI, BG")
    area: AreaOfInterest | None = None
    max_motorway_km: float | None = Field(default=None, ge=0.1, le=500)
    max_airport_km: float | None = Field(default=None, ge=0.1, le=500)
    max_station_km: float | None = Field(default=None, ge=0.1, le=500)
    rail_siding: bool | None = None
    min_power_kw: float | None = Field(default=None, ge=1, le=1e7)
    fibre: bool | None = None
    brownfield: bool | None = Field(default=None, description="true: disused land or buildings")
    zls: bool | None = None
    regional_aid: bool | None = None
    available_by: dt.date | None = None
    zoning: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=MAX_LIST, description="compatible zoning codes")
    preferences: list[Annotated[str, Field(max_length=64)]] = Field(
        default_factory=list, max_length=MAX_LIST, description="criteria that rank but do not exclude")
    weights: dict[Annotated[str, Field(max_length=64)], float] = Field(
        default_factory=dict, max_length=MAX_LIST, description="criterion -> weight (default 1)")
    limit: int = Field(default=20, ge=1, le=100)
    near_misses: int = Field(default=10, ge=0, le=50)

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        if any(not 0 <= w <= 1000 for w in value.values()):
            raise ValueError("weights must be between 0 and 1000")
        return value


@lru_cache
def load_presets() -> dict[str, dict[str, Any]]:
    """Activity presets by name, from data/presets/*.json."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(PRESETS_DIR.glob("*.json"))}


def resolve(requirement: Requirement) -> Requirement:
    """The requirement with its activity preset's values filled in where the investor said
    nothing; the investor's own values, preferences and weights win."""
    if requirement.activity is None:
        return requirement
    preset = load_presets().get(requirement.activity)
    if preset is None:
        raise InvalidInputError(
            f"Unknown activity '{requirement.activity}'; presets: {', '.join(load_presets())}.",
            f"Attività '{requirement.activity}' sconosciuta; preimpostazioni: {', '.join(load_presets())}.",
        )
    given = requirement.model_dump(exclude_unset=True)
    merged = {**preset["requirement"], **given}
    explicit_hard = set(given) - set(requirement.preferences)
    preferences = [p for p in preset.get("preferences", []) if p not in explicit_hard]
    merged["preferences"] = list(dict.fromkeys([*preferences, *requirement.preferences]))
    merged["weights"] = {**preset.get("weights", {}), **requirement.weights}
    return Requirement.model_validate(merged)
