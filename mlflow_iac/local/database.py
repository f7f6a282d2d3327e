"""The backend-store database of the local stack: a PostgreSQL or MySQL container.

Same shape as every cloud's `Database` (host, port, name, username, password). The
container lives on the stack's private Docker network only (no published port), keeps
its data in a named volume, and gets its password as a file under /run/secrets through
the official images' `*_PASSWORD_FILE` convention, never as an environment value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from mlflow_iac.local.docker_args import (
    container_labels,
    env_list,
    secret_file,
    volume_labels,
)
from mlflow_iac.local.engines import ENGINES, PASSWORD_FILE, ROOT_PASSWORD_FILE
from mlflow_iac.local.settings import DatabaseSettings, database_settings

HOST_ALIAS = "database"
"""The container's DNS name on the private network (scoped to that network: no collisions)."""
PASSWORD_SPECIALS = "!#%*+-=?^_~"
"""Special characters of generated passwords: none that a shell or SQL literal would mangle."""


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

    Children: `password_resource` (random.RandomPassword), `image` (docker.RemoteImage,
    pinned tag), `volume` (docker.Volume for the data directory, optionally protected),
    `container` (docker.Container on the private network, health-checked, replaced
    delete-first; `pulumi up` waits until it is healthy). MySQL also gets
    `root_password_resource` (random.RandomPassword), so nothing prints a generated root
    password.
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
        settings = database_settings(args)
        labels = args.get("labels", {})
        super().__init__("mlflow-local:index:Database", name, None, opts)

        password = self._passwords(name, settings.engine)
        self.image = self._image(name, settings.image)
        self.volume = self._volume(name, labels, args.get("protect", False))
        self.container = self._container(name, args["network_name"], settings, password, labels)

        self.engine = settings.engine
        # The host is only known once the container exists: consumers wait for it.
        self.host = self.container.id.apply(lambda _: HOST_ALIAS)
        self.port = pulumi.Output.from_input(ENGINES[settings.engine].port)
        self.name = pulumi.Output.from_input(settings.db_name)
        self.username = pulumi.Output.from_input(settings.username)
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

    def _passwords(self, name: str, engine: str) -> pulumi.Output[str]:
        """MLflow's password (returned as a secret) and, for MySQL, the root account's own,
        never used by MLflow: generated, kept in state as secrets, handed over as files."""
        self.password_resource = self._password(f"{name}-password")
        self.root_password_resource: random.RandomPassword | None = None
        if ENGINES[engine].has_root_password:
            self.root_password_resource = self._password(f"{name}-root-password")
        return pulumi.Output.secret(self.password_resource.result)

    def _password(self, resource_name: str) -> random.RandomPassword:
        return random.RandomPassword(
            resource_name,
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _image(self, name: str, image: str) -> docker.RemoteImage:
        """The pinned image, kept after destroy so the next `up` does not pull it again."""
        return docker.RemoteImage(
            f"{name}-image", name=image, keep_locally=True, opts=pulumi.ResourceOptions(parent=self)
        )

    def _volume(self, name: str, labels: Mapping[str, str], protect: bool) -> docker.Volume:
        """The data directory, kept across container replacement (image bumps, config)."""
        return docker.Volume(
            f"{name}-data",
            labels=volume_labels(labels),
            # Docker cannot relabel a volume (labels force a new one): a `tags` edit must not
            # cost the data, so labels are set when the volume is made and kept after.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, ignore_changes=["labels"]),
        )

    def _container(
        self,
        name: str,
        network_name: pulumi.Input[str],
        settings: DatabaseSettings,
        password: pulumi.Output[str],
        labels: Mapping[str, str],
    ) -> docker.Container:
        """The database itself: private network only, so only the server reaches it;
        `pulumi up` waits until it is healthy. Replaced delete-first: two servers must never
        open one data directory (PostgreSQL) or wait on its lock (MySQL's InnoDB)."""
        spec = ENGINES[settings.engine]
        values = {PASSWORD_FILE: password}
        if self.root_password_resource is not None:
            values[ROOT_PASSWORD_FILE] = pulumi.Output.secret(self.root_password_resource.result)
        uploads = [secret_file(f, values[f], owner=spec.image_uid) for f in spec.secret_files()]
        return docker.Container(
            f"{name}-container",
            image=self.image.image_id,
            envs=env_list(spec.environment(settings.db_name, settings.username)),
            uploads=uploads,
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=network_name, aliases=[HOST_ALIAS])
            ],
            volumes=[
                docker.ContainerVolumeArgs(
                    volume_name=self.volume.name, container_path=spec.data_dir
                )
            ],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=spec.health_test(settings.db_name, settings.username),
                interval="5s",
                timeout="5s",
                retries=12,
                start_period="30s",
            ),
            restart="unless-stopped",
            wait=True,
            wait_timeout=180,
            labels=container_labels(labels),
            # One server per data directory: the old container stops before the new starts.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
