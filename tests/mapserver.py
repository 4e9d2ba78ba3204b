"""A real third-party OGC server for the tests: MapServer (Debian's ``mapserver-bin``)
publishing a layer of ../shared/data both as WFS 2.0 and as OGC API - Features, behind
Python's CGI server on a loopback port.

MapServer is what many regional geoportals run; reading from it proves that the service's
layer reader follows another implementation's paging, CRS and axis-order choices rather
than its own. The map file is written per test session; nothing is downloaded."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import CGIHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from tests.live import require_tool

MAPFILE = """MAP
  NAME "lombardia"
  EXTENT 8.4 44.6 11.5 46.7
  PROJECTION "init=epsg:4326" END
  CONFIG "MS_ERRORFILE" "{errors}"
  WEB
    METADATA
      "ows_title" "Lombardy motorway junctions (test server)"
      "ows_onlineresource" "{base}/cgi-bin/mapserv?"
      "oga_onlineresource" "{base}/cgi-bin/mapserv/lombardia/ogcapi"
      "ows_srs" "EPSG:32632 EPSG:4326 EPSG:3857"
      "ows_enable_request" "*"
      "oga_default_limit" "50"
      "oga_max_limit" "50"
    END
  END
  LAYER
    NAME "junctions"
    TYPE POINT
    STATUS ON
    CONNECTIONTYPE OGR
    CONNECTION "{data}"
    TEMPLATE "queryable"
    EXTENT 8.4 44.6 11.5 46.7
    PROJECTION "init=epsg:4326" END
    METADATA
      "ows_title" "junctions"
      "ows_srs" "EPSG:32632 EPSG:4326"
      "gml_include_items" "all"
      "gml_featureid" "codice"
      "gml_types" "auto"
    END
  END
END
"""
CONFIG = """CONFIG
  ENV
    MS_MAP_NO_PATH "1"
  END
  MAPS
    "lombardia" "{mapfile}"
  END
END
"""
WRAPPER = """#!/bin/sh
export MAPSERVER_CONFIG_FILE="{config}"
export MS_MAPFILE="{mapfile}"
exec /usr/bin/mapserv
"""


class _Handler(CGIHTTPRequestHandler):
    cgi_directories: ClassVar[list[str]] = ["/cgi-bin"]

    def log_message(self, format: str, *args: object) -> None:  # quiet in test output
        pass


def mapserv_path() -> str:
    return require_tool("mapserv", "MapServer is not installed (make test installs mapserver-bin: "
                        "scripts/setup-system.sh)")


@contextmanager
def mapserver(data: Path) -> Iterator[str]:
    """Serve ``data`` as layer ``junctions``; yields the base URL. As root, Python's CGI
    server runs the script as ``nobody``: the folder it reads is world-readable."""
    mapserv_path()
    folder = Path(tempfile.mkdtemp(prefix="mapserver-"))
    folder.chmod(0o755)
    (folder / "cgi-bin").mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Handler(*a, directory=str(folder)))
    base = f"http://127.0.0.1:{server.server_address[1]}"
    mapfile, config = folder / "lombardia.map", folder / "mapserver.conf"
    log = folder / "mapserver.log"
    log.touch(mode=0o666)
    log.chmod(0o666)
    mapfile.write_text(MAPFILE.format(base=base, data=data, errors=log))
    config.write_text(CONFIG.format(mapfile=mapfile))
    wrapper = folder / "cgi-bin" / "mapserv"
    wrapper.write_text(WRAPPER.format(config=config, mapfile=mapfile))
    wrapper.chmod(0o755)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":  # a server process of its own: python -m tests.mapserver DATA
    import sys
    import time

    with mapserver(Path(sys.argv[1]).resolve()) as url:
        print(url, flush=True)
        while True:
            time.sleep(3600)
