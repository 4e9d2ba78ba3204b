"""Matching over the synthetic catalogue: ranking, explanations, near misses, properties."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from app.scouting.matching import match
from app.scouting.requirements import Requirement, load_presets, resolve

LOGISTICS = {"land_area_m2": {"min": 30000}, "tenure": "buy", "max_motorway_km": 15,
             "max_airport_km": 40, "preferences": ["max_airport_km"], "weights": {"max_motorway_km": 3}}


def _run(engine: Engine, body: dict) -> dict:
    with engine.connect() as conn:
        return match(conn, Requirement.model_validate(body))


def test_results_pass_every_hard_constraint_and_are_ranked(api: TestClient) -> None:
    body = api.post("/match", json={**LOGISTICS, "limit": 50}).json()
    assert body["results"], body
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert [r["rank"] for r in body["results"]] == list(range(1, len(scores) + 1))
    for result in body["results"]:
        site = result["site"]
        assert site["land_area_m2"] >= 30000 and site["availability"] in ("vendita", "vendita_o_locazione")
        assert all(c["passed"] for c in result["criteria"] if c["hard"])
        assert result["score"] == pytest.approx(sum(c["contribution"] for c in result["criteria"]), abs=0.05)
        assert 0 <= result["score"] <= 100 and result["completeness"] is not None
        motorway = next(c for c in result["criteria"] if c["criterion"] == "max_motorway_km")
        exit_name = site.get("nearest", {}).get("motorway_exit", {}).get("name")
        assert re.search(r"km to the nearest motorway exit (Synthetic exit \d+|A\d+.* – .+) \(straight line\)",
                         motorway["reason"]), motorway["reason"]
        assert motorway["reason_it"] and (exit_name is None or exit_name in motorway["reason"])


def test_near_misses_say_what_fails_and_by_how_much(api: TestClient) -> None:
    body = api.post("/match", json={**LOGISTICS, "max_motorway_km": 1}).json()
    assert body["near_misses"]
    for miss in body["near_misses"]:
        failed = [c for c in miss["criteria"] if c["hard"] and not c["passed"]]
        assert 1 <= len(failed) <= 2 and len(miss["fails"]) == len(failed)
        assert miss["summary"].startswith("fails only: ")
    motorway_only = [m for m in body["near_misses"] if [f["criterion"] for f in m["fails"]] == ["max_motorway_km"]]
    assert motorway_only and "asked ≤ 1 km" in motorway_only[0]["summary"]


def test_ordering_is_deterministic(api: TestClient) -> None:
    first = api.post("/match", json=LOGISTICS).json()
    second = api.post("/match", json=LOGISTICS).json()
    assert [r["site"]["id"] for r in first["results"]] == [r["site"]["id"] for r in second["results"]]


def test_presets_are_data_and_the_investor_wins() -> None:
    presets = load_presets()
    assert {"logistics", "data_centre", "production", "rnd", "headquarters", "offices"} <= set(presets)
    resolved = resolve(Requirement(activity="logistics", max_motorway_km=4, weights={"rail_siding": 5}))
    assert resolved.max_motorway_km == 4  # the investor's value
    assert resolved.land_area_m2.min == presets["logistics"]["requirement"]["land_area_m2"]["min"]
    assert resolved.weights["rail_siding"] == 5 and "rail_siding" in resolved.preferences
    assert "max_motorway_km" not in resolved.preferences


def test_area_of_interest_and_provinces(api: TestClient) -> None:
    body = api.post("/match", json={"area": {"point": [9.19, 45.46], "radius_km": 15}, "provinces": ["MI", "MB"],
                                    "limit": 100}).json()
    assert body["results"]
    for result in body["results"]:
        area = next(c for c in result["criteria"] if c["criterion"] == "area")
        assert "from the point of interest" in area["reason"]
    polygon = {"type": "Polygon", "coordinates": [[[9.0, 45.3], [9.4, 45.3], [9.4, 45.6], [9.0, 45.6], [9.0, 45.3]]]}
    inside = api.post("/match", json={"area": {"polygon": polygon}, "limit": 100}).json()
    for result in inside["results"]:
        assert 9.0 <= result["site"]["lon"] <= 9.4 and 45.3 <= result["site"]["lat"] <= 45.6


@pytest.mark.parametrize("body, message", [
    ({"activity": "spaceport"}, "Unknown activity 'spaceport'"),
    ({"provinces": ["XX"]}, "Unknown province XX"),
    ({"sector": "astrology"}, "Unknown sector 'astrology'"),
    ({"land_area_m2": {"min": 10}, "weights": {"max_price_eur": 2}}, "does not give: max_price_eur"),
    ({}, "gives no criterion"),
])
def test_requirement_errors(api: TestClient, body: dict, message: str) -> None:
    response = api.post("/match", json=body)
    assert response.status_code == 422 and message in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [
    {"land_area_m2": {"min": 5, "max": 1}},
    {"area": {"point": [9.1, 45.4]}},
    {"max_price_eur": -3},
    {"unknown_field": 1},
])
def test_requirement_validation(api: TestClient, body: dict) -> None:
    response = api.post("/match", json=body)
    assert response.status_code == 422 and response.json()["error"]["details"]


requirements = st.fixed_dictionaries({
    "land_area_m2": st.builds(lambda m: {"min": m}, st.sampled_from([5_000, 20_000, 60_000])),
    "max_airport_km": st.sampled_from([10, 25, 50]),
    "max_motorway_km": st.sampled_from([5, 15, 30]),
    "tenure": st.sampled_from(["buy", "lease"]),
}, optional={"min_power_kw": st.sampled_from([500, 3000]), "fibre": st.just(True)})


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=requirements, soft=st.sets(st.sampled_from(["max_airport_km", "tenure"])))
def test_a_site_passing_every_hard_constraint_is_never_a_near_miss(engine: Engine, catalogue: list[int],
                                                                    body: dict, soft: set[str]) -> None:
    answer = _run(engine, {**body, "preferences": sorted(soft), "limit": 100, "near_misses": 50})
    results = {r["site"]["id"] for r in answer["results"]}
    for miss in answer["near_misses"]:
        assert miss["site"]["id"] not in results
        assert any(not c["passed"] for c in miss["criteria"] if c["hard"])
    assert len(results) == min(100, answer["matching"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=requirements, criterion=st.sampled_from(["land_area_m2", "max_airport_km", "max_motorway_km", "tenure"]),
       bump=st.sampled_from([0.5, 2.0, 10.0]))
def test_raising_a_weight_never_lowers_that_criterions_contribution(
    engine: Engine, catalogue: list[int], body: dict, criterion: str, bump: float
) -> None:
    base = _run(engine, {**body, "limit": 100, "near_misses": 50})
    raised = _run(engine, {**body, "weights": {criterion: 1 + bump}, "limit": 100, "near_misses": 50})

    def contributions(answer: dict) -> dict[int, float]:
        return {item["site"]["id"]: next(c["contribution"] for c in item["criteria"] if c["criterion"] == criterion)
                for item in answer["results"] + answer["near_misses"]}

    before, after = contributions(base), contributions(raised)
    for site_id in before.keys() & after.keys():
        assert after[site_id] >= before[site_id] - 0.01


def test_the_snapshot_follows_the_catalogue(engine: Engine, catalogue: list[int]) -> None:
    """A site published after a match is found by the next one; a removed one is gone."""
    from sqlalchemy import text

    requirement = {"land_area_m2": {"min": 9_000_000}, "near_misses": 0}
    assert _run(engine, requirement)["matching"] == 0
    with engine.begin() as conn:
        site = conn.execute(text(
            "INSERT INTO sites (kind, status, name, land_area_m2, geom, attributes) VALUES "
            "('A', 'published', 'Synthetic huge site', 9500000, ST_SetSRID(ST_MakePoint(9.7, 45.7), 4326), "
            "'{\"synthetic\": true}') RETURNING id")).scalar_one()
    try:
        answer = _run(engine, requirement)
        assert [r["site"]["id"] for r in answer["results"]] == [site]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sites WHERE id = :i"), {"i": site})
    assert _run(engine, requirement)["matching"] == 0


def test_a_worker_loads_the_snapshot_before_its_first_request(database_url: str, catalogue: list[int]) -> None:
    """The first investor to reach a worker does not wait for the snapshot to load."""
    from fastapi.testclient import TestClient
    from sqlalchemy.engine import make_url

    from app.api.main import create_app
    from app.scouting import snapshot

    snapshot._cache.snapshot = None
    with TestClient(create_app(database_url)):
        loaded = snapshot._cache.snapshot
        assert loaded is not None and len(loaded) == len(catalogue)
        assert loaded.version[0] == make_url(database_url).render_as_string(hide_password=True)
