"""Docker argument builders shared by the local components (no resources are created here).

Labels, `NAME=value` environment lists and secret-file uploads in the shapes
`pulumi_docker` takes, each sorted so that the same input always gives the same diff.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_docker as docker

from mlflow_iac.local.secrets import SECRETS_DIR


def container_labels(labels: Mapping[str, str]) -> list[docker.ContainerLabelArgs]:
    """Docker labels for a container from the stack's tags, sorted for a stable diff."""
    return [docker.ContainerLabelArgs(label=k, value=labels[k]) for k in sorted(labels)]


def volume_labels(labels: Mapping[str, str]) -> list[docker.VolumeLabelArgs]:
    """Docker labels for a volume."""
    return [docker.VolumeLabelArgs(label=k, value=labels[k]) for k in sorted(labels)]


def network_labels(labels: Mapping[str, str]) -> list[docker.NetworkLabelArgs]:
    """Docker labels for a network."""
    return [docker.NetworkLabelArgs(label=k, value=labels[k]) for k in sorted(labels)]


def secret_file(
    name: str,
    content: pulumi.Input[str],
    owner: str | None = None,
    group: str | None = None,
    permissions: str = "0400",
) -> docker.ContainerUploadArgs:
    """A secret uploaded into the container at /run/secrets/<name>; by default readable by
    its owner only.

    The value never enters the container's environment or command line (`docker inspect`
    does not show it); in Pulumi's state it is encrypted like every secret input.
    """
    return docker.ContainerUploadArgs(
        file=f"{SECRETS_DIR}/{name}",
        content=pulumi.Output.secret(content),
        owner=owner,
        group=group,
        permissions=permissions,
    )


def env_list(env: Mapping[str, pulumi.Input[str]]) -> list[pulumi.Output[str]]:
    """`NAME=value` items, sorted by name, for docker.Container `envs`."""
    return [pulumi.Output.concat(name, "=", env[name]) for name in sorted(env)]
