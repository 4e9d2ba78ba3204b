"""The `opportunity` command: its user-facing refusals and layer loading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.core import settings

runner = CliRunner()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, reference_loaded: list):
    monkeypatch.setenv("DATABASE_URL", database_url)
    settings.database_settings.cache_clear()
    yield
    settings.database_settings.cache_clear()


def test_downgrade_needs_confirmation(env: None) -> None:
    result = runner.invoke(cli, ["db", "downgrade", "base"])
    assert result.exit_code == 1
    assert "repeat with --yes" in result.output


def test_db_start_refuses_with_external_database(env: None) -> None:
    result = runner.invoke(cli, ["db", "start"])
    assert result.exit_code == 1
    assert "DATABASE_URL is set" in result.output


def test_layer_command_reports_a_bad_file(env: None, tmp_path: Path) -> None:
    path = tmp_path / "exits.csv"
    path.write_text("name,comune\nSynthetic A,Milano\n")
    result = runner.invoke(cli, ["reference", "layer", str(path), "--type", "motorway_exit"])
    assert result.exit_code == 1
    assert "no coordinate columns" in result.output


def test_layer_command_loads_and_status_lists_it(env: None, tmp_path: Path) -> None:
    path = tmp_path / "synthetic_ports.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": "P1", "name": "Synthetic port"},
         "geometry": {"type": "Point", "coordinates": [10.05, 45.12]}}]}))
    result = runner.invoke(cli, ["reference", "layer", str(path), "--type", "synthetic_port"])
    assert result.exit_code == 0, result.output
    assert "loaded" in result.output
    again = runner.invoke(cli, ["reference", "layer", str(path), "--type", "synthetic_port"])
    assert "unchanged" in again.output
    status = runner.invoke(cli, ["reference", "status"])
    assert "infrastructure: synthetic_port" in status.output
