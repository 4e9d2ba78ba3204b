"""``opportunity freshness`` and ``opportunity notify``: stale sites, reminders, expiry, delivery."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.common import catalogue_session, console, fail

freshness_cli = typer.Typer(no_args_is_help=True, help="Sites nobody confirmed for a while.")
notify_cli = typer.Typer(no_args_is_help=True, help="The notification outbox.")


@freshness_cli.command("stale")
def freshness_stale() -> None:
    """Published sites not confirmed within the stale period, and whom to remind."""
    from app.candidacies.freshness import stale_sites

    table = Table("site", "name", "last confirmed", "days", "remind", "expires")
    with catalogue_session() as session:
        rows = stale_sites(session)
    for r in rows:
        table.add_row(str(r["site_id"]), r["site_name"], r["last_confirmed_at"][:10], str(r["days_since_confirmed"]),
                      r["recipient"] or "(no address)", "due" if r["due_to_expire"] else "")
    Console().print(table)
    console.print(f"{len(rows)} stale sites")


@freshness_cli.command("purge-searches")
def purge_searches() -> None:
    """Delete recorded investor searches older than OPPORTUNITY_ANALYTICS_RETENTION_DAYS."""
    from app.scouting.demand import purge

    with catalogue_session() as session:
        gone = purge(session)
        session.commit()
    console.print(f"{gone} recorded searches deleted")


@freshness_cli.command("remind")
def freshness_remind() -> None:
    """Queue a reminder per stale site (once a month); deliver with notify deliver."""
    from app.candidacies.freshness import remind

    with catalogue_session() as session:
        queued = remind(session)
    console.print(f"{queued} reminders queued")


@freshness_cli.command("expire")
def freshness_expire() -> None:
    """Expire published sites unconfirmed past the expiry period."""
    from app.candidacies.freshness import expire

    with catalogue_session() as session:
        expired = expire(session)
    console.print(f"{len(expired)} sites expired" + (f": {', '.join(map(str, expired))}" if expired else ""))


@notify_cli.command("deliver")
def notify_deliver(
    backend: Annotated[str | None, typer.Option(help="log, file or module:Class (default from settings).")] = None,
) -> None:
    """Hand pending notifications to the notifier; failures stay queued for the next run."""
    from app.candidacies.notify import deliver, load_notifier

    try:
        notifier = load_notifier(backend)
    except (ValueError, ImportError, AttributeError) as exc:
        raise fail(str(exc)) from exc
    with catalogue_session() as session:
        sent, failed = deliver(session, notifier)
    console.print(f"{sent} sent, {failed} failed")
    if failed:
        raise typer.Exit(code=1)
