"""The mlflow-server container's environment, built from the image's contract for one scenario.

Cloud-agnostic and resource-free: every cloud's `Service` calls
`server_environment` and maps the result onto its platform: `plain` becomes the
container's ordinary environment, `secrets` goes through the platform's secret
mechanism (ECS `secrets`, Cloud Run secret env, Container Apps secret refs).
The variable names are those of `docker/mlflow_image/contract.py`; the tests
hold both sides to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

import pulumi

from mlflow_iac.limits import DEFAULT_SHUTDOWN_SECONDS
from mlflow_iac.vocabulary import (
    ARTIFACT_MODE_BY_SCENARIO,
    ENGINES,
    PERMISSIONS,
    SCENARIOS,
    SSL_MODES,
)

DEFAULT_PORT = 5000
DEFAULT_KEEP_ALIVE_SECONDS = 650
"""Longer than every load balancer's idle timeout we put in front (ALB 300 s here, max 4000 s is
configurable; Cloud Run and Container Apps keep connections up to 600 s)."""


@dataclass(frozen=True)
class DatabaseEndpoint:
    """Where the backend database is and how to log in; the password stays an Output secret."""

    engine: str
    host: pulumi.Input[str]
    port: pulumi.Input[int]
    name: pulumi.Input[str]
    username: pulumi.Input[str]
    password: pulumi.Input[str]
    sslmode: str = "require"


@dataclass(frozen=True)
class ServerEnvironment:
    """A container environment split by how each value must travel."""

    plain: dict[str, pulumi.Input[str]]
    """Ordinary environment variables: no credential among them."""
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Variable name -> secret value, for the platform's secret mechanism only."""

    @property
    def names(self) -> list[str]:
        """Every variable the container gets, sorted."""
        return sorted({*self.plain, *self.secrets})


def server_environment(
    *,
    scenario: str,
    artifact_url: pulumi.Input[str] | None = None,
    database: DatabaseEndpoint | None = None,
    auth_enabled: bool = False,
    admin_username: str = "admin",
    admin_password: pulumi.Input[str] | None = None,
    flask_secret_key: pulumi.Input[str] | None = None,
    default_permission: str = "NO_PERMISSIONS",
    public_hostnames: Sequence[pulumi.Input[str]] = (),
    port: int = DEFAULT_PORT,
    keep_alive_seconds: int = DEFAULT_KEEP_ALIVE_SECONDS,
    workers: int | None = None,
    shutdown_seconds: int = DEFAULT_SHUTDOWN_SECONDS,
    spool_dir: str | None = None,
    max_upload_mb: int | None = None,
    create_bucket: bool = False,
    extra_plain: Mapping[str, pulumi.Input[str]] | None = None,
    extra_secrets: Mapping[str, pulumi.Input[str]] | None = None,
    auth_database: DatabaseEndpoint | None = None,
) -> ServerEnvironment:
    """Build the image's environment for `scenario`, validating the combination first.

    Raises ValueError naming the argument when the inputs contradict the scenario
    (a database for artifacts-only, no bucket for direct, auth without a password...).
    `extra_plain` / `extra_secrets` carry cloud specifics (MLFLOW_S3_ENDPOINT_URL,
    AWS_SECRET_ACCESS_KEY, GOOGLE_AUTH_STRING, ...). `auth_database` (artifacts-only with
    auth, which has no backend store to share) holds the basic-auth tables: it reaches the
    image as the secret AUTH_DATABASE_URL (`database_url`).

    `shutdown_seconds` is always set (SERVER_SHUTDOWN_SECONDS): the platform's stop timeout
    is derived from the same number (`mlflow_iac.limits`). `spool_dir` / `max_upload_mb`
    (SPOOL_DIR, ARTIFACT_MAX_UPLOAD_MB) place and guard the proxied uploads' spool; they
    are for scenarios whose server proxies artifacts (not direct).
    """
    _validate(
        scenario=scenario,
        artifact_url=artifact_url,
        database=database,
        auth_enabled=auth_enabled,
        admin_password=admin_password,
        flask_secret_key=flask_secret_key,
        default_permission=default_permission,
        port=port,
        keep_alive_seconds=keep_alive_seconds,
        workers=workers,
        auth_database=auth_database,
        shutdown_seconds=shutdown_seconds,
        spool_dir=spool_dir,
        max_upload_mb=max_upload_mb,
    )
    plain: dict[str, pulumi.Input[str]] = {
        "PORT": str(port),
        "SERVER_KEEP_ALIVE_SECONDS": str(keep_alive_seconds),
        "SERVER_SHUTDOWN_SECONDS": str(shutdown_seconds),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    if spool_dir is not None:
        plain["SPOOL_DIR"] = spool_dir
    if max_upload_mb is not None:
        plain["ARTIFACT_MAX_UPLOAD_MB"] = str(max_upload_mb)
    secrets: dict[str, pulumi.Input[str]] = {}
    if workers is not None:
        plain["SERVER_WORKERS"] = str(workers)
    if scenario != "local-server":
        assert artifact_url is not None  # checked by _validate
        plain["ARTIFACT_URL"] = artifact_url
        plain["ARTIFACT_MODE"] = ARTIFACT_MODE_BY_SCENARIO[scenario]
        plain["CREATE_BUCKET"] = "true" if create_bucket else "false"
    if database is not None:
        plain.update(
            DB_ENGINE=database.engine,
            DB_HOST=database.host,
            DB_PORT=pulumi.Output.from_input(database.port).apply(str),
            DB_NAME=database.name,
            DB_USER=database.username,
            DB_SSLMODE=database.sslmode,
        )
        secrets["DB_PASSWORD"] = pulumi.Output.secret(database.password)
    if auth_enabled:
        assert admin_password is not None and flask_secret_key is not None  # checked by _validate
        plain.update(
            AUTH_ENABLED="true",
            AUTH_USERNAME=admin_username,
            AUTH_DEFAULT_PERMISSION=default_permission,
        )
        secrets["AUTH_PASSWORD"] = pulumi.Output.secret(admin_password)
        secrets["MLFLOW_FLASK_SERVER_SECRET_KEY"] = pulumi.Output.secret(flask_secret_key)
    if auth_database is not None:
        secrets["AUTH_DATABASE_URL"] = database_url(auth_database)
    if public_hostnames:
        plain["PUBLIC_HOSTNAMES"] = pulumi.Output.all(*public_hostnames).apply(
            lambda names: ",".join(dict.fromkeys(n for n in names if n))
        )
    for name, value in (extra_plain or {}).items():
        _no_clash(name, plain, secrets)
        plain[name] = value
    for name, value in (extra_secrets or {}).items():
        _no_clash(name, plain, secrets)
        secrets[name] = pulumi.Output.secret(value)
    return ServerEnvironment(plain=plain, secrets=secrets)


def _no_clash(name: str, plain: Mapping[str, object], secrets: Mapping[str, object]) -> None:
    if name in plain or name in secrets:
        raise ValueError(f"extra variable {name!r} is already set by server_environment")


def _validate(
    *,
    scenario: str,
    artifact_url: object,
    database: DatabaseEndpoint | None,
    auth_enabled: bool,
    admin_password: object,
    flask_secret_key: object,
    default_permission: str,
    port: int,
    keep_alive_seconds: int,
    workers: int | None,
    auth_database: DatabaseEndpoint | None,
    shutdown_seconds: int,
    spool_dir: str | None,
    max_upload_mb: int | None,
) -> None:
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}")
    if scenario == "local-server":
        if artifact_url is not None:
            raise ValueError(
                "artifact_url: must be None for scenario 'local-server' "
                "(artifacts live in the server's data directory)"
            )
    elif artifact_url is None:
        raise ValueError(f"artifact_url: required for scenario {scenario!r}")
    wants_db = scenario in ("direct", "proxied")
    if database is not None and not wants_db:
        raise ValueError(f"database: must be None for scenario {scenario!r}")
    if database is None and wants_db:
        raise ValueError(f"database: required for scenario {scenario!r}")
    if database is not None:
        if database.engine not in ENGINES:
            raise ValueError(
                f"database.engine: {database.engine!r} is not one of {', '.join(ENGINES)}"
            )
        if database.sslmode not in SSL_MODES:
            raise ValueError(
                f"database.sslmode: {database.sslmode!r} is not one of {', '.join(SSL_MODES)}"
            )
    if auth_database is not None and (not auth_enabled or scenario != "artifacts-only"):
        raise ValueError(
            "auth_database: only with auth_enabled and scenario 'artifacts-only' (the other "
            "scenarios keep the auth tables in the backend store)"
        )
    if auth_database is not None and auth_database.engine != "postgresql":
        raise ValueError(
            f"auth_database.engine: {auth_database.engine!r}; allowed: postgresql (MLflow's "
            "auth migrations fail on MySQL, mlflow/mlflow#9642)"
        )
    if auth_enabled:
        if scenario == "artifacts-only" and auth_database is None:
            raise ValueError(
                "auth_database: required for auth_enabled with 'artifacts-only' "
                "(no backend store holds the auth tables)"
            )
        if admin_password is None:
            raise ValueError("admin_password: required when auth_enabled")
        if flask_secret_key is None:
            raise ValueError(
                "flask_secret_key: required when auth_enabled (every replica must share it)"
            )
    if default_permission not in PERMISSIONS:
        raise ValueError(
            f"default_permission: {default_permission!r} is not one of {', '.join(PERMISSIONS)}"
        )
    if not 1 <= port <= 65535:
        raise ValueError(f"port: {port} is not from 1 to 65535")
    if keep_alive_seconds < 1:
        raise ValueError(f"keep_alive_seconds: {keep_alive_seconds} must be positive")
    if workers is not None and not 1 <= workers <= 64:
        raise ValueError(f"workers: {workers} is not from 1 to 64")
    if not 2 <= shutdown_seconds <= 3600:
        raise ValueError(f"shutdown_seconds: {shutdown_seconds} is not from 2 to 3600")
    if spool_dir is not None and not spool_dir.startswith("/"):
        raise ValueError(f"spool_dir: {spool_dir!r} is not an absolute path")
    if (spool_dir is not None or max_upload_mb is not None) and scenario == "direct":
        raise ValueError(
            "spool_dir, max_upload_mb: not with scenario 'direct' (clients write to the "
            "bucket themselves; the server spools nothing)"
        )
    if max_upload_mb is not None and max_upload_mb < 1:
        raise ValueError(f"max_upload_mb: {max_upload_mb} must be positive")


def database_url(endpoint: DatabaseEndpoint) -> pulumi.Output[str]:
    """The SQLAlchemy URI of a PostgreSQL `endpoint` with its sslmode (secret: it holds the
    password, percent-encoded so that any character survives; the image decodes it)."""
    if endpoint.engine != "postgresql":
        raise ValueError(f"endpoint.engine: {endpoint.engine!r}; allowed: postgresql")
    scheme = "postgresql"
    url = pulumi.Output.all(
        endpoint.username, endpoint.password, endpoint.host, endpoint.port, endpoint.name
    ).apply(
        lambda v: (
            f"{scheme}://{quote(str(v[0]), safe='')}:{quote(str(v[1]), safe='')}"
            f"@{v[2]}:{v[3]}/{quote(str(v[4]), safe='')}?sslmode={endpoint.sslmode}"
        )
    )
    return pulumi.Output.secret(url)


def container_env_list(plain: Mapping[str, str]) -> list[str]:
    """`NAME=value` strings, sorted by name, for platforms that take a list (Docker)."""
    return [f"{name}={plain[name]}" for name in sorted(plain)]
