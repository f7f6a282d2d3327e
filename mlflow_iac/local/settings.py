"""The plain inputs of the local components, checked once into typed settings.

Resource-free: each component calls its `*_settings(args)` before `super().__init__`,
so a bad input raises one ValueError naming the input, the value and what is allowed,
and nothing is registered. Defaults live here too, next to the checks that guard them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from mlflow_iac.limits import DEFAULT_MAX_UPLOAD_MB, DEFAULT_SHUTDOWN_SECONDS, stop_timeout_seconds
from mlflow_iac.local.engines import ENGINES as ENGINE_SPECS
from mlflow_iac.vocabulary import (
    ARTIFACT_MODE_BY_SCENARIO,
    CPU_CHOICES,
    DATABASE_SCENARIOS,
    ENGINES,
    PERMISSIONS,
    SCENARIOS,
    require_choice,
)

DEFAULT_IMAGE_TAG = "mlflow-server:local"
DEFAULT_BUCKET = "mlflow"
SERVER_DATABASE_SCENARIOS = tuple(s for s in DATABASE_SCENARIOS if s != "local-server")
"""Scenarios with a database container; local-server keeps SQLite inside the server's volume."""

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,62}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_ACCESS_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{3,64}$")


# Single checks, shared by the settings below.


def require_name(value: object, field: str) -> None:
    """Raise ValueError naming `field` unless `value` is a non-empty plain string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field}: must be a non-empty string, got {value!r}")


def require_host_port(value: object, field: str) -> int:
    """`value` if it is a whole number from 1024 to 65535 (an unprivileged host port)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field}: {value!r} is not a port number")
    if not 1024 <= value <= 65535:
        raise ValueError(f"{field}: {value} is not from 1024 to 65535")
    return value


def require_memory_mb(value: object) -> int:
    """`value` if it is a whole number of MB, 512 or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 512:
        raise ValueError(f"memory_mb: {value!r} is not a whole number of 512 or more")
    return value


def require_cpu(value: object) -> float:
    """`value` as a float if it is one of `CPU_CHOICES`."""
    for choice in CPU_CHOICES:
        if value == choice:
            return choice
    raise ValueError(f"cpu: {value!r} is not one of {', '.join(f'{c:g}' for c in CPU_CHOICES)}")


def require_bucket_name(value: object) -> str:
    """`value` if it is an S3 bucket name."""
    if not isinstance(value, str) or not _BUCKET.match(value):
        raise ValueError(f"bucket_name: {value!r} is not 3 to 63 lowercase letters, digits, . or -")
    return value


def require_access_key_id(value: object) -> str:
    """`value` if it is a MinIO access key id (its root user)."""
    if not isinstance(value, str) or not _ACCESS_KEY_ID.match(value):
        raise ValueError(f"access_key_id: {value!r} is not 3 to 64 letters, digits, _ or -")
    return value


# MlflowServer.


@dataclass(frozen=True)
class ServerSettings:
    """The local `MlflowServer`'s plain inputs, checked, with defaults applied."""

    scenario: str
    db_engine: str
    auth_enabled: bool
    admin_username: str
    default_permission: str
    local_port: int
    s3_port: int
    memory_mb: int
    cpu: float
    public_hostnames: tuple[str, ...]
    bucket_name: str
    image_tag: str
    max_upload_mb: int | None = None
    """ARTIFACT_MAX_UPLOAD_MB (None with scenario direct: the server spools nothing)."""

    @property
    def has_database(self) -> bool:
        """A PostgreSQL / MySQL container (scenarios direct and proxied)."""
        return self.scenario in SERVER_DATABASE_SCENARIOS

    @property
    def has_bucket(self) -> bool:
        """A MinIO container (every scenario with an artifact bucket)."""
        return self.scenario in ARTIFACT_MODE_BY_SCENARIO

    @property
    def publishes_s3(self) -> bool:
        """MinIO's S3 API on the host for clients (scenario direct)."""
        return self.scenario == "direct"

    @property
    def workers(self) -> int:
        """Gunicorn workers: two per vCPU, at least one."""
        return max(1, int(self.cpu * 2))

    @property
    def allowed_hosts(self) -> list[str]:
        """The Host header values MLflow accepts: none given keeps MLflow's localhost
        defaults; an explicit list replaces them, so the host port is added to keep working."""
        hosts = list(self.public_hostnames)
        if hosts:
            hosts += [f"localhost:{self.local_port}", f"127.0.0.1:{self.local_port}"]
        return hosts


def server_settings(args: Mapping[str, Any]) -> ServerSettings:
    """Every plain input of `MlflowServerArgs` checked, defaults applied; ValueError names
    the input."""
    scenario = require_choice("scenario", args.get("scenario", "proxied"), SCENARIOS)
    db_engine = require_choice("db_engine", args.get("db_engine", "postgresql"), ENGINES)
    if "db_engine" in args and scenario not in SERVER_DATABASE_SCENARIOS:
        raise ValueError(f"db_engine: scenario {scenario!r} has no database")
    auth_enabled = args.get("auth_enabled", False)
    if not isinstance(auth_enabled, bool):
        raise ValueError(f"auth_enabled: {auth_enabled!r} is not true or false")
    if auth_enabled and scenario == "artifacts-only":
        raise ValueError("auth_enabled: basic-auth needs a tracking server, not 'artifacts-only'")
    admin_username = args.get("admin_username", "admin")
    if not isinstance(admin_username, str) or not _USERNAME.match(admin_username):
        raise ValueError(
            f"admin_username: {admin_username!r} is not 1 to 63 letters, digits or _.@-"
        )
    admin_password = args.get("admin_password")
    if isinstance(admin_password, str) and len(admin_password) < 12:
        raise ValueError("admin_password: shorter than 12 characters")
    default_permission = require_choice(
        "default_permission", args.get("default_permission", "NO_PERMISSIONS"), PERMISSIONS
    )
    local_port = require_host_port(args.get("local_port", 5000), "local_port")
    s3_port = _s3_port(args, scenario, local_port)
    memory_mb = require_memory_mb(args.get("memory_mb", 2048))
    cpu = require_cpu(args.get("cpu", 1.0))
    public_hostnames = tuple(args.get("public_hostnames", ()))
    for host in public_hostnames:
        if not isinstance(host, str) or not _HOST.match(host):
            raise ValueError(f"public_hostnames: {host!r} is not a host name (optionally :port)")
    bucket_name = require_bucket_name(args.get("bucket_name", DEFAULT_BUCKET))
    image_tag = args.get("image_tag", DEFAULT_IMAGE_TAG)
    if not isinstance(image_tag, str) or not image_tag:
        raise ValueError(f"image_tag: {image_tag!r} is not a docker tag")
    max_upload_mb = _max_upload_mb(args, scenario)
    return ServerSettings(
        scenario=scenario,
        db_engine=db_engine,
        auth_enabled=auth_enabled,
        admin_username=admin_username,
        default_permission=default_permission,
        local_port=local_port,
        s3_port=s3_port,
        memory_mb=memory_mb,
        cpu=cpu,
        public_hostnames=public_hostnames,
        bucket_name=bucket_name,
        image_tag=image_tag,
        max_upload_mb=max_upload_mb,
    )


def _max_upload_mb(args: Mapping[str, Any], scenario: str) -> int | None:
    """The largest proxied upload (MB) the spool volume must hold; None with direct."""
    if scenario == "direct":
        if args.get("max_upload_mb") is not None:
            raise ValueError("max_upload_mb: not with scenario 'direct' (nothing is spooled)")
        return None
    value = args.get("max_upload_mb", DEFAULT_MAX_UPLOAD_MB["local"])
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"max_upload_mb: {value!r} is not a positive whole number of MB")
    return value


def _s3_port(args: Mapping[str, Any], scenario: str, local_port: int) -> int:
    """MinIO's host port: only scenario direct publishes it, next to the server's by default."""
    s3_port = args.get("s3_port", local_port + 1)
    if scenario != "direct":
        if "s3_port" in args:
            raise ValueError(f"s3_port: only scenario 'direct' publishes MinIO, not {scenario!r}")
        return s3_port
    if isinstance(s3_port, bool) or not isinstance(s3_port, int):
        raise ValueError(f"s3_port: {s3_port!r} is not a port number")
    if not 1024 <= s3_port <= 65535 or s3_port == local_port:
        raise ValueError(
            f"s3_port: {s3_port} is not from 1024 to 65535 and different from "
            f"local_port ({local_port})"
        )
    return s3_port


# Database.


@dataclass(frozen=True)
class DatabaseSettings:
    """The local `Database`'s plain inputs, checked, with defaults applied."""

    engine: str
    db_name: str
    username: str
    image: str


def database_settings(args: Mapping[str, Any]) -> DatabaseSettings:
    """Every plain input of `DatabaseArgs` checked; ValueError names the input."""
    engine = args.get("engine", "postgresql")
    db_name = args.get("db_name", "mlflow")
    username = args.get("username", "mlflow")
    require_choice("engine", engine, ENGINES)
    if "network_name" not in args:
        raise ValueError("network_name: required (the private network of the database)")
    for field, value in (("db_name", db_name), ("username", username)):
        if not isinstance(value, str) or not _IDENTIFIER.match(value) or value == "root":
            raise ValueError(
                f"{field}: {value!r} is not 1 to 32 lowercase letters, digits or _, "
                "starting with a letter (and not root)"
            )
    image = args.get("image", ENGINE_SPECS[engine].image)
    require_name(image, "image")
    return DatabaseSettings(engine=engine, db_name=db_name, username=username, image=image)


# Bucket.


@dataclass(frozen=True)
class BucketSettings:
    """The local `Bucket`'s plain inputs, checked, with defaults applied."""

    bucket_name: str
    public_port: int | None
    image: str


def bucket_settings(args: Mapping[str, Any], default_image: str) -> BucketSettings:
    """Every plain input of `BucketArgs` checked; ValueError names the input."""
    for required in ("network_name", "access_key_id", "secret_access_key"):
        if required not in args:
            raise ValueError(f"{required}: required")
    bucket_name = require_bucket_name(args.get("bucket_name", DEFAULT_BUCKET))
    public_port = args.get("public_port")
    if public_port is not None:
        require_host_port(public_port, "public_port")
        if "public_network_name" not in args:
            raise ValueError("public_network_name: required with public_port")
    image = args.get("image", default_image)
    require_name(image, "image")
    return BucketSettings(bucket_name=bucket_name, public_port=public_port, image=image)


# Service.


@dataclass(frozen=True)
class ServiceSettings:
    """The local `Service`'s plain inputs, checked, with defaults applied."""

    plain: dict[str, pulumi.Input[str]]
    secrets: dict[str, pulumi.Input[str]]
    networks: list[pulumi.Input[str]]
    local_port: int
    container_port: int
    memory_mb: int
    cpu: float
    data_volume: bool
    image_tag: str
    context: str
    stop_timeout: int
    """Seconds `docker stop` waits before SIGKILL: the environment's SERVER_SHUTDOWN_SECONDS
    plus the margin (`mlflow_iac.limits.stop_timeout_seconds`)."""
    spool_dir: str | None
    """The environment's SPOOL_DIR: a named volume is mounted there."""


def service_settings(args: Mapping[str, Any], default_context: str) -> ServiceSettings:
    """Every plain input of `ServiceArgs` checked; ValueError names the input."""
    if "environment" not in args:
        raise ValueError("environment: required (server_environment(...).plain)")
    plain = dict(args["environment"])
    secrets = dict(args.get("secret_environment", {}))
    for field, env in (("environment", plain), ("secret_environment", secrets)):
        for key in env:
            if not _ENV_NAME.match(key):
                raise ValueError(f"{field}: {key!r} is not an environment variable name")
    clash = sorted(set(plain) & set(secrets))
    if clash:
        raise ValueError(f"secret_environment: {', '.join(clash)} also in environment")
    networks = list(args.get("network_names", []))
    if not networks:
        raise ValueError("network_names: at least one network is required")
    local_port = args.get("local_port", 5000)
    container_port = args.get("container_port", 5000)
    for field, port in (("local_port", local_port), ("container_port", container_port)):
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"{field}: {port!r} is not a port from 1 to 65535")
    if isinstance(plain.get("PORT"), str) and plain["PORT"] != str(container_port):
        raise ValueError(
            f"container_port: {container_port} differs from the environment's PORT {plain['PORT']}"
        )
    memory_mb = require_memory_mb(args.get("memory_mb", 2048))
    cpu = require_cpu(args.get("cpu", 1.0))
    image_tag = args.get("image_tag", DEFAULT_IMAGE_TAG)
    require_name(image_tag, "image_tag")
    context = args.get("context", default_context)
    require_name(context, "context")
    shutdown = plain.get("SERVER_SHUTDOWN_SECONDS", str(DEFAULT_SHUTDOWN_SECONDS))
    if not isinstance(shutdown, str) or not shutdown.isdigit():
        raise ValueError(
            f"environment: SERVER_SHUTDOWN_SECONDS {shutdown!r} is not a plain whole number "
            "(the container's stop timeout is derived from it)"
        )
    spool_dir = plain.get("SPOOL_DIR")
    if spool_dir is not None and (not isinstance(spool_dir, str) or not spool_dir.startswith("/")):
        raise ValueError(f"environment: SPOOL_DIR {spool_dir!r} is not a plain absolute path")
    return ServiceSettings(
        plain=plain,
        secrets=secrets,
        networks=networks,
        local_port=local_port,
        container_port=container_port,
        memory_mb=memory_mb,
        cpu=cpu,
        data_volume=bool(args.get("data_volume", False)),
        image_tag=image_tag,
        context=context,
        stop_timeout=stop_timeout_seconds(int(shutdown)),
        spool_dir=spool_dir,
    )
