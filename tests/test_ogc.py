"""OGC API - Features Part 1 and Part 3 as clients (GDAL, OWSLib, QGIS) rely on them:
unknown parameters and invalid values are 400 with an OGC exception, limits are capped,
bbox takes 4 or 6 numbers and a bbox-crs, filters take a filter-crs, features are
described by a typed JSON Schema, items link to themselves and their collection, and
paging links never grow."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

ITEMS = "/collections/sites/items"
BOX = (9.0, 45.3, 9.4, 45.6)


def _matched(api: TestClient, **params: object) -> int:
    answer = api.get(ITEMS, params={"limit": 1, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()["numberMatched"]


def test_an_unknown_parameter_is_a_400_with_an_ogc_exception(api: TestClient) -> None:
    answer = api.get(ITEMS, params={"min_land_area": 100000})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "InvalidParameterValue"
    assert "Unknown query parameter(s): min_land_area" in body["description"]
    assert "Parametri sconosciuti: min_land_area" in body["error"]["message_it"]
    assert api.get("/collections/infrastructure.airport/items", params={"min_land_area_m2": 1}).status_code == 400


def test_an_invalid_value_is_a_400_not_a_422(api: TestClient) -> None:
    for params in ({"limit": "many"}, {"offset": -1}, {"filter-lang": "cql2-json"}, {"f": "html"}):
        answer = api.get(ITEMS, params=params)
        assert answer.status_code == 400 and answer.json()["code"] == "InvalidParameterValue", params


def test_limit_above_the_maximum_is_capped(api: TestClient) -> None:
    body = api.get(ITEMS, params={"limit": 5000}).json()
    assert body["numberReturned"] == min(1000, body["numberMatched"]) and len(body["features"]) == body["numberReturned"]
    assert "limit=1000" in next(link["href"] for link in body["links"] if link["rel"] == "self")


def test_bbox_with_six_numbers_and_in_other_crs(api: TestClient) -> None:
    expected = _matched(api, bbox=",".join(map(str, BOX)))
    assert expected > 0
    assert _matched(api, bbox=f"{BOX[0]},{BOX[1]},0,{BOX[2]},{BOX[3]},500") == expected
    lat_lon = f"{BOX[1]},{BOX[0]},{BOX[3]},{BOX[2]}"  # EPSG:4326 is latitude first
    assert _matched(api, bbox=lat_lon, **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}) == expected
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = to_3857.transform([BOX[0], BOX[2]], [BOX[1], BOX[3]])
    assert _matched(api, bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}) \
        == expected
    refused = api.get(ITEMS, params={"bbox": "1,2,3,4", "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/32632"})
    assert refused.status_code == 400 and "bbox-crs" in refused.json()["description"]


def test_filter_crs(api: TestClient) -> None:
    expected = _matched(api, bbox=",".join(map(str, BOX)))
    to_3857 = Transformer.from_crs(4326, 3857, always_xy=True)
    (x0, x1), (y0, y1) = to_3857.transform([BOX[0], BOX[2]], [BOX[1], BOX[3]])
    assert _matched(api, filter=f"S_INTERSECTS(geometry, BBOX({x0},{y0},{x1},{y1}))",
                    **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}) == expected
    polygon = f"POLYGON(({BOX[1]} {BOX[0]},{BOX[1]} {BOX[2]},{BOX[3]} {BOX[2]},{BOX[3]} {BOX[0]},{BOX[1]} {BOX[0]}))"
    assert _matched(api, filter=f"S_INTERSECTS(geometry, {polygon})",
                    **{"filter-crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}) == expected


def test_features_are_described_by_a_typed_schema(api: TestClient) -> None:
    links = {link["rel"]: link["href"] for link in api.get("/collections/sites").json()["links"]}
    schema = api.get(urlsplit(links["describedby"]).path)
    assert schema.headers["content-type"].startswith("application/schema+json")
    properties = schema.json()["properties"]["properties"]["properties"]
    assert properties["investment_eur"] == {"type": "number"}
    assert properties["project_floor_area_m2"] == {"type": "number"}
    assert properties["floors"] == {"type": "integer"} and properties["fibre"] == {"type": "boolean"}
    assert properties["available_from"] == {"type": "string", "format": "date"}
    queryables = api.get("/collections/sites/queryables").json()["properties"]
    assert queryables["available_from"] == {"type": "string", "format": "date"}


def test_a_single_item_links_to_itself_and_its_collection(api: TestClient, catalogue: list[int]) -> None:
    feature = api.get(f"{ITEMS}/{catalogue[0]}").json()
    rels = {link["rel"]: link["href"] for link in feature["links"]}
    assert rels["self"].endswith(f"{ITEMS}/{catalogue[0]}") and rels["collection"].endswith("/collections/sites")


def test_paging_links_do_not_grow_when_a_client_appends_its_filter(api: TestClient) -> None:
    cql = "land_area_m2 > 1000"
    url = f"{ITEMS}?limit=10&filter={cql}"
    for _ in range(3):
        body = api.get(url).json()
        nxt = next(link["href"] for link in body["links"] if link["rel"] == "next")
        query = parse_qsl(urlsplit(nxt).query)
        assert sorted(k for k, _ in query) == ["filter", "limit", "offset"]
        url = f"{urlsplit(nxt).path}?{urlsplit(nxt).query}&filter={cql}"  # what GDAL does with its filter
    different = api.get(f"{ITEMS}?filter={cql}&filter=land_area_m2 > 5")
    assert different.status_code == 400 and "given twice with different values: filter" in different.json()["description"]


def test_landing_page_names_the_openapi_version_served(api: TestClient) -> None:
    desc = next(link for link in api.get("/").json()["links"] if link["rel"] == "service-desc")
    assert desc["type"].endswith("version=3.1") and api.get("/api").json()["openapi"].startswith("3.1")


@pytest.mark.parametrize("conformance", [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
])
def test_conformance(api: TestClient, conformance: str) -> None:
    assert conformance in api.get("/conformance").json()["conformsTo"]


def test_queryables_as_json_schema_or_plain_json_for_clients_that_only_take_json(api) -> None:
    schema = api.get("/collections/sites/queryables", headers={"Accept": "application/schema+json"})
    assert schema.headers["content-type"] == "application/schema+json"
    assert "queryables" not in schema.json()
    assert schema.json()["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    plain = api.get("/collections/sites/queryables", headers={"Accept": "application/geo+json, application/json"})
    assert plain.headers["content-type"] == "application/json"
    listed = {q["id"]: q["type"] for q in plain.json()["queryables"]}
    assert listed["land_area_m2"] == "number" and "geometry" not in listed
    assert set(listed) == set(plain.json()["properties"]) - {"geometry"}
    links = {link["rel"] for link in api.get("/collections/sites").json()["links"]}
    assert {"queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables"} <= links


def test_cql_text_is_read_as_cql2_text(api) -> None:
    both = [api.get("/collections/sites/items", params={"filter": "land_area_m2 > 30000", "filter-lang": lang,
                                                           "limit": 1}).json()["numberMatched"]
            for lang in ("cql2-text", "cql-text")]
    assert both[0] == both[1] > 0
    wrong = api.get("/collections/sites/items", params={"filter": "land_area_m2 > 1", "filter-lang": "cql2-json"})
    assert wrong.status_code == 400


# -- what desktop clients send (issue "What real clients send", finding 3) ------------------

@pytest.mark.parametrize("sent, same_as", [
    ("fibre = 1", "fibre = true"), ("fibre = 0", "fibre = false"), ("rail_siding = 1", "rail_siding = true"),
    ("available_from >= '2027-01-01T'", "available_from >= DATE('2027-01-01')"),
    ("available_from >= '2027-01-01T00:00:00Z'", "available_from >= DATE('2027-01-01')"),
    ("available_from < '2027-01-01T00:00:00.000Z'", "available_from < DATE('2027-01-01')"),
    ("last_confirmed_at >= '2020-01-01T'", "last_confirmed_at >= TIMESTAMP('2020-01-01T00:00:00Z')"),
])
def test_gdal_forms_of_booleans_and_dates_mean_what_they_say(api: TestClient, sent: str, same_as: str) -> None:
    assert _matched(api, filter=sent) == _matched(api, filter=same_as)


def test_is_null_works_on_every_returned_property(api: TestClient) -> None:
    total = _matched(api)
    for name in ("description_en", "description_it", "address", "investment_eur", "sectors", "zones", "nearest",
                 "allowed_functions", "last_confirmed_at", "public_id"):
        nulls, values = _matched(api, filter=f"{name} IS NULL"), _matched(api, filter=f"{name} IS NOT NULL")
        assert nulls + values == total, name
    assert _matched(api, filter="investment_eur IS NULL") > 0 and _matched(api, filter="investment_eur IS NOT NULL") > 0


def test_queryables_list_every_scalar_returned_property_with_its_type(api: TestClient) -> None:
    listed = api.get(ITEMS.removesuffix("/items") + "/queryables").json()["properties"]
    feature = api.get(ITEMS, params={"limit": 1}).json()["features"][0]["properties"]
    scalar = {k for k, v in feature.items() if not isinstance(v, list | dict)}
    assert scalar <= set(listed), scalar - set(listed)
    assert listed["fibre"] == {"type": "boolean"} and listed["available_from"] == {"type": "string", "format": "date"}
    assert listed["floors"] == {"type": "integer"} and listed["description_en"] == {"type": "string"}
    comuni = api.get("/collections/comuni/queryables").json()["properties"]
    assert comuni["population"] == {"type": "integer"} and comuni["name"] == {"type": "string"}


@pytest.mark.parametrize("nonsense, says", [
    ("fibre = 2", "fibre is boolean"),
    ("fibre = 'yes'", "fibre is boolean"),
    ("available_from > '01/06/2026'", "available_from is date"),
    ("available_from > 'tomorrow'", "available_from is date"),
    ("sectors = 'chemicals'", "sectors is a list or an object"),
    ("nearest = 'x'", "nearest is a list or an object"),
    ("S_INTERSECTS(name, POINT(9.2 45.5))", "compares geometries, and name is not one"),
    ("S_INTERSECTS(land_area_m2, BBOX(9.0,45.3,9.4,45.6))", "land_area_m2 is not one"),
    ("S_WITHIN(available_from, POLYGON((9 45, 9.1 45, 9.1 45.1, 9 45)))", "available_from is not one"),
    ("S_INTERSECTS(geometry, name)", "name is not one"),
    ("S_INTERSECTS(geometry, 5)", "5 is not one"),
    ("S_INTERSECTS(geometry, 'POINT(9 45)')", "'POINT(9 45)' is not one"),
    ("zoning = land_area_m2", "zoning is text and land_area_m2 is number"),
    ("CASEI(land_area_m2) = CASEI('x')", "works on text only"),
    ("no_such_property IS NULL", "not queryable"),
])
def test_nonsense_is_still_refused_with_an_ogc_exception(api: TestClient, nonsense: str, says: str) -> None:
    answer = api.get(ITEMS, params={"filter": nonsense})
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "InvalidParameterValue" and says in body["description"], body["description"]
    assert body["error"]["message_it"]


# -- Part 1's datetime, as QGIS 3.22 sends a layer's date filter --------------------------------

@pytest.mark.parametrize("datetime, cql2", [
    ("2027-01-01/9999-12-31T00:00:00Z", "available_from >= DATE('2027-01-01')"),  # QGIS's open end
    ("0000-01-01T00:00:00Z/2026-06-30", "available_from <= DATE('2026-06-30')"),
    ("2027-01-01/..", "available_from >= DATE('2027-01-01')"),
    ("../2026-06-30T10:00:00Z", "available_from <= DATE('2026-06-30')"),  # the day that holds the instant
    ("2026-03-01/2026-09-30", "available_from >= DATE('2026-03-01') AND available_from <= DATE('2026-09-30')"),
    ("2026-03-01", "available_from = DATE('2026-03-01')"),
])
def test_datetime_filters_on_the_day_a_site_becomes_available(api: TestClient, datetime: str, cql2: str) -> None:
    assert _matched(api, datetime=datetime) == _matched(api, filter=cql2)


@pytest.mark.parametrize("path, datetime, says", [
    (ITEMS, "yesterday", "is not an RFC 3339 date"),
    (ITEMS, "2026-13-01", "is not an RFC 3339 date"),
    (ITEMS, "0001-01-01T00:00:00+01:00", "is not an RFC 3339 date"),  # before year 1 in UTC
    (ITEMS, "2026-01-01/2026-02-01/2026-03-01", "one interval"),
    (ITEMS, "2027-01-01/2026-01-01", "ends (2026-01-01) before it starts (2027-01-01)"),
    (ITEMS, "..", "needs a date"),
    ("/collections/comuni/items", "2026-01-01", "has no temporal property"),
])
def test_a_bad_datetime_is_a_400_that_says_why(api: TestClient, path: str, datetime: str, says: str) -> None:
    answer = api.get(path, params={"datetime": datetime})
    assert answer.status_code == 400 and says in answer.json()["description"], answer.text


# -- no filter a client can write is a 500 (finding 7 of the hostile-client issue) -----------

PROPERTIES = ["name", "land_area_m2", "floors", "fibre", "available_from", "last_confirmed_at", "sectors",
              "nearest", "geometry", "description_en", "public_id"]
LITERALS = ["5", "-1.5", "'x'", "'2026-06-01'", "'2026-06-01T'", "DATE('2026-06-01')",
            "TIMESTAMP('2026-06-01T00:00:00Z')", "true", "1", "0", "NULL", "POINT(9.2 45.5)",
            "BBOX(9.0,45.3,9.4,45.6)", "POLYGON((9 45, 9.1 45, 9.1 45.1, 9 45))", "'POINT(9 45)'", "(1, 2)"]
SPATIAL = ["S_INTERSECTS", "S_WITHIN", "S_CONTAINS", "S_DISJOINT", "S_EQUALS", "S_TOUCHES", "S_CROSSES",
           "S_OVERLAPS"]
TEMPORAL = ["T_BEFORE", "T_AFTER", "T_INTERSECTS", "T_DURING"]


@st.composite
def cql2_filters(draw: st.DrawFn) -> str:
    left = draw(st.sampled_from(PROPERTIES + LITERALS))
    right = draw(st.sampled_from(PROPERTIES + LITERALS))
    wrap = draw(st.sampled_from(["{}", "CASEI({})", "ACCENTI({})", "LOWER({})"]))
    form = draw(st.sampled_from([
        "{l} = {r}", "{l} <> {r}", "{l} < {r}", "{l} >= {r}", "{l} LIKE {r}", "{l} BETWEEN {r} AND {r}",
        "{l} IN ({r}, {r})", "{l} IS NULL", "{l} IS NOT NULL", "NOT ({l} = {r})", "{l} + 1 > {r}",
        *[f"{p}({{l}}, {{r}})" for p in SPATIAL], *[f"{p}({{l}}, {{r}})" for p in TEMPORAL],
        "S_DWITHIN({l}, {r}, 10, meters)", "{l} = {r} AND {r} = {l}",
    ]))
    return form.format(l=wrap.format(left), r=right)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=cql2_filters())
def test_no_cql2_filter_is_a_server_error(api: TestClient, text: str) -> None:
    """Every predicate and function, every kind of property, every kind of literal: an
    answer or a 400 with an OGC exception, never a 5xx."""
    answer = api.get(ITEMS, params={"filter": text, "limit": 1})
    assert answer.status_code in (200, 400), (text, answer.status_code, answer.text[:300])
    if answer.status_code == 400:
        assert answer.json()["code"] == "InvalidParameterValue"
