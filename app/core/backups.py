"""Backups of the embedded cluster and the uploaded originals, and restoring them to a
point in time.

A backup is three things under the backup folder: ``base/<label>/`` (a pg_basebackup,
tar + gzip, with the WAL it needs to be consistent), ``wal/`` (every WAL segment the
server archives after it, ``archive_command`` in opportunity.conf) and ``files/`` (the
originals, content-addressed like the upload folder, so each file is copied once ever).
A restore replays a base backup and the archived WAL up to a time, then makes the upload
folder agree with the catalogue it recovered: originals it lacks come back from
``files/``, originals the recovered catalogue does not know are set aside, never deleted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from app.core.embedded_db import SERVER_USER, EmbeddedCluster
from app.core.errors import DatabaseSetupError
from app.core.pg_install import find_pg_bindir
from app.core.storage import path_for, stored_files

Progress = Callable[[str, float, float], None]  # (step, done, total)
_PROGRESS = re.compile(r"(\d+)/(\d+) kB")
MANIFEST = "backup.json"


@dataclass(frozen=True)
class BaseBackup:
    label: str
    folder: Path
    finished: dt.datetime
    files: int


@dataclass(frozen=True)
class RestoreReport:
    backup: str
    target: dt.datetime | None
    files_restored: int
    files_set_aside: int
    set_aside_in: Path | None
    missing: list[str]


def _quiet(step: str, done: float, total: float) -> None:
    """The default progress callback: say nothing."""


def base_backups(backups: Path) -> list[BaseBackup]:
    """Completed base backups, oldest first (a folder without its manifest did not finish)."""
    found = []
    for manifest in sorted((backups / "base").glob(f"*/{MANIFEST}")):
        meta = json.loads(manifest.read_text())
        found.append(BaseBackup(meta["label"], manifest.parent, dt.datetime.fromisoformat(meta["finished"]),
                                meta["files"]))
    return sorted(found, key=lambda b: b.finished)


def back_up(cluster: EmbeddedCluster, uploads: Path, backups: Path, progress: Progress = _quiet,
            keep: int = 7) -> BaseBackup:
    """A base backup of the running cluster, then the originals not copied before; then
    only the newest ``keep`` base backups, and the WAL they need, are kept."""
    if not cluster.status().running:
        raise DatabaseSetupError("The embedded cluster is not running: start it (opportunity db start) first.")
    with psycopg.connect(cluster.url(driver="postgresql"), connect_timeout=10) as conn:
        first_wal = conn.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]  # type: ignore[index]
    label = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    folder = backups / "base" / label
    folder.mkdir(parents=True)
    cluster.chown(folder)
    args = [str(find_pg_bindir() / "pg_basebackup"), "-h", str(cluster.socket_dir), "-p", str(cluster.port),
            "-U", SERVER_USER, "-D", str(folder), "-F", "tar", "-z", "-X", "stream", "-c", "fast",
            "-P", "-l", f"opportunity {label}"]
    process = cluster.popen(args)
    assert process.stderr is not None
    said = []
    for line in process.stderr:
        said.append(line)
        if match := _PROGRESS.search(line):  # one line per report when stderr is a pipe
            progress("database", float(match[1]), float(match[2]))
    if process.wait() != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise DatabaseSetupError("pg_basebackup failed: " + "".join(said[-5:]).strip())
    copied = copy_originals(uploads, backups / "files", progress)
    finished = dt.datetime.now(dt.UTC)
    meta = {"label": label, "finished": finished.isoformat(), "files": copied, "first_wal": first_wal,
            "database": cluster.database, "pg_version": find_pg_bindir().parent.name}
    (folder / MANIFEST).write_text(json.dumps(meta, indent=2))
    prune(cluster, backups, keep)
    return BaseBackup(label, folder, finished, copied)


def prune(cluster: EmbeddedCluster, backups: Path, keep: int) -> list[str]:
    """Delete base backups older than the newest ``keep`` and the archived WAL that only
    they needed (pg_archivecleanup); the copies of originals stay (they are small and
    any kept backup may reference them). Returns the labels removed."""
    found = base_backups(backups)
    if keep < 1 or len(found) <= keep:
        return []
    removed, kept = found[:-keep], found[-keep:]
    for backup in removed:
        shutil.rmtree(backup.folder)
    oldest = json.loads((kept[0].folder / MANIFEST).read_text()).get("first_wal")
    if oldest:
        cluster.run([str(find_pg_bindir() / "pg_archivecleanup"), str(backups / "wal"), oldest])
    return [b.label for b in removed]


def copy_originals(uploads: Path, files: Path, progress: Progress = _quiet) -> int:
    """Copy originals not yet in ``files`` (same content-addressed layout); returns how
    many were new. Copies are written beside their place and renamed, so a copy cut
    short never looks complete."""
    originals = [path for path, kind in stored_files(uploads) if kind == "original"]
    copied = 0
    for done, path in enumerate(originals, 1):
        target = files / path.relative_to(uploads)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(target.name + ".part")
            shutil.copyfile(path, partial)
            partial.replace(target)
            copied += 1
        progress("uploaded files", done, len(originals))
    return copied


def restore(cluster: EmbeddedCluster, uploads: Path, backups: Path, target: dt.datetime | None = None,
            progress: Progress = _quiet, timeout_s: float = 600) -> RestoreReport:
    """Replace the cluster by a base backup replayed to ``target`` (or to the end of the
    archived WAL), then make the upload folder agree with the recovered catalogue. The
    cluster's former data folder is kept beside it, renamed, never deleted."""
    chosen = _choose(base_backups(backups), target)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    if cluster.status().running:
        cluster.stop()
    if cluster.data_dir.exists() and any(cluster.data_dir.iterdir()):
        cluster.data_dir.rename(cluster.root / f"data.before-restore-{stamp}")
    cluster.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cluster.chown(cluster.data_dir)
    progress("unpacking the base backup", 0, 2)
    cluster.run(["tar", "-xzf", str(chosen.folder / "base.tar.gz"), "-C", str(cluster.data_dir)])
    cluster.run(["tar", "-xzf", str(chosen.folder / "pg_wal.tar.gz"), "-C", str(cluster.data_dir / "pg_wal")])
    progress("unpacking the base backup", 2, 2)
    wal = backups / "wal"
    recovery = [f"""restore_command = 'cp "{wal}/%f" "%p"'""", "recovery_target_action = 'promote'"]
    if target is not None:
        recovery.append(f"recovery_target_time = '{target.isoformat()}'")
    signal = cluster.data_dir / "recovery.signal"
    signal.touch()
    cluster.chown(signal)
    cluster.start_server(recovery)
    _wait_for_promotion(cluster, timeout_s, progress)
    cluster.write_conf([])  # the recovery settings have done their work
    report = reconcile_files(cluster, uploads, backups / "files", stamp, progress)
    return RestoreReport(chosen.label, target, *report)


def _choose(found: list[BaseBackup], target: dt.datetime | None) -> BaseBackup:
    if not found:
        raise DatabaseSetupError("There is no base backup to restore: run `opportunity db backup` first.")
    if target is None:
        return found[-1]
    usable = [b for b in found if b.finished <= target]
    if not usable:
        raise DatabaseSetupError(
            f"No base backup finished before {target.isoformat()}; the earliest finished at "
            f"{found[0].finished.isoformat()}. Choose a later time.")
    return usable[-1]


def _wait_for_promotion(cluster: EmbeddedCluster, timeout_s: float, progress: Progress) -> None:
    """Recovery replays WAL with the server already up; it is over when the server leaves
    recovery (promoted at the target), or failed when the server stops."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        progress("replaying the WAL archive", 0, 1)
        if not cluster.status().running:
            raise DatabaseSetupError("Recovery stopped before the target was reached (is the time after the "
                                     "last archived change?).\n" + cluster.log_tail())
        try:
            with psycopg.connect(cluster.url(driver="postgresql"), connect_timeout=5) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:  # type: ignore[index]
                    progress("replaying the WAL archive", 1, 1)
                    return
        except psycopg.OperationalError:
            pass
        time.sleep(0.5)
    raise DatabaseSetupError(f"Recovery did not finish within {timeout_s:.0f} s.\n" + cluster.log_tail())


def reconcile_files(cluster: EmbeddedCluster, uploads: Path, files: Path, stamp: str,
                    progress: Progress = _quiet) -> tuple[int, int, Path | None, list[str]]:
    """Bring back originals the recovered catalogue references from ``files``, and move
    originals it does not reference to ``uploads.set-aside-<stamp>``."""
    with psycopg.connect(cluster.url(driver="postgresql"), connect_timeout=10) as conn:
        digests = {row[0] for row in conn.execute("SELECT file_sha256 FROM candidacies")}
    restored, missing = 0, []
    for done, digest in enumerate(sorted(digests), 1):
        here = path_for(uploads, digest)
        if not here.exists():
            copy = path_for(files, digest)
            if copy.exists():
                here.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(copy, here)
                here.chmod(0o440)
                restored += 1
            else:
                missing.append(digest)
        progress("uploaded files", done, len(digests))
    aside = uploads.parent / f"{uploads.name}.set-aside-{stamp}"
    moved = 0
    for path, _ in list(stored_files(uploads)):
        if path.name.removesuffix(".xlsx") in digests:
            continue
        target = aside / path.relative_to(uploads)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
        moved += 1
    return restored, moved, aside if moved else None, missing
