"""OGC API - Features over a synthetic catalogue: paging, filters, sort, CQL2, errors."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Text, text


def _all_pages(api: TestClient, params: dict) -> tuple[list[int], int]:
    ids, url, matched = [], "/collections/sites/items", None
    query = dict(params)
    while url:
        body = api.get(url, params=query).json()
        query = None  # the next link carries the query
        matched = body["numberMatched"] if matched is None else matched
        assert body["numberMatched"] == matched
        assert body["numberReturned"] == len(body["features"])
        ids += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    return ids, matched


@pytest.mark.parametrize("params", [
    {"limit": 37},
    {"limit": 50, "sortby": "-land_area_m2"},
    {"limit": 13, "bbox": "9.0,45.3,9.6,45.7", "sortby": "price_eur"},
    {"limit": 25, "province": "MI,BG", "tenure": "buy"},
])
def test_paging_visits_every_match_once(api: TestClient, params: dict) -> None:
    ids, matched = _all_pages(api, params)
    assert len(ids) == matched == len(set(ids))
    single = api.get("/collections/sites/items", params={**params, "limit": 1000}).json()
    assert [f["id"] for f in single["features"]] == ids  # same order, page by page or at once


def test_prev_link_and_empty_page(api: TestClient) -> None:
    body = api.get("/collections/sites/items", params={"limit": 10, "offset": 10}).json()
    assert any(link["rel"] == "prev" for link in body["links"])
    beyond = api.get("/collections/sites/items", params={"offset": 100_000}).json()
    assert beyond["numberReturned"] == 0 and beyond["features"] == []


def test_sorting(api: TestClient) -> None:
    features = api.get("/collections/sites/items", params={"sortby": "-land_area_m2", "limit": 200}).json()["features"]
    areas = [f["properties"]["land_area_m2"] for f in features]
    assert areas == sorted(areas, reverse=True)


def test_property_filters(api: TestClient) -> None:
    body = api.get("/collections/sites/items", params={
        "min_land_area_m2": 30000, "max_price_eur": 8_000_000, "tenure": "buy", "kind": "A", "limit": 1000,
    }).json()
    assert body["numberMatched"] > 0
    for feature in body["features"]:
        p = feature["properties"]
        assert p["land_area_m2"] >= 30000 and p["price_eur"] <= 8_000_000 and p["kind"] == "A"
        assert p["availability"] in ("vendita", "vendita_o_locazione")
    zls = api.get("/collections/sites/items", params={"zone": "zls", "limit": 1000}).json()
    assert all("zls" in f["properties"]["zones"] for f in zls["features"])
    near = api.get("/collections/sites/items", params={"max_airport_km": 10, "limit": 1000}).json()
    assert all(f["properties"]["dist_airport_km"] <= 10 for f in near["features"])


def test_bbox(api: TestClient) -> None:
    body = api.get("/collections/sites/items", params={"bbox": "9.0,45.3,9.4,45.6", "limit": 1000}).json()
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"]
        assert 9.0 <= lon <= 9.4 and 45.3 <= lat <= 45.6


def test_cql2(api: TestClient) -> None:
    body = api.get("/collections/sites/items", params={
        "filter": "land_area_m2 BETWEEN 20000 AND 60000 AND (zoning = 'logistica' OR rail_siding = true)",
        "limit": 1000}).json()
    assert body["numberMatched"] > 0
    for f in body["features"]:
        p = f["properties"]
        assert 20000 <= p["land_area_m2"] <= 60000 and (p["zoning"] == "logistica" or p["rail_siding"])
    spatial = api.get("/collections/sites/items", params={
        "filter": "S_INTERSECTS(geometry, POLYGON((9.0 45.3, 9.4 45.3, 9.4 45.6, 9.0 45.6, 9.0 45.3)))",
        "limit": 1000}).json()
    bbox = api.get("/collections/sites/items", params={"bbox": "9.0,45.3,9.4,45.6", "limit": 1000}).json()
    assert {f["id"] for f in spatial["features"]} == {f["id"] for f in bbox["features"]}


@pytest.mark.parametrize("params, message", [
    ({"filter": "land_area_m2 >> 3"}, "cannot be parsed"),
    ({"filter": "email = 'x'"}, "uses email, not queryable"),
    ({"sortby": "email"}, "Cannot sort by 'email'"),
    ({"bbox": "9,45,8"}, "bbox must be minLon,minLat,maxLon,maxLat"),
    ({"site_type": "castle"}, "Unknown site_type castle"),
])
def test_bad_parameters_answer_400(api: TestClient, params: dict, message: str) -> None:
    response = api.get("/collections/sites/items", params=params)
    assert response.status_code == 400
    assert message in response.json()["error"]["message"]


def test_no_personal_or_internal_fields(api: TestClient) -> None:
    feature = api.get("/collections/sites/items", params={"limit": 1}).json()["features"][0]
    for key in ("candidacy_id", "lineage_id", "attributes", "declared_comune_istat", "status"):
        assert key not in feature["properties"]


def test_only_published_sites_are_served(api: TestClient, engine) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        hidden = conn.execute(text("SELECT min(id) FROM sites WHERE attributes @> '{\"synthetic\": true}'")).scalar()
        conn.execute(text("UPDATE sites SET status = 'submitted' WHERE id = :i"), {"i": hidden})
    try:
        assert api.get(f"/collections/sites/items/{hidden}").status_code == 404
        ids, _ = _all_pages(api, {"limit": 1000})
        assert hidden not in ids
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE sites SET status = 'published' WHERE id = :i"), {"i": hidden})


def test_collections_and_reference_items(api: TestClient) -> None:
    ids = [c["id"] for c in api.get("/collections").json()["collections"]]
    assert {"sites", "comuni", "provinces", "infrastructure.airport", "infrastructure.motorway_exit"} <= set(ids)
    milano = api.get("/collections/comuni/items/015146").json()
    assert milano["properties"]["name"] == "Milano" and milano["geometry"]["type"] == "MultiPolygon"
    airports = api.get("/collections/infrastructure.airport/items").json()
    assert {f["properties"]["code"] for f in airports["features"]} == {"MXP", "LIN", "BGY", "VBS"}
    assert api.get("/collections/nothing").status_code == 404
    queryables = api.get("/collections/sites/queryables")
    assert queryables.headers["content-type"] == "application/schema+json"
    assert queryables.json()["properties"]["land_area_m2"] == {"type": "number"}
    assert "extent" in api.get("/collections/sites").json()


def test_landing_and_conformance(api: TestClient) -> None:
    rels = {link["rel"] for link in api.get("/").json()["links"]}
    assert {"service-desc", "conformance", "data"} <= rels
    assert any("cql2-text" in c for c in api.get("/conformance").json()["conformsTo"])


def test_lists_leave_heavy_properties_to_the_item(api: TestClient) -> None:
    listed = api.get("/collections/sites/items", params={"limit": 1}).json()["features"][0]
    assert "nearest" not in listed["properties"] and "dist_airport_km" in listed["properties"]
    item = api.get(f"/collections/sites/items/{listed['id']}").json()
    assert item["properties"]["nearest"]["airport"]["method"] == "straight_line"


def test_stored_listings_equal_the_features_computed_live(engine: Engine) -> None:
    """Pages of sites read each feature from site_listings (kept by triggers); the text
    must equal what the API computes for a feature, for every site, after an update of
    one and when one is deleted."""
    from sqlalchemy import select

    from app.catalogue.collections import feature_json, site_collection
    from app.catalogue.models import Site, SiteListing

    live = select(Site.id, feature_json(site_collection(), listing=True).cast(Text))

    def compare(conn) -> int:
        stored = {i: json.loads(f) for i, f in conn.execute(select(SiteListing.id, SiteListing.feature))}
        computed = {i: json.loads(f) for i, f in conn.execute(live)}
        assert stored == computed
        return len(stored)

    with engine.connect() as conn:  # rolled back at the end
        conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        assert compare(conn) > 0
        site = conn.execute(text("SELECT min(id) FROM sites")).scalar_one()
        conn.execute(text("UPDATE sites SET price_eur = 1234567, name = 'Renamed ''synthetic''' WHERE id = :i"), {"i": site})
        compare(conn)
        assert json.loads(conn.execute(select(SiteListing.feature).where(SiteListing.id == site)).scalar_one())[
            "properties"]["name"] == "Renamed 'synthetic'"
        conn.execute(text("DELETE FROM sites WHERE id = :i"), {"i": site})
        assert conn.execute(select(SiteListing.id).where(SiteListing.id == site)).first() is None
