"""Settings, one class per concern, read from the environment.

Every class has its own prefix so that a deployment can see at a glance which
variables belong together (the tipg convention). Nothing here has a secret as a
default: the embedded database generates its own password under ``var/``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the catalogue lives.

    With ``DATABASE_URL`` unset the service runs its own private PostGIS cluster
    under ``<data dir>/pg`` on ``embedded_port``.
    """

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_DB_", extra="ignore")

    url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    embedded_port: int = Field(default=55432, ge=1024, le=65535)
    embedded_database: str = "opportunity"
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    statement_timeout_ms: int = Field(default=30_000, ge=0)

    @field_validator("url")
    @classmethod
    def _normalise_driver(cls, value: str | None) -> str | None:
        """Accept the ``postgres://`` and ``postgresql://`` forms that hosting platforms hand out."""
        if not value:
            return None
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value


class StorageSettings(BaseSettings):
    """Files the service keeps: the embedded cluster, uploaded originals."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_", extra="ignore")

    data_dir: Path = Path("var")
    shared_data_dir: Path = Path("../shared/data")

    @field_validator("data_dir", "shared_data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def cluster_dir(self) -> Path:
        return self.data_dir / "pg"


class UploadSettings(BaseSettings):
    """Limits on what an owner may upload (checked before anything is parsed)."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_UPLOAD_", extra="ignore")

    max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_uncompressed_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    max_compression_ratio: float = Field(default=100.0, gt=1)
    max_rows: int = Field(default=5_000, ge=10)
    # python-calamine (Rust) reads our workbooks about 3x faster than openpyxl and gives
    # the same cells (tested); openpyxl stays available as the reference reader.
    reader: Literal["calamine", "openpyxl"] = "calamine"


class ValidationSettings(BaseSettings):
    """Admissibility thresholds of earlier regional calls: warnings, never errors."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_VALIDATION_", extra="ignore")

    greenfield_min_land_m2: float = Field(default=10_000, ge=0)
    brownfield_min_floor_m2: float = Field(default=1_000, ge=0)
    comune_border_tolerance_m: float = Field(default=100, ge=0)


class AuthSettings(BaseSettings):
    """Until user accounts exist (issue 5), staff-only endpoints need this shared token in
    the X-Staff-Token header; without it configured they are closed to everyone."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_AUTH_", extra="ignore")

    staff_token: str | None = Field(default=None, min_length=24)


class ApiSettings(BaseSettings):
    """How the HTTP API is exposed."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    root_path: str = ""


@lru_cache
def database_settings() -> DatabaseSettings:
    return DatabaseSettings()


@lru_cache
def storage_settings() -> StorageSettings:
    return StorageSettings()


@lru_cache
def upload_settings() -> UploadSettings:
    return UploadSettings()


@lru_cache
def validation_settings() -> ValidationSettings:
    return ValidationSettings()


@lru_cache
def auth_settings() -> AuthSettings:
    return AuthSettings()


@lru_cache
def api_settings() -> ApiSettings:
    return ApiSettings()
