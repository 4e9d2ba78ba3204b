"""The production profile on one machine: nginx (Debian's package) in front of several
API replicas, each its own uvicorn process, all on one PostGIS.

Everything a replica must agree on lives in PostgreSQL: rate-limit windows, the
revocation list of signed-out sessions, the catalogue, the outbox; searches for the
demand analytics are batched per process and written every second. The signing key is
shared (the environment, or ``var/secret_key`` on one machine). What stays per process
is deliberate: the queues of expensive work protect that process's CPU. A replica that
dies is started again; nginx sends its traffic to the others meanwhile (passive health:
a refused connection takes it out for 5 s, and an idempotent request is retried on the
next replica).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from jinja2 import Environment, FileSystemLoader

TEMPLATES = Path(__file__).with_name("templates")
NGINX_HINT = "nginx is needed for --replicas: on Debian/Ubuntu `apt-get install nginx` (make setup does it)."


def find_nginx() -> str:
    found = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
    if not found:
        raise RuntimeError(NGINX_HINT)
    return found


def nginx_conf(*, listen: str, upstreams: list[str], max_body_bytes: int, pid_file: str, error_log: str,
               access_log: str, temp_dir: str | None, user: str | None, local: bool) -> str:
    """The proxy's configuration; docker/nginx.conf is this template rendered for compose."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), keep_trailing_newline=True, autoescape=False)
    return env.get_template("nginx.conf.j2").render(
        listen=listen, upstreams=upstreams, max_body_bytes=max_body_bytes, pid_file=pid_file,
        error_log=error_log, access_log=access_log, temp_dir=temp_dir, user=user, local=local)


COMPOSE_CONF = Path(__file__).resolve().parents[2] / "docker" / "nginx.conf"


def compose_conf(max_body_bytes: int = 11 * 1024 * 1024) -> str:
    """docker/nginx.conf: the official nginx image in front of the compose ``api``
    service, whose replicas Docker's DNS lists under one name."""
    return nginx_conf(listen="8080", upstreams=["api:8000"], max_body_bytes=max_body_bytes,
                      pid_file="/tmp/nginx.pid", error_log="/dev/stderr", access_log="/dev/stdout",
                      temp_dir=None, user="nginx", local=False)


@dataclass
class Replica:
    port: int
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class Stack:
    """nginx on ``host:port`` and ``replicas`` uvicorn processes on the next ports."""

    host: str
    port: int
    replicas: int
    folder: Path
    workers: int = 1
    max_body_bytes: int = 11 * 1024 * 1024
    env: dict[str, str] = field(default_factory=dict)
    log: IO[bytes] | None = None  # replicas' output: inherited when None
    members: list[Replica] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None
    stopping: bool = False

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def start(self, timeout_s: float = 90) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.members = [Replica(self.port + 1 + i) for i in range(self.replicas)]
        for replica in self.members:
            self._launch(replica)
        for replica in self.members:
            self._wait_ready(f"http://{replica.address}", timeout_s, replica)
        self._start_nginx()
        self._wait_ready(self.base, timeout_s, None)

    def _launch(self, replica: Replica) -> None:
        command = [sys.executable, "-m", "uvicorn", "app.api.main:create_app", "--factory",
                   "--host", "127.0.0.1", "--port", str(replica.port), "--workers", str(self.workers),
                   "--log-level", "warning", "--no-server-header", "--timeout-graceful-shutdown", "30"]
        env = {**os.environ, **self.env,
               # nginx on loopback is the one proxy whose X-Forwarded-For is believed
               "OPPORTUNITY_API_TRUSTED_PROXIES": '["127.0.0.1/32"]'}
        output = self.log if self.log is not None else None
        replica.process = subprocess.Popen(command, env=env, stdout=output, stderr=output)

    def _wait_ready(self, base: str, timeout_s: float, replica: Replica | None) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if replica is not None and replica.process is not None and replica.process.poll() is not None:
                raise RuntimeError(f"replica on port {replica.port} exited with {replica.process.returncode}")
            if self.nginx is not None and replica is None and self.nginx.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.folder / 'error.log').read_text()[-1500:]}")
            try:
                if httpx.get(f"{base}/health/ready", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{base} was not ready within {timeout_s:.0f} s")

    def _start_nginx(self) -> None:
        nginx = find_nginx()
        temp = self.folder / "tmp"
        user = None
        if os.geteuid() == 0:  # nginx's workers drop to an unprivileged user: give it the temp folder
            user = "nobody nogroup" if _has_group("nogroup") else "nobody"
            temp.mkdir(exist_ok=True)
            os.chown(temp, pwd.getpwnam("nobody").pw_uid, -1)
        temp.mkdir(exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(nginx_conf(
            listen=f"{self.host}:{self.port}", upstreams=[r.address for r in self.members],
            max_body_bytes=self.max_body_bytes, pid_file=str(self.folder / "nginx.pid"),
            error_log=str(self.folder / "error.log"), access_log=str(self.access_log), temp_dir=str(temp),
            user=user, local=True))
        checked = subprocess.run([nginx, "-t", "-q", "-c", str(conf), "-p", str(self.folder)],
                                 capture_output=True, text=True, check=False)
        if checked.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration: {checked.stderr.strip()}")
        self.nginx = subprocess.Popen([nginx, "-c", str(conf), "-p", str(self.folder)])

    def watch(self, poll_s: float = 0.5) -> None:
        """Start again any replica that exits, until ``stop``; returns when nginx exits."""
        while not self.stopping and self.nginx is not None and self.nginx.poll() is None:
            self.revive()
            time.sleep(poll_s)

    def revive(self) -> list[int]:
        """Start again the replicas that have exited; their ports."""
        revived = []
        for replica in self.members:
            if not self.stopping and replica.process is not None and replica.process.poll() is not None:
                print(f"replica on port {replica.port} exited ({replica.process.returncode}); starting it again",
                      file=sys.stderr, flush=True)
                replica.restarts += 1
                self._launch(replica)
                revived.append(replica.port)
        return revived

    def stop(self) -> None:
        """nginx finishes its requests and quits; each replica finishes its own (SIGTERM)."""
        self.stopping = True
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
        for replica in self.members:
            if replica.process is not None and replica.process.poll() is None:
                replica.process.terminate()
        for process in [self.nginx, *(r.process for r in self.members)]:
            if process is None:
                continue
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


def _has_group(name: str) -> bool:
    import grp

    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True
