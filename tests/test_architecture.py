"""The house and its rooms: imports flow one way (the contract below is data), ``ingest``
and ``geo`` stay pure, ``app/`` has a few packages each saying what it holds, and no
module grows past 400 lines. The checker is tested on a deliberate forbidden import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# each room: the rooms it may import (itself and the ``app`` package's __version__ always)
CONTRACT: dict[str, frozenset[str]] = {
    "app.core": frozenset(),
    "app.accounts": frozenset({"app.core"}),
    "app.catalogue": frozenset({"app.core"}),
    "app.candidacies": frozenset({"app.core", "app.accounts", "app.catalogue"}),
    "app.detection": frozenset({"app.core", "app.catalogue"}),
    "app.api": frozenset({"app.core", "app.accounts", "app.catalogue", "app.candidacies", "app.detection"}),
    "app.cli": frozenset({"app.core", "app.accounts", "app.catalogue", "app.candidacies", "app.detection",
                          "app.api"}),
    "app.web": frozenset(),
    # pure libraries: files and values in, results out; never the service
    "ingest": frozenset({"ingest"}),
    "geo": frozenset({"geo"}),
}
PURE = {"ingest", "geo"}
MAX_LINES = 400
MAX_APP_ENTRIES = 9  # eight packages and app/__init__.py


def imported_modules(source: str, module: str) -> set[str]:
    """Every module an import statement names, at any depth of the file (function-level
    imports count), relative imports resolved against ``module``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
    return found


def room_of(module: str) -> str | None:
    return next((room for room in sorted(CONTRACT, key=len, reverse=True)
                 if module == room or module.startswith(room + ".")), None)


def violations(module: str, source: str) -> list[str]:
    """Forbidden imports of one module under CONTRACT."""
    room = room_of(module)
    if room is None:
        return []
    problems = []
    for target in sorted(imported_modules(source, module)):
        top = target.split(".")[0]
        if room in PURE and top == "app":
            problems.append(f"{module} imports {target}: {room} must not depend on the service")
            continue
        if top != "app" or target == "app":  # libraries, ingest and geo: below every room
            continue
        target_room = room_of(target)
        if target_room is None:
            continue
        if target_room != room and target_room not in CONTRACT[room]:
            problems.append(f"{module} imports {target}: {room} may import only {sorted(CONTRACT[room])}")
    return problems


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in ("app", "ingest", "geo"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def test_imports_follow_the_contract() -> None:
    found = [p for module, path in project_modules().items() for p in violations(module, path.read_text())]
    assert found == []


@pytest.mark.parametrize("module, source, expected", [
    ("app.core.settings", "from app.catalogue.models import Site\n",
     "app.core.settings imports app.catalogue.models: app.core may import only []"),
    ("app.catalogue.matching", "def f():\n    from app.candidacies import lifecycle\n",
     "app.catalogue.matching imports app.candidacies: app.catalogue may import only ['app.core']"),
    ("app.accounts.auth", "import app.api.main\n",
     "app.accounts.auth imports app.api.main: app.accounts may import only ['app.core']"),
    ("ingest.parser", "from app.core.errors import NotFoundError\n",
     "ingest.parser imports app.core.errors: ingest must not depend on the service"),
    ("geo.detect", "from ..app import settings\n", "geo.detect imports app: geo must not depend on the service"),
])
def test_the_checker_catches_a_forbidden_import(module: str, source: str, expected: str | None) -> None:
    found = violations(module, source)
    assert found == ([expected] if expected else [])


def test_allowed_imports_pass_the_checker() -> None:
    assert violations("app.api.sites", "from app.candidacies.reports import site_report\nfrom app import __version__\n") == []
    assert violations("app.candidacies.intake", "from app.catalogue.enrichment import enrich\n") == []
    assert violations("ingest.checks", "from geo.layers import read_layer\nfrom ingest import codes\n") == []


def test_app_is_a_few_rooms_each_saying_what_it_holds() -> None:
    entries = sorted(p.name for p in (ROOT / "app").iterdir() if p.name != "__pycache__")
    assert len(entries) <= MAX_APP_ENTRIES, entries
    for entry in entries:
        path = ROOT / "app" / entry
        assert path.is_dir() or entry == "__init__.py", f"app/{entry} is a module on the top floor"
        if path.is_dir():
            doc = ast.get_docstring(ast.parse((path / "__init__.py").read_text()))
            assert doc, f"app/{entry}/__init__.py has no docstring saying what the room holds"


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in project_modules().values()
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}
