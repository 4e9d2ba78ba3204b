"""The reference lookups that validation needs, answered by PostGIS.

Implements ``ingest.checks.ReferenceLookup`` over the catalogue's reference tables,
so that ``ingest`` stays free of the database.
"""

from __future__ import annotations

import re
from difflib import get_close_matches

from sqlalchemy import Connection, text

from ingest.reference import ComuneRef
from ingest.values import normalise

_COMUNE_COLUMNS = """
    c.istat_code, c.name, p.abbreviation AS province, c.cadastral_code
    FROM comuni c JOIN provinces p ON p.code = c.province_code
"""
_POINT = "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)"


class PostgisLookup:
    def __init__(self, conn: Connection):
        self.conn = conn
        self._names: dict[str, str] | None = None

    def has_reference_data(self) -> bool:
        """Once seen on a pooled connection, remembered there: reference layers are
        replaced, never emptied, so every upload need not ask again."""
        if not self.conn.info.get("reference_loaded"):
            self.conn.info["reference_loaded"] = bool(
                self.conn.execute(text("SELECT EXISTS (SELECT 1 FROM provinces)")).scalar())
        return self.conn.info["reference_loaded"]

    def _one(self, where: str, **params: object) -> ComuneRef | None:
        row = self.conn.execute(text(f"SELECT {_COMUNE_COLUMNS} WHERE {where} LIMIT 1"), params).first()
        return ComuneRef(row.istat_code, row.name, row.province, row.cadastral_code) if row else None

    def _name_index(self) -> dict[str, str]:
        if self._names is None:
            rows = self.conn.execute(text("SELECT istat_code, name FROM comuni")).all()
            self._names = {normalise(name): code for code, name in rows}
        return self._names

    def comune(self, name_or_code: str) -> ComuneRef | None:
        """By ISTAT code (5 or 6 digits), exact name, or a name with small differences
        (accents, case, apostrophes, a typo)."""
        value = str(name_or_code).strip()
        if re.fullmatch(r"\d{5,6}", value):
            return self._one("c.istat_code = :code", code=value.zfill(6))
        found = self._one("lower(c.name) = lower(:name)", name=value)
        if found:
            return found
        index = self._name_index()
        key = normalise(value)
        code = index.get(key)
        if code is None:
            close = get_close_matches(key, list(index), n=1, cutoff=0.9)
            code = index[close[0]] if close else None
        return self._one("c.istat_code = :code", code=code) if code else None

    def comune_at(self, lon: float, lat: float) -> ComuneRef | None:
        return self._one(f"ST_Covers(c.geom, {_POINT})", lon=lon, lat=lat)

    def distance_to_comune_m(self, istat_code: str, lon: float, lat: float) -> float:
        value = self.conn.execute(
            text(
                f"SELECT CASE WHEN ST_Covers(geom, {_POINT}) THEN 0 "
                f"ELSE ST_Distance(geom::geography, {_POINT}::geography) END "
                "FROM comuni WHERE istat_code = :code"
            ),
            {"lon": lon, "lat": lat, "code": istat_code},
        ).scalar()
        return float(value) if value is not None else float("inf")

    def in_lombardy(self, lon: float, lat: float) -> bool:
        return bool(
            self.conn.execute(
                text(f"SELECT EXISTS (SELECT 1 FROM provinces WHERE ST_Covers(geom, {_POINT}))"),
                {"lon": lon, "lat": lat},
            ).scalar()
        )

    def cadastral_point(self, istat_code: str, foglio: str) -> tuple[float, float] | None:
        """Centre of the foglio's reference points (a split foglio has several)."""
        digits = re.sub(r"\D", "", str(foglio))
        if not digits:
            return None
        row = self.conn.execute(
            text(
                """
                SELECT ST_X(ST_Centroid(ST_Collect(s.geom))) AS lon,
                       ST_Y(ST_Centroid(ST_Collect(s.geom))) AS lat
                FROM cadastral_sheets s
                WHERE s.foglio = :foglio
                  AND (s.comune_istat = :code OR s.belfiore =
                       (SELECT cadastral_code FROM comuni WHERE istat_code = :code))
                """
            ),
            {"foglio": digits.zfill(4), "code": istat_code},
        ).one()
        return (row.lon, row.lat) if row.lon is not None else None
