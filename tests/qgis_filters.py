"""Run by Debian's /usr/bin/python3 (not the project's environment): QGIS's own OGC API -
Features provider opens the sites layer of a running service, applies each subset
filter (QGIS expressions, as a user types them in the layer's filter dialog) and prints
the feature counts as JSON.

    /usr/bin/python3 tests/qgis_filters.py http://127.0.0.1:8000 '{"name": "\"fibre\" = true"}'
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="qgis-runtime-"))  # private: mode 0700

from qgis.core import Qgis, QgsApplication, QgsVectorLayer


def counts(base: str, filters: dict[str, str]) -> dict[str, object]:
    layer = QgsVectorLayer(f"url='{base}' typename='sites'", "sites", "OAPIF")
    found: dict[str, object] = {"qgis": Qgis.QGIS_VERSION, "valid": layer.isValid(),
                                "all": sum(1 for _ in layer.getFeatures())}
    for name, subset in filters.items():
        accepted = layer.setSubsetString(subset)
        found[name] = sum(1 for _ in layer.getFeatures()) if accepted else f"refused: {subset}"
    return found


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    print(json.dumps(counts(sys.argv[1], json.loads(sys.argv[2]))), flush=True)
    app.exitQgis()
    # QGIS 3.22's network threads may still be winding down: leave without Python's teardown,
    # which can crash in Qt's destructors after everything was printed
    os._exit(0)
