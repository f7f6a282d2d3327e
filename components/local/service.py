"""The MLflow server of the local stack: the mlflow-server image built from `docker/`, run
as one Docker container published on 127.0.0.1 only.

Secrets on Docker: a plain `docker run` has no secret store, and whatever is in a
container's environment shows in `docker inspect`. So the secret part of the image's
environment (DB_PASSWORD, AUTH_PASSWORD, MLFLOW_FLASK_SERVER_SECRET_KEY,
AWS_SECRET_ACCESS_KEY) is uploaded as files, /run/secrets/<NAME> (mode 0400, owned by
the image's user), and a small `sh` wrapper exports each file as the variable of the
same name right before it execs the image's own entrypoint. The values reach the server
process exactly as the image's contract expects, yet never appear in the container's
configuration, its command line or a log; in Pulumi's state they are encrypted secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Required, TypedDict

import pulumi
import pulumi_docker as docker
import pulumi_docker_build as docker_build

from components.local._docker import (
    SECRETS_DIR,
    container_labels,
    env_list,
    require_name,
    secret_file,
    volume_labels,
)

DOCKER_CONTEXT = Path(__file__).resolve().parents[2] / "docker"
"""The mlflow-server image's build context in this repository."""
IMAGE_UID = "10001"
"""The image's non-root user (docker/Dockerfile); owns the secret files."""
IMAGE_ENTRYPOINT = "python -m mlflow_image"
"""The image's own ENTRYPOINT, exec'd by the secrets wrapper."""
CPU_CHOICES = (0.25, 0.5, 1.0, 2.0, 4.0)

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


def secrets_wrapper(directory: str = SECRETS_DIR, command: str = IMAGE_ENTRYPOINT) -> str:
    """The `sh -c` script that loads /run/secrets/<NAME> files into NAME and execs `command`.

    Any character of a value survives (command substitution in double quotes is not
    split or globbed); only trailing newlines are dropped, and generated secrets have none.
    """
    return (
        "set -eu; "
        f'for f in {directory}/*; do [ -f "$f" ] || continue; '
        'export "${f##*/}=$(cat "$f")"; done; '
        f'exec {command} "$@"'
    )


class ServiceArgs(TypedDict, total=False):
    """Inputs of the local `Service`."""

    environment: Required[Mapping[str, pulumi.Input[str]]]
    """Required. The plain part of `components.environment.server_environment(...)`."""
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
    image_tag: str
    """Local tag of the built image; default `mlflow-server:local`. Give each stack its own
    (the local stack uses `mlflow-server:<stack>`); the container is replaced on every
    rebuild because the build's digest is one of its labels."""
    context: str
    """Build context; default this repository's `docker/`."""
    labels: Mapping[str, str]
    """Docker labels on the container and volume (the stack's tags)."""


class Service(pulumi.ComponentResource):
    """The mlflow-server container for the local Docker engine.

    Children: `image` (docker_build.Image: built from `docker/`, loaded into the local
    engine, never pushed), `volume` (docker.Volume at /data, only with `data_volume`),
    `container` (docker.Container: exactly the given environment, secrets as files,
    127.0.0.1-only port, /health check, restart policy, memory and CPU limits).
    """

    url: pulumi.Output[str]
    """The server's URL on the host: `http://127.0.0.1:<local_port>`."""
    image_ref: pulumi.Output[str]
    """The built image (tag or digest reference)."""

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
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
                f"container_port: {container_port} differs from the environment's PORT "
                f"{plain['PORT']}"
            )
        memory_mb = args.get("memory_mb", 2048)
        if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < 512:
            raise ValueError(f"memory_mb: {memory_mb!r} is not a whole number of 512 or more")
        cpu = args.get("cpu", 1.0)
        if cpu not in CPU_CHOICES:
            raise ValueError(
                f"cpu: {cpu!r} is not one of {', '.join(f'{c:g}' for c in CPU_CHOICES)}"
            )
        image_tag = args.get("image_tag", "mlflow-server:local")
        require_name(image_tag, "image_tag")
        context = args.get("context", str(DOCKER_CONTEXT))
        require_name(context, "context")
        labels = args.get("labels", {})
        super().__init__("mlflow-local:index:Service", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        # The image, built by BuildKit from docker/ and loaded into the local engine only.
        self.image = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=context),
            tags=[image_tag],
            push=False,
            load=True,
            opts=child,
        )

        volumes: list[docker.ContainerVolumeArgs] = []
        self.volume: docker.Volume | None = None
        if args.get("data_volume", False):
            # Scenario local-server keeps SQLite and artifacts here, across container updates.
            self.volume = docker.Volume(f"{name}-data", labels=volume_labels(labels), opts=child)
            volumes.append(
                docker.ContainerVolumeArgs(volume_name=self.volume.name, container_path="/data")
            )

        # The server. The image digest is a label so that every rebuild replaces the container.
        self.container = docker.Container(
            f"{name}-container",
            image=self.image.ref,
            entrypoints=["/bin/sh", "-c", secrets_wrapper(), "mlflow-server"],
            envs=env_list(plain),
            uploads=[secret_file(key, secrets[key], owner=IMAGE_UID) for key in sorted(secrets)],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=n) for n in networks],
            ports=[
                docker.ContainerPortArgs(
                    internal=container_port, external=local_port, ip="127.0.0.1"
                )
            ],
            volumes=volumes,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=[
                    "CMD",
                    "python",
                    "-c",
                    "import os, urllib.request; urllib.request.urlopen("
                    "'http://127.0.0.1:%s/health' % os.environ.get('PORT', '5000'), timeout=4)",
                ],
                interval="10s",
                timeout="5s",
                retries=6,
                start_period="120s",
            ),
            restart="unless-stopped",
            memory=memory_mb,
            cpus=f"{cpu:g}",
            wait=True,
            wait_timeout=300,
            labels=[
                *container_labels(labels),
                docker.ContainerLabelArgs(label="mlflow.image-digest", value=self.image.digest),
            ],
            opts=child,
        )

        self.image_ref = self.image.ref
        self.url = self.container.id.apply(lambda _: f"http://127.0.0.1:{local_port}")
        self.register_outputs({"url": self.url, "image_ref": self.image_ref})
