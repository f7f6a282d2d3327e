"""`MlflowServer`: the local stack's composite, wiring Database, Credentials, Bucket and
Service on private Docker networks for one MLflow scenario.

| scenario | database | MinIO | server |
|---|---|---|---|
| local-server (3) | - (SQLite in the /data volume) | - | 127.0.0.1:localPort |
| direct (4) | PostgreSQL / MySQL | private, S3 API also on 127.0.0.1:s3Port for clients | 127.0.0.1:localPort |
| proxied (5) | PostgreSQL / MySQL | private | 127.0.0.1:localPort |
| artifacts-only (6) | - | private | 127.0.0.1:localPort |
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.environment import (
    DatabaseEndpoint,
    ServerEnvironment,
    server_environment,
)
from components.local._docker import network_labels
from components.local.bucket import Bucket
from components.local.credentials import Credentials
from components.local.database import IMAGES as DB_IMAGES
from components.local.database import PASSWORD_SPECIALS, Database
from components.local.service import CPU_CHOICES, Service
from components.vocabulary import PERMISSIONS
from components.vocabulary import SCENARIOS as ALL_SCENARIOS

SCENARIOS = tuple(ALL_SCENARIOS)
CONTAINER_PORT = 5000
LOCAL_SERVER_ARTIFACTS = "/data/artifacts"
"""Where scenario local-server keeps artifacts: the server's /data volume."""

_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,62}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")


class MlflowServerArgs(TypedDict, total=False):
    """Inputs of the local `MlflowServer`. Every field decides which resources exist or is a
    plain setting, so all are plain values except `admin_password`."""

    scenario: str
    """`local-server` (3), `direct` (4), `proxied` (5, default) or `artifacts-only` (6)."""
    db_engine: str
    """`postgresql` (default) or `mysql`; used by `direct` and `proxied` only."""
    auth_enabled: bool
    """Run MLflow's basic-auth app (not with `artifacts-only`); default False."""
    admin_username: str
    """The basic-auth admin; default `admin`."""
    admin_password: pulumi.Input[str] | None
    """The basic-auth admin password (12+ characters); None generates one."""
    default_permission: str
    """READ, EDIT, MANAGE or NO_PERMISSIONS (default)."""
    local_port: int
    """Host port of the server, on 127.0.0.1; default 5000."""
    s3_port: int
    """Scenario `direct`: host port of MinIO's S3 API for clients; default local_port + 1."""
    memory_mb: int
    """Memory limit of the server container in MB; default 2048."""
    cpu: float
    """CPU limit of the server container: 0.25, 0.5, 1 (default), 2 or 4."""
    public_hostnames: Sequence[str]
    """Extra Host header values MLflow accepts (a domain, an alias); localhost always works."""
    bucket_name: str
    """The artifact bucket in MinIO; default `mlflow`."""
    protect: bool
    """Protect the database and object-store volumes from `pulumi destroy`."""
    image_tag: str
    """Local tag of the built mlflow-server image; default `mlflow-server:local`."""
    labels: Mapping[str, str]
    """Docker labels on every container, volume and network (the stack's tags)."""


class MlflowServer(pulumi.ComponentResource):
    """An MLflow tracking server on the local Docker engine, for one scenario.

    Children: `network` (docker.Network, bridge, the server's published port) and, with a
    database or bucket, `private_network` (docker.Network, internal: no egress, no ports);
    `database` (Database, scenarios 4 and 5); `credentials` (Credentials) and `bucket`
    (Bucket, scenarios 4 to 6); `admin_password_resource` and `flask_secret_key`
    (random.RandomPassword, with auth); `service` (Service).
    """

    url: pulumi.Output[str]
    """The tracking URI: `http://127.0.0.1:<local_port>`."""
    artifact_location: pulumi.Output[str]
    """Where artifacts are stored: `s3://<bucket>` in MinIO, or /data/artifacts in the
    server's volume (local-server)."""
    s3_endpoint: pulumi.Output[str] | None
    """Scenario `direct`: MinIO's S3 API on the host, for clients."""
    access_key_id: pulumi.Output[str] | None
    """The MinIO access key id (server's and, in `direct`, clients')."""
    secret_access_key: pulumi.Output[str] | None
    """The MinIO secret key (secret)."""
    admin_username: pulumi.Output[str] | None
    """The basic-auth admin, with auth."""
    admin_password: pulumi.Output[str] | None
    """The basic-auth admin password (secret), with auth."""
    environment: ServerEnvironment
    """The server container's environment as built from the image contract."""

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        v = _validated(args)
        scenario: str = v["scenario"]
        labels = args.get("labels", {})
        protect = args.get("protect", False)
        super().__init__("mlflow-local:index:MlflowServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        has_db = scenario in ("direct", "proxied")
        has_bucket = scenario != "local-server"

        # The server's own network: a bridge, so its port can be published on 127.0.0.1.
        self.network = docker.Network(f"{name}-network", labels=network_labels(labels), opts=child)
        networks: list[pulumi.Input[str]] = [self.network.name]
        self.private_network: docker.Network | None = None
        if has_db or has_bucket:
            # Database and MinIO: internal network, unreachable from the host and the internet.
            self.private_network = docker.Network(
                f"{name}-private",
                internal=True,
                labels=network_labels(labels),
                opts=child,
            )
            networks.append(self.private_network.name)

        self.database: Database | None = None
        endpoint: DatabaseEndpoint | None = None
        if has_db:
            assert self.private_network is not None
            self.database = Database(
                f"{name}-database",
                {
                    "engine": v["db_engine"],
                    "network_name": self.private_network.name,
                    "protect": protect,
                    "labels": labels,
                },
                opts=child,
            )
            endpoint = DatabaseEndpoint(
                engine=v["db_engine"],
                host=self.database.host,
                port=self.database.port,
                name=self.database.name,
                username=self.database.username,
                password=self.database.password,
                sslmode="disable",  # a private Docker network; the images have no certificates
            )

        self.credentials: Credentials | None = None
        self.bucket: Bucket | None = None
        extra_plain: dict[str, pulumi.Input[str]] = {}
        extra_secrets: dict[str, pulumi.Input[str]] = {}
        if has_bucket:
            assert self.private_network is not None
            self.credentials = Credentials(f"{name}-credentials", {}, opts=child)
            direct = scenario == "direct"
            self.bucket = Bucket(
                f"{name}-bucket",
                {
                    "network_name": self.private_network.name,
                    "access_key_id": self.credentials.access_key_id,
                    "secret_access_key": self.credentials.secret_access_key,
                    "bucket_name": v["bucket_name"],
                    "public_port": v["s3_port"] if direct else None,
                    "public_network_name": self.network.name,
                    "protect": protect,
                    "labels": labels,
                },
                opts=child,
            )
            extra_plain = {
                "MLFLOW_S3_ENDPOINT_URL": self.bucket.endpoint,
                "AWS_ACCESS_KEY_ID": self.credentials.access_key_id,
            }
            extra_secrets = {"AWS_SECRET_ACCESS_KEY": self.credentials.secret_access_key}

        self.admin_password_resource: random.RandomPassword | None = None
        self.flask_secret_key: random.RandomPassword | None = None
        admin_password: pulumi.Output[str] | None = None
        flask_key: pulumi.Output[str] | None = None
        if v["auth_enabled"]:
            given = args.get("admin_password")
            if given is None:
                # The admin password: generated, exported only as a secret.
                self.admin_password_resource = random.RandomPassword(
                    f"{name}-admin-password",
                    length=24,
                    special=True,
                    override_special=PASSWORD_SPECIALS,
                    opts=child,
                )
                given = self.admin_password_resource.result
            admin_password = pulumi.Output.secret(given)
            # Flask's session/CSRF key: MLflow's basic-auth requires one.
            self.flask_secret_key = random.RandomPassword(
                f"{name}-flask-secret-key", length=64, special=False, opts=child
            )
            flask_key = pulumi.Output.secret(self.flask_secret_key.result)

        public: list[str] = list(v["public_hostnames"])
        if public:
            # An explicit list replaces MLflow's localhost defaults: keep the host port working.
            public += [f"localhost:{v['local_port']}", f"127.0.0.1:{v['local_port']}"]
        self.environment = server_environment(
            scenario=scenario,
            artifact_url=self.bucket.uri if self.bucket is not None else None,
            database=endpoint,
            auth_enabled=v["auth_enabled"],
            admin_username=v["admin_username"],
            admin_password=admin_password,
            flask_secret_key=flask_key,
            default_permission=v["default_permission"],
            public_hostnames=public,
            port=CONTAINER_PORT,
            workers=max(1, int(v["cpu"] * 2)),
            create_bucket=has_bucket,  # MinIO starts empty; the image creates the bucket
            extra_plain=extra_plain,
            extra_secrets=extra_secrets,
        )

        self.service = Service(
            f"{name}-service",
            {
                "environment": self.environment.plain,
                "secret_environment": self.environment.secrets,
                "network_names": networks,
                "local_port": v["local_port"],
                "container_port": CONTAINER_PORT,
                "memory_mb": v["memory_mb"],
                "cpu": v["cpu"],
                "data_volume": scenario == "local-server",
                "image_tag": v["image_tag"],
                "labels": labels,
            },
            opts=child,
        )

        self.url = self.service.url
        self.artifact_location = (
            self.bucket.uri
            if self.bucket is not None
            else pulumi.Output.from_input(LOCAL_SERVER_ARTIFACTS)
        )
        self.s3_endpoint = self.bucket.public_endpoint if self.bucket is not None else None
        self.access_key_id = self.credentials.access_key_id if self.credentials else None
        self.secret_access_key = self.credentials.secret_access_key if self.credentials else None
        self.admin_username = (
            pulumi.Output.from_input(v["admin_username"]) if v["auth_enabled"] else None
        )
        self.admin_password = admin_password
        self.register_outputs(
            {
                "url": self.url,
                "artifact_location": self.artifact_location,
                "s3_endpoint": self.s3_endpoint,
                "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key,
                "admin_username": self.admin_username,
                "admin_password": self.admin_password,
            }
        )


def _validated(args: MlflowServerArgs) -> dict:
    """Every plain input checked, defaults applied; ValueError names the input."""
    scenario = args.get("scenario", "proxied")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(SCENARIOS)}")
    has_db = scenario in ("direct", "proxied")
    db_engine = args.get("db_engine", "postgresql")
    if db_engine not in DB_IMAGES:
        raise ValueError(f"db_engine: {db_engine!r} is not one of {', '.join(DB_IMAGES)}")
    if "db_engine" in args and not has_db:
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
    default_permission = args.get("default_permission", "NO_PERMISSIONS")
    if default_permission not in PERMISSIONS:
        raise ValueError(
            f"default_permission: {default_permission!r} is not one of {', '.join(PERMISSIONS)}"
        )
    local_port = args.get("local_port", 5000)
    if isinstance(local_port, bool) or not isinstance(local_port, int):
        raise ValueError(f"local_port: {local_port!r} is not a port number")
    if not 1024 <= local_port <= 65535:
        raise ValueError(f"local_port: {local_port} is not from 1024 to 65535")
    s3_port = args.get("s3_port", local_port + 1)
    if scenario == "direct":
        if isinstance(s3_port, bool) or not isinstance(s3_port, int):
            raise ValueError(f"s3_port: {s3_port!r} is not a port number")
        if not 1024 <= s3_port <= 65535 or s3_port == local_port:
            raise ValueError(
                f"s3_port: {s3_port} is not from 1024 to 65535 and different from "
                f"local_port ({local_port})"
            )
    elif "s3_port" in args:
        raise ValueError(f"s3_port: only scenario 'direct' publishes MinIO, not {scenario!r}")
    memory_mb = args.get("memory_mb", 2048)
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 512:
        raise ValueError(f"memory_mb: {memory_mb!r} is not a whole number of 512 or more")
    cpu = args.get("cpu", 1.0)
    if cpu not in CPU_CHOICES:
        raise ValueError(f"cpu: {cpu!r} is not one of {', '.join(f'{c:g}' for c in CPU_CHOICES)}")
    public_hostnames = list(args.get("public_hostnames", ()))
    for host in public_hostnames:
        if not isinstance(host, str) or not _HOST.match(host):
            raise ValueError(f"public_hostnames: {host!r} is not a host name (optionally :port)")
    bucket_name = args.get("bucket_name", "mlflow")
    if not isinstance(bucket_name, str) or not re.match(
        r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", bucket_name
    ):
        raise ValueError(
            f"bucket_name: {bucket_name!r} is not 3 to 63 lowercase letters, digits, . or -"
        )
    image_tag = args.get("image_tag", "mlflow-server:local")
    if not isinstance(image_tag, str) or not image_tag:
        raise ValueError(f"image_tag: {image_tag!r} is not a docker tag")
    return {
        "scenario": scenario,
        "db_engine": db_engine,
        "auth_enabled": auth_enabled,
        "admin_username": admin_username,
        "default_permission": default_permission,
        "local_port": local_port,
        "s3_port": s3_port,
        "memory_mb": memory_mb,
        "cpu": float(cpu),
        "public_hostnames": public_hostnames,
        "bucket_name": bucket_name,
        "image_tag": image_tag,
    }
