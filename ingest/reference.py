"""What validation asks of the reference layers, as types: a comune as the checks see it,
and the lookup the service provides (``app.reference.lookup.PostgisLookup``) or a test
fakes. Kept apart so every checker module imports it one way."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class ComuneRef:
    istat_code: str
    name: str
    province: str  # abbreviation, e.g. MI
    cadastral_code: str | None = None


class ReferenceLookup(Protocol):
    def comune(self, name_or_code: str) -> ComuneRef | None: ...
    def comune_at(self, lon: float, lat: float) -> ComuneRef | None: ...
    def distance_to_comune_m(self, istat_code: str, lon: float, lat: float) -> float: ...
    def in_lombardy(self, lon: float, lat: float) -> bool: ...
    def cadastral_point(self, istat_code: str, foglio: str) -> tuple[float, float] | None: ...
