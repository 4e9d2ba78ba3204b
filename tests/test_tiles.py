"""Vector tiles of published sites, decoded: features, clusters, caching headers."""

from __future__ import annotations

import math

import mapbox_vector_tile
from fastapi.testclient import TestClient


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def test_detail_tile_holds_the_sites_in_it(api: TestClient) -> None:
    z = 12  # the first zoom with single sites rather than clusters
    x, y = tile_of(9.19, 45.46, z)  # Milano
    response = api.get(f"/tiles/sites/{z}/{x}/{y}.pbf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    layer = mapbox_vector_tile.decode(response.content)["sites"]
    west = x / 2**z * 360 - 180
    east = (x + 1) / 2**z * 360 - 180
    items = api.get("/collections/sites/items", params={"bbox": f"{west},45.3,{east},45.6", "limit": 1000}).json()
    in_tile = {f["id"] for f in items["features"] if tile_of(*f["geometry"]["coordinates"], z) == (x, y)}
    assert {f["id"] for f in layer["features"]} == in_tile and in_tile
    props = layer["features"][0]["properties"]
    assert {"name", "kind", "site_type", "land_area_m2"} <= set(props)


def test_low_zoom_tiles_are_clusters(api: TestClient) -> None:
    """The clusters of the tiles covering Lombardy at zoom 5 count every published site."""
    (x0, y0), (x1, y1) = tile_of(8.4, 46.7, 5), tile_of(11.5, 44.6, 5)
    total = 0
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            response = api.get(f"/tiles/sites/5/{x}/{y}.pbf")
            if response.status_code == 204:
                continue
            layer = mapbox_vector_tile.decode(response.content)["sites"]
            assert all(f["properties"]["cluster"] for f in layer["features"])
            total += sum(f["properties"]["count"] for f in layer["features"])
    assert total == api.get("/collections/sites/items", params={"limit": 1}).json()["numberMatched"]


def test_etag_and_cache(api: TestClient) -> None:
    x, y = tile_of(9.19, 45.46, 9)
    first = api.get(f"/tiles/sites/9/{x}/{y}.pbf")
    assert first.headers["cache-control"].startswith("public")
    again = api.get(f"/tiles/sites/9/{x}/{y}.pbf", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_empty_and_impossible_tiles(api: TestClient) -> None:
    assert api.get("/tiles/sites/10/0/0.pbf").status_code == 204  # mid-Pacific
    for layer in ("sites", "base"):
        outside = api.get(f"/tiles/{layer}/3/8/0.pbf")
        assert outside.status_code == 404 and outside.json()["error"]["message"] == "Tile 3/8/0 does not exist."
        assert api.get(f"/tiles/{layer}/23/0/0.pbf").status_code == 422
    assert api.get("/tiles/base/10/0/0.pbf").status_code == 204


def test_tilejson(api: TestClient) -> None:
    body = api.get("/tiles/sites.json").json()
    assert body["tilejson"] == "3.0.0" and body["tiles"][0].endswith("/tiles/sites/{z}/{x}/{y}.pbf")
    assert body["vector_layers"][0]["id"] == "sites"


def test_the_basemap_shows_motorways_railways_and_exits(api: TestClient, shared_data) -> None:
    x, y = tile_of(9.2, 45.45, 11)  # Milano: the A4/A51 ring, railways and exits
    layers = mapbox_vector_tile.decode(api.get(f"/tiles/base/11/{x}/{y}.pbf").content)
    kinds = {f["properties"]["kind"] for f in layers["transport"]["features"]}
    assert kinds == {"motorway", "railway_line"}
    names = [f["properties"]["name"] for f in layers["exits"]["features"]]
    assert names and all(" – " in n for n in names)  # "A51 – Milano ..."
    assert "provinces" in layers and "comuni" in layers
