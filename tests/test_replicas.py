"""The production profile: nginx (Debian's) in front of two API replicas on the test
PostGIS. Any replica answers for any session (sign-out on one holds on the other), and a
replica killed mid-load costs no stored upload and no 5xx beyond the requests it held."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text

from app.accounts.auth import secret_key
from app.cli.production import COMPOSE_CONF, Stack, compose_conf
from app.core.storage import check_store
from tests.conftest import PASSWORD, ROOT, remove_uploaded_candidacies
from tests.live import require_tool
from tests.workbooks import valid_writer

STAFF = "staff@invest-lombardy.example"
BBOX = "9.0,45.3,9.4,45.6"


def _free_ports(count: int) -> int:
    """A first port with ``count`` free ones after it (nginx, then each replica)."""
    for first in range(21000, 29000, 7):
        try:
            for port in range(first, first + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
    raise RuntimeError("no free ports")


@pytest.fixture(scope="module")
def stack(service_url: str, catalogue: list[int], accounts: dict, engine: Engine) -> Iterator[Stack]:
    require_tool("nginx", "nginx is installed by make test (scripts/setup-system.sh)",
                 override="/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    folder = ROOT / "var" / "replica-test"  # not under /tmp/pytest-of-root: nginx's workers must enter it
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "metrics").mkdir(parents=True)
    env = {"DATABASE_URL": service_url, "OPPORTUNITY_DATA_DIR": str(folder / "data"),
           # the suite's signing key: the accounts fixture's tokens must be good on every replica
           "OPPORTUNITY_AUTH_SECRET_KEY": secret_key(),
           "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    with (folder / "replicas.log").open("wb") as log:
        running = Stack("127.0.0.1", _free_ports(3), 2, folder / "proxy", env=env, log=log)
        watcher = threading.Thread(target=running.watch, kwargs={"poll_s": 0.2}, daemon=True)
        try:
            running.start()
            watcher.start()
            yield running
        finally:
            running.stop()
            watcher.join(timeout=10)
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM rate_limits"))
            remove_uploaded_candidacies(engine)
    # the folder stays until the next run: its nginx and replica logs explain a failure


def _gone(pid: int) -> float:
    """When the process has exited (its sockets closed): a zombie or no process at all."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return time.monotonic()
        if state in ("Z", "X"):
            return time.monotonic()
        time.sleep(0.001)
    raise AssertionError(f"replica {pid} still alive 10 s after SIGKILL")


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health/ready", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def _sign_in(base: str) -> tuple[str, str]:
    answer = httpx.post(f"{base}/auth/session", json={"email": STAFF, "password": PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.cookies["ol_session"], answer.json()["csrf_token"]


def test_compose_uses_the_same_proxy_configuration() -> None:
    assert COMPOSE_CONF.read_text() == compose_conf(), "render docker/nginx.conf again from the template"


def test_a_sign_out_on_one_replica_holds_on_the_other(stack: Stack) -> None:
    first, second = (f"http://{r.address}" for r in stack.members)
    cookie, csrf = _sign_in(first)
    jar = {"Cookie": f"ol_session={cookie}"}
    assert httpx.get(f"{second}/auth/me", headers=jar).json()["email"] == STAFF
    assert httpx.delete(f"{first}/auth/session", headers={**jar, "X-CSRF-Token": csrf}).status_code == 200
    refused = httpx.get(f"{second}/auth/me", headers=jar)
    assert refused.status_code == 401 and "Sign in first" in refused.json()["error"]["message"]


@dataclass
class Traffic:
    """Requests through nginx until stopped: (started, ended, status, what)."""

    base: str
    done: list[tuple[float, float, int, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def _timed(self, what: str, call) -> httpx.Response | None:
        started = time.monotonic()
        try:
            answer = call()
            status = answer.status_code
        except httpx.HTTPError:
            answer, status = None, 0
        self.done.append((started, time.monotonic(), status, what))
        return answer

    def reads(self, cookie: str) -> None:
        paths = ["/health/ready", f"/collections/sites/items?bbox={BBOX}&limit=10", "/auth/me"]
        with httpx.Client(base_url=self.base, timeout=30, headers={"Cookie": f"ol_session={cookie}"}) as client:
            n = 0
            while not self.stop.is_set():
                path = paths[n % 3]
                self._timed(path, lambda path=path: client.get(path))
                n += 1

    def uploads(self, headers: dict[str, str], names: list[str], stored: dict[str, int]) -> None:
        with httpx.Client(base_url=self.base, timeout=120, headers=headers) as client:
            while not self.stop.is_set():
                name = f"Capannone di prova repliche {len(names) + 1}"
                names.append(name)
                data = valid_writer(name=name).to_bytes()
                answer = self._timed(f"upload {name}", lambda data=data: client.post(
                    "/intake/candidacies", files={"file": ("candidatura.xlsx", data)}))
                if answer is not None and answer.status_code == 201:
                    stored[name] = answer.json()["candidacy_id"]


def test_killing_a_replica_mid_load_loses_no_upload_and_no_session(
        stack: Stack, accounts: dict, engine: Engine, service_url: str) -> None:
    cookie, _ = _sign_in(stack.base)
    traffic, names, stored = Traffic(stack.base), [], {}
    threads = [threading.Thread(target=traffic.reads, args=(cookie,)) for _ in range(3)]
    threads.append(threading.Thread(target=traffic.uploads, args=(accounts["staff"], names, stored)))
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    victim = stack.members[0]
    killed_at = time.monotonic()
    victim.process.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
    dead_at = _gone(victim.process.pid)  # type: ignore[union-attr]
    time.sleep(3.0)
    traffic.stop.set()
    for thread in threads:
        thread.join(timeout=150)

    before = [d for d in traffic.done if d[1] < killed_at]
    after = [d for d in traffic.done if d[0] > killed_at]
    assert len(before) > 20 and len(after) > 20, (len(before), len(after))
    failed = [d for d in traffic.done if d[2] >= 500 or d[2] == 0]
    # only what the killed replica held may fail: requests sent before its process was
    # gone (its socket still took connections for those few milliseconds) and not
    # finished when the signal was sent; at most one per client
    assert all(d[0] <= dead_at and d[1] >= killed_at for d in failed), (failed, killed_at, dead_at)
    assert len(failed) <= len(threads)
    # the session lives on: every /auth/me after the kill answered 200
    assert [d[2] for d in after if d[3] == "/auth/me"] and all(d[2] == 200 for d in after if d[3] == "/auth/me")
    assert httpx.get(f"{stack.base}/auth/me", headers={"Cookie": f"ol_session={cookie}"}).status_code == 200

    # every upload told 201 is stored with its original; none answered 201 twice
    assert len(stored) >= 2, stored
    uploads = Path(stack.env["OPPORTUNITY_DATA_DIR"]) / "uploads"
    with engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT record ->> 'site_name', id FROM candidacies "
                                      "WHERE record ->> 'site_name' LIKE 'Capannone di prova repliche %'")).all())
        found = check_store(conn, uploads, dt.timedelta(0))
    assert {name: rows.get(name) for name in stored} == stored
    assert found.missing == []

    # the killed replica is started again and takes requests once more
    deadline = time.monotonic() + 60
    while not (victim.restarts == 1 and _ready(f"http://{victim.address}")):
        assert time.monotonic() < deadline, "the killed replica was not started again"
        time.sleep(0.5)
    log = stack.access_log.read_text().splitlines()
    failed_lines = [line for line in log if '" 50' in line]
    assert all(f"127.0.0.1:{victim.port}" in line for line in failed_lines), failed_lines
