"""Site exposés and comparisons as PDF: read back with pdftotext in Italian and English,
turned into PNG pages with pdftoppm under test-artifacts/expose/, no personal field in them,
the reasons of an enquiry beside each site, and every error a caller can reach.
The published site is the fictional company's workbook of tests/workbooks.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point
from sqlalchemy import Engine, text

from app.api.queues import WorkQueue
from app.core import settings
from app.documents.pdf import Formats
from geo.mapimage import MapContent, Place, frame, render_svg
from ingest.vocabulary import SECTORS
from tests.conftest import remove_uploaded_candidacies
from tests.live import pdf_text
from tests.test_access import PERSONAL
from tests.workbooks import OWNER_COMPANY, valid_writer

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "expose"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CONTACT = "Dr. Investor, +49 30 0000000"


def printed_text(pdf: bytes, name: str) -> str:
    """The PDF's text (columns side by side), the PDF kept under test-artifacts/expose/
    and its pages turned into PNG there."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    text_ = pdf_text(pdf, ARTIFACTS / f"{name}.pdf", layout=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(ARTIFACTS / f"{name}.pdf"), str(ARTIFACTS / name)], check=True)
    return text_


@pytest.fixture(scope="module")
def published(api: TestClient, accounts: dict, engine: Engine,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The company's workbook, uploaded, validated and published."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPPORTUNITY_DATA_DIR", str(tmp_path_factory.mktemp("uploads")))
        settings.storage_settings.cache_clear()
        data = valid_writer(name="Ex stabilimento esposto").to_bytes()
        stored = api.post("/intake/candidacies", headers=accounts["other"], files={"file": ("c.xlsx", data, XLSX)})
        assert stored.status_code == 201, stored.text
        body = stored.json()
        for to in ("validated", "published"):
            moved = api.post(f"/candidacies/{body['candidacy_id']}/transitions", headers=accounts["staff"],
                             json={"to": to})
            assert moved.status_code == 200, moved.text
        yield body["site_id"]
    settings.storage_settings.cache_clear()
    remove_uploaded_candidacies(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM enquiries"))
        conn.execute(text("DELETE FROM notifications"))  # the proponent was told of each move


def _no_personal_data(printed: str) -> None:
    for name in (OWNER_COMPANY[0], OWNER_COMPANY[1], "sedi@", "esempio-test.example", CONTACT, "INV-42"):
        assert name not in printed, name
    for pattern in PERSONAL:
        assert pattern.search(printed) is None, pattern.pattern


@pytest.mark.parametrize("lang", ["it", "en"])
def test_the_expose_prints_the_sites_public_facts_in_its_language(api: TestClient, published: int,
                                                                   engine: Engine, lang: str) -> None:
    answer = api.get(f"/sites/{published}/expose.pdf", params={"lang": lang})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert (f"scheda-sito-{published}.pdf" if lang == "it" else f"site-profile-{published}.pdf") \
        in answer.headers["content-disposition"]
    printed = printed_text(answer.content, f"expose-{lang}")
    with engine.connect() as conn:
        exit_km, exit_name = conn.execute(text("""
            SELECT dist_motorway_exit_km, nearest -> 'motorway_exit' ->> 'name' FROM sites WHERE id = :i"""),
            {"i": published}).one()
    assert "Ex stabilimento esposto" in printed and "Milano (MI)" in printed
    assert "Invest in Lombardy" in printed and "www.investinlombardy.com" in printed
    assert exit_name.split(" – ")[0] in printed  # the nearest exit by name, not only a number
    if lang == "it":
        assert "Scheda sito" in printed and "20.000 m²" in printed and "€ 9.500.000" in printed
        assert f"{exit_km:.1f}".replace(".", ",") + " km" in printed
        assert "Uscita autostradale" in printed and "Bacino di popolazione" in printed
    else:
        assert "Site profile" in printed and "20,000 m²" in printed and "€ 9,500,000" in printed
        assert f"{exit_km:.1f} km" in printed
        assert "Motorway exit" in printed and "Catchment population" in printed
    _no_personal_data(printed)
    assert (ARTIFACTS / f"expose-{lang}-1.png").stat().st_size > 10_000  # a drawn page, map included


def test_a_comparison_puts_sites_side_by_side(api: TestClient, published: int, catalogue: list[int]) -> None:
    ids = [published, *catalogue[:2]]
    names = [api.get(f"/collections/sites/items/{i}").json()["properties"]["name"] for i in ids]
    for lang, title in (("it", "Siti a confronto"), ("en", "Sites side by side")):
        answer = api.get("/sites/compare.pdf", params={"ids": ",".join(map(str, ids)), "lang": lang})
        assert answer.status_code == 200, answer.text
        printed = printed_text(answer.content, f"compare-{lang}")
        assert title in printed
        flat = re.sub(r"\s+", " ", printed)
        for name in names:
            assert name[:12] in flat, name
        _no_personal_data(printed)


def test_a_comparison_for_an_enquiry_prints_how_each_site_meets_it(api: TestClient, accounts: dict,
                                                                    published: int, catalogue: list[int]) -> None:
    created = api.post("/enquiries", headers=accounts["staff"], json={
        "name": "HQ Milano", "investor_ref": "INV-42", "contact": CONTACT,
        "requirement": {"land_area_m2": {"min": 15000}, "provinces": ["MI"]}})
    assert created.status_code == 201, created.text
    path = f"/enquiries/{created.json()['id']}/comparison.pdf"
    ids = f"{published},{catalogue[0]}"
    assert api.get(path, params={"ids": ids}).status_code == 401
    assert api.get(path, params={"ids": ids}, headers=accounts["owner"]).status_code == 403
    for lang, fits, reason in (("it", "soddisfa tutti i requisiti", "20.000 m²"),
                               ("en", "meets every requirement", "20,000 m²")):
        answer = api.get(path, params={"ids": ids, "lang": lang}, headers=accounts["staff"])
        assert answer.status_code == 200, answer.text
        printed = printed_text(answer.content, f"compare-enquiry-{lang}")
        assert "HQ Milano" in printed and fits in printed and "✓" in printed and reason in printed
        _no_personal_data(printed)


@pytest.mark.parametrize("params, status, message", [
    ({"ids": "1"}, 400, "Give between 2 and 5 different site ids."),
    ({"ids": "1,2,3,4,5,6"}, 400, "Give between 2 and 5 different site ids."),
    ({"ids": "7,7"}, 400, "Give between 2 and 5 different site ids."),
    ({"ids": "1,x"}, 400, "ids must be site numbers separated by commas, e.g. 12,7,31."),
    ({"ids": "99999998,99999999"}, 404, "No published site 99999998, 99999999."),
])
def test_comparison_errors_say_what_to_change(api: TestClient, params: dict, status: int, message: str) -> None:
    answer = api.get("/sites/compare.pdf", params=params)
    assert answer.status_code == status and answer.json()["error"]["message"] == message


def test_expose_errors(api: TestClient, engine: Engine, catalogue: list[int]) -> None:
    missing = api.get("/sites/99999999/expose.pdf")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "No published site 99999999."
    assert missing.json()["error"]["message_it"] == "Nessun sito pubblicato 99999999."
    with engine.connect() as conn:
        draft = conn.execute(text("SELECT id FROM sites WHERE status <> 'published' LIMIT 1")).scalar()
    if draft is not None:  # an unpublished site looks like no site at all
        assert api.get(f"/sites/{draft}/expose.pdf").status_code == 404
    wrong = api.get(f"/sites/{catalogue[0]}/expose.pdf", params={"lang": "fr"})
    assert wrong.status_code == 422 and "lang" in wrong.text


def test_a_busy_printer_says_when_to_come_back(api: TestClient, catalogue: list[int],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A full waiting room is told at once; a wait past its time too (no thread held)."""
    full = WorkQueue("printing", slots=1, waiting_max=0, wait_s=10)
    full.working = 1
    monkeypatch.setitem(api.app.state.queues, "printing", full)
    busy = api.get(f"/sites/{catalogue[0]}/expose.pdf")
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "5"
    assert busy.json()["error"]["message"].startswith("The service is busy with other requests")
    stuck = WorkQueue("printing", slots=1, waiting_max=4, wait_s=0.05)
    stuck._free = asyncio.Semaphore(0)  # nobody ever gets a slot
    monkeypatch.setitem(api.app.state.queues, "printing", stuck)
    assert api.get(f"/sites/{catalogue[0]}/expose.pdf").status_code == 503
    assert (stuck.refused, stuck.waiting) == (1, 0)


def test_figures_are_written_the_way_each_language_reads_them() -> None:
    it, en = Formats("it"), Formats("en")
    assert (it.area(15000), en.area(15000)) == ("15.000 m²", "15,000 m²")
    assert (it.money(850000.0), en.money(850000.0)) == ("€ 850.000", "€ 850,000")
    assert (it.km(2.034), en.km(2.034)) == ("2,0 km", "2.0 km")
    assert (it.yes_no(None), en.yes_no(True)) == ("non indicato", "Yes")
    assert (it.code("site_type", "area_dismessa"), en.code("site_type", "area_dismessa")) == \
        ("Area dismessa (brownfield)", "Disused land (brownfield)")
    assert en.code("sectors", ["ict", "unknown"]) == f"{SECTORS['ict'][1]}, unknown"
    assert (it.date(dt.date(2027, 1, 31)), en.date(dt.date(2027, 1, 31))) == ("31/01/2027", "2027-01-31")


def test_the_map_frames_near_features_and_points_at_far_ones() -> None:
    """Synthetic positions: an exit 3 km east is in the frame, an airport 40 km away is not
    (it gets an arrow on the edge with its label)."""
    site = Point(9.5, 45.5)
    near = Place("motorway_exit", "Synthetic exit · 3.0 km", Point(9.5384, 45.5))
    far = Place("airport", "Synthetic airport · 40.0 km", Point(10.0, 45.6))
    lon0, _, lon1, _ = frame(site, [near, far])
    assert lon0 < 9.5384 < lon1 and not lon0 < 10.0 < lon1
    svg = render_svg(MapContent(site=site, places=[near, far]))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_an_expose_without_reference_layers_says_what_is_missing(api: TestClient, engine: Engine,
                                                                 catalogue: list[int]) -> None:
    """A site enriched before any transport layer or zone was loaded: the exposé says so
    instead of printing empty distances, and the map still frames the site."""
    site = catalogue[3]
    with engine.begin() as conn:
        saved = conn.execute(text("SELECT nearest, zones FROM sites WHERE id = :i"), {"i": site}).one()
        conn.execute(text("UPDATE sites SET nearest = '{}'::jsonb, zones = '{}' WHERE id = :i"), {"i": site})
    try:
        answer = api.get(f"/sites/{site}/expose.pdf", params={"lang": "en"})
        assert answer.status_code == 200
        printed = printed_text(answer.content, "expose-no-layers-en")
        assert printed.count("layer not loaded") == 4
        assert "No policy zone among those loaded." in printed
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE sites SET nearest = CAST(:n AS jsonb), zones = :z WHERE id = :i"),
                         {"n": json.dumps(saved.nearest), "z": saved.zones, "i": site})
