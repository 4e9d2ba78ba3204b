"""``opportunity storage``: uploaded originals and their rows agree."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import catalogue_connection, console
from app.core.settings import storage_settings

storage_cli = typer.Typer(no_args_is_help=True, help="Uploaded originals under the data folder.")


@storage_cli.command("check")
def storage_check(
    fix: Annotated[bool, typer.Option("--fix", help="Delete the orphan files found.")] = False,
    older_than_minutes: Annotated[float, typer.Option(
        min=0, help="Spare files younger than this: uploads may be in flight.")] = 60,
) -> None:
    """Files no candidacy references (left by a crash between file and database) and
    candidacies whose original is missing; --fix deletes the orphans."""
    import datetime as dt

    from app.core.storage import check_store, remove_original

    root = storage_settings().uploads_dir
    with catalogue_connection(write=False) as conn:
        found = check_store(conn, root, dt.timedelta(minutes=older_than_minutes))
    for orphan in found.orphans:
        console.print(f"  orphan {orphan.kind}: {orphan.path} ({orphan.modified:%Y-%m-%d %H:%M} UTC)", soft_wrap=True)
        if fix:
            remove_original(orphan.path)
    for candidacy_id, digest in found.missing:
        console.print(f"  [yellow]missing original[/] of candidacy {candidacy_id} ({digest}): "
                      "an upload of the same file restores it", soft_wrap=True)
    action = "removed" if fix else "found (run with --fix to remove them)"
    console.print(f"{len(found.orphans)} orphan files {action}; {len(found.missing)} candidacies without their file",
                  soft_wrap=True)
    if found.missing or (found.orphans and not fix):
        raise typer.Exit(code=1)
