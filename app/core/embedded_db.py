"""A private PostGIS cluster under ``var/``, so that one command runs the service.

Used when ``DATABASE_URL`` is unset (development, demos, the test-suite). The
cluster belongs to an unprivileged user: PostgreSQL refuses to run as root, and
sessions and CI here run as root, so as root every server command runs as the
``postgres`` system user, which owns the data directory. The superuser password
is generated on first start and kept in a file readable only by whoever created
the cluster; the server listens on loopback only.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from app.core.errors import DatabaseSetupError
from app.core.pg_install import INSTALL_HINT, find_pg_bindir, postgis_available

SERVER_USER = "postgres"
SERVICE_GROUP = "opportunity_service"  # granted by migration 0007
SERVICE_LOGIN = "opportunity_app"
@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    pid: int | None
    port: int
    data_dir: Path

    def describe(self) -> str:
        if not self.initialised:
            return f"no cluster at {self.data_dir}"
        if self.running:
            return f"running (pid {self.pid}) on 127.0.0.1:{self.port}, data in {self.data_dir}"
        return f"stopped, data in {self.data_dir}"


class EmbeddedCluster:
    """Create, start, stop and connect to a private PostGIS cluster.

    ``fast`` turns off durability (fsync) and is meant for throwaway test clusters only.
    """

    def __init__(self, root: Path, port: int, database: str = "opportunity", fast: bool = False,
                 archive_dir: Path | None = None):
        self.root = root.resolve()
        self.port = port
        self.database = database
        self.fast = fast
        self.archive_dir = archive_dir.resolve() if archive_dir else None
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "run"
        self.log_file = self.root / "postgresql.log"
        self.password_file = self.root / "superuser-password"
        self.service_password_file = self.root / "service-password"

    # -- running commands as the cluster's owner ---------------------------------------------

    def _server_identity(self) -> tuple[int, int] | None:
        """(uid, gid) to run server commands as, or None to run as ourselves."""
        if os.geteuid() != 0:
            return None
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError as exc:
            raise DatabaseSetupError(
                f"Running as root, but there is no '{SERVER_USER}' system user to own the cluster. "
                + INSTALL_HINT
            ) from exc
        return entry.pw_uid, entry.pw_gid

    def _as_server(self) -> dict:
        """subprocess keywords that run a command as the cluster's owner."""
        identity = self._server_identity()
        kwargs: dict = {"cwd": str(self.root)}
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        if identity:
            uid, gid = identity
            kwargs.update(user=uid, group=gid, extra_groups=[])
            env["HOME"] = pwd.getpwuid(uid).pw_dir
        return {**kwargs, "env": env}

    def run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a server program as the cluster's owner; a failure raises with the log's tail."""
        result = subprocess.run(args, check=False, capture_output=True, text=True, **self._as_server())
        if check and result.returncode != 0:
            command = Path(args[0]).name
            raise DatabaseSetupError(
                f"{command} failed: {(result.stderr or result.stdout).strip()}\n{self.log_tail()}"
            )
        return result

    def popen(self, args: list[str]) -> subprocess.Popen[str]:
        """Start a server program as the cluster's owner, its stderr readable as it runs
        (pg_basebackup's progress)."""
        return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                **self._as_server())

    def chown(self, path: Path) -> None:
        identity = self._server_identity()
        if identity:
            os.chown(path, *identity)

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_file.exists():
            return ""
        tail = self.log_file.read_text(errors="replace").splitlines()[-lines:]
        return "Server log (last lines):\n" + "\n".join(tail)

    def _check_reachable(self) -> None:
        """The server user must be able to walk down to the data directory."""
        identity = self._server_identity()
        if not identity:
            return
        uid, gid = identity
        for parent in [self.root, *self.root.parents]:
            st = parent.stat()
            if st.st_uid == uid:
                continue
            if st.st_mode & 0o001 or (st.st_gid == gid and st.st_mode & 0o010):
                continue
            raise DatabaseSetupError(
                f"The '{SERVER_USER}' user cannot enter {parent}, so it cannot run a cluster in "
                f"{self.root}. Set OPPORTUNITY_DATA_DIR to a folder it can reach, for example "
                "/var/tmp/opportunity, or `chmod o+x` that folder."
            )

    # -- lifecycle ---------------------------------------------------------------------------

    def status(self) -> ClusterStatus:
        initialised = (self.data_dir / "PG_VERSION").exists()
        pid = self._live_pid() if initialised else None
        return ClusterStatus(initialised, pid is not None, pid, self.port, self.data_dir)

    def _live_pid(self) -> int | None:
        """PID of a live postmaster of this data directory, or None.

        Reads postmaster.pid and checks that the process exists and is a postgres server
        (a PID reused by another program after a crash counts as stale).
        """
        pid_file = self.data_dir / "postmaster.pid"
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError, PermissionError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return None
        return pid if b"postgres" in cmdline else None

    def init(self) -> bool:
        """Create the cluster if it does not exist. Returns True when it was created."""
        if (self.data_dir / "PG_VERSION").exists():
            return False
        bindir = find_pg_bindir()
        if not postgis_available(bindir):
            raise DatabaseSetupError("The PostGIS extension is not installed. " + INSTALL_HINT)
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        self._check_reachable()
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise DatabaseSetupError(
                f"{self.data_dir} exists and is not a PostgreSQL cluster; move it away and retry."
            )
        for folder in (self.data_dir, self.socket_dir):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o700)
            self.chown(folder)
        password = secrets.token_urlsafe(24)
        self.password_file.write_text(password)
        self.password_file.chmod(0o600)
        pwfile = self.socket_dir / "initdb-pw"
        pwfile.write_text(password)
        pwfile.chmod(0o600)
        self.chown(pwfile)
        try:
            self.run(
                [
                    str(bindir / "initdb"),
                    "-D", str(self.data_dir),
                    "-U", SERVER_USER,
                    "--pwfile", str(pwfile),
                    "--auth-host=scram-sha-256",
                    "--auth-local=peer",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        return True

    def start(self) -> ClusterStatus:
        """Start (creating if needed) and make sure the database and PostGIS exist."""
        self.init()
        current = self.status()
        if not current.running:
            self._remove_stale_pid()
            self.start_server()
        self._ensure_database()
        self._ensure_service_role()
        return self.status()

    def _remove_stale_pid(self) -> None:
        pid_file = self.data_dir / "postmaster.pid"
        if pid_file.exists():
            pid_file.unlink()

    def start_server(self, recovery: list[str] | None = None) -> None:
        """pg_ctl start with this service's settings; ``recovery`` lines (a restore's
        target) go into opportunity.conf beside the WAL archiving ones."""
        bindir = find_pg_bindir()
        if not self.log_file.exists():
            self.log_file.touch()
        self.log_file.chmod(0o640)
        self.chown(self.log_file)
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={self.socket_dir}",
            "-c shared_buffers=256MB",
            "-c work_mem=32MB",
            "-c max_connections=100",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self.write_conf(recovery or [])
        self.run(
            [
                str(bindir / "pg_ctl"),
                "-D", str(self.data_dir),
                "-l", str(self.log_file),
                "-o", " ".join(options),
                "-w", "-t", "60",
                "start",
            ]
        )

    def write_conf(self, extra: list[str]) -> None:
        """``opportunity.conf`` in the data directory, included by postgresql.conf: WAL
        archiving into ``archive_dir`` (a file, not -c options, so that archive_command
        needs no shell quoting and an operator can read what runs)."""
        main = self.data_dir / "postgresql.conf"
        include = "include_if_exists = 'opportunity.conf'"
        if include not in main.read_text():
            with main.open("a") as handle:
                handle.write(f"\n# written by opportunity\n{include}\n")
        lines = ["# written by opportunity at every start: edit the settings, not this file"]
        if self.archive_dir and not self.fast:
            wal = str(self.archive_dir)
            if "'" in wal or '"' in wal:
                raise DatabaseSetupError(f"The WAL archive folder {wal} must not contain quotes.")
            self.archive_dir.mkdir(parents=True, exist_ok=True)
            self.chown(self.archive_dir)
            lines += ["wal_level = replica", "archive_mode = on", "archive_timeout = 60",
                      f"""archive_command = 'test ! -f "{wal}/%f" && cp "%p" "{wal}/%f.part" && mv "{wal}/%f.part" "{wal}/%f"'"""]
        conf = self.data_dir / "opportunity.conf"
        conf.write_text("\n".join([*lines, *extra]) + "\n")
        self.chown(conf)

    def stop(self) -> bool:
        """Shut the server down cleanly (fast mode: roll back open transactions). True if it ran."""
        if not self.status().running:
            return False
        bindir = find_pg_bindir()
        self.run([str(bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        return True

    # -- connecting --------------------------------------------------------------------------

    def password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError as exc:
            raise DatabaseSetupError(
                f"{self.password_file} is missing: the cluster in {self.root} was not created by "
                "this service. Remove the folder to start afresh."
            ) from exc

    def url(self, database: str | None = None, driver: str = "postgresql+psycopg") -> str:
        return (
            f"{driver}://{SERVER_USER}:{self.password()}@127.0.0.1:{self.port}/"
            f"{database or self.database}"
        )

    def service_url(self, database: str | None = None, driver: str = "postgresql+psycopg") -> str:
        """The API's login: a member of ``opportunity_service``, which migration 0007
        grants what the service needs and no more (no UPDATE or DELETE of the audit log,
        no ownership of any table)."""
        try:
            password = self.service_password_file.read_text().strip()
        except FileNotFoundError as exc:
            raise DatabaseSetupError(
                f"{self.service_password_file} is missing: start the cluster first (opportunity db start)."
            ) from exc
        return f"{driver}://{SERVICE_LOGIN}:{password}@127.0.0.1:{self.port}/{database or self.database}"

    def _ensure_service_role(self) -> None:
        if not self.service_password_file.exists():
            self.service_password_file.write_text(secrets.token_urlsafe(24))
            self.service_password_file.chmod(0o600)
        password = self.service_password_file.read_text().strip()
        with self._connect("postgres") as conn:
            conn.execute(sql.SQL("""
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {group}) THEN
        CREATE ROLE {group_id} NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {login}) THEN
        CREATE ROLE {login_id} LOGIN IN ROLE {group_id};
    END IF;
END $$""").format(group=sql.Literal(SERVICE_GROUP), group_id=sql.Identifier(SERVICE_GROUP),
                  login=sql.Literal(SERVICE_LOGIN), login_id=sql.Identifier(SERVICE_LOGIN)))
            conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.Identifier(SERVICE_LOGIN), sql.Literal(password)))

    def _connect(self, database: str) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SERVER_USER,
            password=self.password(),
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, name: str) -> None:
        """Create a database with PostGIS enabled, if missing."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise DatabaseSetupError(f"Invalid database name {name!r}: use lowercase letters, digits, _")
        with self._connect("postgres") as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with self._connect(name) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def drop_database(self, name: str) -> None:
        with self._connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _ensure_database(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                self.create_database(self.database)
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

