"""Reference layers read from a service rather than a file: MapServer (a third-party
server, Debian's package) publishes the real motorway junctions of ../shared/data as WFS
2.0 (in UTM 32N, so the reader must reproject and mind the axis order) and as OGC API -
Features (50 items a page, so it must follow the next links)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine, text

from app.reference.layers import LayerFileOptions, load_layer_file
from geo.layers import LayerError, read_service, service_kind
from tests.conftest import ROOT
from tests.live import free_port
from tests.mapserver import mapserv_path

pytestmark = pytest.mark.shared_data
JUNCTIONS = Path("reference/transport/motorway_junctions_lombardia.geojson")


@pytest.fixture(scope="module")
def server(shared_data: Path) -> Iterator[str]:
    """MapServer in a process of its own (CGI forks must not happen in the test process,
    whose GDAL and curl threads would be copied into them)."""
    mapserv_path()
    process = subprocess.Popen([sys.executable, "-m", "tests.mapserver", str(shared_data / JUNCTIONS)],
                               cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        base = process.stdout.readline().strip()
        assert base.startswith("http://127.0.0.1:"), "MapServer's test server did not start"
        yield base
    finally:
        process.kill()
        process.wait(10)


@pytest.fixture(scope="module")
def truth(shared_data: Path) -> dict[str, tuple[float, float]]:
    features = json.loads((shared_data / JUNCTIONS).read_text())["features"]
    return {f["properties"]["codice"]: tuple(f["geometry"]["coordinates"]) for f in features}


def _wfs(base: str) -> str:
    return f"{base}/cgi-bin/mapserv?service=WFS&version=2.0.0&request=GetCapabilities&typeNames=ms:junctions"


def _oapif(base: str) -> str:
    return f"{base}/cgi-bin/mapserv/lombardia/ogcapi/collections/junctions"


@pytest.mark.parametrize("address", [_wfs, _oapif], ids=["wfs", "oapif"])
def test_every_feature_comes_back_where_it_is(server: str, truth: dict, address) -> None:
    frame = read_service(address(server))
    assert len(frame) == len(truth) == 181
    assert frame.crs.to_epsg() == 4326
    got = {code: (g.x, g.y) for code, g in zip(frame["codice"], frame.geometry, strict=True)}
    assert set(got) == set(truth)
    error = max(np.hypot(got[c][0] - truth[c][0], got[c][1] - truth[c][1]) for c in truth)
    assert error < 1e-5  # degrees: about a metre (MapServer writes 6 decimals)


def test_service_kinds_are_told_apart() -> None:
    assert service_kind("https://geoportale.example/wfs?SERVICE=WFS&typeNames=a:b") == "wfs"
    assert service_kind("https://geoportale.example/ogc/collections/caselli") == "oapif"


def test_a_service_layer_loads_once_and_enriches_like_a_file(server: str, engine: Engine) -> None:
    options = LayerFileOptions(layer_type="junction_test", source="mapserver-test junctions", id_field="codice",
                               name_field="comune")
    try:
        with engine.begin() as conn:
            first = load_layer_file(conn, _oapif(server), options)
            again = load_layer_file(conn, _oapif(server), options)
            count = conn.execute(text("SELECT count(*) FROM infrastructure WHERE layer_type = 'junction_test'")
                                 ).scalar_one()
        assert (first.changed, first.features, again.changed, count) == (True, 181, False, 181)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM infrastructure WHERE layer_type = 'junction_test'"))
            conn.execute(text("DELETE FROM reference_layers WHERE layer_type = 'junction_test'"))


def test_a_wfs_address_without_a_layer_is_refused(server: str) -> None:
    with pytest.raises(LayerError, match="say which WFS layer to read with typeNames"):
        read_service(f"{server}/cgi-bin/mapserv?service=WFS&version=2.0.0")


def test_a_service_that_does_not_answer_says_so() -> None:
    url = f"http://127.0.0.1:{free_port()}/ogc/collections/caselli"
    with pytest.raises(LayerError) as caught:
        read_service(url)
    assert "could not be read as an OGC API - Features layer" in caught.value.message
    assert "non è leggibile come strato OGC API - Features" in caught.value.message_it


def test_a_collection_that_does_not_exist_says_so(server: str) -> None:
    with pytest.raises(LayerError, match="could not be read"):
        read_service(f"{server}/cgi-bin/mapserv/lombardia/ogcapi/collections/nothing_here")
