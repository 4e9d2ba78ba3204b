"""The desk in a real browser (Debian's chromium through Playwright) against the service on
a real port and the test PostGIS: the five journeys of issue 14, in Italian and in English,
with axe-core and keyboard checks on every page and screenshots under test-artifacts/desk/.

People are the fictional ones of tests/workbooks.py and conftest's accounts (password
PASSWORD). The detection run is synthetic: two squares written by this module."""

from __future__ import annotations

import datetime as dt
import io
import json
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from openpyxl import load_workbook
from shapely.geometry import box
from sqlalchemy import Engine, text

from app.api.main import create_app
from app.core import settings
from app.detection.runs import store_run
from geo.detect import Candidate
from geo.params import DetectionParams
from tests.browser import serious_violations, unreachable_by_keyboard
from tests.conftest import PASSWORD, ROOT, _people, remove_uploaded_candidacies
from tests.live import serving
from tests.workbooks import OWNER_COMPANY, delegate_writer, valid_writer

playwright = pytest.importorskip("playwright.sync_api")
ARTIFACTS = ROOT / "test-artifacts" / "desk"
PEOPLE = _people()
PLANTED = {"Superficie coperta (m²)": "30.000", "Prezzo richiesto (€)": "tanti soldi", "Numero piani": "molti"}


@pytest.fixture(scope="module")
def server(service_url: str, accounts: dict, engine: Engine,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path_factory.mktemp("desk-uploads")))
        # every browser here signs in from 127.0.0.1: more than the per-address limit a minute
        patch.setenv("OPPORTUNITY_LIMIT_LOGINS", "1000")
        settings.storage_settings.cache_clear()
        settings.limit_settings.cache_clear()
        try:
            with serving(create_app(service_url)) as base:
                yield base
        finally:
            settings.storage_settings.cache_clear()
            settings.limit_settings.cache_clear()
            remove_uploaded_candidacies(engine)
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM sites WHERE origin = 'detection'"))
                conn.execute(text("DELETE FROM detection_runs"))
                conn.execute(text("DELETE FROM notifications"))
                conn.execute(text("DELETE FROM enquiries"))


class Desk:
    """One person's browser on the desk."""

    def __init__(self, browser: Any, base: str, who: str, lang: str) -> None:
        self.base, self.lang, self.who = base, lang, who
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True,
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" and "status of 4" not in m.text
                     else None)
        self.page.goto(f"{base}/desk?lang={lang}#/signin")
        self.page.wait_for_selector("body[data-ready]", state="attached")
        email = PEOPLE[who][0]
        self.page.fill("[name=email]", email)
        self.page.fill("[name=password]", PASSWORD)
        self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_selector(f"#who:has-text('{email}')")

    def go(self, hash_: str) -> Any:
        self.page.wait_for_selector("main:not([aria-busy])", state="attached")
        self.page.evaluate("""h => { delete document.body.dataset.page;
                                     if (location.hash === h) window.deskRoute(); else location.hash = h; }""", hash_)
        self.page.wait_for_selector("main:not([aria-busy])", state="attached")
        self.page.wait_for_selector("body[data-page]", state="attached")
        return self.page

    def check(self, name: str) -> None:
        """axe-core and keyboard on this page, and its screenshot."""
        self.page.wait_for_selector("main:not([aria-busy])", state="attached")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}-{self.lang}.png"), full_page=True)
        assert serious_violations(self.page) == [], name
        unreached = unreachable_by_keyboard(self.page)
        assert unreached == [], f"{name}: {unreached}"

    def upload(self, data: bytes, name: str = "candidatura.xlsx") -> None:
        self.go("#/new")
        self.page.set_input_files("#file", files=[{"name": name, "mimeType": "application/octet-stream",
                                                  "buffer": data}])
        self.page.wait_for_selector("#report-summary")

    def close(self) -> None:
        assert self.errors == [], self.errors
        self.context.close()


def _candidacy_id(page: Any) -> int:
    page.wait_for_url("**/desk?*#/candidacies/*")
    page.wait_for_selector("main:not([aria-busy]) h1")
    return int(page.url.rsplit("/", 1)[1])


def _known_proponent(server: str) -> None:
    """The company has submitted a site before: its registry data exist (the template
    comes pre-filled)."""
    import httpx

    with httpx.Client(base_url=server) as http:
        token = http.post("/auth/token", data={"username": PEOPLE["other"][0], "password": PASSWORD}).json()
        response = http.post("/intake/candidacies", headers={"Authorization": f"Bearer {token['access_token']}"},
                             files={"file": ("prima.xlsx", valid_writer(name="Primo sito E2E").to_bytes())})
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("lang", ["it", "en"])
def test_owner_fixes_a_workbook_and_staff_take_it_to_publication(browser: Any, server: str, lang: str,
                                                                 engine: Engine) -> None:
    """Journeys 1 and 2."""
    _known_proponent(server)
    owner = Desk(browser, server, "other", lang)
    name = f"Capannone E2E {lang}"
    with owner.page.expect_download() as template:
        owner.go("#/new").click("#template-link")
    sheet = load_workbook(io.BytesIO(template.value.path().read_bytes()))["Candidatura"]
    assert any(c.value == OWNER_COMPANY[0] for row in sheet.iter_rows() for c in row), "template not pre-filled"
    owner.check("new")

    planted = valid_writer(name=name, **PLANTED).to_bytes()
    owner.upload(planted, "con-errori.xlsx")
    errors = owner.page.locator(".problems li:has(.badge.error)")
    assert errors.count() == 3
    cells = {errors.nth(i).get_attribute("data-cell") for i in range(3)}
    assert all(cells) and len(cells) == 3
    for cell in cells:
        assert owner.page.locator(f".problems li[data-cell='{cell}'] .cell").inner_text().endswith(cell)
    assert owner.page.locator("#submit").count() == 0
    owner.check("report")
    with owner.page.expect_download() as annotated:
        owner.page.click("#annotated")
    assert annotated.value.suggested_filename == "con-errori-verificato.xlsx"
    assert load_workbook(io.BytesIO(annotated.value.path().read_bytes()))["Candidatura"] is not None

    no_consent = {"Nulla osta alla pubblicazione": "No"}
    owner.upload(valid_writer(name=name, **no_consent).to_bytes(), "corretto.xlsx")
    owner.page.click("#submit")
    first = _candidacy_id(owner.page)
    assert owner.page.locator("h1 .badge").inner_text() == ("Inviata" if lang == "it" else "Submitted")
    declared = owner.page.locator("#declared")
    text = declared.inner_text()
    assert not {"comune_istat", "owner_consent", "location_precision", "lat", "lon"} & set(text.split())
    sections = declared.locator("h3").all_inner_texts()
    assert sections[:3] == (["Candidatura", "Proponente", "Proprietà"] if lang == "it"
                            else ["Candidacy", "Proponent", "Ownership"])
    assert ("Tipologia\nArea con edifici" if lang == "it" else "Land with buildings") in text
    owner.check("candidacy")

    staff = Desk(browser, server, "staff", lang)
    staff.go("#/candidacies")
    staff.check("inbox")
    staff.page.click(f"a:text-is('{name}')")
    assert _candidacy_id(staff.page) == first
    message = f"Indicare il prezzo aggiornato ({lang})."
    staff.page.fill("#move-form textarea", message)
    staff.page.click("[data-move=changes_requested]")
    staff.page.wait_for_selector("h1 .badge.changes_requested")

    owner.go(f"#/candidacies/{first}")
    assert message in owner.page.locator("[data-message]").first.inner_text()
    owner.upload(valid_writer(name=name, **{**no_consent, "Prezzo richiesto (€)": "€ 9.100.000"}).to_bytes(), "v2.xlsx")
    owner.page.click("#submit")
    second = _candidacy_id(owner.page)
    assert second != first and "9.100.000" in owner.page.locator("ins").first.inner_text().replace(",", ".")

    staff.go(f"#/candidacies/{second}")
    staff.page.click("[data-move=validated]")
    staff.page.wait_for_selector("h1 .badge.validated")
    publish = staff.page.locator("[data-move=published]")
    assert publish.is_disabled()
    assert staff.page.locator("#publish-blocked").is_visible()
    staff.check("candidacy-staff")

    owner.go(f"#/candidacies/{second}")
    owner.page.click("#consent")
    owner.page.wait_for_selector("#consent[data-consent=false]")

    staff.go(f"#/candidacies/{second}")
    staff.page.click("[data-move=published]")
    staff.page.wait_for_selector("h1 .badge.published")
    site_id = int(staff.page.locator("a[href*='/report']").get_attribute("href").split("/")[2])

    items = staff.page.request.get(f"{server}/collections/sites/items?limit=1000").json()
    assert site_id in {f["id"] for f in items["features"]}
    with staff.context.expect_page() as opened:
        staff.page.click("main a[href*='site=']", modifiers=["Control"])
    public = opened.value
    public.wait_for_selector("#card:not([hidden]) h2", timeout=30_000)
    assert public.locator("#card h2").inner_text() == name
    public.close()
    owner.close()
    staff.close()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_a_delegate_submits_and_the_owner_confirms(browser: Any, server: str, lang: str) -> None:
    """Journey 3."""
    delegate = Desk(browser, server, "delegate", lang)
    delegate.upload(delegate_writer().to_bytes(), "delegata.xlsx")
    delegate.page.click("#submit")
    candidacy = _candidacy_id(delegate.page)
    assert delegate.page.locator("#consent").count() == 0  # consent is the owner's
    delegate.close()

    owner = Desk(browser, server, "owner", lang)
    owner.go("#/candidacies")
    owner.check("mine")
    owner.page.click(f"a[href='#/candidacies/{candidacy}']")
    _candidacy_id(owner.page)
    owner.page.click("#owner-confirm")
    expected = ("Il proprietario ha confermato" if lang == "it" else "The owner has confirmed")
    owner.page.wait_for_selector(f"text={expected}")
    assert owner.page.locator("#owner-confirm").count() == 0
    owner.go("#/account")
    owner.check("account")
    owner.close()


@pytest.fixture
def detection_run(engine: Engine) -> int:
    """A synthetic run: two 80 m squares in UTM 32N near Brescia's industrial belt."""
    x, y = 593_000, 5_043_000
    candidates = [Candidate(box(x, y, x + 80, y + 80), 6400.0, 0.82,
                            {"share_with_signal": 0.3, "gain": 0.21, "already_known": False,
                             "confidence": "time series", "persistence": 0.95}),
                  Candidate(box(x + 400, y, x + 470, y + 70), 4900.0, 0.55,
                            {"share_with_signal": 0.12, "gain": 0.17, "already_known": True, "known_overlap": 0.8,
                             "confidence": "two dates: low confidence"})]
    with engine.begin() as conn:
        return store_run(conn, candidates, 32632, DetectionParams(), {"synthetic": "tests/test_desk.py"}, "tests")


@pytest.mark.parametrize("lang", ["en", "it"])
def test_staff_review_brownfield_candidates_and_print_a_report(browser: Any, server: str, lang: str,
                                                              detection_run: int, engine: Engine,
                                                              catalogue: list[int]) -> None:
    """Journeys 4 and 5, and the staff pages without a journey of their own."""
    staff = Desk(browser, server, "staff", lang)
    staff.go("#/detection")
    staff.check("detection")
    staff.page.click(f"a[href='#/detection/{detection_run}']")
    staff.page.wait_for_selector("[data-candidate]")
    staff.check("run")
    first, second = staff.page.locator("[data-candidate]").evaluate_all("els => els.map(e => e.dataset.candidate)")
    shown = staff.page.locator(f"[data-candidate='{second}']").inner_text()
    assert ("share of the site with the signal: 12%" if lang == "en" else "quota del sito con segnale: 12%") in shown
    assert ("already known: Yes" if lang == "en" else "già noto: Sì") in shown
    assert ("evidence: two dates: low confidence" if lang == "en" else "evidenza: due date: bassa affidabilità") in shown
    told = staff.page.locator(f"[data-candidate='{first}']").inner_text()
    assert ("persistence of the green: 95%" if lang == "en" else "persistenza del verde: 95%") in told
    staff.page.click(f"[data-candidate='{first}'] [data-decision=confirm]")
    staff.page.wait_for_selector(f"[data-candidate='{first}'] .badge.confirmed")
    staff.page.fill(f"[data-candidate='{second}'] [name=reason]", "Piazzale di un'attività in esercizio")
    staff.page.click(f"[data-candidate='{second}'] [data-decision=reject]")
    staff.page.wait_for_selector(f"[data-candidate='{second}'] .badge.rejected")
    assert PEOPLE["staff"][0] in staff.page.locator(f"[data-candidate='{second}']").inner_text()
    with engine.connect() as conn:
        draft = conn.execute(text("SELECT status FROM sites WHERE origin = 'detection' AND "
                                  "attributes ->> 'detection_candidate' = :c"), {"c": first}).scalar_one()
    assert draft == "draft"

    site_id = catalogue[0]  # a synthetic published site of the test catalogue
    staff.go(f"#/sites/{site_id}/report")
    staff.page.wait_for_selector("#minimap canvas", state="attached")
    staff.check("report-page")
    pdf = ARTIFACTS / f"site-report-{lang}.pdf"
    staff.page.emulate_media(media="print")
    staff.page.pdf(path=str(pdf), format="A4", print_background=True)
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    name = staff.page.locator("h1").inner_text().split(": ", 1)[1]
    assert name in printed
    assert ("Calcolato dal servizio" if lang == "it" else "Computed by the service") in printed
    assert ("Completezza dei dati" if lang == "it" else "Data completeness") in printed

    for page in ("stale", "audit"):
        staff.go(f"#/{page}")
        staff.check(page)
    staff.page.fill("#audit-form [name=action]", "detection.review")
    staff.page.click("#audit-form button")
    staff.page.wait_for_selector("main:not([aria-busy]) tbody tr")
    assert staff.page.locator("tbody tr").count() >= 2
    import httpx  # an investor's search on the public map (no session)

    assert httpx.post(f"{server}/match", json={"activity": "logistics", "max_motorway_km": 0.5}).status_code == 200
    staff.go("#/demand")
    staff.check("demand")
    assert staff.page.locator("main table").first.locator("tbody tr").count() >= 1
    staff.close()

    admin = Desk(browser, server, "admin", lang)
    admin.go("#/admin")
    admin.check("admin")
    admin.page.fill("#key-form [name=name]", f"frontend {lang}")
    admin.page.click("#key-form button")
    admin.page.wait_for_selector("#new-key code")
    assert admin.page.locator("#new-key code").inner_text().startswith("olk_")
    admin.close()


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_sign_in_page_is_accessible_and_says_what_went_wrong(browser: Any, server: str, lang: str) -> None:
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(f"{server}/desk?lang={lang}#/signin")
    page.wait_for_selector("body[data-ready] #signin-form")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"signin-{lang}.png"))
    assert serious_violations(page) == [] and unreachable_by_keyboard(page) == []
    page.fill("[name=email]", "nobody@example.org")
    page.fill("[name=password]", "not the password")
    page.click("#signin-form button[type=submit]")
    page.wait_for_selector("#notice.error:not([hidden])")
    assert page.locator("#notice").inner_text() == ("E-mail o password errate." if lang == "it" else "Wrong e-mail or password.")
    context.close()


def test_sign_out_ends_the_session_and_the_map_links_to_the_desk(browser: Any, server: str) -> None:
    desk = Desk(browser, server, "staff", "en")
    desk.page.goto(f"{server}/map?lang=en")
    desk.page.wait_for_selector("#signin:has-text('Desk (staff)')")
    desk.page.goto(f"{server}/desk?lang=en#/candidacies")
    desk.page.wait_for_selector("#signout:not([hidden])")
    assert desk.page.evaluate("() => document.cookie").count("ol_session") == 0  # HttpOnly: no script reads it
    desk.page.click("#signout")
    desk.page.wait_for_selector("#signin-form")
    assert desk.page.request.get(f"{server}/auth/me").status == 401
    desk.close()


def test_inbox_first_screen_with_ten_thousand_candidacies(browser: Any, server: str, engine: Engine) -> None:
    """A measurement for docs/benchmarks.md (median of 5), not a threshold."""
    with engine.begin() as conn:
        proponent = conn.execute(text("""INSERT INTO proponents (name, partita_iva) VALUES ('Carico sintetico', '00000099991')
                                         RETURNING id""")).scalar_one()
        conn.execute(text("""
            INSERT INTO candidacies (lineage_id, kind, status, proponent_id, proponent_role, file_sha256, file_path,
                                     file_name, file_size, record, submitted_at)
            SELECT gen_random_uuid(), 'A', (ARRAY['submitted','validated','published','changes_requested'])[1 + g % 4],
                   :p, 'proprietario', encode(sha256(('synthetic-' || g || :salt)::bytea), 'hex'), '/dev/null',
                   'sintetico.xlsx', 1, jsonb_build_object('site_name', 'Sito sintetico ' || g, 'province', 'MI'),
                   now() - make_interval(mins => g)
            FROM generate_series(1, 10000) g"""), {"p": proponent, "salt": uuid.uuid4().hex})
    try:
        desk = Desk(browser, server, "staff", "it")
        times = []
        for _ in range(5):
            desk.page.goto("about:blank")
            start = time.perf_counter()
            desk.page.goto(f"{server}/desk?lang=it#/candidacies")
            desk.page.wait_for_selector("body[data-inbox-rows='50']", state="attached", timeout=30_000)
            times.append((time.perf_counter() - start) * 1000)
        assert desk.page.locator("#candidacy-table caption").inner_text().endswith("10000") or \
            int(desk.page.locator("#candidacy-table caption").inner_text().split()[-1]) >= 10_000
        desk.close()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM candidacies WHERE proponent_id = :p"), {"p": proponent})
            conn.execute(text("DELETE FROM proponents WHERE id = :p"), {"p": proponent})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "inbox_first_screen.json").write_text(json.dumps({
        "candidacies": 10_000, "runs_ms": [round(t) for t in times], "median_ms": round(statistics.median(times)),
        "date": dt.date.today().isoformat()}, indent=2))


@pytest.mark.parametrize("lang", ["en", "it"])
def test_staff_keep_an_enquiry_open_and_see_the_site_that_came_to_fit_it(browser: Any, server: str,
                                                                          lang: str) -> None:
    import httpx

    def token(who: str) -> dict[str, str]:
        answer = httpx.post(f"{server}/auth/token", data={"username": PEOPLE[who][0], "password": PASSWORD})
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    staff = Desk(browser, server, "staff", lang)
    staff.go("#/enquiries")
    staff.page.fill("#enquiry-form [name=name]", f"Headquarters {lang}")
    staff.page.fill("#enquiry-form [name=contact]", "investor@example.org")
    staff.page.fill("#enquiry-form [name=criteria]", '{"land_area_m2": {"min": 10000}, "provinces": ["MI"]}')
    staff.page.click("#enquiry-form button")
    staff.page.wait_for_url("**#/enquiries/*")
    staff.page.wait_for_selector("main:not([aria-busy]) h1")
    enquiry_id = int(staff.page.url.rsplit("/", 1)[1])
    staff.check("enquiry-empty")

    data = valid_writer(name=f"Sede per richiesta {lang}").to_bytes()
    stored = httpx.post(f"{server}/intake/candidacies", headers=token("other"), files={"file": ("c.xlsx", data)}).json()
    for to in ("validated", "published"):
        moved = httpx.post(f"{server}/candidacies/{stored['candidacy_id']}/transitions", headers=token("staff"),
                           json={"to": to})
        assert moved.status_code == 200, moved.text
    staff.go(f"#/enquiries/{enquiry_id}")
    staff.page.wait_for_selector("[data-alert]")
    assert staff.page.locator(f"[data-alert] a[href='#/sites/{stored['site_id']}/report']").count() == 1
    staff.page.check(f"[name=compare][value='{stored['site_id']}']")
    assert staff.page.get_attribute("#compare", "aria-disabled") == "true"  # one site is not a comparison
    staff.check("enquiry")
    staff.page.select_option("#close-form [name=outcome]", "site_proposed")
    staff.page.click("#close-form button")
    staff.page.wait_for_selector("#close-form", state="detached")
    staff.go("#/enquiries")
    staff.check("enquiries")
    assert staff.page.locator(f"a[href='#/enquiries/{enquiry_id}']").count() == 1
    staff.go(f"#/sites/{stored['site_id']}/report")
    with staff.page.expect_download() as download:
        staff.page.click(f"a[href='/sites/{stored['site_id']}/expose.pdf?lang={lang}']")
    printed = subprocess.run(["pdftotext", download.value.path(), "-"], capture_output=True, text=True,
                             check=True).stdout
    assert f"Sede per richiesta {lang}" in printed
    assert ("Site profile" if lang == "en" else "Scheda sito") in printed
    staff.close()


def test_the_map_page_matches_for_a_signed_in_user(browser: Any, server: str) -> None:
    """The map page's POST /match carries the session's CSRF token (it was refused with
    403 for anyone signed in), and its province choices come from /vocabulary, as the
    desk's inbox filter does."""
    staff = Desk(browser, server, "staff", "en")
    page = staff.go("#/candidacies")
    assert page.locator("#inbox-filters [name=province] option[value=MI]").inner_text() == "Milano"
    page.goto(f"{server}/map?lang=en")
    page.wait_for_selector("body[data-first-screen-ms]", state="attached", timeout=30_000)
    page.wait_for_selector("#signin:has-text('staff')")
    assert page.locator("#match-form [name=province] option[value=MI]").inner_text() == "Milano"
    page.click("#tab-match")
    page.fill("#match-form [name=min_land]", "1000")
    with page.expect_response(lambda r: r.url.endswith("/match") and r.request.method == "POST") as answer:
        page.click("#match-form button[type=submit]")
    assert answer.value.status == 200, answer.value.text()
    assert answer.value.request.headers.get("x-csrf-token")
    page.wait_for_selector("#match-status:not(.loading)")
    assert page.locator("#error").is_hidden()
    assert page.inner_text("#match-status")
    staff.close()
