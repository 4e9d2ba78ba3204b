"""``opportunity db``: the embedded cluster and the schema."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import cluster as embedded_cluster
from app.cli.common import console, fail
from app.cli.common import database_url as resolve_database_url
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


def _progress_bar():
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<28}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    console=console)


def _reporter(bar):
    tasks: dict[str, int] = {}

    def report(step: str, done: float, total: float) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total or None)
        bar.update(tasks[step], completed=done, total=total or None)

    return report


@db_cli.command("backup")
def db_backup(
    keep: Annotated[int, typer.Option(min=1, help="Base backups to keep (older ones and their WAL are deleted).")] = 7,
) -> None:
    """Base backup of the embedded cluster (its WAL is archived continuously) and a copy
    of the uploaded originals not copied before, under the backup folder."""
    from app.core.backups import back_up, copy_originals
    from app.core.settings import storage_settings

    storage = storage_settings()
    if database_settings().url:
        with _progress_bar() as bar:
            copied = copy_originals(storage.uploads_dir, storage.backups_dir / "files", _reporter(bar))
        console.print(f"DATABASE_URL is set: back the database up on its server (docs/operations.md). "
                      f"{copied} new uploaded originals copied to {storage.backups_dir / 'files'}.", soft_wrap=True)
        return
    try:
        with _progress_bar() as bar:
            backup = back_up(embedded_cluster(), storage.uploads_dir, storage.backups_dir, _reporter(bar), keep)
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    console.print(f"base backup {backup.label} in {backup.folder}; {backup.files} new uploaded originals copied",
                  soft_wrap=True)


@db_cli.command("backups")
def db_backups() -> None:
    """The base backups a restore can start from, oldest first."""
    from app.core.backups import base_backups
    from app.core.settings import storage_settings

    found = base_backups(storage_settings().backups_dir)
    for backup in found:
        console.print(f"{backup.label}  finished {backup.finished:%Y-%m-%d %H:%M:%S} UTC  {backup.folder}", soft_wrap=True)
    console.print(f"{len(found)} base backups")


@db_cli.command("restore")
def db_restore(
    to: Annotated[str | None, typer.Option(
        "--to", help="Point in time, ISO 8601 with its offset (2026-12-04T18:30:00+01:00); default: the latest.")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the cluster is replaced (its folder is kept aside).")] = False,
) -> None:
    """Restore the embedded cluster from the base backup before --to and the WAL archive,
    then make the uploaded originals agree with it."""
    import datetime as dt

    from app.core.backups import restore
    from app.core.settings import storage_settings

    _require_embedded("restore")
    target = None
    if to:
        try:
            target = dt.datetime.fromisoformat(to)
        except ValueError as exc:
            raise fail(f"--to {to!r} is not an ISO 8601 time such as 2026-12-04T18:30:00+01:00") from exc
        if target.tzinfo is None:
            raise fail(f"--to {to!r} has no UTC offset; add one (+00:00 for UTC) so that the time is not ambiguous")
    if not yes:
        raise fail("restoring replaces the running cluster (its data folder is kept aside); repeat with --yes")
    storage = storage_settings()
    try:
        with _progress_bar() as bar:
            report = restore(embedded_cluster(), storage.uploads_dir, storage.backups_dir, target, _reporter(bar))
    except OpportunityError as exc:
        raise fail(exc.message) from exc
    console.print(f"restored from {report.backup}" + (f" to {report.target.isoformat()}" if report.target else "")
                  + f"; {report.files_restored} uploaded originals brought back, {report.files_set_aside} set aside"
                  + (f" in {report.set_aside_in}" if report.set_aside_in else ""), soft_wrap=True)
    if report.missing:
        console.print(f"[red]{len(report.missing)} originals are in neither the upload folder nor the backup[/]")
        raise typer.Exit(code=1)
