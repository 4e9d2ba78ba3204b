"""``opportunity``: the one command that runs, sets up and feeds the service.

    opportunity serve [--demo]          start PostGIS if embedded, migrate, serve the API
    opportunity db start|stop|status    manage the embedded PostGIS cluster
    opportunity db migrate|downgrade    move the schema
    opportunity reference load          comuni, provinces, airports, stations, zones...
    opportunity reference layer FILE    any GeoJSON/GeoPackage/Shapefile/CSV layer
    opportunity reference status        what is loaded
    opportunity intake template         the pre-compiled Excel template (kind A or B)
    opportunity intake validate FILE    check a workbook, optionally write it back annotated
    opportunity intake import FOLDER    store every workbook of a folder, with progress
    opportunity users create|list|...   accounts (proponents, staff, admins)
    opportunity keys create|revoke      read-only API keys for frontends
    opportunity freshness stale|remind|expire|purge-searches   unconfirmed sites, reminders, expiry, old searches
    opportunity notify deliver          hand queued notifications to the notifier
    opportunity storage check [--fix]   uploaded files and candidacy rows agree
"""

from __future__ import annotations

import typer

from app.cli import accounts, db, detect, freshness, intake, reference, serve, storage

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, help=__doc__
)
cli.command()(serve.serve)
cli.command()(reference.enrich)
for group, name in ((db.db_cli, "db"), (reference.reference_cli, "reference"), (intake.intake_cli, "intake"),
                    (detect.detect_cli, "detect"), (accounts.users_cli, "users"), (accounts.keys_cli, "keys"),
                    (freshness.freshness_cli, "freshness"), (freshness.notify_cli, "notify"),
                    (storage.storage_cli, "storage")):
    cli.add_typer(group, name=name)


def main() -> None:
    cli()
