"""``opportunity intake``: the template, checking a workbook, importing a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from app.cli.common import catalogue_session, console, fail
from app.core.errors import OpportunityError

intake_cli = typer.Typer(no_args_is_help=True, help="Excel candidacies.")


@intake_cli.command("template")
def intake_template(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where to write the .xlsx.")],
    kind: Annotated[str, typer.Option(help="A: area/building; B: investment project.")] = "A",
    proponent: Annotated[
        str | None, typer.Option(help="Codice fiscale or partita IVA of a known proponent: pre-fills the registry.")
    ] = None,
) -> None:
    """Write the pre-compiled template, pre-filled for a known proponent."""
    from app.candidacies.intake import proponent_prefill
    from ingest.template import build_template

    if kind not in ("A", "B"):
        raise fail("--kind must be A or B.")
    prefill = None
    if proponent:
        with catalogue_session() as session:
            prefill = proponent_prefill(session, proponent)
        if prefill is None:
            raise fail(f"No proponent with codice fiscale or partita IVA {proponent}.")
    output.write_bytes(build_template(kind, prefill))
    console.print(f"template {kind} written to {output}" + (" (pre-filled)" if prefill else ""))


def _print_report(name: str, report: dict) -> None:
    console.print(f"[bold]{name}[/]: {report['errors']} error(s), {report['warnings']} warning(s)")
    for p in report["problems"]:
        colour = "red" if p["severity"] == "error" else "yellow"
        where = f"{p['sheet']}!{p['cell']}" if p["cell"] else p["sheet"] or ""
        console.print(f"  [{colour}]{p['severity']:<7}[/] {where:<16} {p['message_en']}", soft_wrap=True)


@intake_cli.command("validate")
def intake_validate(
    path: Annotated[Path, typer.Argument(help="A filled-in workbook.")],
    annotated: Annotated[Path | None, typer.Option(help="Write the workbook back with problems marked.")] = None,
) -> None:
    """Check one workbook without storing it; exit 1 when it has errors."""
    from app.candidacies.intake import check_workbook
    from ingest.annotate import annotate
    from ingest.problems import WorkbookRejected

    data = path.read_bytes()
    try:
        with catalogue_session() as session:
            validation = check_workbook(session, data)
    except WorkbookRejected as exc:
        raise fail(exc.message_en) from exc
    _print_report(path.name, validation.report())
    if annotated:
        annotated.write_bytes(annotate(data, validation.problems))
        console.print(f"annotated workbook written to {annotated}")
    if not validation.ok:
        raise typer.Exit(code=1)


def _refusal(exc: OpportunityError) -> str:
    """One line: how many errors and the first of them."""
    report = exc.details if isinstance(exc.details, dict) else None
    if not report or not report.get("problems"):
        return exc.message
    first = report["problems"][0]
    where = f"{first['sheet']}!{first['cell']}: " if first.get("cell") else ""
    return f"{report['errors']} error(s), first {where}{first['message_en']}"


@intake_cli.command("import")
def intake_import(
    folder: Annotated[Path, typer.Argument(help="Folder of .xlsx workbooks (searched recursively).")],
) -> None:
    """Validate and store every workbook, one transaction per file; a bad file does not
    stop the others. Exit 1 when any file was refused."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from app.candidacies.intake import submit
    from app.core.errors import OpportunityError
    from ingest.problems import WorkbookRejected

    files = sorted(p for p in folder.rglob("*.xlsx") if not p.name.startswith("~$"))
    if not files:
        raise fail(f"No .xlsx files in {folder}.")
    outcomes: list[tuple[str, str, str]] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with catalogue_session() as session, Progress(*columns, console=console) as progress:
        task = progress.add_task("importing", total=len(files))
        for path in files:
            progress.update(task, description=path.name[:40])
            try:
                outcome = submit(session, path.read_bytes(), filename=path.name, actor="cli import")
                verdict = "unchanged" if outcome.duplicate else f"stored v{outcome.version}"
                outcomes.append((path.name, verdict, f"candidacy {outcome.candidacy_id}"))
            except WorkbookRejected as exc:
                session.rollback()
                outcomes.append((path.name, "refused", exc.message_en))
            except OpportunityError as exc:
                session.rollback()
                outcomes.append((path.name, "refused", _refusal(exc)))
            progress.advance(task)
    table = Table("file", "result", "detail")
    for row in outcomes:
        table.add_row(*row)
    Console().print(table)
    if any(result == "refused" for _, result, _ in outcomes):
        raise typer.Exit(code=1)
