"""Uploaded originals, kept by content hash: the same bytes are stored once.

The file and its candidacy row live or die together: intake writes the file only after
the row is flushed, and removes a file it created when the transaction then fails, so
the client's answer is the truth ("stored" or "not stored"). What a crash between the
two still leaves behind, ``orphans`` finds and ``opportunity storage check --fix``
removes; a retry of the same bytes reclaims a file instead of duplicating it.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from app.core.errors import InsufficientStorageError, ServiceUnavailableError

TEMP_PREFIX = ".upload-"
SUFFIX = ".xlsx"
_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest[2:4] / f"{digest}{SUFFIX}"


def store_original(root: Path, data: bytes) -> tuple[Path, bool]:
    """Write ``data`` under its SHA-256, atomically; returns the path and whether this
    call created it (False when the same bytes were already there). A full or unwritable
    store raises a bilingual 507 or 503, and no temp file survives."""
    target = path_for(root, sha256(data))
    if target.exists():
        return target, False
    temp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=TEMP_PREFIX, delete=False) as handle:
            temp = handle.name
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
        temp = None
        target.chmod(0o440)
    except OSError as exc:
        raise _storage_error(exc) from exc
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
    return target, True


def remove_original(path: Path) -> None:
    """Undo ``store_original`` for a file nobody references (its transaction failed)."""
    path.unlink(missing_ok=True)


def _storage_error(exc: OSError) -> ServiceUnavailableError:
    if exc.errno in _FULL:
        return InsufficientStorageError(
            "The service has no room left to keep your file; nothing was stored. Try again later; "
            "the agency has been alerted by its logs.",
            "Il servizio non ha più spazio per conservare il file; non è stato salvato nulla. "
            "Riprovare più tardi; l'agenzia è avvisata dai log.",
        )
    return ServiceUnavailableError(
        "The service cannot write uploaded files at the moment; nothing was stored. Try again later.",
        "Il servizio al momento non può scrivere i file caricati; non è stato salvato nulla. "
        "Riprovare più tardi.",
    )


@dataclass(frozen=True)
class Orphan:
    """A file under the upload folder that no candidacy references."""

    path: Path
    kind: str  # "original" (a whole file with no row) or "temp" (a write cut short)
    modified: dt.datetime


def stored_files(root: Path) -> Iterator[tuple[Path, str]]:
    """Every file in the store, with its kind: the originals and leftover temp files."""
    if not root.is_dir():
        return
    for path in root.glob("??/??/*"):
        if path.name.startswith(TEMP_PREFIX):
            yield path, "temp"
        elif path.name.endswith(SUFFIX):
            yield path, "original"


def orphans(root: Path, referenced: Iterable[str], older_than: dt.timedelta = dt.timedelta(0)) -> list[Orphan]:
    """Files no row references (``referenced``: the digests in the catalogue), and temp
    files, last modified more than ``older_than`` ago (so that uploads in flight are spared)."""
    known = set(referenced)
    cutoff = dt.datetime.now(dt.UTC) - older_than
    found = []
    for path, kind in stored_files(root):
        if kind == "original" and path.name.removesuffix(SUFFIX) in known:
            continue
        try:
            modified = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        except FileNotFoundError:
            continue
        if modified <= cutoff:
            found.append(Orphan(path, kind, modified))
    return found


@dataclass(frozen=True)
class StoreCheck:
    """What ``opportunity storage check`` finds: files without a candidacy, and
    candidacies whose original is gone (a re-upload of the same file brings it back)."""

    orphans: list[Orphan]
    missing: list[tuple[int, str]]  # (candidacy id, sha256)


def check_store(conn: Connection, root: Path, older_than: dt.timedelta) -> StoreCheck:
    rows = conn.execute(text("SELECT id, file_sha256 FROM candidacies ORDER BY id")).all()
    digests = {digest for _, digest in rows}
    missing = [(cid, digest) for cid, digest in rows if not path_for(root, digest).exists()]
    return StoreCheck(orphans(root, digests, older_than), missing)
