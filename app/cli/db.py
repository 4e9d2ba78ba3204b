"""``opportunity db``: the embedded cluster and the schema."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import console, fail
from app.core.database import embedded_cluster, resolve_database_url
from app.core.errors import OpportunityError
from app.core.settings import database_settings

db_cli = typer.Typer(no_args_is_help=True, help="The catalogue database.")


def _require_embedded(action: str) -> None:
    if database_settings().url:
        raise fail(f"DATABASE_URL is set: `db {action}` manages the embedded cluster only.")


@db_cli.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded PostGIS cluster."""
    _require_embedded("start")
    try:
        status = embedded_cluster().start()
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    console.print(status.describe())


@db_cli.command("stop")
def db_stop() -> None:
    """Shut the embedded cluster down cleanly."""
    _require_embedded("stop")
    cluster = embedded_cluster()
    try:
        stopped = cluster.stop()
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    console.print("stopped" if stopped else cluster.status().describe())


@db_cli.command("status")
def db_status() -> None:
    """Say whether the catalogue is reachable and migrated."""
    from app.core import migrations

    if database_settings().url:
        console.print("external database (DATABASE_URL)")
    else:
        status = embedded_cluster().status()
        console.print(status.describe())
        if not status.running:
            raise typer.Exit(code=3)
    url = resolve_database_url(start_embedded=False)
    up_to_date = migrations.is_up_to_date(url)
    console.print("schema: " + ("up to date" if up_to_date else "needs `opportunity db migrate`"))


@db_cli.command("migrate")
def db_migrate(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Upgrade the schema (to head by default)."""
    from app.core import migrations

    try:
        migrations.upgrade(resolve_database_url(), revision)
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    console.print(f"schema at {revision}")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, e.g. base or -1.")],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: this drops data.")] = False,
) -> None:
    """Downgrade the schema. Dropping tables loses their data, hence --yes."""
    from app.core import migrations

    if not yes:
        raise fail("downgrading drops tables and their data; repeat with --yes to confirm.")
    migrations.downgrade(resolve_database_url(), revision)
    console.print(f"schema at {revision}")
