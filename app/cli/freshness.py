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
    backend: Annotated[str | None, typer.Option(help="smtp, log, file or module:Class (default from settings).")] = None,
) -> None:
    """Send the notifications that are due; failures are retried later with back-off, and
    become dead letters (see `notify list --state dead`) after too many."""
    from app.candidacies.notify import deliver, load_notifier

    try:
        notifier = load_notifier(backend)
    except (ValueError, ImportError, AttributeError) as exc:
        raise fail(str(exc)) from exc
    with catalogue_session() as session:
        done = deliver(session, notifier)
    console.print(f"{done.sent} sent, {done.failed} failed (tried again later), {done.dead} dead letters")
    if done.failed or done.dead:
        raise typer.Exit(code=1)


@notify_cli.command("list")
def notify_list(
    state: Annotated[str, typer.Option(help="pending, sending, sent or dead.")] = "dead",
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Messages in one state, newest first, with their last error."""
    from app.candidacies.notify import NOTIFICATION_STATES, outbox

    if state not in NOTIFICATION_STATES:
        raise fail(f"--state {state!r}: use one of {', '.join(NOTIFICATION_STATES)}")
    with catalogue_session() as session:
        rows = outbox(session, state, limit)
        for row in rows:
            console.print(f"#{row.id} {row.created_at:%Y-%m-%d %H:%M} {row.kind} to {row.recipient}, "
                          f"{row.attempts} attempts" + (f": {row.last_error}" if row.last_error else ""),
                          soft_wrap=True)
    console.print(f"{len(rows)} {state}")


@notify_cli.command("resend")
def notify_resend(notification_id: Annotated[int, typer.Argument(help="A dead letter's number.")]) -> None:
    """Queue a dead letter again (after checking it did not arrive)."""
    from app.candidacies.notify import resend

    with catalogue_session() as session:
        row = resend(session, notification_id)
        if row is None:
            raise fail(f"there is no dead letter #{notification_id}")
        session.commit()
    console.print(f"#{notification_id} queued again")
