#!/usr/bin/env bash
# Install what the service needs from the operating system: PostgreSQL with PostGIS, npm
# for the map page's library, nginx for the production profile's replicas, and pango with DejaVu fonts for the PDF exposés. With --browser (make test) also the real clients the
# tests drive: Debian's chromium (the map page and the desk, headless), poppler-utils (pdftotext
# for the printed site report), gdal-bin (ogrinfo against the OGC API), python3-qgis with
# qgis-providers (QGIS's own OGC API - Features provider, driven headless) and mapserver-bin
# (a third-party WFS 2.0 and OGC API - Features server the layer reader is tested
# against). On Debian/Ubuntu this uses apt (as root, or through sudo); elsewhere it says
# what to install.
set -euo pipefail
browser=""
[ "${1:-}" = "--browser" ] && browser="yes"

have_postgis() {
    local bindir version
    for bindir in /usr/lib/postgresql/*/bin; do
        [ -x "$bindir/initdb" ] || continue
        version=$(basename "$(dirname "$bindir")")
        [ -f "/usr/share/postgresql/$version/extension/postgis.control" ] && return 0
    done
    if command -v pg_config >/dev/null 2>&1; then
        [ -f "$(pg_config --sharedir)/extension/postgis.control" ] && command -v initdb >/dev/null && return 0
    fi
    return 1
}

need_venv=""
if ! command -v uv >/dev/null 2>&1 && ! python3 -c "import ensurepip" >/dev/null 2>&1; then
    need_venv="python3-venv"  # Debian splits venv out of python3; make bootstraps uv with it
fi

extra="$need_venv"
command -v npm >/dev/null 2>&1 || extra="$extra npm"
# WeasyPrint prints the site exposés through pango, with DejaVu fonts
if ! ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0"; then extra="$extra libpango-1.0-0 libpangoft2-1.0-0"; fi
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || extra="$extra fonts-dejavu-core"
# nginx in front of the API replicas (make run-production, the replica tests)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || extra="$extra nginx"
if [ -n "$browser" ] && ! command -v chromium >/dev/null 2>&1; then extra="$extra chromium"; fi
if [ -n "$browser" ] && ! command -v ogrinfo >/dev/null 2>&1; then extra="$extra gdal-bin"; fi
if [ -n "$browser" ] && ! command -v pdftotext >/dev/null 2>&1; then extra="$extra poppler-utils"; fi
if [ -n "$browser" ] && ! command -v mapserv >/dev/null 2>&1; then extra="$extra mapserver-bin"; fi
if [ -n "$browser" ] && ! /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1; then
    extra="$extra python3-qgis qgis-providers"
fi

if have_postgis && [ -z "${extra// /}" ]; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    cat >&2 <<'MSG'
PostgreSQL with PostGIS (or npm, or chromium for the tests) is missing and this is not a
Debian/Ubuntu system.
Install PostgreSQL >= 14 and PostGIS >= 3 with your package manager (for example
`brew install postgresql@16 postgis` or `dnf install postgresql-server postgis`), make sure
initdb and pg_ctl are on PATH, then run this command again.
Or set DATABASE_URL to an existing PostGIS database and skip the embedded cluster.
MSG
    exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "PostgreSQL/PostGIS missing: run as root: apt-get install postgresql postgis" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ -n "${extra// /}" ]; then
    echo "Installing with apt:$extra" >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $extra >/dev/null
fi
if ! have_postgis; then
    echo "Installing PostgreSQL and PostGIS with apt..." >&2
    $SUDO apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    $SUDO apt-get install -y -qq --no-install-recommends "postgresql-${version}-postgis-3" >/dev/null
    # The Debian package starts a system cluster on 5432; the service runs its own and needs none.
    have_postgis || { echo "PostGIS still not found after installing it" >&2; exit 1; }
    echo "PostgreSQL ${version} with PostGIS installed." >&2
fi
