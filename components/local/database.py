"""The backend-store database of the local stack: a PostgreSQL or MySQL container.

Same shape as every cloud's `Database` (host, port, name, username, password). The
container lives on the stack's private Docker network only (no published port), keeps
its data in a named volume, and gets its password as a file under /run/secrets through
the official images' `*_PASSWORD_FILE` convention, never as an environment value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.local._docker import (
    SECRETS_DIR,
    container_labels,
    env_list,
    require_name,
    secret_file,
    volume_labels,
)

IMAGES = {
    "postgresql": "postgres:17.6-bookworm",
    "mysql": "mysql:8.4.6",
}
"""Pinned images per engine (PostgreSQL 17, MySQL 8.4 LTS)."""

PORTS = {"postgresql": 5432, "mysql": 3306}
DATA_DIRS = {"postgresql": "/var/lib/postgresql/data", "mysql": "/var/lib/mysql"}
IMAGE_UID = "999"
"""The `postgres` / `mysql` user of both official images; owns the password files."""
HOST_ALIAS = "database"
"""The container's DNS name on the private network (scoped to that network: no collisions)."""
PASSWORD_SPECIALS = "!#%*+-=?^_~"
"""Special characters of generated passwords: none that a shell or SQL literal would mangle."""

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class DatabaseArgs(TypedDict, total=False):
    """Inputs of the local `Database`."""

    engine: str
    """`postgresql` (default) or `mysql`."""
    network_name: Required[pulumi.Input[str]]
    """Required. The private Docker network the database joins (no other network, no port)."""
    db_name: str
    """The database MLflow uses; default `mlflow`."""
    username: str
    """MLflow's database user; default `mlflow`."""
    image: str
    """Override the pinned image (same engine and major version)."""
    protect: bool
    """Protect the data volume from `pulumi destroy` (config `deletionProtection`)."""
    labels: Mapping[str, str]
    """Docker labels on the container and volume (the stack's tags)."""


class Database(pulumi.ComponentResource):
    """A PostgreSQL or MySQL container for MLflow's backend store.

    Children: `password` (random.RandomPassword), `image` (docker.RemoteImage, pinned tag),
    `volume` (docker.Volume for the data directory), `container` (docker.Container on the
    private network, health-checked; `pulumi up` waits until it is healthy). MySQL also gets
    `root_password` (random.RandomPassword), so nothing prints a generated root password.
    """

    host: pulumi.Output[str]
    """Host name of the database on the private network."""
    port: pulumi.Output[int]
    """TCP port of the database."""
    name: pulumi.Output[str]
    """Database name."""
    username: pulumi.Output[str]
    """MLflow's database user."""
    password: pulumi.Output[str]
    """MLflow's database password (secret)."""
    engine: str
    """`postgresql` or `mysql`."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        engine = args.get("engine", "postgresql")
        db_name = args.get("db_name", "mlflow")
        username = args.get("username", "mlflow")
        # Validate plain inputs before registering anything.
        if engine not in IMAGES:
            raise ValueError(f"engine: {engine!r} is not one of {', '.join(IMAGES)}")
        if "network_name" not in args:
            raise ValueError("network_name: required (the private network of the database)")
        for field, value in (("db_name", db_name), ("username", username)):
            if not isinstance(value, str) or not _IDENTIFIER.match(value) or value == "root":
                raise ValueError(
                    f"{field}: {value!r} is not 1 to 32 lowercase letters, digits or _, "
                    "starting with a letter (and not root)"
                )
        image_name = args.get("image", IMAGES[engine])
        require_name(image_name, "image")
        labels = args.get("labels", {})
        super().__init__("mlflow-local:index:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # MLflow's password: generated, kept in state as a secret, handed over as a file.
        self.password_resource = random.RandomPassword(
            f"{name}-password",
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            opts=child,
        )
        password = pulumi.Output.secret(self.password_resource.result)

        # The pinned image, kept after destroy so the next `up` does not pull it again.
        self.image = docker.RemoteImage(
            f"{name}-image", name=image_name, keep_locally=True, opts=child
        )
        # The data directory survives container replacement (image bumps, config changes).
        self.volume = docker.Volume(
            f"{name}-data",
            labels=volume_labels(labels),
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("protect", False)),
        )

        self.root_password_resource: random.RandomPassword | None = None
        uploads = [secret_file("db-password", password, owner=IMAGE_UID)]
        if engine == "postgresql":
            env: dict[str, pulumi.Input[str]] = {
                "POSTGRES_DB": db_name,
                "POSTGRES_USER": username,
                "POSTGRES_PASSWORD_FILE": f"{SECRETS_DIR}/db-password",
            }
            health = ["CMD", "pg_isready", "-h", "127.0.0.1", "-U", username, "-d", db_name]
        else:
            # MySQL's root account: its own generated password, never used by MLflow.
            self.root_password_resource = random.RandomPassword(
                f"{name}-root-password",
                length=32,
                special=True,
                override_special=PASSWORD_SPECIALS,
                opts=child,
            )
            uploads.append(
                secret_file(
                    "db-root-password",
                    pulumi.Output.secret(self.root_password_resource.result),
                    owner=IMAGE_UID,
                )
            )
            env = {
                "MYSQL_DATABASE": db_name,
                "MYSQL_USER": username,
                "MYSQL_PASSWORD_FILE": f"{SECRETS_DIR}/db-password",
                "MYSQL_ROOT_PASSWORD_FILE": f"{SECRETS_DIR}/db-root-password",
            }
            # `ping` answers without credentials once the server accepts connections.
            health = ["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]

        # The database itself: private network only, so only the server reaches it.
        self.container = docker.Container(
            f"{name}-container",
            image=self.image.image_id,
            envs=env_list(env),
            uploads=uploads,
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(
                    name=args["network_name"], aliases=[HOST_ALIAS]
                )
            ],
            volumes=[
                docker.ContainerVolumeArgs(
                    volume_name=self.volume.name, container_path=DATA_DIRS[engine]
                )
            ],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=health, interval="5s", timeout="5s", retries=12, start_period="30s"
            ),
            restart="unless-stopped",
            wait=True,
            wait_timeout=180,
            labels=container_labels(labels),
            opts=child,
        )

        self.engine = engine
        # The host is only known once the container exists: consumers wait for it.
        self.host = self.container.id.apply(lambda _: HOST_ALIAS)
        self.port = pulumi.Output.from_input(PORTS[engine])
        self.name = pulumi.Output.from_input(db_name)
        self.username = pulumi.Output.from_input(username)
        self.password = password
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "name": self.name,
                "username": self.username,
                "password": self.password,
            }
        )
