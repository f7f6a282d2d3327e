"""Entrypoint of the mlflow-server image: environment contract -> MLflow's tracking server.

Two halves, kept apart on purpose:

* `resolve()` and the small helpers above it are pure: they turn the environment
  (see `contract.py`) into a `Plan` (database URI, server arguments, environment
  for the server) or raise `ConfigError` with one line naming the variable, the
  value (never a secret one) and what is allowed. They import neither mlflow nor
  anything slow, so a bad input fails in well under a second.
* `main()` and the functions below `resolve()` run processes and touch services:
  write the GCP key file, wait for the database, run the schema migrations under a
  database-level lock (so replicas starting together migrate exactly once),
  prepare basic-auth, check/create the S3 bucket, then serve. By default the process
  becomes the preloaded server (`server.py`: gunicorn imports MLflow's app once and forks
  its uvicorn workers; same pid, so the platform's SIGTERM reaches it), after one re-exec
  that drops the spent secrets from the environment the process started with. When an
  option only MLflow's own launcher can honour is set, it `os.execvp`s `mlflow server`.
  MLflow's own `MLFLOW_*` server variables are honoured on the contract or refused
  (`mlflow_options.py`).

`python -m mlflow_image migrate` does everything up to the migrations and exits 0.
"""

# Lazy imports are deliberate: a bad input must fail before sqlalchemy/mlflow/boto3 load.
# ruff: noqa: PLC0415

from __future__ import annotations

import base64
import binascii
import contextlib
import ipaddress
import json
import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow_image import mlflow_options
from mlflow_image.contract import AUTH_PERMISSIONS, ENGINES
from mlflow_image.mlflow_options import ConfigError, aliased

if TYPE_CHECKING:  # sqlalchemy is imported lazily: it is not needed for most errors.
    from sqlalchemy.engine import URL, Engine

LOG = logging.getLogger("mlflow_image")

DEFAULT_PORT = 5000
DEFAULT_WORKERS = 2
"""Two uvicorn workers: one keeps answering while the other waits on a slow database or
artifact call. Each costs about 300-400 MB (it imports all of MLflow); raise it with the
vCPUs and memory of the container (a common rule: 2 x vCPUs)."""
DEFAULT_KEEP_ALIVE_SECONDS = 650
"""uvicorn's keep-alive, longer than the idle timeout of the load balancer in front (AWS ALB
60 s by default, Google's front ends 600 s, Azure Container Apps' Envoy 240 s): the balancer,
not the server, closes idle connections, so it never reuses one the server just closed
(which shows up as sporadic 502s)."""
DEFAULT_SHUTDOWN_SECONDS = 8
"""How long a stopping server waits for requests in flight before it closes them: a few
seconds under the shortest grace period of the platforms it runs on (Cloud Run and
`docker stop`: 10 s; ECS 30 s; Container Apps 30 s), so it exits by itself, cleanly, before
the platform's SIGKILL. A slower upload is cut and the client retries it."""
DEFAULT_DB_WAIT_SECONDS = 60
DB_POOL_DEFAULTS = {
    "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": 10,
    "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": 20,
    "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE": 1800,
}
"""SQLAlchemy pool settings MLflow 3.17.2 reads (mlflow/store/db/utils.py), set for a PostgreSQL
or MySQL backend unless the user set them. MLflow's defaults (SQLAlchemy's 5 + 10 overflow)
made 64 concurrent clients on 2 workers hit 30 s QueuePool timeouts (bench/results/latest.md);
10 + 20 = at most 30 connections per worker process and MLflow store engine. pool_pre_ping
is always on in MLflow (no variable); recycling after 30 min also replaces a connection before
a proxy's or firewall's idle timeout (RDS Proxy's default: 30 min) can leave it half-dead."""
DB_POOL_RANGES = {
    # MLflow passes a value only when it is truthy: 0 would silently mean SQLAlchemy's default
    # (pool 5, overflow 10), so it is refused; a negative overflow would be unbounded.
    "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": (1, 1000),
    "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": (1, 1000),
    # 0: MLflow passes nothing, SQLAlchemy never recycles.
    "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE": (0, 86400),
}
LOCK_NAME = "mlflow_image_schema_migration"
LOCK_KEY = 0x6D6C666C6F77  # "mlflow" as an integer: the pg_advisory_lock key.
SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
ARTIFACT_SCHEMES = ("s3", "gs", "wasbs", "wasb", "abfss", "file")
TRUE_VALUES = ("true", "1", "yes", "on")
FALSE_VALUES = ("false", "0", "no", "off")
SUPPORTED_DRIVERS = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "mysql+pymysql": "mysql+pymysql",
    "mariadb+pymysql": "mysql+pymysql",
    "sqlite": "sqlite",
}
"""Backend URI schemes the image accepts, mapped to the driver the image ships."""
HOSTNAME_RE = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")
DB_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
DB_PART_NAMES = (
    "DB_ENGINE",
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_PASSWORD",
    "DB_SSLMODE",
    "DB_SSLROOTCERT",
)
"""Parts of the assembled backend URI: meaningless (so refused) next to a full URI."""
ENDPOINT_RE = re.compile(r"^https?://[^/\s:]+(:\d{1,5})?(/\S*)?$")


# --------------------------------------------------------------------------- pure helpers


def parse_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    """Read a boolean variable: true/false/1/0/yes/no/on/off (any case); unset = default."""
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if not value:
        return default
    if value in TRUE_VALUES:
        return True
    if value in FALSE_VALUES:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; allowed: true or false")


def parse_int(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    """Read an integer variable within [minimum, maximum]; unset or empty = default."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not an integer; allowed: {minimum}..{maximum}"
        ) from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={raw!r} is out of range; allowed: {minimum}..{maximum}")
    return value


def parse_choice(env: Mapping[str, str], name: str, default: str, allowed: Sequence[str]) -> str:
    """Read a variable that must be one of `allowed` (case-insensitive); unset = default."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    for choice in allowed:
        if raw.lower() == choice.lower():
            return choice
    raise ConfigError(f"{name}={raw!r} is not supported; allowed: {' | '.join(allowed)}")


def parse_list(raw: str | None) -> list[str]:
    """Split a comma-separated variable into its non-empty, stripped items."""
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def mask_url(url: URL) -> str:
    """The URL as a string with its password replaced by ***, safe to log."""
    return url.render_as_string(hide_password=True)


def url_to_string(url: URL) -> str:
    """The URL as the exact string MLflow gets, password URL-encoded and readable back."""
    return url.render_as_string(hide_password=False)


def pymysql_password(password: str) -> str:
    """The password as PyMySQL must be given it so that the server sees its UTF-8 bytes.

    MySQL/MariaDB hash the bytes of `IDENTIFIED BY '...'` as the creating client sent
    them: UTF-8 for every modern client. PyMySQL encodes a str password as Latin-1, so a
    non-ASCII password fails to log in (or fails to encode). Handing it the UTF-8 bytes
    spelled as Latin-1 characters makes PyMySQL send exactly the UTF-8 bytes. ASCII
    passwords are unchanged.
    """
    return password.encode("utf-8").decode("latin-1")


def _fix_mysql_password(url: URL) -> URL:
    """Apply pymysql_password to a MySQL URL's password (idempotent for ASCII)."""
    if url.drivername.startswith("mysql") and url.password and not url.password.isascii():
        return url.set(password=pymysql_password(str(url.password)))
    return url


PG_CONNECTION_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}
"""libpq options on every PostgreSQL connection (the server's pools, the migration lock,
the auth store): a database that accepts TCP but does not answer fails a new connection in
10 s instead of hanging; a pooled connection to a host that vanished is declared dead after
about 60 s of silence (30 + 3 x 10) instead of TCP's 15 minutes."""
MYSQL_CONNECTION_DEFAULTS = {"connect_timeout": "10"}
"""PyMySQL's connect timeout (its default is 10 s too; stated so it is visible and kept).
PyMySQL turns TCP keepalive on for its sockets but has no option to tune it; its read and
write timeouts come from DB_READ_TIMEOUT_SECONDS (`with_connection_defaults`)."""
DEFAULT_DB_READ_TIMEOUT_SECONDS = 30
"""DB_READ_TIMEOUT_SECONDS: the longest a database may stay silent within one call. Without
it a pooled connection to a server that hangs (frozen, or a host gone while TCP still
answers, which keepalives never notice) waits forever for the answer to MLflow's pre-ping.
30 s of silence is far beyond MLflow's usual queries; a team with very large tables and
slow searches raises it (0: no read timeout)."""


def with_connection_defaults(url: URL, read_timeout: int = DEFAULT_DB_READ_TIMEOUT_SECONDS) -> URL:
    """The URL with the connect timeout and keepalive options added where not already set
    (a user's own value in DATABASE_URI wins), and for MySQL PyMySQL's read and write
    timeouts of `read_timeout` seconds (0: none; PostgreSQL's is `pg_timeout`'s, since
    libpq has no such option). SQLite is returned unchanged."""
    if url.drivername.startswith("postgresql"):
        defaults = PG_CONNECTION_DEFAULTS
    elif url.drivername.startswith("mysql"):
        defaults = dict(MYSQL_CONNECTION_DEFAULTS)
        if read_timeout:
            defaults |= {"read_timeout": str(read_timeout), "write_timeout": str(read_timeout)}
    else:
        return url
    missing = {k: v for k, v in defaults.items() if k not in url.query}
    return url.update_query_dict(missing) if missing else url


def parse_database_uri(
    name: str, raw: str, read_timeout: int = DEFAULT_DB_READ_TIMEOUT_SECONDS
) -> URL:
    """Parse a full SQLAlchemy URI (DATABASE_URI, AUTH_DATABASE_URL) and pin the driver.

    `postgres://` / `postgresql://` become psycopg2 and `mysql://` / `mariadb://` become
    PyMySQL, the drivers the image ships. The value is never echoed: it holds a password.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        raise ConfigError(
            f"{name} is not a valid database URI (value not shown, it may hold a password); "
            "allowed: postgresql://user:password@host:port/db, "
            "mysql+pymysql://user:password@host:port/db or sqlite:////path/file.db"
        ) from None
    driver = SUPPORTED_DRIVERS.get(url.drivername)
    if driver is None:
        raise ConfigError(
            f"{name} uses the unsupported scheme {url.drivername!r}; allowed: "
            "postgresql, postgresql+psycopg2, mysql, mysql+pymysql, sqlite"
        )
    if driver != "sqlite" and not url.database:
        raise ConfigError(f"{name} ({mask_url(url)}) names no database; allowed: ...@host/<db>")
    return with_connection_defaults(_fix_mysql_password(url.set(drivername=driver)), read_timeout)


def build_database_url(
    env: Mapping[str, str], read_timeout: int = DEFAULT_DB_READ_TIMEOUT_SECONDS
) -> URL:
    """Assemble the backend URI from DB_ENGINE/DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD.

    Any password character survives: sqlalchemy's URL.create encodes it. An absolute
    DB_HOST is a unix socket: for PostgreSQL the directory holding `.s.PGSQL.<port>`
    (Cloud SQL: /cloudsql/PROJECT:REGION:INSTANCE), for MySQL the socket file itself.
    DB_SSLMODE / DB_SSLROOTCERT become the driver's TLS options.
    """
    from sqlalchemy.engine import URL

    engine = parse_choice(env, "DB_ENGINE", "postgresql", ENGINES)
    host = check_db_host(env.get("DB_HOST", "").strip())
    default_port = 5432 if engine == "postgresql" else 3306
    port = parse_int(env, "DB_PORT", default_port, 1, 65535)
    name = env.get("DB_NAME", "").strip() or "mlflow"
    user = env.get("DB_USER", "").strip() or "mlflow"
    password = env.get("DB_PASSWORD")
    if not password:
        raise ConfigError(
            f"DB_PASSWORD is not set but DB_HOST={host!r} is; allowed: the database user's "
            "password (inject it as a secret)"
        )
    sslmode = parse_choice(env, "DB_SSLMODE", "prefer", SSL_MODES)
    rootcert = env.get("DB_SSLROOTCERT", "").strip()
    if sslmode in ("verify-ca", "verify-full") and not rootcert:
        raise ConfigError(
            f"DB_SSLROOTCERT is not set but DB_SSLMODE={sslmode!r} is; allowed: the path of "
            "the CA bundle that signed the database's certificate"
        )
    socket = host.startswith("/")
    query: dict[str, str] = {}
    if engine == "postgresql":
        drivername = "postgresql+psycopg2"
        if socket:
            query["host"] = host  # psycopg2: a directory in `host` means a unix socket.
        else:
            query["sslmode"] = sslmode
            if rootcert:
                query["sslrootcert"] = rootcert
    else:
        drivername = "mysql+pymysql"
        if socket:
            query["unix_socket"] = host
        elif sslmode in ("require", "verify-ca", "verify-full"):
            # PyMySQL: ssl with no CA = encrypted but unverified (libpq's `require`).
            query["ssl_check_hostname"] = "true" if sslmode == "verify-full" else "false"
            if rootcert:
                query["ssl_ca"] = rootcert
        query["charset"] = "utf8mb4"
    return with_connection_defaults(
        URL.create(
            drivername,
            username=user,
            password=pymysql_password(password) if engine == "mysql" else password,
            host=None if socket else host,
            port=port if not socket or engine == "postgresql" else None,
            database=name,
            query=query,
        ),
        read_timeout,
    )


def check_db_host(host: str) -> str:
    """DB_HOST as given when it is a host name, an IP address or an absolute socket path.

    `db:5432` or `postgres://db` would otherwise become a name lookup that fails on every
    attempt until DB_WAIT_SECONDS runs out, blaming the wait.
    """
    if host.startswith("/") or DB_HOST_RE.match(host):
        return host
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host.strip("[]"))
        return host.strip("[]")
    raise ConfigError(
        f"DB_HOST={host!r} is not a host name; allowed: a host name or IP address alone (the "
        "port goes in DB_PORT, no scheme or path), or an absolute unix-socket path"
    )


def check_endpoint_url(env: Mapping[str, str], name: str) -> None:
    """An endpoint variable boto3 reads must be http(s)://host[:port][/path] when set."""
    raw = env.get(name, "").strip()
    if raw and not ENDPOINT_RE.match(raw):
        raise ConfigError(
            f"{name}={raw!r} is not an endpoint URL; allowed: http://host[:port] or "
            "https://host[:port] (the scheme is required)"
        )


def validate_artifact_url(raw: str) -> str:
    """Check ARTIFACT_URL: an s3/gs/wasbs/abfss/file URI or an absolute path."""
    url = raw.strip()
    if url.startswith("/"):
        return url
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in ARTIFACT_SCHEMES or not rest.strip("/"):
        raise ConfigError(
            f"ARTIFACT_URL={raw!r} is not a supported artifact location; allowed: "
            "s3://bucket[/path], gs://bucket[/path], "
            "wasbs://container@account.blob.core.windows.net[/path], or an absolute path"
        )
    return url


def s3_bucket_of(url: str) -> str | None:
    """The bucket name of an s3:// URL, None for any other URL."""
    if not url.startswith("s3://"):
        return None
    return url[len("s3://") :].split("/", 1)[0]


def allowed_hosts(public_hostnames: Sequence[str], port: int) -> list[str]:
    """MLflow's Host-header allow-list for PUBLIC_HOSTNAMES.

    MLflow compares the Host header exactly, port included, and an explicit list replaces
    its defaults (localhost and private networks). So each public name is allowed bare and
    with :80 / :443 (what a client behind a load balancer may send), and localhost /
    127.0.0.1 with and without the server port stay allowed for in-container checks.
    """
    hosts: list[str] = []
    for name in public_hostnames:
        hosts.append(name)
        if ":" not in name:
            hosts += [f"{name}:80", f"{name}:443"]
    for local in ("localhost", "127.0.0.1", "[::1]"):
        hosts += [local, f"{local}:{port}"]
    return list(dict.fromkeys(hosts))


def cors_origins(public_hostnames: Sequence[str]) -> list[str]:
    """Default CORS origins for PUBLIC_HOSTNAMES: https:// and http:// of each name.

    Browsers send an Origin header on the UI's own POSTs, and MLflow blocks state-changing
    requests from any origin not in its list, so the public names must be in it.
    """
    origins: list[str] = []
    for name in public_hostnames:
        origins += [f"https://{name}", f"http://{name}"]
    return origins


def decode_google_auth_string(raw: str) -> bytes:
    """Decode GOOGLE_AUTH_STRING (base64 of a service-account JSON) and check it is JSON."""
    try:
        data = base64.b64decode(raw.strip(), validate=True)
        json.loads(data)
    except (binascii.Error, ValueError):
        raise ConfigError(
            "GOOGLE_AUTH_STRING is not base64 of a JSON key file (value not shown); "
            "allowed: the output of `base64 -w0 key.json`"
        ) from None
    return data


def auth_ini_text(database_uri: str, admin_username: str, default_permission: str) -> str:
    """The basic-auth config file MLflow reads (MLFLOW_AUTH_CONFIG_PATH).

    MLflow reads it with ConfigParser, whose interpolation treats `%` specially: an
    URL-encoded password (`%40`, `%25`, ...) must have every `%` doubled. The admin
    password is not written here: MLflow reads it from MLFLOW_AUTH_ADMIN_PASSWORD.
    """

    def esc(value: str) -> str:
        return value.replace("%", "%%")

    return (
        "[mlflow]\n"
        f"default_permission = {default_permission}\n"
        f"database_uri = {esc(database_uri)}\n"
        f"admin_username = {esc(admin_username)}\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        "grant_default_workspace_access = false\n"
    )


@dataclass
class Plan:
    """Everything the entrypoint will do, decided before any side effect."""

    backend: URL | None
    """Backend store (None: artifacts-only)."""
    artifact_mode: str
    artifact_url: str
    auth_enabled: bool = False
    auth_database: URL | None = None
    auth_username: str = ""
    auth_password: str = ""
    auth_default_permission: str = "NO_PERMISSIONS"
    create_bucket: bool = False
    google_key: bytes | None = None
    db_wait_seconds: int = DEFAULT_DB_WAIT_SECONDS
    data_dir: str = "/data"
    db_pool: tuple[int, int] | None = None
    """Effective (pool size, max overflow) per worker and store engine; None: MLflow's."""
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    workers: int = DEFAULT_WORKERS
    keep_alive: int = DEFAULT_KEEP_ALIVE_SECONDS
    shutdown_seconds: int = DEFAULT_SHUTDOWN_SECONDS
    db_read_timeout: int = DEFAULT_DB_READ_TIMEOUT_SECONDS
    """DB_READ_TIMEOUT_SECONDS (0: none)."""
    spool_dir: str | None = None
    max_upload_mb: int = 0
    static_prefix: str | None = None
    read_replica: URL | None = None
    launcher: str = "preloaded"
    """"preloaded" (gunicorn, the app imported once) or why MLflow's own launcher runs."""
    warnings: list[str] = field(default_factory=list)
    """Lines to log at start (settings that are honoured but unsafe)."""
    args: list[str] = field(default_factory=list)
    """`mlflow server` arguments (no secret among them)."""
    env: dict[str, str] = field(default_factory=dict)
    """Variables to set for the server (secrets travel here, never in `args`)."""
    unset: list[str] = field(default_factory=list)
    """Variables to remove before exec: secrets the server does not need."""

    def describe(self) -> str:
        """One log line of the plan, secrets masked."""
        backend = mask_url(self.backend) if self.backend is not None else "none (artifacts-only)"
        auth = (
            f"basic-auth (admin {self.auth_username!r}, auth db "
            f"{mask_url(self.auth_database) if self.auth_database else '-'})"
            if self.auth_enabled
            else "off"
        )
        pool = f" pool={self.db_pool[0]}+{self.db_pool[1]}/worker" if self.db_pool else ""
        launcher = (
            f"preloaded ({self.workers} uvicorn workers on {self.host}:{self.port})"
            if self.launcher == "preloaded"
            else f"{self.launcher} args={shlex.join(self.args)}"
        )
        return (
            f"backend={backend}{pool} artifacts={self.artifact_mode}:{self.artifact_url} "
            f"auth={auth} server={launcher}"
        )


def resolve(env: Mapping[str, str], extra_args: Sequence[str] = ()) -> Plan:
    """Turn the environment into a Plan, or raise ConfigError. Pure: no I/O, no mlflow."""
    mlflow_options.check_mlflow_booleans(env)
    mlflow_options.refuse_unsupported(env)
    port = parse_int(_merged(env, "PORT", "MLFLOW_PORT"), "PORT", DEFAULT_PORT, 1, 65535)
    host = aliased(env, "HOST", "MLFLOW_HOST") or "0.0.0.0"
    workers = parse_int(
        _merged(env, "SERVER_WORKERS", "MLFLOW_WORKERS"), "SERVER_WORKERS", DEFAULT_WORKERS, 1, 64
    )
    keep_alive = parse_int(env, "SERVER_KEEP_ALIVE_SECONDS", DEFAULT_KEEP_ALIVE_SECONDS, 1, 86400)
    shutdown = parse_int(env, "SERVER_SHUTDOWN_SECONDS", DEFAULT_SHUTDOWN_SECONDS, 2, 3600)
    db_read_timeout = parse_int(
        env, "DB_READ_TIMEOUT_SECONDS", DEFAULT_DB_READ_TIMEOUT_SECONDS, 0, 3600
    )
    spool_dir = env.get("SPOOL_DIR", "").strip() or None
    if spool_dir is not None and not spool_dir.startswith("/"):
        raise ConfigError(f"SPOOL_DIR={spool_dir!r} is not absolute; allowed: an absolute path")
    max_upload_mb = parse_int(env, "ARTIFACT_MAX_UPLOAD_MB", 0, 0, 10_000_000)
    db_wait = parse_int(env, "DB_WAIT_SECONDS", DEFAULT_DB_WAIT_SECONDS, 0, 3600)
    mode = mlflow_options.artifact_mode(env)
    data_dir = env.get("DATA_DIR", "").strip() or "/data"
    if not data_dir.startswith("/"):
        raise ConfigError(f"DATA_DIR={data_dir!r} is not absolute; allowed: an absolute path")
    auth_enabled = parse_bool(env, "AUTH_ENABLED", False)
    create_bucket = parse_bool(env, "CREATE_BUCKET", False)
    jobs = parse_bool(env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION", False)
    for name in ("MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        check_endpoint_url(env, name)

    backend = _resolve_backend(env, mode, data_dir, db_read_timeout)

    # Artifact store.
    raw_artifact = mlflow_options.artifact_url(env, mode)
    if mode == "direct" and not raw_artifact:
        raise ConfigError(
            "ARTIFACT_URL is not set but ARTIFACT_MODE='direct' is; allowed: the bucket URI "
            "clients write to (s3://, gs://, wasbs://), or ARTIFACT_MODE=proxied"
        )
    artifact_url = (
        validate_artifact_url(raw_artifact) if raw_artifact else f"{data_dir.rstrip('/')}/artifacts"
    )
    if create_bucket:
        if s3_bucket_of(artifact_url) is None:
            raise ConfigError(
                f"CREATE_BUCKET=true but ARTIFACT_URL={artifact_url!r} is not s3://; allowed: "
                "CREATE_BUCKET=true only with an s3:// ARTIFACT_URL"
            )
        if not env.get("MLFLOW_S3_ENDPOINT_URL", "").strip():
            raise ConfigError(
                "CREATE_BUCKET=true but MLFLOW_S3_ENDPOINT_URL is not set; allowed: "
                "CREATE_BUCKET=true only against an S3-compatible endpoint (on AWS the "
                "stack creates the bucket)"
            )

    plan = Plan(
        backend=backend,
        artifact_mode=mode,
        artifact_url=artifact_url,
        create_bucket=create_bucket,
        db_wait_seconds=db_wait,
        data_dir=data_dir,
        host=host,
        port=port,
        workers=workers,
        keep_alive=keep_alive,
        shutdown_seconds=shutdown,
        db_read_timeout=db_read_timeout,
        spool_dir=spool_dir,
        max_upload_mb=max_upload_mb,
        static_prefix=env.get("MLFLOW_STATIC_PREFIX", "") or None,
    )

    # Google credentials (seed 004).
    if env.get("GOOGLE_AUTH_STRING", "").strip():
        plan.google_key = decode_google_auth_string(env["GOOGLE_AUTH_STRING"])
        plan.unset.append("GOOGLE_AUTH_STRING")

    replica = env.get("MLFLOW_READ_REPLICA_BACKEND_STORE_URI", "").strip()
    if replica:
        if backend is None:
            raise ConfigError(
                "MLFLOW_READ_REPLICA_BACKEND_STORE_URI is set but ARTIFACT_MODE="
                "'artifacts-only' has no backend store; allowed: unset it"
            )
        plan.read_replica = parse_database_uri(
            "MLFLOW_READ_REPLICA_BACKEND_STORE_URI", replica, db_read_timeout
        )
        plan.env["MLFLOW_READ_REPLICA_BACKEND_STORE_URI"] = url_to_string(plan.read_replica)

    # Server arguments (MLflow's launcher). Secrets (backend URI) go through the environment.
    args = ["--host", host, "--port", str(port), "--workers", str(workers)]
    if backend is not None:
        plan.env["MLFLOW_BACKEND_STORE_URI"] = url_to_string(backend)
    if mode == "direct":
        args += ["--no-serve-artifacts", "--default-artifact-root", artifact_url]
    elif mode == "artifacts-only":
        args += ["--artifacts-only", "--artifacts-destination", artifact_url]
    else:
        args += ["--artifacts-destination", artifact_url]
    plan.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "true" if jobs else "false"
    _resolve_db_pool(env, plan)

    if not env.get("MLFLOW_GUNICORN_OPTS") and not env.get("MLFLOW_WAITRESS_OPTS"):
        uvicorn_opts = env.get("MLFLOW_UVICORN_OPTS", "").strip()
        if "--timeout-keep-alive" not in uvicorn_opts:
            uvicorn_opts = f"{uvicorn_opts} --timeout-keep-alive {keep_alive}".strip()
        if "--timeout-graceful-shutdown" not in uvicorn_opts:
            uvicorn_opts = f"{uvicorn_opts} --timeout-graceful-shutdown {shutdown}"
        args += ["--uvicorn-opts", uvicorn_opts]

    _resolve_security(env, plan)

    # Basic auth.
    if auth_enabled:
        _resolve_auth(env, plan, backend)
        args += ["--app-name", "basic-auth"]
    else:
        given = [n for n in AUTH_SETTINGS if env.get(n, "").strip()]
        if given:
            raise ConfigError(
                f"{given[0]} is set but AUTH_ENABLED={env.get('AUTH_ENABLED', '')!r} is not "
                "true; allowed: AUTH_ENABLED=true to run basic-auth with it, or unset "
                f"{given[0]} (credentials never start a server without auth)"
            )
    plan.unset += [
        "DB_PASSWORD",
        "AUTH_PASSWORD",
        "DATABASE_URI",
        "AUTH_DATABASE_URL",
        "MLFLOW_READ_REPLICA_BACKEND_STORE_URI",
    ]
    plan.args = args + list(extra_args)
    plan.launcher = _launcher(env, extra_args, jobs)
    return plan


AUTH_SETTINGS = ("AUTH_USERNAME", "AUTH_PASSWORD", "AUTH_DATABASE_URL", "AUTH_DEFAULT_PERMISSION")
"""Basic-auth settings: set without AUTH_ENABLED=true they are refused, not ignored."""


def _merged(env: Mapping[str, str], contract: str, mlflow: str) -> dict[str, str]:
    """{contract: value} from the contract variable or MLflow's alias of it (see aliased)."""
    value = aliased(env, contract, mlflow)
    return {contract: value} if value else {}


def _launcher(env: Mapping[str, str], extra_args: Sequence[str], jobs: bool) -> str:
    """Which server runs: "preloaded" (default) or MLflow's own launcher, with the reason.

    MLflow's launcher (`mlflow server`) is the only one that can honour its launcher options,
    arguments given to the image and the job runner; everything else is preloaded.
    """
    if extra_args:
        return "mlflow server (arguments given to the image)"
    for name in mlflow_options.LAUNCHER_VARIABLES:
        if env.get(name, "").strip():
            return f"mlflow server ({name} is set)"
    if jobs:
        return "mlflow server (MLFLOW_SERVER_ENABLE_JOB_EXECUTION=true)"
    return PRELOADED


PRELOADED = "preloaded"


def _resolve_backend(
    env: Mapping[str, str], mode: str, data_dir: str, read_timeout: int
) -> URL | None:
    """The backend store: exactly one of DATABASE_URI, MLFLOW_BACKEND_STORE_URI, DB_* parts.

    None of them: SQLite in DATA_DIR (artifacts-only: no store). Two of them, or DB_* parts
    next to a full URI (TLS settings that would be ignored, say), are refused.
    """
    database_uri = env.get("DATABASE_URI", "").strip()
    mlflow_uri = env.get("MLFLOW_BACKEND_STORE_URI", "").strip()
    parts = [n for n in DB_PART_NAMES if env.get(n, "").strip()]
    if database_uri and mlflow_uri:
        raise ConfigError(
            "DATABASE_URI and MLFLOW_BACKEND_STORE_URI are both set (values not shown); "
            "allowed: one of them"
        )
    full = "DATABASE_URI" if database_uri else ("MLFLOW_BACKEND_STORE_URI" if mlflow_uri else "")
    if full and parts:
        raise ConfigError(
            f"{parts[0]} is set but {full} is, which would make it ignored; allowed: put "
            f"everything in {full} (TLS as ?sslmode=... for PostgreSQL, ?ssl_ca=... for "
            f"MySQL), or unset {full} and use the DB_* parts"
        )
    if full:
        backend: URL | None = parse_database_uri(full, database_uri or mlflow_uri, read_timeout)
    elif env.get("DB_HOST", "").strip():
        backend = build_database_url(env, read_timeout)
    else:
        backend = None
    if mode == "artifacts-only" and backend is not None:
        which = full or "DB_HOST"
        raise ConfigError(
            f"ARTIFACT_MODE='artifacts-only' but {which} is set; allowed: no database with "
            "artifacts-only (unset it), or ARTIFACT_MODE=proxied | direct"
        )
    if mode != "artifacts-only" and backend is None:
        if parts:
            raise ConfigError(
                f"{parts[0]} is set but DB_HOST is not; allowed: DB_HOST with the other DB_* "
                "parts, or none of them (SQLite in DATA_DIR)"
            )
        from sqlalchemy.engine import URL

        backend = URL.create("sqlite", database=f"{data_dir.rstrip('/')}/mlflow.db")
    return backend


def _resolve_security(env: Mapping[str, str], plan: Plan) -> None:
    """MLflow's Host allow-list and CORS origins from PUBLIC_HOSTNAMES / CORS_ALLOWED_ORIGINS."""
    public = parse_list(env.get("PUBLIC_HOSTNAMES"))
    for name in public:
        if not HOSTNAME_RE.match(name):
            raise ConfigError(
                f"PUBLIC_HOSTNAMES item {name!r} is not a host name; allowed: "
                "comma-separated names like mlflow.example.com (no scheme, no path)"
            )
    if not env.get("MLFLOW_SERVER_ALLOWED_HOSTS", "").strip() and public:
        plan.env["MLFLOW_SERVER_ALLOWED_HOSTS"] = ",".join(allowed_hosts(public, plan.port))
    explicit = aliased(env, "CORS_ALLOWED_ORIGINS", "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS")
    origins = parse_list(explicit) or cors_origins(public)
    if origins and not env.get("MLFLOW_SERVER_CORS_ALLOWED_ORIGINS", "").strip():
        plan.env["MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"] = ",".join(origins)
    if mlflow_options.mlflow_bool(env, "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE"):
        plan.warnings.append(
            "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE is true: no Host check, no CORS check, "
            "no X-Frame-Options (MLflow's own warning: only for testing)"
        )


def _resolve_db_pool(env: Mapping[str, str], plan: Plan) -> None:
    """Check user-set pool variables; for a PostgreSQL/MySQL backend, default the unset ones.

    A user's value is passed on as given (never rewritten). SQLite and artifacts-only get
    no defaults: MLflow's own pool handling fits a single local file, and there is no store.
    """
    server_db = plan.backend is not None and plan.backend.drivername != "sqlite"
    values: dict[str, int] = {}
    for name, default in DB_POOL_DEFAULTS.items():
        low, high = DB_POOL_RANGES[name]
        values[name] = parse_int(env, name, default, low, high)
        if server_db and not env.get(name, "").strip():
            plan.env[name] = str(default)
    if server_db:
        plan.db_pool = (
            values["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"],
            values["MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"],
        )


def _resolve_auth(env: Mapping[str, str], plan: Plan, backend: URL | None) -> None:
    """Fill the auth part of `plan` from AUTH_* (called only when AUTH_ENABLED=true)."""
    username = env.get("AUTH_USERNAME", "").strip() or "admin"
    # A secret created from a file (`--from-file`, `--data-file`) keeps the file's final
    # newline, which nobody types at a login prompt: strip line endings, nothing else.
    password = env.get("AUTH_PASSWORD", "").rstrip("\r\n")
    for name, value in (("AUTH_USERNAME", username), ("AUTH_PASSWORD", password)):
        if not value.isascii():
            shown = f"={value!r}" if name == "AUTH_USERNAME" else " (value not shown)"
            raise ConfigError(
                f"{name}{shown} has a non-ASCII character; allowed: ASCII only (MLflow "
                "decodes Basic credentials as ASCII on its FastAPI routes, so this admin "
                "would get 401 on every proxied artifact request)"
            )
    if len(password) < 12:
        what = "is not set" if not password else f"has {len(password)} characters"
        raise ConfigError(
            f"AUTH_PASSWORD {what} but AUTH_ENABLED=true; allowed: a password of 12 or more "
            "characters (inject it as a secret)"
        )
    if not env.get("MLFLOW_FLASK_SERVER_SECRET_KEY", "").strip():
        raise ConfigError(
            "MLFLOW_FLASK_SERVER_SECRET_KEY is not set but AUTH_ENABLED=true; allowed: a long "
            "random secret, the same for every replica (inject it as a secret)"
        )
    raw_auth_db = env.get("AUTH_DATABASE_URL", "").strip()
    if raw_auth_db:
        auth_db = parse_database_uri("AUTH_DATABASE_URL", raw_auth_db, plan.db_read_timeout)
    elif backend is not None:
        auth_db = backend
    else:
        raise ConfigError(
            "AUTH_DATABASE_URL is not set but AUTH_ENABLED=true with ARTIFACT_MODE="
            "'artifacts-only' (no backend store to share); allowed: a database URI for the "
            "auth tables"
        )
    plan.auth_enabled = True
    plan.auth_database = auth_db
    plan.auth_username = username
    plan.auth_password = password
    plan.auth_default_permission = parse_choice(
        env, "AUTH_DEFAULT_PERMISSION", "NO_PERMISSIONS", AUTH_PERMISSIONS
    )
    plan.env["MLFLOW_AUTH_ADMIN_USERNAME"] = username
    plan.env["MLFLOW_AUTH_ADMIN_PASSWORD"] = password


# --------------------------------------------------------------------------- side effects


def write_private_file(directory: str, name: str, data: bytes) -> str:
    """Write `data` to directory/name readable by the owner only (0600); return the path."""
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
    return path


def private_dir() -> str:
    """A fresh 0700 directory for this start's secret files (GCP key, auth config)."""
    return tempfile.mkdtemp(prefix="mlflow-image-")


def create_engine(url: URL, connect_timeout: int = 5) -> Engine:
    """A pool-less engine for the entrypoint's own short-lived work."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    args: dict[str, Any] = {}
    if url.drivername.startswith(("postgresql", "mysql")):
        args["connect_timeout"] = connect_timeout
    return sqlalchemy.create_engine(url, poolclass=NullPool, connect_args=args)


def wait_for_database(url: URL, seconds: int, sleep: float = 2.0) -> None:
    """Connect with `SELECT 1` until it works; after `seconds` raise StartError.

    Bounded by time and by attempt count; every failed attempt is logged with the
    masked URI and the driver's error class, never the password.
    """
    import sqlalchemy
    import sqlalchemy.exc

    if url.drivername == "sqlite":
        Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
        return
    deadline = time.monotonic() + seconds
    max_attempts = max(1, int(seconds / sleep) + 2)
    engine = create_engine(url, connect_timeout=max(1, min(10, seconds or 1)))
    try:
        for attempt in range(1, max_attempts + 1):
            try:
                with engine.connect() as conn:
                    conn.execute(sqlalchemy.text("SELECT 1"))
                if attempt > 1:
                    LOG.info("database %s is reachable (attempt %d)", mask_url(url), attempt)
                return
            except sqlalchemy.exc.SQLAlchemyError as exc:
                reason = one_line(exc)
                if is_permanent_db_error(exc):
                    raise StartError(
                        f"database {mask_url(url)} refused the login: {reason} (not retried: "
                        "waiting does not fix a wrong DB_USER / DB_PASSWORD / DB_NAME"
                        f"{_newline_hint(url)})"
                    ) from None
                remaining = deadline - time.monotonic()
                if remaining <= 0 or attempt == max_attempts:
                    raise StartError(
                        f"database {mask_url(url)} not reachable after {seconds}s "
                        f"(DB_WAIT_SECONDS): {reason}"
                    ) from None
                LOG.warning(
                    "database %s not reachable yet (attempt %d): %s; retrying",
                    mask_url(url),
                    attempt,
                    reason,
                )
                time.sleep(min(sleep, remaining))
    finally:
        engine.dispose()


PERMANENT_MYSQL_ERRORS = (1044, 1045, 1049, 1698)
"""MySQL/MariaDB errors no wait can fix: access denied (to the database), unknown database."""
PERMANENT_PG_TEXT = (
    "password authentication failed",
    "authentication failed for user",
    "no pg_hba.conf entry",
    "does not exist",
)
"""libpq messages no wait can fix: wrong password, no access rule, unknown role/database."""


def is_permanent_db_error(exc: BaseException) -> bool:
    """True when a connection error is a refused login or unknown database, not an outage."""
    orig = getattr(exc, "orig", None) or exc
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL: (code, message)
        return args[0] in PERMANENT_MYSQL_ERRORS
    text = str(orig).lower()
    return any(fragment in text for fragment in PERMANENT_PG_TEXT)


def _newline_hint(url: URL) -> str:
    """A hint when the password ends with a line ending (a secret read from a file)."""
    password = str(url.password or "")
    return (
        "; DB_PASSWORD ends with a newline: was it read from a file?"
        if password.endswith(("\n", "\r"))
        else ""
    )


class StartError(Exception):
    """A failure while starting (database down, bucket missing): one line, exit 1."""


def one_line(exc: BaseException) -> str:
    """An exception as one short log line (first line of the driver's message)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return f"{type(orig).__name__}: {text[0] if text else ''}"[:300]


@contextlib.contextmanager
def migration_lock(engine: Engine, lock_file_dir: str) -> Iterator[None]:
    """Hold a database-wide lock for the block: only one replica migrates at a time.

    PostgreSQL: pg_advisory_lock; MySQL/MariaDB: GET_LOCK; SQLite (one container only):
    an flock on a file next to the database. Session-level locks: the connection
    holding them stays open for the whole block and dies with the process.
    """
    import sqlalchemy

    dialect = engine.dialect.name
    if dialect == "sqlite":
        import fcntl

        Path(lock_file_dir).mkdir(parents=True, exist_ok=True)
        with open(os.path.join(lock_file_dir, ".mlflow-migrate.lock"), "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    with engine.connect() as conn:
        LOG.info("waiting for the migration lock on %s", dialect)
        if dialect == "postgresql":
            conn.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
        elif dialect in ("mysql", "mariadb"):
            got = conn.execute(
                sqlalchemy.text("SELECT GET_LOCK(:n, :t)"), {"n": LOCK_NAME, "t": 600}
            ).scalar()
            if got != 1:
                raise StartError("could not take the MySQL migration lock within 600 s")
        else:
            raise StartError(f"no migration lock for database dialect {dialect!r}")
        conn.commit()
        try:
            yield
        finally:
            if dialect == "postgresql":
                conn.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            else:
                conn.execute(sqlalchemy.text("SELECT RELEASE_LOCK(:n)"), {"n": LOCK_NAME})
            conn.commit()


def migrate_tracking_schema(engine: Engine) -> str:
    """Create or upgrade MLflow's tracking schema to head (call under migration_lock).

    Same decisions as mlflow.store.db.utils._safe_initialize_tables, but without its
    per-host file lock: an empty database gets the initial tables and all migrations;
    a database behind head is upgraded. Returns what was done, for the log.
    """
    from mlflow.store.db import utils as dbutils

    head = dbutils._get_latest_schema_revision()
    if dbutils._is_empty_database(engine) or not dbutils._all_tables_exist(engine):
        dbutils._initialize_tables(engine)
        return f"created tracking schema at {head}"
    current = dbutils._get_schema_version(engine)
    if current != head:
        dbutils._upgrade_db(engine)
        return f"upgraded tracking schema {current} -> {head}"
    return f"tracking schema already at {head}"


def create_mysql_auth_schema(engine: Engine) -> bool:
    """On an empty MySQL/MariaDB auth database, create MLflow's initial auth tables with
    constraint names unique per schema; True when it did.

    MLflow's initial auth migration (8606fa83a998) names the foreign keys of both permission
    tables `fk_user_id`, which MySQL/MariaDB refuse within one database (errno 121,
    mlflow/mlflow#10964). These are the same three tables, columns and unique constraints,
    with the two foreign keys named per table. MLflow then finds auth tables without its
    version table, stamps them at that initial revision (its own path for pre-3.6 auth
    databases) and applies every later auth migration itself. Call under migration_lock.
    """
    import sqlalchemy as sa

    if {"users", "alembic_version_auth"} & set(sa.inspect(engine).get_table_names()):
        return False
    meta = sa.MetaData()
    sa.Table(
        "users",
        meta,
        sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=True),
        sa.UniqueConstraint("username"),
    )
    for table, key, unique in (
        ("experiment_permissions", "experiment_id", "unique_experiment_user"),
        ("registered_model_permissions", "name", "unique_name_user"),
    ):
        sa.Table(
            table,
            meta,
            sa.Column("id", sa.Integer(), nullable=False, primary_key=True),
            sa.Column(key, sa.String(length=255), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("permission", sa.String(length=255), nullable=True),
            sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=f"fk_{table}_user_id"),
            sa.UniqueConstraint(key, "user_id", name=unique),
        )
    meta.create_all(engine)
    return True


def prepare_auth(plan: Plan, secret_dir: str) -> None:
    """Write the auth config, migrate the auth tables and set the admin's password.

    MLflow only creates the admin when it is missing and ignores the configured password
    afterwards, so a changed AUTH_PASSWORD is applied here, under the migration lock.
    """
    assert plan.auth_database is not None
    ini = auth_ini_text(
        url_to_string(plan.auth_database), plan.auth_username, plan.auth_default_permission
    )
    path = write_private_file(secret_dir, "basic_auth.ini", ini.encode())
    os.environ["MLFLOW_AUTH_CONFIG_PATH"] = path
    plan.env["MLFLOW_AUTH_CONFIG_PATH"] = path
    wait_for_database(plan.auth_database, plan.db_wait_seconds)
    engine = create_engine(plan.auth_database)
    try:
        with migration_lock(engine, plan.data_dir):
            from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore

            if engine.dialect.name in ("mysql", "mariadb") and create_mysql_auth_schema(engine):
                LOG.info("created the initial auth tables with MySQL-safe constraint names")

            store = SqlAlchemyStore()
            store.init_db(url_to_string(plan.auth_database))  # alembic upgrade to head
            try:
                if not store.has_user(plan.auth_username, use_primary=True):
                    store.create_user(plan.auth_username, plan.auth_password, is_admin=True)
                    LOG.info("created admin user %r", plan.auth_username)
                elif not store.authenticate_user(
                    plan.auth_username, plan.auth_password, use_primary=True
                ):
                    store.update_user(
                        plan.auth_username, password=plan.auth_password, is_admin=True
                    )
                    LOG.info("AUTH_PASSWORD changed: updated admin user %r", plan.auth_username)
                else:
                    store.update_user(plan.auth_username, is_admin=True)
            finally:
                store.engine.dispose()
    finally:
        engine.dispose()


def check_bucket(plan: Plan, env: Mapping[str, str]) -> None:
    """For an s3:// artifact URL: create a missing bucket (CREATE_BUCKET) or stop clearly.

    A 403 (the role may not see the bucket) only warns; anything else stops the start.
    """
    bucket = s3_bucket_of(plan.artifact_url)
    if bucket is None:
        return
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    endpoint = env.get("MLFLOW_S3_ENDPOINT_URL", "").strip() or None
    verify = not parse_bool(env, "MLFLOW_S3_IGNORE_TLS", False)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        verify=verify,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3}),
    )
    try:
        client.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in ("403", "AccessDenied", "Forbidden"):
            LOG.warning("cannot check bucket %r (403); assuming it exists", bucket)
            return
        if code not in ("404", "NoSuchBucket", "NotFound"):
            raise StartError(f"cannot check bucket {bucket!r}: {one_line(exc)}") from None
    except BotoCoreError as exc:
        raise StartError(f"cannot reach S3 to check bucket {bucket!r}: {one_line(exc)}") from None
    if not plan.create_bucket:
        raise StartError(
            f"bucket {bucket!r} of ARTIFACT_URL does not exist; create it, or set "
            "CREATE_BUCKET=true (S3-compatible endpoints only)"
        )
    try:
        client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):  # a racing replica
            raise StartError(f"cannot create bucket {bucket!r}: {one_line(exc)}") from None
    LOG.info("created bucket %r (CREATE_BUCKET=true)", bucket)


def prepare(plan: Plan, migrate_only: bool) -> None:
    """All side effects before the server starts (or the whole job in `migrate` mode)."""
    secret_dir = private_dir()
    if not migrate_only:
        check_spool(plan)
    if plan.google_key is not None:
        key_path = write_private_file(secret_dir, "google-credentials.json", plan.google_key)
        os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = key_path
        plan.env["GOOGLE_APPLICATION_CREDENTIALS"] = key_path
        LOG.info("GOOGLE_AUTH_STRING written to %s (0600)", key_path)
    if not plan.artifact_url.startswith(("s3://", "gs://", "wasb", "abfss://", "file://")):
        Path(plan.artifact_url).mkdir(parents=True, exist_ok=True)
    if plan.backend is not None:
        wait_for_database(plan.backend, plan.db_wait_seconds)
        engine = create_engine(plan.backend)
        try:
            with migration_lock(engine, plan.data_dir):
                LOG.info("%s", migrate_tracking_schema(engine))
        finally:
            engine.dispose()
    if plan.auth_enabled:
        prepare_auth(plan, secret_dir)
    if not migrate_only:
        check_bucket(plan, os.environ)


GCS_BOOT_DIR = Path(__file__).resolve().parent / "gcs_boot"
"""Holds the sitecustomize that lets the server sign GCS URLs through IAM (gcs_signing)."""


def check_spool(plan: Plan) -> None:
    """Where proxied uploads are spooled: create SPOOL_DIR, log its free space, and stop the
    start when it cannot hold ARTIFACT_MAX_UPLOAD_MB (MLflow's proxy writes each upload
    whole to a temporary file before sending it on; a full disk gave clients a bare 500)."""
    if plan.artifact_mode == "direct":
        return
    spool = plan.spool_dir or tempfile.gettempdir()
    try:
        Path(spool).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=spool):
            pass
    except OSError as exc:
        raise StartError(f"SPOOL_DIR {spool!r} is not writable: {exc}") from None
    free_mb = shutil.disk_usage(spool).free // (1024 * 1024)
    if plan.max_upload_mb and free_mb < plan.max_upload_mb:
        raise StartError(
            f"SPOOL_DIR {spool!r} has {free_mb} MB free, less than ARTIFACT_MAX_UPLOAD_MB="
            f"{plan.max_upload_mb}: a proxied upload is spooled whole there; give it more "
            "space (a data volume, a larger ephemeral disk) or lower ARTIFACT_MAX_UPLOAD_MB"
        )
    LOG.info(
        "proxied uploads spool in %s: %d MB free (each upload in flight needs its whole size)",
        spool,
        free_mb,
    )
    if plan.spool_dir:
        plan.env["TMPDIR"] = plan.spool_dir


def signs_gcs_urls(plan: Plan) -> bool:
    """True when the artifact root is gs://: the server must sign GCS URLs through IAM."""
    return any(arg.startswith("gs://") for arg in plan.args)


def server_environment(plan: Plan, base: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: the inherited one, plus the plan's, minus spent secrets.

    With a gs:// artifact root, GCS_BOOT_DIR goes first on PYTHONPATH, so that every server
    process (uvicorn workers too) signs proxied multipart-upload URLs through IAM when its
    credentials hold no key (Cloud Run's metadata server).
    """
    env = {k: v for k, v in base.items() if k not in plan.unset}
    env.update(plan.env)
    if signs_gcs_urls(plan):
        paths = [str(GCS_BOOT_DIR), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def main(argv: Sequence[str] | None = None) -> int:
    """Run the entrypoint: `[migrate] [extra mlflow server args...]`. Returns an exit code.

    On success (server mode) it does not return: the process becomes `mlflow server`.
    """
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s mlflow_image: %(message)s",
        stream=sys.stderr,
    )
    args = list(sys.argv[1:] if argv is None else argv)
    migrate_only = bool(args) and args[0] == "migrate"
    if migrate_only:
        args = args[1:]
    env = {**os.environ, **_inherited_secrets()}
    try:
        plan = resolve(env, args)
    except ConfigError as exc:
        print(f"mlflow_image: configuration error: {exc}", file=sys.stderr, flush=True)
        return 2
    if not migrate_only and plan.launcher == PRELOADED:
        _reexec_without_secrets(plan, args)
    LOG.info("plan: %s", plan.describe())
    for line in plan.warnings:
        LOG.warning("%s", line)
    if migrate_only or plan.launcher != PRELOADED:
        return _prepare_and_exec(plan, migrate_only)
    return _prepare_and_serve(plan)


SECRETS_FD = "_MLFLOW_IMAGE_SECRETS_FD"
"""Set only across the entrypoint's re-exec: the fd of a memfd holding its spent secrets."""


def _reexec_without_secrets(plan: Plan, args: Sequence[str]) -> None:
    """Exec this entrypoint again (same pid) with the spent secrets out of its environment.

    The preloaded server is this very process, and a process's initial environment stays
    readable in /proc/<pid>/environ (and is inherited by forked workers) whatever
    os.environ says later. So the secrets travel to the new image of the process in an
    anonymous memory file (never on disk, never in argv), and the environment it starts
    with no longer holds them. Cheap: nothing heavy is imported yet.
    """
    spent = {k: os.environ[k] for k in plan.unset if k in os.environ}
    if not spent:
        return
    fd = os.memfd_create("mlflow-image-secrets", 0)
    os.write(fd, json.dumps(spent).encode())
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    env = {k: v for k, v in os.environ.items() if k not in spent}
    env[SECRETS_FD] = str(fd)
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "mlflow_image", *args], env)


def _inherited_secrets() -> dict[str, str]:
    """The secrets handed over by _reexec_without_secrets ({} on a first start)."""
    raw = os.environ.pop(SECRETS_FD, "")
    if not raw:
        return {}
    fd = int(raw)
    with os.fdopen(fd, "rb") as handle:
        return json.loads(handle.read())


def _prepare_and_serve(plan: Plan) -> int:
    """Migrate, then become the preloaded server (same process: MLflow is imported once).

    The server's environment is in place before anything imports `mlflow.server`, whose
    module reads some of it at import time (the static prefix, for one).
    """
    from mlflow_image import server

    env = server_environment(plan, os.environ)
    os.environ.clear()
    os.environ.update(env)
    os.environ.update(server.private_environment(plan, env.get("MLFLOW_BACKEND_STORE_URI")))
    if signs_gcs_urls(plan):
        # GCS_BOOT_DIR's sitecustomize reaches only new interpreters; the preloaded server's
        # workers are forks of this process, so the signing hook is installed here.
        from mlflow_image import gcs_signing

        gcs_signing.install_on_import()
    try:
        prepare(plan, migrate_only=False)
    except StartError as exc:
        print(f"mlflow_image: start failed: {exc}", file=sys.stderr, flush=True)
        return 1
    if uses_postgresql(plan) and plan.db_read_timeout:
        # libpq has no read timeout: without this a frozen database holds a pooled
        # connection, its request and the worker forever (pg_timeout's docstring). After
        # the migrations: a replica waits on the migration lock longer than that.
        from mlflow_image import pg_timeout

        pg_timeout.install(plan.db_read_timeout)
    if plan.spool_dir:
        # tempfile caches its directory on first use (the entrypoint's secret files stayed
        # in the default one): point this process, and so its forked workers, at the spool.
        os.environ["TMPDIR"] = tempfile.tempdir = plan.spool_dir
    LOG.info("serving: gunicorn arbiter (pid %d), app preloaded", os.getpid())
    server.serve(plan)
    return 0


def uses_postgresql(plan: Plan) -> bool:
    """True when the backend store, its read replica or the auth tables are on PostgreSQL."""
    urls = (plan.backend, plan.read_replica, plan.auth_database)
    return any(u is not None and u.drivername.startswith("postgresql") for u in urls)


def _prepare_and_exec(plan: Plan, migrate_only: bool) -> int:
    """Migrate, then (server mode) exec MLflow's own launcher, `mlflow server`."""
    try:
        prepare(plan, migrate_only)
    except StartError as exc:
        print(f"mlflow_image: start failed: {exc}", file=sys.stderr, flush=True)
        return 1
    if migrate_only:
        LOG.info("migrate: done")
        return 0
    env = server_environment(plan, os.environ)
    command = [sys.executable, "-m", "mlflow", "server", *plan.args]
    LOG.info("exec: %s", shlex.join(command))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(command[0], command, env)
    return 1  # pragma: no cover - execvpe does not return
