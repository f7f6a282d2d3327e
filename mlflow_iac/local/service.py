"""The MLflow server of the local stack: the mlflow-server image built from `docker/`, run
as one Docker container published on 127.0.0.1 only.

Secrets on Docker: the secret part of the image's environment (DB_PASSWORD,
AUTH_PASSWORD, MLFLOW_FLASK_SERVER_SECRET_KEY, AWS_SECRET_ACCESS_KEY) is uploaded as
files, /run/secrets/<NAME> (mode 0440, owned by the image's user and group), and the
`sh` wrapper of `mlflow_iac.local.secrets` exports each file as the variable of the same
name right before it execs the image's own entrypoint; a missing or unreadable file stops
it with one line naming the file. The values reach the server process exactly
as the image's contract expects, yet never appear in the container's configuration, its
command line or a log; in Pulumi's state they are encrypted secrets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_docker_build as docker_build

from mlflow_iac.image import default_context
from mlflow_iac.local.docker_args import (
    container_labels,
    env_list,
    secret_file,
    volume_labels,
)
from mlflow_iac.local.secrets import (
    SERVER_FILE_GROUP,
    SERVER_FILE_MODE,
    SERVER_FILE_OWNER,
    secrets_wrapper,
)
from mlflow_iac.local.settings import ServiceSettings, service_settings

"""The mlflow-server image's build context in this repository."""
HEALTH_TEST = [
    "CMD",
    "python",
    "-c",
    "import os, urllib.request; urllib.request.urlopen("
    "'http://127.0.0.1:%s/health' % os.environ.get('PORT', '5000'), timeout=4)",
]
"""The server's health check: /health needs no credentials and passes MLflow's Host check;
the slim image has no curl."""


class ServiceArgs(TypedDict, total=False):
    """Inputs of the local `Service`."""

    environment: Required[Mapping[str, pulumi.Input[str]]]
    """Required. The plain part of `mlflow_iac.environment.server_environment(...)`."""
    secret_environment: Mapping[str, pulumi.Input[str]]
    """The secret part of `server_environment(...)`: uploaded as files, never plain env."""
    network_names: Required[Sequence[pulumi.Input[str]]]
    """Required. Docker networks to join; the first must not be `internal` (the port is
    published from it), the others reach the database and MinIO."""
    local_port: int
    """Host port, published on 127.0.0.1 only; default 5000."""
    container_port: int
    """The port the server listens on inside the container (the environment's PORT); 5000."""
    memory_mb: int
    """Memory limit in MB; default 2048."""
    cpu: float
    """CPU limit in vCPUs: 0.25, 0.5, 1, 2 or 4; default 1."""
    data_volume: bool
    """Mount a named volume at /data (scenario `local-server`: SQLite and artifacts)."""
    protect: bool
    """Protect the /data volume from `pulumi destroy` (config `deletionProtection`)."""
    image_tag: str
    """Local tag of the built image; default `mlflow-server:local`. Give each stack its own
    (the local stack uses `mlflow-server:<stack>`); the container is replaced on every
    rebuild because the build's digest is one of its labels."""
    context: str
    """Build context. Default: the context packaged with mlflow-iac
    (`mlflow_iac.image.default_context()`)."""
    labels: Mapping[str, str]
    """Docker labels on the container and volume (the stack's tags)."""


class Service(pulumi.ComponentResource):
    """The mlflow-server container for the local Docker engine.

    Children: `image` (docker_build.Image: built from `docker/`, loaded into the local
    engine, never pushed), `volume` (docker.Volume at /data, only with `data_volume`),
    `spool` (docker.Volume at the environment's SPOOL_DIR, when it sets one),
    `container` (docker.Container: exactly the given environment, secrets as files,
    127.0.0.1-only port, /health check, restart policy, memory and CPU limits, a stop
    timeout above SERVER_SHUTDOWN_SECONDS; replaced delete-first).
    """

    url: pulumi.Output[str]
    """The server's URL on the host: `http://127.0.0.1:<local_port>`."""
    image_ref: pulumi.Output[str]
    """The built image (tag or digest reference)."""

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings = service_settings(args, default_context=str(default_context()))
        labels = args.get("labels", {})
        super().__init__("mlflow-local:index:Service", name, None, opts)

        self.image = self._image(name, settings)
        protect = args.get("protect", False)
        self.volume = self._data_volume(name, labels, protect) if settings.data_volume else None
        self.spool = self._spool_volume(name, labels) if settings.spool_dir else None
        self.container = self._container(name, settings, labels)

        self.image_ref = self.image.ref
        local_port = settings.local_port
        self.url = self.container.id.apply(lambda _: f"http://127.0.0.1:{local_port}")
        self.register_outputs({"url": self.url, "image_ref": self.image_ref})

    def _image(self, name: str, settings: ServiceSettings) -> docker_build.Image:
        """The image, built by BuildKit from docker/ and loaded into the local engine only."""
        return docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=settings.context),
            tags=[settings.image_tag],
            push=False,
            load=True,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _data_volume(self, name: str, labels: Mapping[str, str], protect: bool) -> docker.Volume:
        """Scenario local-server keeps SQLite and artifacts here, across container updates."""
        return docker.Volume(
            f"{name}-data",
            labels=volume_labels(labels),
            # Docker cannot relabel a volume (labels force a new one): a `tags` edit must not
            # cost the data, so labels are set when the volume is made and kept after.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, ignore_changes=["labels"]),
        )

    def _spool_volume(self, name: str, labels: Mapping[str, str]) -> docker.Volume:
        """Proxied uploads are spooled whole here (SPOOL_DIR) before they go to the bucket:
        on the host's disk, not in the container's writable layer. Nothing in it outlives
        a request, so it is never protected."""
        return docker.Volume(
            f"{name}-spool",
            labels=volume_labels(labels),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["labels"]),
        )

    def _container(
        self, name: str, settings: ServiceSettings, labels: Mapping[str, str]
    ) -> docker.Container:
        """The server. The image digest is a label so that every rebuild replaces the container;
        the old container goes first, as it holds the host port (and with local-server the
        SQLite file): a replacement costs seconds of downtime, never a port clash."""
        secrets = settings.secrets
        volumes: list[docker.ContainerVolumeArgs] = []
        if self.volume is not None:
            volumes.append(
                docker.ContainerVolumeArgs(volume_name=self.volume.name, container_path="/data")
            )
        if self.spool is not None and settings.spool_dir is not None:
            volumes.append(
                docker.ContainerVolumeArgs(
                    volume_name=self.spool.name, container_path=settings.spool_dir
                )
            )
        return docker.Container(
            f"{name}-container",
            image=self.image.ref,
            entrypoints=["/bin/sh", "-c", secrets_wrapper(sorted(secrets)), "mlflow-server"],
            envs=env_list(settings.plain),
            uploads=[
                secret_file(
                    key,
                    secrets[key],
                    owner=SERVER_FILE_OWNER,
                    group=SERVER_FILE_GROUP,
                    permissions=SERVER_FILE_MODE,
                )
                for key in sorted(secrets)
            ],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=n) for n in settings.networks
            ],
            ports=[
                docker.ContainerPortArgs(
                    internal=settings.container_port, external=settings.local_port, ip="127.0.0.1"
                )
            ],
            volumes=volumes,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=HEALTH_TEST, interval="10s", timeout="5s", retries=6, start_period="120s"
            ),
            restart="unless-stopped",
            # Above the image's shutdown bound, so `docker stop` ends in a clean exit.
            stop_timeout=settings.stop_timeout,
            memory=settings.memory_mb,
            cpus=f"{settings.cpu:g}",
            wait=True,
            wait_timeout=300,
            labels=[
                *container_labels(labels),
                docker.ContainerLabelArgs(label="mlflow.image-digest", value=self.image.digest),
            ],
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )
