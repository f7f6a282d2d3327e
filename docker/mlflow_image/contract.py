"""The mlflow-server image's environment contract: every variable it reads.

This module is the single source of truth for the contract. The entrypoint
reads exactly these names, the README's contract table is checked against
them, and the Pulumi components' container environments are tested against
them (tests import this module rather than copying the names).

`mlflow server`'s own variables are listed too (MLFLOW_SERVER_VARIABLES): each is
honoured on the contract or refused at start, never silently overridden. Other `MLFLOW_*`
variables MLflow reads pass straight through (its booleans are checked at start).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of the image's contract."""

    name: str
    description: str
    default: str = ""
    secret: bool = False
    """True when the value is a credential: it must reach the container through
    the platform's secret mechanism, never as a plain environment value."""


ENGINES = ("postgresql", "mysql")
"""Values allowed for DB_ENGINE."""

ARTIFACT_MODES = ("proxied", "direct", "artifacts-only")
"""Values allowed for ARTIFACT_MODE: MLflow scenarios 5, 4 and 6."""

AUTH_PERMISSIONS = ("READ", "EDIT", "MANAGE", "NO_PERMISSIONS")
"""Values allowed for AUTH_DEFAULT_PERMISSION."""

CONTRACT: tuple[EnvVar, ...] = (
    # Backend store
    EnvVar(
        "DATABASE_URI",
        "Full SQLAlchemy URI of the backend store (seed 001). Set one of DATABASE_URI, "
        "MLFLOW_BACKEND_STORE_URI or the DB_* parts: two of them (TLS settings that would be "
        "ignored, say) are refused. None of them: SQLite in DATA_DIR.",
        secret=True,
    ),
    EnvVar(
        "DB_ENGINE",
        "Backend engine when assembling the URI from parts: " + " | ".join(ENGINES) + ".",
        "postgresql",
    ),
    EnvVar(
        "DB_HOST",
        "Database host name or IP address (no port: DB_PORT), or an absolute path for a "
        "unix socket: the "
        "socket directory for PostgreSQL (Cloud SQL: /cloudsql/PROJECT:REGION:INSTANCE), "
        "the socket file for MySQL.",
    ),
    EnvVar("DB_PORT", "Database port.", "5432 (postgresql) / 3306 (mysql)"),
    EnvVar("DB_NAME", "Database name.", "mlflow"),
    EnvVar("DB_USER", "Database user.", "mlflow"),
    EnvVar(
        "DB_PASSWORD", "Database password; any character survives (it is URL-encoded).", secret=True
    ),
    EnvVar(
        "DB_SSLMODE",
        "TLS to the database: disable | allow | prefer | require | verify-ca "
        "| verify-full (libpq's names; for MySQL prefer/allow/disable mean no TLS).",
        "prefer",
    ),
    EnvVar("DB_SSLROOTCERT", "Path of the CA bundle used with verify-ca / verify-full."),
    EnvVar(
        "DB_WAIT_SECONDS",
        "How long to wait for the database at start, with logged "
        "retries every 2 s; then the start fails.",
        "60",
    ),
    EnvVar(
        "DB_READ_TIMEOUT_SECONDS",
        "Longest a database may stay silent within one call (0..3600; 0: none); then the "
        "connection is dropped with one log line and the request fails instead of hanging on "
        "a frozen database, which TCP keepalives never notice. PostgreSQL: a psycopg2 wait "
        "callback (libpq has no read timeout); MySQL: PyMySQL's read_timeout/write_timeout (a "
        "value in DATABASE_URI wins). Raise it for searches slower than that on very large "
        "tables.",
        "30",
    ),
    EnvVar(
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE",
        "Connections MLflow keeps open per worker process and store engine (PostgreSQL/MySQL "
        "only; 1..1000). Every engine gets this pool: tracking, model registry, jobs (from "
        "its first request) and, with basic-auth on the same database, auth, so connections "
        "per server = workers x 4 x (pool + overflow). Unset on SQLite: MLflow's own "
        "(SQLAlchemy 5).",
        "10",
    ),
    EnvVar(
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW",
        "Extra connections per worker process and store engine beyond the pool under load, "
        "closed when returned (PostgreSQL/MySQL only; 1..1000). Connections per server = "
        "workers x engines (4 with basic-auth, else 3) x (pool + overflow): size it against "
        "the database's max_connections divided by the replicas. Unset on SQLite: MLflow's "
        "own (SQLAlchemy 10).",
        "20",
    ),
    EnvVar(
        "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE",
        "Seconds after which a pooled connection is replaced before use (PostgreSQL/MySQL "
        "only; 0: never). MLflow always pings a connection before handing it out.",
        "1800",
    ),
    # Artifacts
    EnvVar(
        "ARTIFACT_URL",
        "Artifact store URI: s3://, gs://, wasbs://, or a path (seed 001). "
        "Unset: DATA_DIR/artifacts.",
    ),
    EnvVar(
        "ARTIFACT_MODE",
        "How clients reach artifacts: "
        + " | ".join(ARTIFACT_MODES)
        + " (scenarios 5, 4, 6). direct needs ARTIFACT_URL; artifacts-only forbids a "
        "database.",
        "proxied",
    ),
    EnvVar(
        "CREATE_BUCKET",
        "true: create a missing bucket on an S3-compatible endpoint "
        "(needs an s3:// ARTIFACT_URL and MLFLOW_S3_ENDPOINT_URL; local development). "
        "Any s3:// bucket is checked at start: a missing one stops the start with a "
        "clear error unless this is true.",
        "false",
    ),
    EnvVar(
        "GOOGLE_AUTH_STRING",
        "Base64 of a GCP service-account JSON file (seed 004); "
        "written to a private file and exported as GOOGLE_APPLICATION_CREDENTIALS.",
        secret=True,
    ),
    # Auth
    EnvVar(
        "AUTH_ENABLED",
        "true: run MLflow's basic-auth app. Any other AUTH_* set without it is refused: "
        "credentials never start a server without auth.",
        "false",
    ),
    EnvVar(
        "AUTH_USERNAME",
        "Admin user name when auth is enabled; ASCII only (MLflow decodes Basic credentials "
        "as ASCII on its FastAPI routes).",
        "admin",
    ),
    EnvVar(
        "AUTH_PASSWORD",
        "Admin password (12+ ASCII characters) when auth is enabled; "
        "a changed value on a later start changes the admin's password. A trailing newline "
        "(a secret created from a file) is stripped.",
        secret=True,
    ),
    EnvVar(
        "AUTH_DATABASE_URL",
        "SQLAlchemy URI of the auth tables' database (required for auth with "
        "artifacts-only): PostgreSQL, MySQL/MariaDB (the image creates MLflow's initial auth "
        "tables with unique constraint names, mlflow/mlflow#10964), or SQLite for one replica.",
        "the backend store",
        secret=True,
    ),
    EnvVar(
        "AUTH_DEFAULT_PERMISSION",
        "Permission of a user on experiments it was not granted: "
        + " | ".join(AUTH_PERMISSIONS)
        + ".",
        "NO_PERMISSIONS",
    ),
    EnvVar(
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
        "Flask session/CSRF key; required with auth. Every replica must get the same value.",
        secret=True,
    ),
    # Server
    EnvVar(
        "PUBLIC_HOSTNAMES",
        "Comma-separated host names clients use (load balancer, domain). "
        "Each is allowed with and without :80 / :443 in MLflow's Host check, plus localhost "
        "and 127.0.0.1 with and without PORT. Unset: MLflow's default list (localhost and "
        "private IPs only), so requests through a public name get 403: every cloud stack "
        "must set it. Ignored when MLFLOW_SERVER_ALLOWED_HOSTS is set.",
    ),
    EnvVar(
        "CORS_ALLOWED_ORIGINS",
        "Comma-separated origins allowed by MLflow's CORS check. "
        "Unset: https:// and http:// of each PUBLIC_HOSTNAMES name (the UI's own POSTs carry "
        "an Origin header). Ignored when MLFLOW_SERVER_CORS_ALLOWED_ORIGINS is set.",
    ),
    EnvVar("PORT", "Port the server listens on (Cloud Run sets it).", "5000"),
    EnvVar("HOST", "Address the server binds.", "0.0.0.0"),
    EnvVar(
        "SERVER_WORKERS",
        "uvicorn worker processes, forked from one preloaded process (see the README's "
        "Performance table for memory; a common choice is 2 per vCPU).",
        "2",
    ),
    EnvVar(
        "SERVER_KEEP_ALIVE_SECONDS",
        "HTTP keep-alive; longer than any load balancer's idle timeout in front of the server.",
        "650",
    ),
    EnvVar(
        "SERVER_SHUTDOWN_SECONDS",
        "On SIGTERM, how long requests in flight may finish before the server closes them and "
        "exits (2..3600). A few seconds under the shortest platform grace period (Cloud Run "
        "and docker stop: 10 s), so the server exits cleanly before a SIGKILL; every stack's "
        "stop timeout must be above it. A slower upload is cut (the client retries).",
        "8",
    ),
    EnvVar(
        "SPOOL_DIR",
        "Where proxied uploads are spooled (the server's TMPDIR): MLflow's proxy writes each "
        "upload whole to a temporary file before sending it to the store, so free space here "
        "must hold concurrent uploads x the largest artifact. Point it at a data volume or an "
        "ephemeral disk, not a memory-backed /tmp. Created and checked writable at start; "
        "its free space is logged.",
        "TMPDIR or /tmp",
    ),
    EnvVar(
        "ARTIFACT_MAX_UPLOAD_MB",
        "Largest proxied upload the server must accept, in MB: the start stops with one line "
        "when SPOOL_DIR has less free space (0: no check).",
        "0",
    ),
    EnvVar(
        "DATA_DIR",
        "Where scenario 3 keeps its SQLite file (DATA_DIR/mlflow.db) and "
        "artifacts (DATA_DIR/artifacts); a volume in the container.",
        "/data",
    ),
    EnvVar(
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION",
        "MLflow's job runner; off by default (it costs about 2 GB per server).",
        "false",
    ),
)

MLFLOW_SERVER_VARIABLES: tuple[EnvVar, ...] = (
    EnvVar(
        "MLFLOW_BACKEND_STORE_URI",
        "Honoured: the backend store (refused next to DATABASE_URI or DB_HOST: set one).",
        secret=True,
    ),
    EnvVar(
        "MLFLOW_READ_REPLICA_BACKEND_STORE_URI",
        "Honoured: read-only replica of the backend store, as `mlflow server` uses it (driver pinned like DATABASE_URI; refused with artifacts-only).",
        secret=True,
    ),
    EnvVar(
        "MLFLOW_REGISTRY_STORE_URI",
        "Refused: the model registry lives in the backend store, migrated under the image's lock; use DATABASE_URI / DB_*.",
        secret=True,
    ),
    EnvVar(
        "MLFLOW_DEFAULT_ARTIFACT_ROOT",
        "Honoured as ARTIFACT_URL with ARTIFACT_MODE=direct (what `mlflow server` does with it: clients write there themselves); refused when ARTIFACT_URL or ARTIFACT_MODE disagree.",
    ),
    EnvVar(
        "MLFLOW_SERVE_ARTIFACTS",
        "Honoured as ARTIFACT_MODE: false = direct, true = proxied (or artifacts-only); refused when ARTIFACT_MODE disagrees.",
    ),
    EnvVar(
        "MLFLOW_ARTIFACTS_ONLY",
        "Honoured as ARTIFACT_MODE: true = artifacts-only; refused when ARTIFACT_MODE disagrees or a database is set.",
    ),
    EnvVar(
        "MLFLOW_ARTIFACTS_DESTINATION",
        "Honoured as ARTIFACT_URL in proxied / artifacts-only mode; refused with direct mode or when ARTIFACT_URL disagrees.",
    ),
    EnvVar(
        "MLFLOW_HOST",
        "Honoured as HOST; refused when HOST disagrees.",
    ),
    EnvVar(
        "MLFLOW_PORT",
        "Honoured as PORT; refused when PORT disagrees (the image sets PORT=5000).",
    ),
    EnvVar(
        "MLFLOW_WORKERS",
        "Honoured as SERVER_WORKERS; refused when SERVER_WORKERS disagrees.",
    ),
    EnvVar(
        "MLFLOW_STATIC_PREFIX",
        "Honoured: URL prefix of the UI and API, checked as MLflow checks it (starts with /, no trailing /, no braces).",
    ),
    EnvVar(
        "MLFLOW_SERVER_ALLOWED_HOSTS",
        "Honoured: replaces the list PUBLIC_HOSTNAMES would give.",
    ),
    EnvVar(
        "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS",
        "Honoured: replaces the origins PUBLIC_HOSTNAMES would give; refused when CORS_ALLOWED_ORIGINS disagrees.",
    ),
    EnvVar(
        "MLFLOW_SERVER_DISABLE_SECURITY_MIDDLEWARE",
        "Honoured (true/false; true logs a warning).",
    ),
    EnvVar(
        "MLFLOW_SERVER_X_FRAME_OPTIONS",
        "Honoured: SAMEORIGIN | DENY | NONE.",
    ),
    EnvVar(
        "MLFLOW_GUNICORN_OPTS",
        "Honoured by MLflow's own launcher (`mlflow server`: gunicorn with the Flask app, not preloaded).",
    ),
    EnvVar(
        "MLFLOW_UVICORN_OPTS",
        "Honoured by MLflow's own launcher (`mlflow server`, not preloaded); SERVER_KEEP_ALIVE_SECONDS is appended unless it sets --timeout-keep-alive.",
    ),
    EnvVar(
        "MLFLOW_EXPOSE_PROMETHEUS",
        "Honoured by MLflow's own launcher (`mlflow server`, not preloaded): its multiprocess metrics directory.",
    ),
    EnvVar(
        "MLFLOW_TRACE_ARCHIVAL_CONFIG",
        "Honoured by MLflow's own launcher (`mlflow server`, not preloaded), which checks the file.",
    ),
    EnvVar(
        "MLFLOW_WORKSPACE_STORE_URI",
        "Refused: workspaces are not supported by the image (its migrations and basic-auth set-up are for one workspace).",
        secret=True,
    ),
    EnvVar(
        "MLFLOW_ENABLE_WORKSPACES",
        "True refused (workspaces are not supported by the image); false accepted.",
    ),
)
"""`mlflow server`'s own variables (click `envvar=` of its options, plus
MLFLOW_ENABLE_WORKSPACES): what the image does with each. Never silently overridden."""

CONTRACT = CONTRACT + MLFLOW_SERVER_VARIABLES

SECRET_NAMES: frozenset[str] = frozenset(v.name for v in CONTRACT if v.secret)
"""Variables that must only ever arrive as platform secrets."""

NAMES: frozenset[str] = frozenset(v.name for v in CONTRACT)


def is_contract_variable(name: str) -> bool:
    """True when the image reads `name`: a contract variable or an MLflow/cloud SDK pass-through."""
    return name in NAMES or name.startswith(("MLFLOW_", "AWS_", "AZURE_", "GOOGLE_"))
