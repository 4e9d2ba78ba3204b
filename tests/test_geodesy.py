"""One metric everywhere: the nearest feature is chosen and measured on the WGS84
ellipsoid, the area-of-interest radius is geodesic, reasons never print a failing value
equal to its limit, catchment is 0 rather than unknown, comune codes are after the
2023-24 mergers. Expected distances come from pyproj's geodesic (Karney), independent of
PostGIS."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pyproj import Geod
from sqlalchemy import Connection, text

from app.reference.enrichment import enrich
from app.scouting.matching import match
from app.scouting.requirements import Requirement
from tests.test_enrichment import _row, _site_at

GEOD = Geod(ellps="WGS84")
SPHERE_RADIUS_M = 6371008.7714  # the sphere PostGIS uses for geography KNN
UNIQUE_AREA = 9_876_543  # no other site of the test catalogue is this large


def _sphere_m(lon1: float, lat1: float, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    p1, p2, dl = math.radians(lat1), np.radians(lat2), np.radians(lon2 - lon1)
    a = np.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * SPHERE_RADIUS_M * np.arcsin(np.sqrt(a))


def _airport(conn: Connection, code: str) -> tuple[float, float]:
    return tuple(conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM infrastructure "
                                   "WHERE layer_type = 'airport' AND code = :c"), {"c": code}).one())


def test_the_nearest_airport_is_the_nearest_on_the_ellipsoid(conn: Connection, reference_loaded: list) -> None:
    (mxp_lon, mxp_lat), (lin_lon, lin_lat) = _airport(conn, "MXP"), _airport(conn, "LIN")
    # points between Malpensa and Linate where the sphere and the ellipsoid disagree on
    # which one is nearer, by at least 20 m on the ellipsoid
    lons, lats = np.meshgrid(np.linspace(8.6, 9.4, 161), np.linspace(45.2, 46.0, 161))
    lons, lats = lons.ravel(), lats.ravel()
    e_mxp = GEOD.inv(np.full_like(lons, mxp_lon), np.full_like(lats, mxp_lat), lons, lats)[2]
    e_lin = GEOD.inv(np.full_like(lons, lin_lon), np.full_like(lats, lin_lat), lons, lats)[2]
    s_mxp, s_lin = _sphere_m(mxp_lon, mxp_lat, lons, lats), _sphere_m(lin_lon, lin_lat, lons, lats)
    others = [_airport(conn, code) for code in ("BGY", "VBS")]
    e_other = np.min([GEOD.inv(np.full_like(lons, a), np.full_like(lats, b), lons, lats)[2] for a, b in others], axis=0)
    disagree = ((np.sign(e_mxp - e_lin) != np.sign(s_mxp - s_lin)) & (np.abs(e_mxp - e_lin) > 20)
                & (np.minimum(e_mxp, e_lin) < e_other - 1000))
    assert disagree.any(), "no point where sphere and ellipsoid disagree: test grid too coarse"
    i = int(np.flatnonzero(disagree)[np.argmax(np.abs(e_mxp - e_lin)[disagree])])
    site = _site_at(conn, float(lons[i]), float(lats[i]))
    enrich(conn, [site])
    nearest = _row(conn, site)["nearest"]["airport"]
    expected_code, expected_m = ("MXP", e_mxp[i]) if e_mxp[i] < e_lin[i] else ("LIN", e_lin[i])
    assert nearest["code"] == expected_code
    assert abs(nearest["km"] * 1000 - expected_m) < 1  # metre resolution, ellipsoid
    assert abs(_row(conn, site)["dist_airport_km"] * 1000 - expected_m) < 1


def test_catchment_is_zero_where_nobody_lives_within_reach(conn: Connection, reference_loaded: list) -> None:
    # the Stelvio pass, on the Swiss border: few people within 10 km, maybe none
    site = _site_at(conn, 10.4534, 46.5286)
    enrich(conn, [site])
    row = _row(conn, site)
    assert row["pop_10km"] is not None and row["pop_10km"] >= 0
    empty = _site_at(conn, 9.2, 45.5, name="synthetic site with no comune centroid near")
    conn.execute(text("UPDATE comuni SET population = NULL"))  # rolled back with the test
    enrich(conn, [empty])
    assert _row(conn, empty)["pop_10km"] == 0 and _row(conn, empty)["pop_30km"] == 0


def test_livigno_catchment_is_a_number(conn: Connection, reference_loaded: list) -> None:
    site = _site_at(conn, 10.135, 46.538)  # Livigno
    enrich(conn, [site])
    assert _row(conn, site)["pop_10km"] is not None


def _radius_site(conn: Connection, centre: tuple[float, float], km: float) -> int:
    lon, lat, _ = GEOD.fwd(centre[0], centre[1], 90, km * 1000)
    site = _site_at(conn, lon, lat, land_area_m2=UNIQUE_AREA, name=f"synthetic site {km} km east")
    enrich(conn, [site])
    return site


def test_the_area_of_interest_radius_is_geodesic(conn: Connection, reference_loaded: list) -> None:
    centre = (9.19, 45.46)
    inside, outside = _radius_site(conn, centre, 59.99), _radius_site(conn, centre, 60.01)
    result = match(conn, Requirement.model_validate({"area": {"point": list(centre), "radius_km": 60},
                                                     "land_area_m2": {"min": UNIQUE_AREA}, "limit": 100,
                                                     "near_misses": 50}))
    ids = {r["site"]["id"] for r in result["results"]}
    assert inside in ids and outside not in ids
    miss = next(m for m in result["near_misses"] if m["site"]["id"] == outside)
    reason = next(c for c in miss["criteria"] if c["criterion"] == "area")["reason"]
    assert reason == "60.01 km from the point of interest, asked ≤ 60 km"


def test_a_failing_distance_never_prints_equal_to_its_limit(conn: Connection, reference_loaded: list) -> None:
    lon, lat = _airport(conn, "BGY")
    far_lon, far_lat, _ = GEOD.fwd(lon, lat, 180, 2030)
    site = _site_at(conn, far_lon, far_lat, land_area_m2=20000, name="synthetic site 2.03 km from BGY")
    enrich(conn, [site])
    assert abs(_row(conn, site)["dist_airport_km"] - 2.03) < 0.002
    result = match(conn, Requirement.model_validate({"max_airport_km": 2, "land_area_m2": {"min": 20000},
                                                     "limit": 100, "near_misses": 50,
                                                     "area": {"point": [far_lon, far_lat], "radius_km": 0.1}}))
    miss = next(m for m in result["near_misses"] if m["site"]["id"] == site)
    assert miss["summary"].startswith("fails only: 2.03 km to the nearest airport")
    assert "asked ≤ 2 km" in miss["summary"]
    italian = next(c for c in miss["criteria"] if c["criterion"] == "max_airport_km")["reason_it"]
    assert italian.startswith("2,03 km") and "richiesto ≤ 2 km" in italian


def test_comune_codes_are_after_the_2024_mergers(conn: Connection, reference_loaded: list) -> None:
    codes = dict(conn.execute(text("SELECT istat_code, name FROM comuni WHERE istat_code IN "
                                   "('013256', '013228', '013199', '018026', '018002')")).all())
    assert codes == {"013256": "Uggiate con Ronago", "018026": "Campospinoso Albaredo"}
    population = conn.execute(text("SELECT population FROM comuni WHERE istat_code = '013256'")).scalar()
    assert population > 6000  # Uggiate-Trevano and Ronago together


def test_bardello_exists_where_the_shared_boundaries_are(conn: Connection, reference_loaded: list,
                                                         shared_data: Path) -> None:
    name = conn.execute(text("SELECT name FROM comuni WHERE istat_code = '012144'")).scalar()
    assert name == "Bardello con Malgesso e Bregano"
    assert conn.execute(text("SELECT count(*) FROM comuni")).scalar() == 1502
