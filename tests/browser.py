"""Debian's chromium for the browser tests (Playwright's library with ``executable_path``:
no browser is downloaded), and what the pages' tests share: accessibility checks with
axe-core from the npm registry and keyboard reachability."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.live import require_tool

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-default-apps", "--disable-sync", "--no-first-run", "--disable-features=Translate",
                 "--enable-unsafe-swiftshader", "--use-angle=swiftshader"]


def chromium_path() -> str:
    return require_tool("chromium", "Debian's chromium is not installed (make test installs it: "
                        "scripts/setup-system.sh)",
                        override=os.environ.get("OPPORTUNITY_CHROMIUM") or shutil.which("chromium-browser"))


def launched_chromium() -> Iterator[Any]:
    """Debian's chromium, headless, until the generator is closed (conftest's ``browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (the context
    must bypass the page's CSP, which rightly refuses an injected script)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text())
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results if v["impact"] in ("serious", "critical")]


def unreachable_by_keyboard(page: Any, presses: int = 200) -> list[str]:
    """Visible, enabled controls that Tab never reaches."""
    page.evaluate("""() => document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')
        .forEach((el, i) => el.dataset.kb = String(i))""")
    page.evaluate("() => { document.activeElement?.blur(); window.scrollTo(0, 0); }")
    reached: list[str] = []
    previous = None
    for _ in range(presses):
        page.keyboard.press("Tab")
        key = page.evaluate("() => document.activeElement?.dataset?.kb ?? null")
        if key is not None and key != previous:  # a date input keeps the focus across its fields
            if reached and key == reached[0]:
                break  # a full round
            if key not in reached:
                reached.append(key)
        previous = key
    controls = page.evaluate("""() => [...document.querySelectorAll(
        'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea')]
        .filter((el) => el.offsetParent !== null && !el.closest('.maplibregl-map'))
        .map((el) => [el.dataset.kb, el.outerHTML.slice(0, 80)])""")
    missing = [html for key, html in controls if key not in reached]
    return missing + ([f"(reached in order: {reached})"] if missing else [])
