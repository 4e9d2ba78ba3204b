"""Stopping the service loses no upload: SIGTERM (what systemd, docker and an
orchestrator send) while a workbook is still arriving lets that upload finish and be
stored, then the process exits cleanly (issue 27, item 5)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
from sqlalchemy import Engine, text

from tests.conftest import ROOT, remove_uploaded_candidacies, signed_in
from tests.live import free_port
from tests.workbooks import valid_writer

BOUNDARY = "opportunity-shutdown-test"


def _multipart(data: bytes) -> bytes:
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="candidatura.xlsx"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def _slowly(body: bytes, seconds: float) -> Iterator[bytes]:
    """The body in small pieces over ``seconds``: an upload still in flight."""
    pieces = [body[i:i + 2048] for i in range(0, len(body), 2048)]
    for piece in pieces:
        yield piece
        time.sleep(seconds / len(pieces))


def test_a_stopping_server_finishes_the_upload_in_flight(service_url: str, engine: Engine, reference_loaded: list,
                                                         tmp_path) -> None:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": service_url, "OPPORTUNITY_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory",
                                "--port", str(port), "--log-level", "warning"],
                               env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    name = "Sito caricato durante l'arresto"
    staff = signed_in(engine, "shutdown.staff@invest-lombardy.example", "staff")  # its own upload count
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health/ready", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()[-2000:]
            time.sleep(0.3)
        answer: dict[str, httpx.Response] = {}
        body = _multipart(valid_writer(name=name).to_bytes())
        upload = threading.Thread(target=lambda: answer.setdefault("r", httpx.post(
            f"{base}/intake/candidacies", content=_slowly(body, 3.0), timeout=60,
            headers={**staff, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})))
        upload.start()
        time.sleep(1.0)  # the upload is a third of the way in
        process.send_signal(signal.SIGTERM)
        upload.join(timeout=60)
        assert answer["r"].status_code == 201, answer["r"].text
        # uvicorn re-raises the signal once it has shut down, so the status tells who stopped it
        assert process.wait(timeout=60) in (0, -signal.SIGTERM)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sites WHERE name = :n"), {"n": name}).scalar_one() == 1
        assert list((tmp_path / "uploads").rglob("*.xlsx"))
    finally:
        if process.poll() is None:
            process.kill()
        with engine.begin() as conn:
            ids = conn.execute(text("SELECT candidacy_id FROM sites WHERE name = :n"), {"n": name}).scalars().all()
        if ids:
            remove_uploaded_candidacies(engine)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE email = 'shutdown.staff@invest-lombardy.example'"))
