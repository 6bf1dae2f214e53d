"""A private PostgreSQL cluster for `make run` and the tests.

PostgreSQL refuses to run as root, so when we are root every command runs as the `postgres`
user (runuser) on folders that user owns. Failures raise `PostgresError` with a message that
says what to do; nothing here waits without a deadline.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "postgres"
DATABASE = "app"


class PostgresError(RuntimeError):
    """Postgres could not be set up or started; the message is meant for a person."""


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def require_binaries() -> None:
    missing = [name for name in ("initdb", "pg_ctl", "postgres") if shutil.which(name) is None]
    if missing:
        raise PostgresError(
            f"PostgreSQL server binaries not found on PATH ({', '.join(missing)}). Install PostgreSQL 15 "
            "(e.g. `apt-get install postgresql-15`) or set DATABASE_URL to an existing database."
        )


@dataclass(frozen=True)
class ServerTls:
    """ssl=on with this certificate and key (PEM files, copied into the data folder at each start).

    `required` rewrites pg_hba.conf so that TCP clients must use TLS (`hostssl` only, as RDS with
    rds.force_ssl=1); the Unix socket stays open for the cluster's own tools.
    """

    cert_file: Path
    key_file: Path
    required: bool = False


_HBA_TLS_ONLY = """# written by local.postgres (ServerTls.required): over TCP, TLS or nothing
local   all all              trust
hostssl all all 127.0.0.1/32 trust
hostssl all all ::1/128      trust
"""


@dataclass
class PostgresCluster:
    """One cluster in `data_dir`, listening on 127.0.0.1:`port` and a socket in `data_dir`."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    tls: ServerTls | None = None

    @property
    def url(self) -> str:
        return f"postgresql+pg8000://{SUPERUSER}@{self.host}:{self.port}/{DATABASE}"

    @property
    def _as_root(self) -> bool:
        return os.geteuid() == 0

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if self._as_root:
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        try:
            # cwd "/": the postgres user may not be able to enter ours (a checkout under /root)
            return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd="/")
        except subprocess.TimeoutExpired as exc:
            raise PostgresError(f"`{' '.join(args)}` did not finish within {timeout:.0f} s") from exc

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self._as_root:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(path, user.pw_uid, user.pw_gid)
        path.chmod(0o700)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> None:
        require_binaries()
        self._own(self.data_dir)
        result = self._run(
            "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-locale"
        )
        if result.returncode != 0:
            raise PostgresError(f"initdb failed in {self.data_dir}:\n{result.stderr.strip()}")

    def running(self) -> bool:
        return self._run("pg_ctl", "status", "-D", str(self.data_dir), timeout=10).returncode == 0

    def start(self, wait_seconds: float = 30) -> None:
        require_binaries()
        if not self.initialised():
            self.init()
        if self.running():
            raise PostgresError(f"a Postgres server is already running on {self.data_dir}; stop it first")
        if not port_is_free(self.host, self.port):
            raise PostgresError(f"port {self.port} on {self.host} is taken; choose another with PG_PORT")
        options = (
            f"-c listen_addresses={self.host} -p {self.port} -k {self.data_dir} -c fsync=off -c max_connections=200"
        )
        if self.tls is not None:
            self._install_tls(self.tls)
            options += " -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key"
        log = self.data_dir / "server.log"
        result = self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(log),
            "-o",
            options,
            "-w",
            "-t",
            str(int(wait_seconds)),
            timeout=wait_seconds + 10,
        )
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else result.stderr
            raise PostgresError(f"Postgres did not start on port {self.port}:\n{tail.strip()}")
        self.ensure_database()

    def _install_tls(self, tls: ServerTls) -> None:
        """Certificate and key into the data folder, owned by the server's user: Postgres refuses a key that
        others can read. Relative file names in `ssl_cert_file` are resolved against the data folder."""
        for source, name in ((tls.cert_file, "server.crt"), (tls.key_file, "server.key")):
            target = self.data_dir / name
            shutil.copyfile(source, target)
            self._own_file(target)
        if tls.required:
            hba = self.data_dir / "pg_hba.conf"
            hba.write_text(_HBA_TLS_ONLY)
            self._own_file(hba)

    def _own_file(self, path: Path) -> None:
        if self._as_root:
            user = pwd.getpwnam(SUPERUSER)
            os.chown(path, user.pw_uid, user.pw_gid)
        path.chmod(0o600)

    def stop(self, mode: str = "fast") -> None:
        if self.initialised() and self.running():
            self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "30", timeout=40)

    def ensure_database(self) -> None:
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'"
        psql = ("psql", "-h", self.host, "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres", "-tAc")
        deadline = time.monotonic() + 15
        while True:
            found = self._run(*psql, query, timeout=15)
            if found.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise PostgresError(f"cannot query Postgres on port {self.port}: {found.stderr.strip()}")
            time.sleep(0.2)
        if found.stdout.strip() != "1":
            created = self._run(*psql, f"CREATE DATABASE {DATABASE}", timeout=15)
            if created.returncode != 0:
                raise PostgresError(f"cannot create database {DATABASE}: {created.stderr.strip()}")


def accessible_by_postgres(path: Path) -> bool:
    """Whether the postgres user can reach `path` (a repo under root's 700 home cannot)."""
    if os.geteuid() != 0:
        return True
    probe = path if path.exists() else path.parent
    result = subprocess.run(
        ["runuser", "-u", SUPERUSER, "--", "test", "-x", str(probe)], capture_output=True, check=False, cwd="/"
    )
    return result.returncode == 0
