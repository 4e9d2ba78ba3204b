"""Where PostgreSQL's server programs and PostGIS are installed on this machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from app.core.errors import DatabaseSetupError

INSTALL_HINT = (
    "PostgreSQL with PostGIS is needed for the embedded catalogue. "
    "On Debian/Ubuntu run `make setup` (it installs postgresql and postgresql-15-postgis-3 with apt); "
    "elsewhere install PostgreSQL >= 14 with PostGIS >= 3 and put pg_ctl on PATH, "
    "or set DATABASE_URL to an existing PostGIS database."
)


def find_pg_bindir() -> Path:
    """Locate the PostgreSQL server binaries, newest Debian version first, then PATH."""
    override = os.environ.get("OPPORTUNITY_PG_BINDIR")
    candidates: list[Path] = [Path(override)] if override else []
    debian_root = Path("/usr/lib/postgresql")
    if debian_root.is_dir():
        versions = sorted(
            (p for p in debian_root.iterdir() if p.name.isdigit()),
            key=lambda p: int(p.name),
            reverse=True,
        )
        candidates += [v / "bin" for v in versions]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for candidate in candidates:
        if (candidate / "pg_ctl").exists() and (candidate / "initdb").exists():
            return candidate
    raise DatabaseSetupError("PostgreSQL server binaries (initdb, pg_ctl) not found. " + INSTALL_HINT)


def postgis_available(bindir: Path) -> bool:
    """True when the PostGIS extension is installed for this server version."""
    version = bindir.parent.name
    candidates = [Path(f"/usr/share/postgresql/{version}/extension")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--sharedir"], check=False, capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()) / "extension")
    return any((c / "postgis.control").exists() for c in candidates)
