"""Uploaded originals, kept by content hash: the same bytes are stored once, and a file
is never overwritten or deleted by the service."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def path_for(root: Path, digest: str) -> Path:
    return root / digest[:2] / digest[2:4] / f"{digest}.xlsx"


def store_original(root: Path, data: bytes) -> tuple[str, Path]:
    """Write ``data`` under its SHA-256 (atomically; a no-op when already there)."""
    digest = sha256(data)
    target = path_for(root, digest)
    if target.exists():
        return digest, target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(handle.name, target)
    target.chmod(0o440)
    return digest, target
