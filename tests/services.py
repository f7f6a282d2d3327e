"""Real local services for end-to-end tests, as context managers.

PostgreSQL and MariaDB (unprivileged user, temp data dirs, free ports, unix sockets in
the temp dir), moto's S3 server, Azurite (blob) and the GCS emulator, plus
`EntrypointServer`: the image's entrypoint run on the host as a subprocess, waited on
(bounded) until /health answers. Everything listens on 127.0.0.1 only, every wait is
bounded in time, and every process is stopped by its own pid / process group.

`tests/install_services.sh` installs what this needs. When a service cannot start,
`unavailable()` fails the test in CI (CI=true) and skips it elsewhere.
"""

# Driver and SDK imports are lazy: other test suites import this module without them.
# ruff: noqa: PLC0415

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCKER_DIR = REPO / "docker"
NODE_BIN = REPO / "tests" / "image" / "node" / "node_modules" / ".bin"
SERVICE_USER = "pgtest"
"""Unprivileged user the databases run as when the tests run as root."""
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
"""Azurite's well-known development account key (public, not a secret)."""


def in_ci() -> bool:
    """True under CI (CI=true): missing services must fail there, never skip."""
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def unavailable(reason: str) -> None:
    """Fail (CI) or skip (elsewhere) because a service cannot run here."""
    if in_ci():
        pytest.fail(f"service unavailable in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> None:
    """Poll `check` until it returns True; raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 2):
        try:
            if check():
                return
        except Exception:
            pass
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s")


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def find_binary(name: str, *candidates: str) -> str | None:
    """The path of an executable: on PATH, or the first existing candidate glob."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in candidates:
        for path in sorted(Path("/").glob(pattern.lstrip("/")), reverse=True):
            if os.access(path, os.X_OK):
                return str(path)
    return None


def _service_user() -> str | None:
    """The user to run databases as: None when not root, else pgtest (or nobody)."""
    if os.geteuid() != 0:
        return None
    for user in (SERVICE_USER, "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            return user
    return None


def _as_user(cmd: list[str], user: str | None) -> list[str]:
    """Prefix `cmd` with runuser when it must run as another user."""
    return ["runuser", "-u", user, "--", *cmd] if user else cmd


def _owned_tmpdir(prefix: str, user: str | None) -> Path:
    """A fresh directory under /tmp owned by `user` (reachable: not under pytest's 0700 dirs)."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    path.chmod(0o755)
    return path


def _stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL after `timeout`."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _run(cmd: list[str], timeout: float = 120) -> None:
    """Run a setup command; on failure raise with its output."""
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({result.returncode}): {result.stderr[-2000:]}")


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    """A running PostgreSQL server: superuser `postgres` with a password, TCP + socket."""

    port: int
    socket_dir: str
    password: str
    user_for_service: str | None
    data_dir: str = ""
    """The cluster's data directory (postmaster.pid: fault tests SIGSTOP the server)."""

    def server_pids(self) -> list[int]:
        """The postmaster's pid, then its backends' and helpers' (from postmaster.pid)."""
        first = (Path(self.data_dir) / "postmaster.pid").read_text().split("\n", 1)[0]
        return process_tree(int(first))

    def admin_connect(self, database: str = "postgres"):
        """A superuser psycopg2 connection (autocommit) over TCP."""
        import psycopg2

        conn = psycopg2.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            password=self.password,
            dbname=database,
            connect_timeout=5,
        )
        conn.autocommit = True
        return conn

    def create_database(self, name: str, user: str, password: str) -> None:
        """Create login role `user` with `password` (any characters) owning database `name`."""
        from psycopg2 import sql

        with contextlib.closing(self.admin_connect()) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(user), sql.Literal(password)
                )
            )
            cur.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(user)
                )
            )

    def query(self, database: str, statement: str) -> list[tuple]:
        """Run one statement as superuser in `database` and return its rows."""
        with contextlib.closing(self.admin_connect(database)) as conn, conn.cursor() as cur:
            cur.execute(statement)
            return list(cur.fetchall()) if cur.description else []


@contextlib.contextmanager
def postgres() -> Iterator[Postgres]:
    """Start a throwaway PostgreSQL (initdb + pg_ctl) on a free port; stop and remove it."""
    initdb = find_binary("initdb", "/usr/lib/postgresql/*/bin/initdb")
    pg_ctl = find_binary("pg_ctl", "/usr/lib/postgresql/*/bin/pg_ctl")
    if not initdb or not pg_ctl:
        unavailable("PostgreSQL binaries (initdb, pg_ctl) not found; run tests/install_services.sh")
    assert initdb and pg_ctl
    user = _service_user()
    base = _owned_tmpdir("e2e-pg-", user)
    data, sock = base / "data", base / "sock"
    password = "pg-super-" + os.urandom(6).hex()
    port = free_port()
    try:
        pwfile = base / "pw"
        pwfile.write_text(password)
        if user:
            entry = pwd.getpwnam(user)
            os.chown(pwfile, entry.pw_uid, entry.pw_gid)
        _run(_as_user(["mkdir", "-p", str(sock)], user))
        _run(
            _as_user(
                [
                    initdb,
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ],
                user,
            )
        )
        opts = (
            f"-p {port} -k {sock} -h 127.0.0.1 -c fsync=off -c max_connections=200 "
            "-c shared_buffers=32MB"
        )
        _run(
            _as_user(
                [
                    pg_ctl,
                    "-D",
                    str(data),
                    "-o",
                    opts,
                    "-l",
                    str(base / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                user,
            )
        )
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        unavailable(f"PostgreSQL did not start: {exc}")
    try:
        yield Postgres(
            port=port,
            socket_dir=str(sock),
            password=password,
            user_for_service=user,
            data_dir=str(data),
        )
    finally:
        subprocess.run(
            _as_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], user),
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- MariaDB


@dataclass
class MariaDB:
    """A running MariaDB server: root over the unix socket, users with passwords over TCP."""

    port: int
    socket: str
    process_group: int | None = None
    """The server's process group (mariadbd and its wrapper): fault tests SIGSTOP it."""

    def admin_connect(self):
        """A root PyMySQL connection over the unix socket (autocommit)."""
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket,
            user="root",
            autocommit=True,
            connect_timeout=5,
            charset="utf8mb4",
        )

    def create_database(self, name: str, user: str, password: str) -> None:
        """Create database `name` and user `user`@'%' with `password` (any characters)."""
        with contextlib.closing(self.admin_connect()) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
            cur.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, password))
            cur.execute("ALTER USER %s@'%%' IDENTIFIED BY %s", (user, password))
            cur.execute(
                "CREATE USER IF NOT EXISTS %s@'localhost' IDENTIFIED BY %s", (user, password)
            )
            cur.execute("ALTER USER %s@'localhost' IDENTIFIED BY %s", (user, password))
            cur.execute(f"GRANT ALL ON `{name}`.* TO %s@'%%'", (user,))
            cur.execute(f"GRANT ALL ON `{name}`.* TO %s@'localhost'", (user,))

    def query(self, database: str, statement: str) -> list[tuple]:
        """Run one statement as root in `database` and return its rows."""
        with contextlib.closing(self.admin_connect()) as conn, conn.cursor() as cur:
            cur.execute(f"USE `{database}`")
            cur.execute(statement)
            return list(cur.fetchall())


@contextlib.contextmanager
def mariadb() -> Iterator[MariaDB]:
    """Start a throwaway MariaDB (mariadb-install-db + mariadbd) on a free port."""
    install = find_binary("mariadb-install-db", "/usr/bin/mysql_install_db")
    server = find_binary("mariadbd", "/usr/sbin/mariadbd", "/usr/sbin/mysqld")
    if not install or not server:
        unavailable("MariaDB binaries not found; run tests/install_services.sh")
    assert install and server
    user = _service_user()
    base = _owned_tmpdir("e2e-maria-", user)
    data, sock, port = base / "data", base / "mysqld.sock", free_port()
    proc: subprocess.Popen[bytes] | None = None
    try:
        _run(
            _as_user(
                [
                    install,
                    "--no-defaults",
                    f"--datadir={data}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                ],
                user,
            ),
            timeout=180,
        )
        cmd = [
            server,
            "--no-defaults",
            f"--datadir={data}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={sock}",
            f"--pid-file={base}/pid",
            f"--log-error={base}/log",
            "--skip-name-resolve",
            "--skip-log-bin",
            "--innodb-buffer-pool-size=64M",
            "--innodb-flush-log-at-trx-commit=2",
            "--max-connections=300",
        ]
        proc = subprocess.Popen(
            _as_user(cmd, user),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until(lambda: sock.exists() and port_open(port), 60, "MariaDB")
    except (RuntimeError, subprocess.TimeoutExpired, OSError, TimeoutError) as exc:
        if proc:
            _stop(proc)
        log = (base / "log").read_text(errors="replace")[-1500:] if (base / "log").exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        unavailable(f"MariaDB did not start: {exc} {log}")
    assert proc is not None
    try:
        yield MariaDB(port=port, socket=str(sock), process_group=proc.pid)
    finally:
        _stop(proc, 30)
        shutil.rmtree(base, ignore_errors=True)


# --------------------------------------------------------------------------- object stores


@dataclass
class Emulator:
    """A running storage emulator: its endpoint and the environment clients need."""

    endpoint: str
    env: dict[str, str] = field(default_factory=dict)


@contextlib.contextmanager
def _process(
    cmd: list[str], port: int, what: str, timeout: float = 60, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server process until its port opens; stop its process group afterwards."""
    log = tempfile.NamedTemporaryFile(prefix=f"e2e-{what}-", suffix=".log", delete=False)  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=dict(env or os.environ),
        )
    except OSError as exc:
        unavailable(f"{what} did not start: {exc}")
        raise
    try:
        wait_until(lambda: proc.poll() is None and port_open(port), timeout, what)
    except TimeoutError:
        _stop(proc)
        unavailable(f"{what} did not start: {Path(log.name).read_text()[-1500:]}")
    try:
        yield proc
    finally:
        _stop(proc)
        log.close()
        Path(log.name).unlink(missing_ok=True)


@contextlib.contextmanager
def moto_s3(settings: Mapping[str, str] | None = None) -> Iterator[Emulator]:
    """moto's server (S3 API) on a free port; clients use MLFLOW_S3_ENDPOINT_URL.
    `settings`: moto's environment settings (e.g. INITIAL_NO_AUTH_ACTION_COUNT, after which
    it checks IAM policies)."""
    port = free_port()
    cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with _process(cmd, port, "moto", env={**os.environ, **(settings or {})}):
        endpoint = f"http://127.0.0.1:{port}"
        yield Emulator(
            endpoint,
            {
                "MLFLOW_S3_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            },
        )


@contextlib.contextmanager
def azurite(tls: tuple[Path, Path] | None = None) -> Iterator[Emulator]:
    """Azurite's blob service on a free port; clients use AZURE_STORAGE_CONNECTION_STRING.

    With `tls` (certificate and key PEM files): HTTPS and Entra ID (OAuth, Azurite's `basic`
    check of a bearer token's audience, issuer and lifetime) besides the account key.
    """
    binary = NODE_BIN / "azurite-blob"
    if not binary.exists():
        found = shutil.which("azurite-blob")
        if not found:
            unavailable("azurite-blob not found; run tests/install_services.sh")
        binary = Path(str(found))
    port = free_port()
    location = Path(tempfile.mkdtemp(prefix="e2e-azurite-", dir="/tmp"))
    cmd = [
        str(binary),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        str(port),
        "--location",
        str(location),
        "--skipApiVersionCheck",
        "--loose",
        "--silent",
    ]
    if tls is not None:
        cmd += ["--cert", str(tls[0]), "--key", str(tls[1]), "--oauth", "basic"]
    scheme = "https" if tls else "http"
    try:
        with _process(cmd, port, "azurite"):
            endpoint = f"{scheme}://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
            conn = (
                f"DefaultEndpointsProtocol={scheme};AccountName={AZURITE_ACCOUNT};"
                f"AccountKey={AZURITE_KEY};BlobEndpoint={endpoint};"
            )
            yield Emulator(endpoint, {"AZURE_STORAGE_CONNECTION_STRING": conn})
    finally:
        shutil.rmtree(location, ignore_errors=True)


@contextlib.contextmanager
def gcs_emulator() -> Iterator[Emulator]:
    """gcp-storage-emulator (in memory) on a free port; clients use STORAGE_EMULATOR_HOST."""
    binary = Path(sys.executable).parent / "gcp-storage-emulator"
    if not binary.exists():
        unavailable("gcp-storage-emulator not installed in the venv")
    port = free_port()
    cmd = [str(binary), "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory"]
    with _process(cmd, port, "gcs-emulator"):
        endpoint = f"http://127.0.0.1:{port}"
        yield Emulator(
            endpoint, {"STORAGE_EMULATOR_HOST": endpoint, "GOOGLE_CLOUD_PROJECT": "e2e-test"}
        )


def create_s3_bucket(emulator: Emulator, bucket: str) -> None:
    """Create an S3 bucket on moto."""
    import boto3

    boto3.client(
        "s3",
        endpoint_url=emulator.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ).create_bucket(Bucket=bucket)


def create_azure_container(emulator: Emulator, container: str) -> None:
    """Create a blob container on Azurite."""
    from azure.storage.blob import BlobServiceClient

    BlobServiceClient.from_connection_string(
        emulator.env["AZURE_STORAGE_CONNECTION_STRING"]
    ).create_container(container)


def create_gcs_bucket(emulator: Emulator, bucket: str) -> None:
    """Create a bucket on the GCS emulator."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    old = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.endpoint
    try:
        storage.Client(project="e2e-test", credentials=AnonymousCredentials()).create_bucket(bucket)
    finally:
        if old is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = old


# --------------------------------------------------------------------------- the entrypoint

BASE_ENV_KEYS = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "PYTHONDONTWRITEBYTECODE")


def _children_map() -> dict[int, list[int]]:
    """ppid -> child pids of every process visible now."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(entry.path, "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants (bounded walk)."""
    children = _children_map()
    found, todo = [], [root]
    for _ in range(10_000):
        if not todo:
            break
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def entrypoint_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment for the entrypoint: basics from ours plus `extra` (nothing leaks)."""
    env = {k: os.environ[k] for k in BASE_ENV_KEYS if k in os.environ}
    env["PYTHONPATH"] = str(DOCKER_DIR)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def entrypoint_command(*args: str) -> list[str]:
    """The host form of the image's ENTRYPOINT: python -m mlflow_image [args]."""
    return [sys.executable, "-m", "mlflow_image", *args]


def run_entrypoint(
    extra_env: Mapping[str, str], *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the entrypoint to completion (config errors, `migrate`) and capture its output."""
    return subprocess.run(
        entrypoint_command(*args),
        env=entrypoint_env(extra_env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def http_status(url: str, timeout: float = 3) -> int:
    """The HTTP status of GET url (0 when nothing answers)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0


class EntrypointServer:
    """The entrypoint running as a server subprocess (own process group), output in a file."""

    def __init__(
        self,
        env: Mapping[str, str],
        args: tuple[str, ...] = (),
        port: int | None = None,
        log_dir: str | None = None,
    ) -> None:
        """Prepare (not start) a server on `port` (free one by default) with `env`."""
        self.port = port or free_port()
        self.env = {"HOST": "127.0.0.1", "PORT": str(self.port), "SERVER_WORKERS": "1", **env}
        self.args = args
        self.log_path = Path(tempfile.mkstemp(prefix="e2e-server-", suffix=".log", dir=log_dir)[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0
        self.healthy_after = 0.0

    @property
    def url(self) -> str:
        """The tracking URI clients use."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> EntrypointServer:
        """Start the entrypoint (returns at once)."""
        self.started_at = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                entrypoint_command(*self.args),
                env=entrypoint_env(self.env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_healthy(self, timeout: float = 120) -> EntrypointServer:
        """Wait (bounded) until GET /health is 200; raise with the log if it exits or times out."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        for _ in range(int(timeout / 0.25) + 2):
            if self.proc.poll() is not None:
                raise RuntimeError(f"entrypoint exited {self.proc.returncode}:\n{self.log()}")
            if http_status(f"{self.url}/health", timeout=2) == 200:
                self.healthy_after = time.monotonic() - self.started_at
                return self
            if time.monotonic() > deadline:
                break
            time.sleep(0.25)
        self.stop()
        raise TimeoutError(f"server not healthy after {timeout}s:\n{self.log()}")

    def log(self) -> str:
        """The server's output so far (last 6000 characters)."""
        return self.log_path.read_text(errors="replace")[-6000:]

    def server_pid(self) -> int:
        """Pid of the entrypoint, which exec'd into `mlflow server` (same pid)."""
        assert self.proc is not None
        return self.proc.pid

    def kill9(self) -> None:
        """SIGKILL the whole process group (server and its uvicorn workers): a crash."""
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        wait_until(lambda: not port_open(self.port), 15, "port release")

    def stop(self) -> None:
        """SIGTERM the process group and wait (bounded), then SIGKILL."""
        if self.proc is not None:
            _stop(self.proc, 20)

    def __enter__(self) -> EntrypointServer:
        """Start and wait for health."""
        return self.start().wait_healthy()

    def __exit__(self, *exc: object) -> None:
        """Stop the server and remove its log."""
        self.stop()
        self.log_path.unlink(missing_ok=True)
