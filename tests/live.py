"""A real uvicorn server on a loopback port, in a thread of the test process: for tests
that need real concurrency (the event loop, the pool, slow clients), which the
in-process TestClient cannot show; and the check that a program such tests drive is
installed."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on", proxy_headers=False))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def require_tool(name: str, message: str, *, override: str | None = None) -> str:
    """The path of a program a test drives (``override`` first, then PATH); a missing one
    fails the run in CI (make test installs it) and skips elsewhere, saying so."""
    path = override or shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pdf_text(pdf: bytes, keep: Path | None = None, layout: bool = False) -> str:
    """A PDF's text as poppler's pdftotext reads it (``layout``: columns kept side by side);
    the PDF is written to ``keep`` when given, else to a temporary file."""
    require_tool("pdftotext", "poppler-utils is not installed (make test installs it)")
    with tempfile.TemporaryDirectory() as folder:
        path = keep or Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        return subprocess.run(["pdftotext", *(["-layout"] if layout else []), str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
