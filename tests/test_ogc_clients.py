"""The catalogue through real OGC API clients, over HTTP: GDAL 3.6 (Debian's ogrinfo),
GDAL 3.12 (the one pyogrio ships) and OWSLib. Counts, field types, filters evaluated by
the server, and paging with a page size above the server's cap.

GDAL runs in a child process (it blocks the interpreter while it reads, and the server
runs in a thread of this one); a small ASGI wrapper records what the clients asked for,
so that "the filter was sent to the server" is checked, not assumed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.main import create_app
from tests.conftest import ROOT
from tests.live import serving

WHERE = "land_area_m2 > 30000"
READ_WITH_PYOGRIO = """
import json, sys, pyogrio
url, where, page = sys.argv[1:4]
options = {"PAGE_SIZE": page}
info = pyogrio.read_info(url, layer="sites", **options)
frame = pyogrio.read_dataframe(url, layer="sites", where=where or None, **options)
print(json.dumps({"gdal": pyogrio.__gdal_version_string__, "count": len(frame),
                  "fields": dict(zip(info["fields"].tolist(), info["dtypes"].tolist()))}))
"""


class Recorder:
    """Remembers the query string of every request to the items of a collection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.queries = app, []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/items"):
            self.queries.append(parse_qs(scope["query_string"].decode()))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server(service_url: str, catalogue: list[int]) -> Iterator[tuple[str, Recorder]]:
    app = create_app(service_url)
    recorder = Recorder(app)
    with TestClient(app), serving(recorder) as base:  # the lifespan runs once, on the app itself
        yield base, recorder


def _expected(engine: Engine, where: str = "TRUE") -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM sites WHERE status = 'published' AND {where}")).scalar()


def _pyogrio(base: str, where: str = "", page: int = 5000) -> dict:
    done = subprocess.run([sys.executable, "-c", READ_WITH_PYOGRIO, f"OAPIF:{base}", where, str(page)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_gdal_3_12_reads_every_site_with_typed_fields_paging_past_the_cap(server, engine: Engine) -> None:
    base, recorder = server
    result = _pyogrio(base)
    assert result["gdal"].startswith("3.1")
    assert result["count"] == _expected(engine) > 0
    assert result["fields"]["investment_eur"] == "float64" and result["fields"]["project_floor_area_m2"] == "float64"
    assert result["fields"]["floors"] in ("int32", "int64") and result["fields"]["available_from"].startswith("datetime")
    assert any(q.get("limit") == ["5000"] for q in recorder.queries)  # capped at 1,000 by the server, and paged


@pytest.mark.parametrize("where", [WHERE, "land_area_m2 > 30000 AND name <> 'Sant''Angelo'",
                                   "NOT (land_area_m2 < 5000 OR land_area_m2 > 50000)"])
def test_gdal_3_12_sends_filters_to_the_server(server, engine: Engine, where: str) -> None:
    """GDAL's OAPIF driver finds the filter parameters in the OpenAPI document, at the
    items path as OGC names it (/collections/{collectionId}/items), and sends the filter
    as CQL text: the server filters, GDAL does not fetch every site to filter them itself."""
    base, recorder = server
    recorder.queries.clear()
    assert _pyogrio(base, where)["count"] == _expected(engine, where)
    sent = [q for q in recorder.queries if "filter" in q]
    assert sent and all(q["filter-lang"] == ["cql-text"] for q in sent)
    assert all("filter" in q for q in recorder.queries if q.get("limit") == ["5000"])


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="Debian's gdal-bin is installed by make test")
def test_gdal_3_6_ogrinfo_counts_types_and_filters(server, engine: Engine) -> None:
    base, recorder = server
    recorder.queries.clear()
    done = subprocess.run(["ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=5000", f"OAPIF:{base}", "sites"],
                          capture_output=True, text=True, timeout=300, check=True)
    assert f"Feature Count: {_expected(engine)}" in done.stdout
    assert "investment_eur: Real" in done.stdout and "project_floor_area_m2: Real" in done.stdout
    filtered = subprocess.run(["ogrinfo", "-ro", "-so", "-where", WHERE, f"OAPIF:{base}", "sites"],
                              capture_output=True, text=True, timeout=300, check=True)
    assert f"Feature Count: {_expected(engine, WHERE)}" in filtered.stdout


def test_owslib_reads_the_collection(server, engine: Engine) -> None:
    from owslib.ogcapi.features import Features

    base, _ = server
    client = Features(base)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in client.conformance()["conformsTo"]
    assert "sites" in {c["id"] for c in client.collections()["collections"]}
    page = client.collection_items("sites", limit=5000)
    assert page["numberMatched"] == _expected(engine) and page["numberReturned"] == min(1000, page["numberMatched"])
    filtered = client.collection_items("sites", filter=WHERE, limit=10)
    assert filtered["numberMatched"] == _expected(engine, WHERE)
    assert "available_from" in client.collection_queryables("sites")["properties"]
    assert urlsplit(next(link["href"] for link in page["links"] if link["rel"] == "self")).path.endswith("/items")


# what desktop users filter on, as each client writes it, and the SQL that says what it means
DESKTOP_FILTERS = {
    "boolean": {"gdal": "fibre = 1", "qgis": '"fibre" = true', "cql2": "fibre = true", "sql": "fibre"},
    "date": {"gdal": "available_from >= '2027-01-01'", "qgis": "\"available_from\" >= '2027-01-01'",
             "cql2": "available_from >= DATE('2027-01-01')", "sql": "available_from >= DATE '2027-01-01'"},
    "date_before": {"gdal": "available_from <= '2026-06-30'", "qgis": "\"available_from\" <= '2026-06-30'",
                    "cql2": "available_from <= DATE('2026-06-30')", "sql": "available_from <= DATE '2026-06-30'"},
    "number": {"gdal": "land_area_m2 > 30000", "qgis": '"land_area_m2" > 30000', "cql2": "land_area_m2 > 30000",
               "sql": "land_area_m2 > 30000"},
    "is_null": {"gdal": "investment_eur IS NULL", "qgis": '"investment_eur" IS NULL', "cql2": "investment_eur IS NULL",
                "sql": "investment_eur IS NULL"},
    "returned_not_queryable_before": {"gdal": "description_en IS NULL", "qgis": '"description_en" IS NULL',
                                      "cql2": "description_en IS NULL", "sql": "description_en IS NULL"},
    "combined": {"gdal": "fibre = 0 AND land_area_m2 > 30000", "qgis": '"fibre" = false AND "land_area_m2" > 30000',
                 "cql2": "fibre = false AND land_area_m2 > 30000", "sql": "NOT fibre AND land_area_m2 > 30000"},
}


@pytest.mark.parametrize("kind", sorted(DESKTOP_FILTERS))
def test_gdal_3_12_filters_as_desktop_users_write_them(server, engine: Engine, kind: str) -> None:
    """Booleans as 1/0, dates as GDAL writes them ('2027-01-01T'), IS NULL on any returned
    property: each answered 400 and 0 features before, now the server filters them."""
    base, recorder = server
    recorder.queries.clear()
    case = DESKTOP_FILTERS[kind]
    assert _pyogrio(base, case["gdal"])["count"] == _expected(engine, case["sql"])
    assert any("filter" in q for q in recorder.queries), "the filter did not reach the server"


@pytest.mark.skipif(shutil.which("ogrinfo") is None, reason="Debian's gdal-bin is installed by make test")
@pytest.mark.parametrize("kind", ["boolean", "date", "is_null", "returned_not_queryable_before", "combined"])
def test_gdal_3_6_ogrinfo_filters_as_desktop_users_write_them(server, engine: Engine, kind: str) -> None:
    base, recorder = server
    recorder.queries.clear()
    case = DESKTOP_FILTERS[kind]
    done = subprocess.run(["ogrinfo", "-ro", "-so", "-where", case["gdal"], f"OAPIF:{base}", "sites"],
                          capture_output=True, text=True, timeout=300, check=True)
    assert f"Feature Count: {_expected(engine, case['sql'])}" in done.stdout, done.stdout[-500:]
    assert any("filter" in q for q in recorder.queries)


def _qgis_available() -> bool:
    probe = subprocess.run(["/usr/bin/python3", "-c", "import qgis.core"], capture_output=True, check=False) \
        if shutil.which("/usr/bin/python3") else None
    return probe is not None and probe.returncode == 0


@pytest.mark.skipif(not _qgis_available(), reason="Debian's python3-qgis and qgis-providers are installed by make "
                    "test (scripts/setup-system.sh --browser); QGIS cannot be installed on this system")
def test_qgis_filters_count_what_the_api_matches(server, engine: Engine) -> None:
    """QGIS itself (Debian's 3.22, its OAPIF provider, headless): the layer's subset filter
    on a boolean, two dates, a number and IS NULL gives as many features as the API's
    numberMatched for the same filter. QGIS 3.22 sends date comparisons as Part 1's
    datetime parameter, which the server reads on available_from."""
    base, recorder = server
    recorder.queries.clear()
    filters = {kind: case["qgis"] for kind, case in DESKTOP_FILTERS.items()}
    done = subprocess.run(["/usr/bin/python3", str(ROOT / "tests" / "qgis_filters.py"), base, json.dumps(filters)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["valid"] and counts["all"] == _expected(engine)
    for kind, case in DESKTOP_FILTERS.items():
        matched = httpx.get(f"{base}/collections/sites/items", params={"filter": case["cql2"], "limit": 1},
                            timeout=60).json()["numberMatched"]
        assert counts[kind] == matched == _expected(engine, case["sql"]), (kind, counts[kind], matched)
    assert any("datetime" in q for q in recorder.queries), "QGIS 3.22 sends date filters as datetime"


def test_owslib_filters_booleans_dates_and_nulls(server, engine: Engine) -> None:
    from owslib.ogcapi.features import Features

    base, _ = server
    client = Features(base)
    for cql2, sql in (("fibre = true", "fibre"), ("fibre = 1", "fibre"),
                      ("available_from >= '2027-01-01T00:00:00Z'", "available_from >= DATE '2027-01-01'"),
                      ("description_en IS NULL AND sectors IS NOT NULL", "description_en IS NULL"),
                      ("investment_eur IS NOT NULL", "investment_eur IS NOT NULL")):
        assert client.collection_items("sites", filter=cql2, limit=1)["numberMatched"] == _expected(engine, sql), cql2
    queryables = client.collection_queryables("sites")["properties"]
    assert queryables["description_en"] == {"type": "string"}
    assert queryables["last_confirmed_at"] == {"type": "string", "format": "date-time"}
    assert "sectors" not in queryables and "nearest" not in queryables  # lists and objects: IS NULL only
