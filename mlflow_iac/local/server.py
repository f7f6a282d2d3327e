"""`MlflowServer`: the local stack's composite, wiring Database, Credentials, Bucket and
Service on private Docker networks for one MLflow scenario.

| scenario | database | MinIO | server |
|---|---|---|---|
| local-server (3) | - (SQLite in the /data volume) | - | 127.0.0.1:localPort |
| direct (4) | PostgreSQL / MySQL | private, S3 API also on 127.0.0.1:s3Port for clients | 127.0.0.1:localPort |
| proxied (5) | PostgreSQL / MySQL | private | 127.0.0.1:localPort |
| artifacts-only (6) | - | private | 127.0.0.1:localPort |

The component package `mlflow-local` (provider/, `mlflow_iac.plugin`) builds its schema from
`MlflowServerArgs` and the output annotations at run time, so this module keeps real
annotations (no `from __future__ import annotations`) and types only the analyzer accepts:
scalars, `Sequence[str]`, `Mapping[str, ...]`, `X | None`, `pulumi.Input`/`pulumi.Output`.
"""

from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from mlflow_iac.environment import (
    DatabaseEndpoint,
    ServerEnvironment,
    server_environment,
)
from mlflow_iac.limits import DEFAULT_SHUTDOWN_SECONDS, SPOOL_DIR
from mlflow_iac.local.bucket import Bucket
from mlflow_iac.local.credentials import Credentials
from mlflow_iac.local.database import PASSWORD_SPECIALS, Database
from mlflow_iac.local.docker_args import network_labels
from mlflow_iac.local.service import Service
from mlflow_iac.local.settings import ServerSettings, server_settings

CONTAINER_PORT = 5000
LOCAL_SERVER_ARTIFACTS = "/data/artifacts"
"""Where scenario local-server keeps artifacts: the server's /data volume."""


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
    """Protect the data volumes from `pulumi destroy`: the database's and MinIO's, or with
    `local-server` the server's /data volume (SQLite and artifacts)."""
    image_tag: str
    """Local tag of the built mlflow-server image; default `mlflow-server:local`."""
    max_upload_mb: int | None
    """Largest proxied upload (MB): ARTIFACT_MAX_UPLOAD_MB, checked by the image against the
    spool volume's free space (the host's disk) at start. Default 1024; not with direct."""
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

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings = server_settings(args)
        labels = args.get("labels", {})
        protect = args.get("protect", False)
        super().__init__("mlflow-local:index:MlflowServer", name, None, opts)

        self.network, self.private_network = self._networks(name, settings, labels)
        self.database, endpoint = self._database(name, settings, protect, labels)
        self.credentials, self.bucket = self._artifact_store(name, settings, protect, labels)
        admin_password, flask_key = self._auth_secrets(name, settings, args.get("admin_password"))
        # Not a class-level annotation, so not a schema output of the component package
        # (provider/): a Python-side view of the container's environment (plain values and
        # secrets), which other languages get no use of and the analyzer cannot express.
        self.environment: ServerEnvironment = self._environment(
            settings, endpoint, admin_password, flask_key
        )
        self.service = self._service(name, settings, protect, labels)

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
            pulumi.Output.from_input(settings.admin_username) if settings.auth_enabled else None
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

    def _networks(
        self, name: str, settings: ServerSettings, labels: Mapping[str, str]
    ) -> tuple[docker.Network, docker.Network | None]:
        """The server's own bridge network, so its port can be published on 127.0.0.1, and,
        with a database or bucket, an internal one for them: no egress, no ports, unreachable
        from the host and the internet."""
        child = pulumi.ResourceOptions(parent=self)
        network = docker.Network(f"{name}-network", labels=network_labels(labels), opts=child)
        if not (settings.has_database or settings.has_bucket):
            return network, None
        private = docker.Network(
            f"{name}-private", internal=True, labels=network_labels(labels), opts=child
        )
        return network, private

    def _database(
        self, name: str, settings: ServerSettings, protect: bool, labels: Mapping[str, str]
    ) -> tuple[Database | None, DatabaseEndpoint | None]:
        """The backend-store database (scenarios direct and proxied) and how to reach it."""
        if not settings.has_database:
            return None, None
        assert self.private_network is not None  # made with every database
        database = Database(
            f"{name}-database",
            {
                "engine": settings.db_engine,
                "network_name": self.private_network.name,
                "protect": protect,
                "labels": labels,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        endpoint = DatabaseEndpoint(
            engine=settings.db_engine,
            host=database.host,
            port=database.port,
            name=database.name,
            username=database.username,
            password=database.password,
            sslmode="disable",  # a private Docker network; the images have no certificates
        )
        return database, endpoint

    def _artifact_store(
        self, name: str, settings: ServerSettings, protect: bool, labels: Mapping[str, str]
    ) -> tuple[Credentials | None, Bucket | None]:
        """MinIO and its key pair (every scenario but local-server)."""
        if not settings.has_bucket:
            return None, None
        assert self.private_network is not None  # made with every bucket
        child = pulumi.ResourceOptions(parent=self)
        credentials = Credentials(f"{name}-credentials", {}, opts=child)
        bucket = Bucket(
            f"{name}-bucket",
            {
                "network_name": self.private_network.name,
                "access_key_id": credentials.access_key_id,
                "secret_access_key": credentials.secret_access_key,
                "bucket_name": settings.bucket_name,
                "public_port": settings.s3_port if settings.publishes_s3 else None,
                "public_network_name": self.network.name,
                "protect": protect,
                "labels": labels,
            },
            opts=child,
        )
        return credentials, bucket

    def _auth_secrets(
        self, name: str, settings: ServerSettings, given: pulumi.Input[str] | None
    ) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None]:
        """With basic-auth: the admin password (the given one, or generated and exported
        only as a secret) and Flask's session/CSRF key, which MLflow's basic-auth requires."""
        self.admin_password_resource: random.RandomPassword | None = None
        self.flask_secret_key: random.RandomPassword | None = None
        if not settings.auth_enabled:
            return None, None
        child = pulumi.ResourceOptions(parent=self)
        if given is None:
            self.admin_password_resource = random.RandomPassword(
                f"{name}-admin-password",
                length=24,
                special=True,
                override_special=PASSWORD_SPECIALS,
                opts=child,
            )
            given = self.admin_password_resource.result
        self.flask_secret_key = random.RandomPassword(
            f"{name}-flask-secret-key", length=64, special=False, opts=child
        )
        return pulumi.Output.secret(given), pulumi.Output.secret(self.flask_secret_key.result)

    def _environment(
        self,
        settings: ServerSettings,
        endpoint: DatabaseEndpoint | None,
        admin_password: pulumi.Output[str] | None,
        flask_key: pulumi.Output[str] | None,
    ) -> ServerEnvironment:
        """The server container's environment, from the image contract."""
        extra_plain: dict[str, pulumi.Input[str]] = {}
        extra_secrets: dict[str, pulumi.Input[str]] = {}
        if self.bucket is not None and self.credentials is not None:
            extra_plain = {
                "MLFLOW_S3_ENDPOINT_URL": self.bucket.endpoint,
                "AWS_ACCESS_KEY_ID": self.credentials.access_key_id,
            }
            extra_secrets = {"AWS_SECRET_ACCESS_KEY": self.credentials.secret_access_key}
        return server_environment(
            scenario=settings.scenario,
            artifact_url=self.bucket.uri if self.bucket is not None else None,
            database=endpoint,
            auth_enabled=settings.auth_enabled,
            admin_username=settings.admin_username,
            admin_password=admin_password,
            flask_secret_key=flask_key,
            default_permission=settings.default_permission,
            public_hostnames=settings.allowed_hosts,
            port=CONTAINER_PORT,
            workers=settings.workers,
            shutdown_seconds=DEFAULT_SHUTDOWN_SECONDS,
            # A named volume (the host's disk), not the container's writable layer.
            spool_dir=SPOOL_DIR if settings.max_upload_mb is not None else None,
            max_upload_mb=settings.max_upload_mb,
            create_bucket=settings.has_bucket,  # MinIO starts empty; the image creates the bucket
            extra_plain=extra_plain,
            extra_secrets=extra_secrets,
        )

    def _service(
        self, name: str, settings: ServerSettings, protect: bool, labels: Mapping[str, str]
    ) -> Service:
        """The mlflow-server container, on the server's network and the private one."""
        networks: list[pulumi.Input[str]] = [self.network.name]
        if self.private_network is not None:
            networks.append(self.private_network.name)
        return Service(
            f"{name}-service",
            {
                "environment": self.environment.plain,
                "secret_environment": self.environment.secrets,
                "network_names": networks,
                "local_port": settings.local_port,
                "container_port": CONTAINER_PORT,
                "memory_mb": settings.memory_mb,
                "cpu": settings.cpu,
                "data_volume": settings.scenario == "local-server",
                # local-server's /data volume is its database and bucket.
                "protect": protect and settings.scenario == "local-server",
                "image_tag": settings.image_tag,
                "labels": labels,
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
