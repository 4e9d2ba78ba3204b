"""The map page in a real browser: Debian's chromium driven by Playwright's library
(``executable_path``, no browser download) against the service running on a real port,
with the sample workbooks published over the synthetic test catalogue.

Screenshots of each step go to ``test-artifacts/map/``; the first-screen time with a
10,000-site catalogue goes to ``test-artifacts/map/first_screen.json`` (a measurement
for docs/benchmarks.md, not a threshold: these machines are noisy)."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.api.main import create_app
from app.candidacies.demo import load_samples
from app.core import settings
from app.reference.enrichment import enrich, refresh_clusters
from tests.conftest import ROOT, remove_uploaded_candidacies
from tests.live import serving

playwright = pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "test-artifacts" / "map"
@pytest.fixture(scope="module")
def samples(engine: Engine, catalogue: list[int], tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[int]]:
    """The valid samples stored and the consenting ones published, as in the demo."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path_factory.mktemp("map-uploads")))
        settings.storage_settings.cache_clear()
        with Session(engine) as db:
            stored, refused, published = load_samples(db)
        # sample 04 is located by its cadastral sheet: refused where ../shared/data is absent
        assert stored + refused == 6 and stored >= 3 and published
        yield published
    settings.storage_settings.cache_clear()
    remove_uploaded_candidacies(engine)
    with engine.begin() as conn:
        refresh_clusters(conn)


@pytest.fixture(scope="module")
def server(database_url: str, samples: list[int]) -> Iterator[str]:
    """The service on a real port, in a thread of this process."""
    with serving(create_app(database_url)) as base:
        yield base


class Watched:
    """A page whose console errors and requests are recorded."""

    def __init__(self, browser: Any, base: str, viewport: dict[str, int] | None = None) -> None:
        self.base = base
        self.context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def external(self) -> list[str]:
        return [u for u in self.requests if not (u.startswith(self.base + "/") or u.startswith(("blob:", "data:")))]

    def open(self, query: str = "lang=en") -> Any:
        self.page.goto(f"{self.base}/map?{query}")
        self.page.wait_for_selector("body[data-first-screen-ms]", state="attached", timeout=30_000)
        self.settle()
        return self.page

    def settle(self) -> None:
        """Wait until the map is idle after the last change."""
        self.page.evaluate("() => { delete document.body.dataset.idle; window.olMap.triggerRepaint(); }")
        self.page.wait_for_selector("body[data-idle]", state="attached", timeout=30_000)

    def visible_sites(self) -> int:
        return int(self.page.evaluate("() => document.body.dataset.sitesVisible"))

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser: Any, server: str) -> Iterator[Watched]:
    watched = Watched(browser, server)
    yield watched
    watched.close()


def test_the_page_loads_with_sites_and_nothing_from_outside(watched: Watched) -> None:
    page = watched.open()
    assert watched.visible_sites() > 0
    assert page.locator("#filter-form").is_visible() and page.locator("#legend").is_visible()
    assert page.locator("h1").inner_text() == "Opportunity Lombardy · sites to invest in"
    watched.shot("01-first-screen.png")
    assert watched.errors == []
    assert watched.external() == []
    assert any("/tiles/base/" in u for u in watched.requests) and any("/tiles/sites/" in u for u in watched.requests)


def test_a_filter_changes_the_sites_and_the_url(watched: Watched) -> None:
    page = watched.open()
    before = watched.visible_sites()
    page.select_option("#filter-form [name=site_type]", "area_dismessa")
    page.fill("#filter-form [name=min_land_area_m2]", "20000")
    page.wait_for_function("() => location.search.includes('min_land_area_m2=20000')")
    page.wait_for_selector("#filter-status:not(.loading)")
    page.wait_for_selector("#filter-list li")
    watched.settle()
    after = watched.visible_sites()
    assert 0 < after < before
    assert "site_type=area_dismessa" in page.url and "sites match" in page.inner_text("#filter-status")
    watched.shot("02-filtered.png")
    # the URL is shareable: opening it restores the filters
    other = Watched(page.context.browser, watched.base)
    try:
        restored = other.open(page.url.split("?", 1)[1])
        assert restored.input_value("#filter-form [name=min_land_area_m2]") == "20000"
        assert other.visible_sites() == after
    finally:
        other.close()
    assert watched.errors == [] and watched.external() == []


def test_matching_ranks_sites_and_highlights_the_first(watched: Watched) -> None:
    page = watched.open()
    page.click("#tab-match")
    page.select_option("#match-form [name=activity]", "logistics")
    page.click("#match-form button[type=submit]")
    page.wait_for_selector("#match-results li")
    first = page.locator("#match-results li").first
    assert first.get_attribute("aria-current") == "true"
    assert first.inner_text().startswith(first.locator(".score").inner_text())
    active = first.get_attribute("data-site-id")
    assert page.evaluate("() => document.body.dataset.activeSite") == active
    watched.settle()
    highlighted = page.evaluate("""() => window.olMap.queryRenderedFeatures({layers: ['highlight']})
        .filter(f => f.properties.active).map(f => String(f.properties.id))""")
    assert highlighted and set(highlighted) == {active}
    assert page.locator("#export a[data-format=csv]").get_attribute("href").startswith("/sites/export?ids=" + active)
    watched.shot("03-matched.png")
    first.click()
    page.wait_for_selector("#card:not([hidden]) h2")
    assert page.locator("#card dl").inner_text().count("km") >= 1
    expose = page.request.get(urljoin(page.url, page.locator(f"#card a[href^='/sites/{active}/expose.pdf']")
                                      .get_attribute("href")))
    assert expose.ok and expose.headers["content-type"] == "application/pdf"
    compare = page.locator("#compare").get_attribute("href")
    assert compare.startswith(f"/sites/compare.pdf?ids={active},")
    assert page.request.get(urljoin(page.url, compare)).headers["content-type"] == "application/pdf"
    watched.shot("04-card.png")
    assert watched.errors == [] and watched.external() == []


def test_italian_and_api_errors_shown_to_the_user(watched: Watched) -> None:
    page = watched.open("lang=it")
    assert page.locator("#tab-filters").inner_text() == "Filtri"
    page.click("#lang")
    assert page.locator("#tab-filters").inner_text() == "Filters"
    page.click("#lang")
    page.click("#tab-match")
    page.click("#match-form button[type=submit]")  # no criterion at all: the API answers 422
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == "La richiesta non indica alcun criterio."
    watched.shot("05-error-it.png")
    assert watched.external() == []


def test_tablet_layout(browser: Any, server: str) -> None:
    watched = Watched(browser, server, {"width": 820, "height": 1180})
    try:
        page = watched.open()
        assert page.locator("#map").bounding_box()["width"] > 700
        assert page.locator("#filter-form").is_visible()
        watched.shot("06-tablet.png")
        assert watched.errors == []
    finally:
        watched.close()


def test_first_screen_with_ten_thousand_sites(browser: Any, server: str, engine: Engine) -> None:
    """Measured, written to test-artifacts/map/first_screen.json; not asserted."""
    from bench.machine import describe
    from bench.synthetic import generate_sites

    with engine.begin() as conn:
        ids = generate_sites(conn, 10_000, seed=11)
        enrich(conn, ids)
        refresh_clusters(conn)
        published = conn.execute(text("SELECT count(*) FROM sites WHERE status = 'published'")).scalar()
    try:
        timings = []
        for _ in range(5):
            watched = Watched(browser, server)
            try:
                watched.open()
                timings.append(float(watched.page.evaluate("() => window.olFirstScreenMs")))
                assert watched.visible_sites() > 0 and watched.errors == []
            finally:
                watched.close()
        result = {"metric": "map first screen (sites, filter panel, legend)", "published_sites": published,
                  "runs_ms": [round(t) for t in timings], "median_ms": round(statistics.median(timings)),
                  "viewport": "1280x800", "browser": "Debian chromium headless (SwiftShader WebGL)",
                  "server": "uvicorn, 1 worker, in the test process", "machine": describe(),
                  "date": dt.date.today().isoformat()}
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "first_screen.json").write_text(json.dumps(result, indent=2))
        print("\n" + json.dumps(result))
        assert published >= 10_000
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM sites WHERE id = ANY(:ids)"), {"ids": ids})
            refresh_clusters(conn)
