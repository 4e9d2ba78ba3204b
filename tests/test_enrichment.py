"""Enrichment on real reference data: comune, province, nearest airport, zones, catchment."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from app.reference.enrichment import COMPLETENESS, enrich


def _site_at(conn: Connection, lon: float, lat: float, **columns: object) -> int:
    values = {"kind": "A", "name": "synthetic enrichment test", "status": "published", **columns}
    names = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    return conn.execute(
        text(f"INSERT INTO sites ({names}, geom) VALUES ({params}, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)) RETURNING id"),
        {**values, "lon": lon, "lat": lat},
    ).scalar_one()


def _row(conn: Connection, site_id: int):
    return conn.execute(text("SELECT * FROM sites WHERE id = :i"), {"i": site_id}).mappings().one()


def test_milano_centrale(conn: Connection, reference_loaded: list, shared_data: Path) -> None:
    lon, lat = conn.execute(text(
        "SELECT ST_X(geom), ST_Y(geom) FROM infrastructure WHERE layer_type = 'railway_station' AND name = 'Milano Centrale'"
    )).one()
    site = _site_at(conn, lon, lat)
    enrich(conn, [site])
    row = _row(conn, site)
    assert row["comune_istat"] == "015146" and row["province_code"] == "015"
    assert row["nearest"]["airport"]["code"] == "LIN"
    assert row["nearest"]["airport"]["method"] == "straight_line"
    assert 5 < row["dist_airport_km"] < 8  # Linate is about 6.5 km from Milano Centrale
    assert row["dist_station_km"] < 0.05 and row["nearest"]["railway_station"]["name"] == "Milano Centrale"
    assert row["pop_10km"] > 1_300_000 and row["pop_10km"] < row["pop_20km"] < row["pop_30km"]


def test_viadana_is_in_the_zls_and_the_regional_aid_list(conn: Connection, reference_loaded: list,
                                                          shared_data: Path) -> None:
    lon, lat = conn.execute(text(
        "SELECT ST_X(centroid), ST_Y(centroid) FROM comuni WHERE name = 'Viadana'")).one()
    site = _site_at(conn, lon, lat)
    enrich(conn, [site])
    assert set(_row(conn, site)["zones"]) == {"zls", "regional_aid"}


def test_a_site_outside_every_zone(conn: Connection, reference_loaded: list) -> None:
    site = _site_at(conn, 9.67, 45.69)  # Bergamo
    enrich(conn, [site])
    row = _row(conn, site)
    assert row["zones"] == [] and row["comune_istat"] == "016024"
    assert row["nearest"]["airport"]["code"] == "BGY"


def test_completeness_counts_what_is_filled(conn: Connection, reference_loaded: list) -> None:
    empty = _site_at(conn, 9.67, 45.69)
    full = _site_at(conn, 9.67, 45.69, land_area_m2=10_000, gross_floor_area_m2=4000, price_eur=1,
                    availability="vendita", available_from="2027-01-01", zoning="produttivo", power_kw=300,
                    fibre=True, rail_siding=False, gas=True, sewer=True, remediation="non_necessaria",
                    year_built=1990, useful_height_m=8, location_precision="exact",
                    description_it="x", description_en="x")
    conn.execute(text("UPDATE sites SET sectors = '{ict}', perimeter = ST_Multi(ST_Buffer(geom, 0.001)) WHERE id = :i"),
                 {"i": full})
    enrich(conn, [empty, full])
    assert _row(conn, full)["completeness"] == 1.0
    low = _row(conn, empty)["completeness"]
    exact_weight = next(i.weight for i in COMPLETENESS if i.key == "location")
    assert 0 < low < 0.3 and low >= exact_weight / sum(i.weight for i in COMPLETENESS)


def test_comune_differing_from_the_declared_one_is_flagged(conn: Connection, reference_loaded: list) -> None:
    conn.execute(text(
        "INSERT INTO candidacies (id, lineage_id, kind, file_sha256, file_path, file_size) "
        "VALUES (999001, gen_random_uuid(), 'A', repeat('a', 64), '/x', 1)"))
    site = _site_at(conn, 9.67, 45.69, declared_comune_istat="015146", candidacy_id=999001)
    enrich(conn, [site])
    report = conn.execute(text("SELECT validation_report FROM candidacies WHERE id = 999001")).scalar_one()
    assert report["enrichment"][0]["code"] == "comune_differs"
    assert "016024" in report["enrichment"][0]["message_en"]


def test_sites_without_any_infrastructure_layer(conn: Connection, reference_loaded: list) -> None:
    conn.execute(text("SAVEPOINT s"))
    conn.execute(text("DELETE FROM infrastructure"))
    site = _site_at(conn, 9.67, 45.69)
    enrich(conn, [site])
    row = _row(conn, site)
    assert row["nearest"] == {} and row["dist_airport_km"] is None
    conn.execute(text("ROLLBACK TO SAVEPOINT s"))
