"""Settings, one class per concern, read from the environment.

Every class has its own prefix so that a deployment can see at a glance which
variables belong together (the tipg convention). Nothing here has a secret as a
default: the embedded database generates its own password under ``var/``.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class DatabaseSettings(BaseSettings):
    """Where the catalogue lives, and as whom the service and its migrations connect.

    With ``DATABASE_URL`` unset the service runs its own private PostGIS cluster
    under ``<data dir>/pg`` on ``embedded_port``: migrations and the command line as the
    cluster's owner, the API as a member of ``opportunity_service`` (least privilege).
    With ``DATABASE_URL`` set, the API connects with it; ``OPPORTUNITY_DB_OWNER_URL``
    (default: the same URL) is the role that owns the schema and runs migrations.
    """

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_DB_", extra="ignore")

    url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    owner_url: str | None = None
    embedded_port: int = Field(default=55432, ge=1024, le=65535)
    embedded_database: str = "opportunity"
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    statement_timeout_ms: int = Field(default=30_000, ge=0)
    # a request that cannot get a connection this soon answers 503 with Retry-After
    pool_timeout_s: float = Field(default=10, gt=0)

    @field_validator("url", "owner_url")
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
    """Files the service keeps: the embedded cluster, uploaded originals, backups
    (``OPPORTUNITY_BACKUP_DIR``, default ``<data dir>/backups``)."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_", extra="ignore")

    data_dir: Path = Path("var")
    shared_data_dir: Path = Path("../shared/data")
    # base backups, the WAL archive and copies of the originals: another disk in production
    backup_dir: Path | None = None

    @field_validator("data_dir", "shared_data_dir", "backup_dir")
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value else None

    @property
    def backups_dir(self) -> Path:
        return self.backup_dir or self.data_dir / "backups"

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
    # parsing is CPU work: a few at once per worker keep reads answered; the rest wait
    # for a slot up to queue_seconds, then get 503 with Retry-After
    concurrency: int = Field(default=2, ge=1, le=64)
    queue_seconds: float = Field(default=20, gt=0)
    # one workbook may take this long to read before it is refused (422)
    parse_seconds: float = Field(default=10, gt=0)


class ValidationSettings(BaseSettings):
    """Admissibility thresholds of earlier regional calls: warnings, never errors."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_VALIDATION_", extra="ignore")

    greenfield_min_land_m2: float = Field(default=10_000, ge=0)
    brownfield_min_floor_m2: float = Field(default=1_000, ge=0)
    comune_border_tolerance_m: float = Field(default=100, ge=0)


class AuthSettings(BaseSettings):
    """Accounts and tokens. In production (``OPPORTUNITY_ENV=production``) the service
    refuses to start without a secret key of its own; in development it generates one
    under ``var/`` so that every worker on the machine signs with the same key."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_AUTH_", extra="ignore")

    environment: Literal["development", "production"] = Field(
        default="development", validation_alias="OPPORTUNITY_ENV"
    )
    secret_key: SecretStr | None = None
    token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    # anonymous reads of the catalogue need a read-only API key (X-API-Key) when true
    require_api_key: bool = False
    # browser sessions: the cookie is Secure (HTTPS only) in production unless set here
    cookie_secure: bool | None = None

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production" if self.cookie_secure is None else self.cookie_secure


class LimitSettings(BaseSettings):
    """Attempts per sliding window (estimated from two fixed ones), counted in PostgreSQL and
    shared by all workers."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_LIMIT_", extra="ignore")

    window_seconds: int = Field(default=60, ge=1)
    logins: int = Field(default=10, ge=1)  # sign-in attempts per address
    # wrong passwords for one account from one address before that pair is refused (429)
    login_failures_per_address: int = Field(default=5, ge=1)
    # wrong passwords for one account, all addresses together, before each further attempt
    # is slowed down (never refused: an attacker must not lock the real user out)
    login_failures_before_slowdown: int = Field(default=5, ge=1)
    login_slowdown_step_s: float = Field(default=0.25, ge=0)
    login_slowdown_max_s: float = Field(default=3.0, ge=0)
    uploads: int = Field(default=30, ge=1)  # per account or address
    # matches with an area of interest (geometry work on every site near it), per account or address
    area_matches: int = Field(default=20, ge=1)
    pdfs: int = Field(default=10, ge=1)  # exposés and comparisons, per account or address
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)  # every body but uploads


class QueueSettings(BaseSettings):
    """The expensive kinds of request, each in its own queue per worker: so many at work at
    once, so many more waiting (on the event loop: no thread, no connection) for so long,
    and 503 with Retry-After beyond. Workbook parsing takes its slots and wait from
    OPPORTUNITY_UPLOAD_CONCURRENCY and _QUEUE_SECONDS."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_QUEUE_", extra="ignore")

    parsing_waiting: int = Field(default=32, ge=0)  # a signed-in burst of a window's 30 uploads waits
    printing_slots: int = Field(default=2, ge=1)  # PDFs: a few hundred ms of CPU each
    printing_waiting: int = Field(default=8, ge=0)
    printing_wait_s: float = Field(default=30, gt=0)
    hashing_slots: int = Field(default=2, ge=1)  # argon2id: ~50 ms and 64 MiB each
    hashing_waiting: int = Field(default=64, ge=0)
    hashing_wait_s: float = Field(default=30, gt=0)
    area_slots: int = Field(default=2, ge=1)  # matches with an area of interest
    area_waiting: int = Field(default=32, ge=0)
    area_wait_s: float = Field(default=5, gt=0)


@lru_cache
def queue_settings() -> QueueSettings:
    return QueueSettings()


class FreshnessSettings(BaseSettings):
    """When sites count as stale (flagged, ranked lower, owners reminded) and expire."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_FRESHNESS_", extra="ignore")

    stale_after_days: int = Field(default=365, ge=1)
    expire_after_days: int = Field(default=730, ge=1)
    stale_score_factor: float = Field(default=0.8, gt=0, le=1)


class AnalyticsSettings(BaseSettings):
    """Unmet-demand analytics: every ``POST /match`` is recorded without personal data
    (no address, no account; staff searches tagged as such). Public searches can be
    sampled or not recorded at all; records older than the retention are purged."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_ANALYTICS_", extra="ignore")

    record_public: bool = True
    public_sample: float = Field(default=1.0, ge=0, le=1)
    retention_days: int = Field(default=730, ge=1)
    # searches are written in batches, by each worker, this often (and at shutdown)
    flush_interval_s: float = Field(default=1.0, gt=0, le=60)
    pending_max: int = Field(default=10_000, ge=100)


@lru_cache
def analytics_settings() -> AnalyticsSettings:
    return AnalyticsSettings()


class NotifySettings(BaseSettings):
    """Where queued notifications go: ``smtp`` (the agency's mail server, see
    SmtpSettings), ``log`` (the service log), ``file`` (JSON lines under the data
    directory, for tests and pilots) or ``module:Class`` of your own. A failed message is
    tried again after ``backoff_s`` doubled per attempt (at most ``backoff_max_s``) and
    becomes a dead letter after ``max_attempts``; one whose send was cut short by a crash
    becomes a dead letter after ``sending_lease_s`` instead of being sent twice."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_NOTIFY_", extra="ignore")

    backend: str = "log"
    max_attempts: int = Field(default=5, ge=1)
    backoff_s: float = Field(default=60, ge=0)
    backoff_max_s: float = Field(default=6 * 3600, ge=0)
    sending_lease_s: float = Field(default=600, ge=0)


class SmtpSettings(BaseSettings):
    """The mail server of ``OPPORTUNITY_NOTIFY_BACKEND=smtp``. ``security`` is
    ``starttls`` (port 587, the default), ``tls`` (port 465) or ``none`` (a relay on
    loopback only); ``ca_file`` trusts a private certificate authority."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_SMTP_", extra="ignore")

    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str | None = None
    reply_to: str | None = None
    ca_file: Path | None = None
    timeout_s: float = Field(default=20, gt=0)


class ExposeSettings(BaseSettings):
    """Who investors contact on a printed site exposé: the agency, never the site's owner."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_EXPOSE_", extra="ignore")

    contact_name: str = "Invest in Lombardy"
    contact_web: str = "https://www.investinlombardy.com"
    contact_email: str | None = None
    contact_phone: str | None = None


@lru_cache
def expose_settings() -> ExposeSettings:
    return ExposeSettings()


NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"


class WebSettings(BaseSettings):
    """Pages: where npm installed MapLibre GL JS (the map), Swagger UI and ReDoc (API docs)."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_WEB_", extra="ignore")

    vendor_dir: Path = NODE_MODULES / "maplibre-gl" / "dist"
    swagger_ui_dir: Path = NODE_MODULES / "swagger-ui-dist"
    redoc_dir: Path = NODE_MODULES / "redoc" / "bundles"


class ApiSettings(BaseSettings):
    """How the HTTP API is exposed."""

    model_config = SettingsConfigDict(env_prefix="OPPORTUNITY_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    cors_origins: list[str] = Field(default_factory=list)
    root_path: str = ""
    # proxies whose X-Forwarded-For is believed (addresses or networks); nobody else's
    trusted_proxies: list[str] = Field(default_factory=list)
    # Host names the service answers to; any other Host header gets 400
    allowed_hosts: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1", "[::1]", "testserver"])
    # where links in answers point (https://sites.example.org); else the request's own host
    public_base_url: str | None = None
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_headers: int = Field(default=100, ge=10)
    # responses on one connection before it is closed, so that workers share the load
    # (app.api.hardening.KeepAliveLimit); 0 keeps connections open for ever
    keepalive_requests: int = Field(default=20, ge=0)
    # who may read /metrics besides staff: the monitoring host's addresses or networks
    metrics_allow: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # a typo must not start the service
        return value

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("public_base_url must start with http:// or https://")
        return value.rstrip("/") if value else value


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
def limit_settings() -> LimitSettings:
    return LimitSettings()


@lru_cache
def freshness_settings() -> FreshnessSettings:
    return FreshnessSettings()


@lru_cache
def notify_settings() -> NotifySettings:
    return NotifySettings()


@lru_cache
def smtp_settings() -> SmtpSettings:
    return SmtpSettings()


@lru_cache
def web_settings() -> WebSettings:
    return WebSettings()


@lru_cache
def api_settings() -> ApiSettings:
    return ApiSettings()
