"""Settings come from the environment, one prefix per concern."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.settings import ApiSettings, DatabaseSettings, StorageSettings, UploadSettings


def test_database_url_forms_are_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db:5432/cat")
    assert DatabaseSettings().url == "postgresql+psycopg://u:p@db:5432/cat"
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@db/cat")
    assert DatabaseSettings().url == "postgresql+psycopg://u:p@db/cat"


def test_no_database_url_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("OPPORTUNITY_DB_EMBEDDED_PORT", "56000")
    settings = DatabaseSettings()
    assert settings.url is None and settings.embedded_port == 56000


def test_data_dir_is_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPPORTUNITY_DATA_DIR", "state")
    storage = StorageSettings()
    assert storage.data_dir == tmp_path / "state"
    assert storage.uploads_dir == tmp_path / "state" / "uploads"


def test_cors_origins_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_API_CORS_ORIGINS", '["https://www.investinlombardy.com"]')
    assert ApiSettings().cors_origins == ["https://www.investinlombardy.com"]


def test_upload_limits_refuse_nonsense(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPPORTUNITY_UPLOAD_MAX_BYTES", "12")
    with pytest.raises(ValidationError, match=r"max_bytes"):
        UploadSettings()
