"""A columnar, in-memory copy of the published sites' matching facts, per worker process.

Matching must look at every published site (near misses can fail any constraint), and
PostgreSQL's executor spends about 0.3 µs per expression per row: ten criteria over
100,000 sites cost 100+ ms per request in SQL. The same arithmetic on numpy columns
takes a few milliseconds. The copy is reloaded when the ``site_changes`` counter moves
(a statement trigger on ``sites`` bumps it), so every worker stays stateless: the
database remains the only source of truth.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Connection, text

FLOAT_COLUMNS = (
    "land_area_m2", "covered_area_m2", "gross_floor_area_m2", "price_eur", "annual_rent_eur",
    "power_kw", "dist_airport_km", "dist_station_km", "dist_motorway_exit_km",
)
CODE_COLUMNS = ("availability", "site_type", "condition", "zoning", "province_code")
FLAG_COLUMNS = ("rail_siding", "fibre")


@dataclass
class Snapshot:
    version: tuple[str, int]  # (database, change counter)
    ids: np.ndarray
    floats: dict[str, np.ndarray]  # NaN where the site does not say
    codes: dict[str, np.ndarray]  # text values as small integers; -1 for NULL
    vocab: dict[str, dict[str, int]]
    flags: dict[str, np.ndarray]  # 1 true, 0 false, -1 not stated
    available_from: np.ndarray  # datetime64[D], NaT when not stated
    zones: dict[str, np.ndarray] = field(default_factory=dict)  # zone type -> membership
    sectors: dict[str, np.ndarray] = field(default_factory=dict)
    no_sectors: np.ndarray | None = None
    x_utm: np.ndarray | None = None
    y_utm: np.ndarray | None = None
    lon: np.ndarray | None = None
    lat: np.ndarray | None = None
    confirmed: np.ndarray | None = None  # datetime64[D]: when the owner last confirmed the data
    provinces: dict[str, str] = field(default_factory=dict)  # abbreviation -> ISTAT code (reference data)

    def __len__(self) -> int:
        return len(self.ids)

    def coded(self, column: str, values: list[str] | tuple[str, ...]) -> np.ndarray:
        """Boolean array: the column holds one of ``values``. One comparison of the small
        integer codes per value (15 µs at 100,000 sites; np.isin's sort took 2 ms)."""
        codes = self.codes[column]
        wanted = {self.vocab[column][v] for v in values if v in self.vocab[column]}
        out = np.zeros(len(codes), dtype=bool)
        for code in wanted:
            out |= codes == code
        return out


class _Cache:
    """The process's snapshot; threads of one worker share it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.snapshot: Snapshot | None = None


_cache = _Cache()


CHANGES = "(SELECT last_value FROM site_changes)"


def current_version(conn: Connection) -> tuple[str, int]:
    """Which database, and how many writes to its sites so far."""
    return _database(conn), int(conn.execute(text(f"SELECT {CHANGES}")).scalar_one())


def _database(conn: Connection) -> str:
    return conn.engine.url.render_as_string(hide_password=True)


def cached_snapshot(conn: Connection) -> Snapshot:
    """The snapshot this process holds for the connection's database, without asking
    whether it is current: the caller checks the change counter it read in the same
    query as the rows it returns (one round trip fewer), and calls get_snapshot when
    the counter moved."""
    cached = _cache.snapshot
    if cached is not None and cached.version[0] == _database(conn):
        return cached
    return get_snapshot(conn)


def get_snapshot(conn: Connection, force: bool = False) -> Snapshot:
    """The snapshot for the catalogue as it is now (reloaded when sites changed)."""
    version = current_version(conn)
    cached = _cache.snapshot
    if cached is not None and cached.version == version and not force:
        return cached
    with _cache.lock:
        cached = _cache.snapshot
        if cached is None or cached.version != version or force:
            _cache.snapshot = cached = load(conn, version)
        return cached


def load(conn: Connection, version: tuple[str, int]) -> Snapshot:
    """One query, one array per column (aggregated by PostgreSQL): 100,000 sites load in
    a fraction of a second instead of iterating rows in Python."""
    expressions = [
        "id",
        *(f"COALESCE({c}::float8, 'NaN')" for c in FLOAT_COLUMNS),
        *(f"COALESCE({c}, '')" for c in CODE_COLUMNS),
        *(f"COALESCE({c}::int, -1)" for c in FLAG_COLUMNS),
        "COALESCE(available_from - DATE '1970-01-01', -2147483648)",
        "array_to_string(zones, ',')", "array_to_string(sectors, ',')",
        "ST_X(geom_utm)", "ST_Y(geom_utm)", "ST_X(geom)", "ST_Y(geom)",
        "(last_confirmed_at AT TIME ZONE 'UTC')::date - DATE '1970-01-01'",
    ]
    columns = ", ".join(f"c{i}" for i in range(len(expressions)))
    selected = ", ".join(f"{e} AS c{i}" for i, e in enumerate(expressions))
    # one ordered pass, then one array per column; binary transfer parses numbers fast
    statement = (f"SELECT {', '.join(f'array_agg(c{i})' for i in range(len(expressions)))} FROM "
                 f"(SELECT {selected} FROM sites WHERE status = 'published' ORDER BY id) AS t({columns})")
    with conn.connection.driver_connection.cursor(binary=True) as cursor:
        row = cursor.execute(statement).fetchone()
        provinces = dict(cursor.execute("SELECT abbreviation, code FROM provinces").fetchall())
    values = [list(v) if v is not None else [] for v in row]
    ids, rest = values[0], values[1:]
    floats = {c: np.array(rest.pop(0), dtype=float) for c in FLOAT_COLUMNS}
    codes: dict[str, np.ndarray] = {}
    vocab: dict[str, dict[str, int]] = {}
    for column in CODE_COLUMNS:
        labels, inverse = np.unique(np.array(rest.pop(0), dtype=object).astype(str), return_inverse=True)
        vocab[column] = {label: i for i, label in enumerate(labels) if label}
        coded = inverse.astype(np.int16)
        if "" in labels:
            coded[coded == int(np.flatnonzero(labels == "")[0])] = -1
        codes[column] = coded
    flags = {c: np.array(rest.pop(0), dtype=np.int8) for c in FLAG_COLUMNS}
    days = np.array(rest.pop(0), dtype=np.int64)
    available = days.astype("datetime64[D]")
    available[days == -2147483648] = np.datetime64("NaT")
    zone_text, sector_text = (np.array(rest.pop(0), dtype=object).astype(str) for _ in range(2))
    x_utm, y_utm, lon, lat = (np.array(rest.pop(0), dtype=float) for _ in range(4))
    confirmed = np.array(rest.pop(0), dtype=np.int64).astype("datetime64[D]")
    return Snapshot(
        version=version, ids=np.array(ids, dtype=np.int64), floats=floats, codes=codes, vocab=vocab,
        flags=flags, available_from=available, zones=_members(zone_text), sectors=_members(sector_text),
        no_sectors=sector_text == "", x_utm=x_utm, y_utm=y_utm, lon=lon, lat=lat, confirmed=confirmed,
        provinces=provinces,
    )


def _members(joined: np.ndarray) -> dict[str, np.ndarray]:
    """'a,b' per site -> {a: mask, b: mask}."""
    names = sorted({name for text_ in np.unique(joined) for name in text_.split(",") if name})
    padded = np.char.add(np.char.add(",", joined), ",")
    return {name: np.char.find(padded, f",{name},") >= 0 for name in names}
