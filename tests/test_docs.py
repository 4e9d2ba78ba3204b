"""The README and docs/ say what the code does: every path they name exists, every dotted
name resolves, every `opportunity` command they show parses (its --help runs) with the
options they give it, every make target exists, and the README's /health example has the
keys and the schema revision of the service."""

from __future__ import annotations

import importlib
import json
import re
import shlex
from typing import Any

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import cli
from app.core.migrations import head_revision
from tests.conftest import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = r"(?:app|ingest|geo|tests|bench|docs|data|alembic|scripts|docker|\.ci)"
PATH = re.compile(rf"`(?:\./)?({TOP}/[^`\s]*)`")
LINK = re.compile(r"\]\((?!https?:|#|mailto:)([^)#\s]+)")
DOTTED = re.compile(r"`((?:app|ingest|geo)(?:\.[A-Za-z_]\w*)+)`")
COMMAND = re.compile(r"(?:^|[`\s(])(?:\./)?opportunity ((?!\.\.\.)[^`|\n]*)", re.M)
MAKE = re.compile(r"(?:^\s*|`)make ([a-z][a-z0-9_-]*)(?![\w-])", re.M)  # not bench-NAME, a placeholder


def _named(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return sorted({(doc.name, m.group(1)) for doc in DOCS for m in pattern.finditer(doc.read_text())})


@pytest.mark.parametrize("doc, path", _named(PATH))
def test_every_path_named_exists(doc: str, path: str) -> None:
    path = path.rstrip(".,:;")
    assert list(ROOT.glob(path)) or (ROOT / path).exists(), f"{doc} names {path}, which does not exist"


@pytest.mark.parametrize("doc, target", _named(LINK))
def test_every_relative_link_leads_somewhere(doc: str, target: str) -> None:
    base = ROOT if doc == "README.md" else ROOT / "docs"
    assert (base / target).exists(), f"{doc} links {target}, which does not exist"


def resolve(dotted: str) -> object:
    """The object a dotted name stands for: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            found = getattr(found, attribute)
        return found
    raise ModuleNotFoundError(dotted)


@pytest.mark.parametrize("doc, dotted", _named(DOTTED))
def test_every_dotted_name_resolves(doc: str, dotted: str) -> None:
    try:
        resolve(dotted)
    except (ImportError, AttributeError) as error:
        pytest.fail(f"{doc} names {dotted}: {error}")


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")  # typer's click groups (typer may bring its own click)


def command_of(words: list[str]) -> tuple[list[str], Any]:
    """The longest chain of ``words`` that names a (sub)command of ``opportunity``."""
    command = typer.main.get_command(cli)
    path: list[str] = []
    for word in words:
        if not is_group(command) or word not in command.commands:
            break
        command = command.commands[word]
        path.append(word)
    return path, command


def _shown_commands() -> list[tuple[str, str]]:
    found = set()
    for doc, text in _named(COMMAND):
        for alternative in re.split(r"\s+/\s+", text):  # `opportunity db start` / `stop`
            found.add((doc, alternative.strip()))
    return sorted(found)


@pytest.mark.parametrize("doc, text", _shown_commands())
def test_every_command_shown_parses(doc: str, text: str) -> None:
    try:
        words = shlex.split(text.replace("[", " ").replace("]", " ").replace("\\|", "|"))
    except ValueError:
        words = text.split()
    path, command = command_of(words)
    if not path and words and not words[0].startswith("-"):
        if words[0].split("|")[0] in {"stop", "status", "remind", "expire", "revoke"} or "|" in words[0]:
            pytest.skip("an alternative of the command before it")
    if is_group(command) and words[len(path):]:
        # `opportunity users create|list|...`, `db start|stop|status`: each alternative
        names = [n for n in re.split(r"[|,]", words[len(path)]) if n and n != "..."]
        assert names and all(n in command.commands for n in names), f"{doc}: opportunity {text}"
        return
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, f"{doc}: opportunity {' '.join(path)} --help: {result.output}"
    options = {name for param in command.params for name in [*getattr(param, "opts", []),
                                                              *getattr(param, "secondary_opts", [])]}
    shown = {w.split("=")[0] for w in words if w.startswith("--")}
    assert shown <= options | {"--help"}, f"{doc}: opportunity {text}: no option {sorted(shown - options)}"


def _make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w%-]*):", (ROOT / "Makefile").read_text(), re.M))


@pytest.mark.parametrize("doc, target", _named(MAKE))
def test_every_make_target_exists(doc: str, target: str) -> None:
    if target.startswith("bench-"):
        assert (ROOT / "bench" / f"{target.removeprefix('bench-')}.py").exists(), f"{doc}: make {target}"
    else:
        assert target in _make_targets(), f"{doc}: make {target}"


def readme_health_example() -> dict:
    text = (ROOT / "README.md").read_text()
    after = text[text.index("localhost:8000/health"):]
    block = re.search(r"```json\n(.*?)```", after, re.S)
    assert block, "the README shows no /health answer"
    return json.loads(block.group(1))


def test_the_readme_health_example_is_what_the_service_answers(database_url: str, reference_loaded: list) -> None:
    example = readme_health_example()
    with TestClient(create_app(database_url)) as client:
        live = client.get("/health").json()
    assert example["schema_revision"] == head_revision()
    assert set(example) == set(live)
    assert set(example["reference"]) == set(live["reference"])
    for layers in ("infrastructure", "policy_zones"):
        assert set(example["reference"][layers]) <= set(live["reference"][layers]) | {"airfield"}, layers


def test_the_checkers_catch_drift() -> None:
    """Each check fails on the drift it is there for."""
    with pytest.raises(AttributeError):
        resolve("app.reference.enrichment.no_such_function")
    with pytest.raises(ModuleNotFoundError):
        resolve("nothing.here")
    path, _ = command_of(["detect", "run", "before.tif"])
    assert path == ["detect", "run"]
    assert command_of(["no-such-group"])[0] == []
    assert not (ROOT / "app/settings.py").exists()  # named by an old README
