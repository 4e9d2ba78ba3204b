"""Unmet-demand analytics: every search recorded without personal data, and the report's
figures equal to a direct computation over the recorded rows. The searches of the report
test are synthetic rows written here (named so); the others are real ``POST /match``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import Counter
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.core import settings
from app.scouting.demand import purge
from app.scouting.models import MatchSearch

PERSONAL = [re.compile(p) for p in (r"[^@\s\"]+@[^@\s\"]+\.[a-z]{2,}", r"\b[A-Z]{6}\d{2}[A-Z]\d{2}[A-Z]\d{3}[A-Z]\b",
                                    r"\b\d{11}\b", r"\+39", r"\b127\.0\.0\.1\b", r"testclient")]


@pytest.fixture
def searches(api: TestClient, engine: Engine) -> Iterator[None]:
    api.app.state.searches.flush()  # what earlier tests left pending
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM match_searches"))
    yield
    api.app.state.searches.flush()
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM match_searches"))
    settings.analytics_settings.cache_clear()


def _rows(engine: Engine, api: TestClient | None = None) -> list[dict]:
    """The recorded searches, after writing what the API holds pending."""
    if api is not None:
        api.app.state.searches.flush()
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text("SELECT * FROM match_searches ORDER BY id")).mappings()]


def test_every_search_is_recorded_without_personal_data(api: TestClient, accounts: dict, engine: Engine,
                                                        searches: None) -> None:
    asked = {"activity": "logistics", "max_motorway_km": 2, "land_area_m2": {"min": 40000}}
    public = api.post("/match", json=asked)
    staff = api.post("/match", json={"activity": "data_centre"}, headers=accounts["staff"])
    assert public.status_code == staff.status_code == 200
    rows = _rows(engine, api)
    assert [r["caller"] for r in rows] == ["public", "staff"]
    assert set(rows[0]) == {"id", "at", "caller", "activity", "provinces", "requirement", "matching", "near_misses"}
    assert rows[0]["requirement"]["max_motorway_km"] == 2 and rows[0]["matching"] == public.json()["matching"]
    best = public.json()["near_misses"][0]
    assert [f["criterion"] for f in rows[0]["near_misses"][0]["fails"]] == [f["criterion"] for f in best["fails"]]
    assert all(f["asked"] is not None for m in rows[0]["near_misses"] for f in m["fails"])
    dumped = json.dumps(rows, default=str)
    assert [p.pattern for p in PERSONAL if p.search(dumped)] == []


def test_public_searches_can_be_switched_off(api: TestClient, accounts: dict, engine: Engine, searches: None,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_ANALYTICS_RECORD_PUBLIC", "false")
    settings.analytics_settings.cache_clear()
    api.post("/match", json={"activity": "logistics"})
    api.post("/match", json={"activity": "logistics"}, headers=accounts["staff"])
    assert [r["caller"] for r in _rows(engine, api)] == ["staff"]


def _synthetic(engine: Engine) -> list[MatchSearch]:
    """Synthetic recorded searches with known answers."""
    def search(activity, provinces, matching, fails, day):
        return MatchSearch(caller="public", activity=activity, provinces=provinces, requirement={"synthetic": True},
                           matching=matching, at=dt.datetime(2026, 11, day, 12, tzinfo=dt.UTC),
                           near_misses=[{"score": 50, "fails": fails}] if fails is not None else [])
    motorway = {"criterion": "max_motorway_km", "value": 8.2, "asked": 5}
    land = {"criterion": "land_area_m2", "value": 30000, "asked": {"min": 50000}}
    rows = [search("logistics", ["MI"], 0, [motorway], 3), search("logistics", ["MI", "BG"], 0, [motorway], 4),
            search("logistics", [], 0, [land, {**motorway, "value": 6.0}], 5),
            search("logistics", ["MI"], 1, None, 6), search("logistics", ["MI"], 12, None, 7),
            search(None, ["BS"], 0, None, 8), search("data_centre", [], 2, None, 9)]
    with Session(engine, expire_on_commit=False) as db:
        db.add_all(rows)
        db.commit()
        return rows


def test_the_report_equals_a_direct_computation(api: TestClient, accounts: dict, engine: Engine,
                                                searches: None) -> None:
    rows = _synthetic(engine)
    answer = api.get("/analytics/demand", headers=accounts["staff"], params={"since": "2026-11-01",
                                                                            "until": "2026-11-30"})
    assert answer.status_code == 200
    body = answer.json()
    expected: Counter = Counter()
    for r in rows:
        for p in r.provinces or ["*"]:
            key = (r.activity or "custom", p, "2026-11")
            expected[(*key, "searches")] += 1
            expected[(*key, "no_result")] += r.matching == 0
            expected[(*key, "few_results")] += 1 <= r.matching < 3
    got: Counter = Counter()
    for g in body["groups"]:
        for field in ("searches", "no_result", "few_results"):
            got[(g["activity"], g["province"], g["month"], field)] = g[field]
    assert +got == +expected
    blocking = {(b["activity"], b["failed"]): (b["searches"], b["share"]) for b in body["blocking"]}
    assert blocking[("logistics", "max_motorway_km")] == (2, round(2 / 3, 3))
    assert blocking[("logistics", "land_area_m2 + max_motorway_km")] == (1, round(1 / 3, 3))
    assert blocking[("custom", "(no near miss)")] == (1, 1.0)
    nearest = {(n["activity"], n["criterion"]): n for n in body["nearest"]}
    motorway = nearest[("logistics", "max_motorway_km")]
    assert motorway["searches"] == 3 and motorway["median_found"] == 8.2 and motorway["median_asked"] == 5
    assert nearest[("logistics", "land_area_m2")]["median_asked"] == 50000
    only_mi = api.get("/analytics/demand", headers=accounts["staff"], params={"province": "mi"}).json()
    assert {g["province"] for g in only_mi["groups"]} == {"MI", "BG"}  # searches that asked for MI (and BG)
    assert sum(g["searches"] for g in only_mi["groups"] if g["province"] == "MI") == 4

    exported = api.get("/analytics/demand.csv", headers=accounts["staff"], params={"activity": "logistics"})
    assert exported.headers["content-disposition"].startswith("attachment")
    table = list(csv.reader(io.StringIO(exported.text)))
    assert table[0] == ["month", "activity", "province", "searches", "no_result", "few_results"]
    assert sum(int(r[3]) for r in table[1:]) == sum(len(r.provinces or ["*"]) for r in rows if r.activity == "logistics")


def test_old_searches_are_purged(engine: Engine, searches: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _synthetic(engine)
    monkeypatch.setenv("OPPORTUNITY_ANALYTICS_RETENTION_DAYS", "30")
    settings.analytics_settings.cache_clear()
    with Session(engine) as db:
        gone = purge(db, now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
        db.commit()
    assert gone == 3  # 3, 4 and 5 November are over 30 days before 6 December
    assert len(_rows(engine)) == 4


@pytest.mark.parametrize("path, param", [("/analytics/demand", "until"), ("/analytics/demand", "since"),
                                         ("/analytics/demand.csv", "until"), ("/audit", "until"),
                                         ("/candidacies", "submitted_to")])
def test_days_beyond_the_service_s_range_are_a_422_not_a_500(api: TestClient, accounts: dict, path: str,
                                                              param: str) -> None:
    """until=9999-12-31 overflowed the day after it (OverflowError, 500): finding 7 of the
    hostile-client issue."""
    for day in ("9999-12-31", "0001-01-01"):
        answer = api.get(path, headers=accounts["staff"], params={param: day})
        assert answer.status_code == 422, (path, param, day, answer.text)
        assert answer.json()["error"]["details"][0]["location"][-1] == param
    assert api.get(path, headers=accounts["staff"], params={param: "2100-12-31"}).status_code == 200


def test_bad_report_parameters_are_refused(api: TestClient, accounts: dict) -> None:
    wrong = api.get("/analytics/demand", headers=accounts["staff"], params={"province": "Milano"})
    assert wrong.status_code == 422
    assert api.get("/analytics/demand", headers=accounts["other"]).status_code == 403


def test_searches_are_written_in_one_batch_with_their_own_time(database_url: str, engine: Engine, searches: None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer does not wait for the write: searches stay pending until the flush,
    which writes all of them in one statement, each with the time it was asked."""
    from app.api.main import create_app

    monkeypatch.setenv("OPPORTUNITY_ANALYTICS_FLUSH_INTERVAL_S", "60")  # no periodic flush during the test
    settings.analytics_settings.cache_clear()
    with TestClient(create_app(database_url)) as client:
        log = client.app.state.searches
        before = dt.datetime.now(dt.UTC)
        for body in ({"activity": "logistics"}, {"activity": "data_centre"}, {"activity": "offices"}):
            assert client.post("/match", json=body).status_code == 200
        assert len(log.pending) == 3
        assert _rows(engine) == []
        assert log.flush() == 3 and len(log.pending) == 0
        rows = _rows(engine)
        assert [r["activity"] for r in rows] == ["logistics", "data_centre", "offices"]
        assert all(before <= r["at"] <= dt.datetime.now(dt.UTC) for r in rows)
        assert log.flush() == 0


def test_shutdown_writes_what_is_pending(database_url: str, engine: Engine, searches: None) -> None:
    from app.api.main import create_app

    with TestClient(create_app(database_url)) as client:
        assert client.post("/match", json={"activity": "rnd"}).status_code == 200
        assert len(client.app.state.searches.pending) == 1
    assert [r["activity"] for r in _rows(engine)] == ["rnd"]


def test_searches_wait_when_the_database_is_unreachable(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing is lost while the database is away (up to pending_max, oldest dropped)."""
    from sqlalchemy import create_engine

    from app.scouting.demand import SearchLog
    from app.scouting.requirements import Requirement

    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none", connect_args={"connect_timeout": 2})
    log = SearchLog(unreachable, pending_max=100)
    answer = {"requirement": {"activity": "rnd"}, "matching": 0, "near_misses": []}
    for _ in range(120):
        log.add(Requirement(activity="rnd"), answer, "public")
    assert len(log.pending) == 100
    assert log.flush() == 0
    assert len(log.pending) == 100
    assert "could not record 100 searches" in caplog.text


MILANO_BOX = [[9.0, 45.3], [9.4, 45.3], [9.4, 45.6], [9.0, 45.6], [9.0, 45.3]]


@pytest.mark.parametrize("planted", [
    {"type": "Polygon", "coordinates": [MILANO_BOX], "contact": "mario.rossi@example.com"},
    {"type": "Polygon", "coordinates": [MILANO_BOX], "properties": {"cf": "RSSMRA85T10A562S"}},
    {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [MILANO_BOX]}, "properties": {}},
    {"type": "Polygon", "coordinates": [[[9.0, 45.3, "mario.rossi@example.com"], *MILANO_BOX[1:]]]},
])
def test_a_polygon_is_strict_geojson_and_nothing_planted_in_it_is_stored(
        api: TestClient, accounts: dict, engine: Engine, searches: None, planted: dict) -> None:
    """Unknown keys inside area.polygon were kept and stored with the recorded search
    (finding 6 of the hostile-client issue): now they are a 422 and nothing is recorded."""
    answer = api.post("/match", headers=accounts["staff"], json={"area": {"polygon": planted}})
    assert answer.status_code == 422, answer.text
    assert _rows(engine, api) == []


def test_a_recorded_polygon_is_stored_once_and_normalised(api: TestClient, accounts: dict, engine: Engine,
                                                          searches: None) -> None:
    """A 0.69 MB polygon was stored as 1.7 MB, copied into every near miss: the near
    misses now keep its size only, and the requirement keeps type and coordinates."""
    ring = [[9.0 + 0.4 * i / 2000, 45.3] for i in range(2000)] + [[9.4, 45.6], [9.0, 45.6], [9.0, 45.3]]
    polygon = {"type": "Polygon", "coordinates": [[[x, y, 120.0] for x, y in ring]]}  # with heights
    answer = api.post("/match", headers=accounts["staff"],
                      json={"area": {"polygon": polygon}, "land_area_m2": {"min": 40_000}, "near_misses": 10})
    assert answer.status_code == 200, answer.text
    [row] = _rows(engine, api)
    stored = row["requirement"]["area"]["polygon"]
    assert set(stored) == {"type", "coordinates"} and len(stored["coordinates"][0][0]) == 2
    sent = len(json.dumps(polygon))
    assert len(json.dumps(row["near_misses"])) < sent / 10 and len(json.dumps(row, default=str)) < 1.5 * sent
    area_asked = [f["asked"] for m in row["near_misses"] for f in m["fails"] if f["criterion"] == "area"]
    assert all(a == {"polygon_vertices": 2003} for a in area_asked)


def test_a_polygon_with_too_many_vertices_is_refused_with_how_to_fix_it(api: TestClient) -> None:
    ring = [[9.0 + 0.4 * i / 6000, 45.3] for i in range(6000)] + [[9.4, 45.6], [9.0, 45.3]]
    answer = api.post("/match", json={"area": {"polygon": {"type": "Polygon", "coordinates": [ring]}}})
    assert answer.status_code == 422
    assert "at most 5000" in json.dumps(answer.json()["error"]["details"])


def test_area_matches_are_rate_limited_per_address(api: TestClient, engine: Engine,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_LIMIT_AREA_MATCHES", "3")
    settings.limit_settings.cache_clear()
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rate_limits"))
        body = {"area": {"point": [9.19, 45.46], "radius_km": 10}}
        codes = [api.post("/match", json=body, headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code
                 for _ in range(2)] + [api.post("/match", json=body).status_code for _ in range(3)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]  # the Basic header counted too
        refused = api.post("/match", json=body)
        assert int(refused.headers["Retry-After"]) >= 1
        assert api.post("/match", json={"land_area_m2": {"min": 1000}}).status_code == 200  # plain matches flow
        # a header that is no valid credential leaves the caller anonymous, and still counted
        for junk in ({"Authorization": "Basic Zm9vOmJhcg=="}, {"X-API-Key": "not-a-key"}):
            assert api.post("/match", json=body, headers=junk).status_code in (401, 429), junk
    finally:
        settings.limit_settings.cache_clear()
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM rate_limits"))
