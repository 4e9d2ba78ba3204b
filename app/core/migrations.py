"""Run Alembic programmatically: the service migrates to head before it serves."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, pool

from alembic import command

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@lru_cache
def head_revision() -> str | None:
    """The newest revision in alembic/versions (read once: /health asks on every call)."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def is_up_to_date(url: str) -> bool:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return current_revision(engine) == head_revision()
    finally:
        engine.dispose()
