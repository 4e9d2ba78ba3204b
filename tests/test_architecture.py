"""The house and its rooms: imports flow one way (the contract below is data), ``ingest``
and ``geo`` stay pure, ``app/`` has a few packages each saying what it holds, no room
but the routers holds more than 15% of its lines, no module imports a module that
imports it (at any distance), and no module grows past 400 lines. Each checker is
tested on a deliberate violation."""

from __future__ import annotations

import ast
from collections.abc import Collection, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# each room: the rooms it may import (itself and the ``app`` package's __version__ always)
CONTRACT: dict[str, frozenset[str]] = {
    "app.core": frozenset(),
    "app.accounts": frozenset({"app.core"}),
    "app.reference": frozenset({"app.core"}),
    "app.catalogue": frozenset({"app.core", "app.reference"}),
    "app.scouting": frozenset({"app.core", "app.reference", "app.catalogue"}),
    "app.documents": frozenset({"app.core", "app.reference", "app.catalogue"}),
    "app.candidacies": frozenset({"app.core", "app.accounts", "app.reference", "app.catalogue", "app.scouting"}),
    "app.detection": frozenset({"app.core", "app.reference", "app.catalogue"}),
    "app.api": frozenset({"app.core", "app.accounts", "app.reference", "app.catalogue", "app.scouting",
                          "app.documents", "app.candidacies", "app.detection"}),
    "app.cli": frozenset({"app.core", "app.accounts", "app.reference", "app.catalogue", "app.scouting",
                          "app.documents", "app.candidacies", "app.detection", "app.api"}),
    "app.web": frozenset(),
    # pure libraries: files and values in, results out; never the service
    "ingest": frozenset({"ingest"}),
    "geo": frozenset({"geo"}),
}
PURE = {"ingest", "geo"}
MAX_LINES = 400
MAX_APP_ENTRIES = 12  # eleven packages and app/__init__.py
# no room but the routers holds more than this share of app/'s Python lines
MAX_ROOM_SHARE = 0.15
UNBOUNDED_ROOMS = {"api"}


def imported_modules(source: str, module: str, known: Collection[str] = ()) -> set[str]:
    """Every module an import statement names, at any depth of the file (function-level
    and ``TYPE_CHECKING`` imports count), relative imports resolved against ``module``;
    ``from package import name`` names ``package.name`` too where that is a ``known`` module."""
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
            found |= {f"{base}.{alias.name}" for alias in node.names} & set(known)
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
    ("app.scouting.matching", "def f():\n    from app.candidacies import lifecycle\n",
     "app.scouting.matching imports app.candidacies: app.scouting may import only "
     "['app.catalogue', 'app.core', 'app.reference']"),
    ("app.reference.enrichment", "from app.catalogue.models import Site\n",
     "app.reference.enrichment imports app.catalogue.models: app.reference may import only ['app.core']"),
    ("app.catalogue.collections", "from app.scouting import matching\n",
     "app.catalogue.collections imports app.scouting: app.catalogue may import only ['app.core', 'app.reference']"),
    ("app.documents.pdf", "from app.scouting.matching import assess\n",
     "app.documents.pdf imports app.scouting.matching: app.documents may import only "
     "['app.catalogue', 'app.core', 'app.reference']"),
    ("app.candidacies.intake", "from app.documents.pdf import expose_pdf\n",
     "app.candidacies.intake imports app.documents.pdf: app.candidacies may import only "
     "['app.accounts', 'app.catalogue', 'app.core', 'app.reference', 'app.scouting']"),
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
    assert violations("app.candidacies.intake", "from app.reference.enrichment import enrich\n") == []
    assert violations("ingest.checks", "from geo.layers import read_layer\nfrom ingest import codes\n") == []


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (a package counts as its ``__init__``)."""
    modules = project_modules()
    return {module: {t for t in imported_modules(path.read_text(), module, modules) if t in modules and t != module}
            for module, path in modules.items()}


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The groups of modules that reach one another through imports (Tarjan's strongly
    connected components of more than one module), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in graph.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while (member := stack.pop()) != module:
                group.append(member)
            if group:
                cycles.append(sorted([module, *group]))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(cycles)


def test_no_module_imports_a_module_that_imports_it() -> None:
    assert import_cycles(import_graph()) == []


def test_the_cycle_finder_catches_circles() -> None:
    assert import_cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    # the two shapes this project once had: a type-only import back, and a package's name
    sites = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from geo.detect import DetectionParams\n"
    detect = "from geo import sites\n"
    known = {"geo.detect", "geo.sites"}
    graph = {"geo.sites": imported_modules(sites, "geo.sites", known) & known,
             "geo.detect": imported_modules(detect, "geo.detect", known) & known}
    assert import_cycles(graph) == [["geo.detect", "geo.sites"]]


def room_shares() -> dict[str, float]:
    """Each room of ``app/``: its share of the Python lines of ``app/``."""
    lines = {room.name: sum(len(p.read_text().splitlines()) for p in room.rglob("*.py"))
             for room in (ROOT / "app").iterdir() if room.is_dir() and room.name != "__pycache__"}
    total = sum(lines.values())
    return {room: n / total for room, n in lines.items()}


def test_no_room_but_the_routers_holds_over_15_percent_of_app() -> None:
    shares = room_shares()
    assert set(shares) - UNBOUNDED_ROOMS, shares
    crowded = {room: round(share, 3) for room, share in shares.items()
               if share > MAX_ROOM_SHARE and room not in UNBOUNDED_ROOMS}
    assert crowded == {}


def test_every_room_of_app_is_in_the_contract() -> None:
    rooms = {f"app.{p.name}" for p in (ROOT / "app").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert rooms == {room for room in CONTRACT if room.startswith("app.")}


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
