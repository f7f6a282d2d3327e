"""The artifact store of the local stack: an S3-compatible MinIO container.

Same shape as every cloud's `Bucket` (`name`, `uri`) plus the S3 `endpoint` that only an
S3-compatible store needs. The bucket itself is created by the mlflow-server image at
start (`CREATE_BUCKET=true`, the image's contract), so `pulumi up` needs no manual step.
MinIO gets its root credentials as files under /run/secrets (`MINIO_ROOT_*_FILE`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi
import pulumi_docker as docker

from mlflow_iac.local.docker_args import (
    container_labels,
    env_list,
    secret_file,
    volume_labels,
)
from mlflow_iac.local.settings import BucketSettings, bucket_settings

IMAGE = "minio/minio:RELEASE.2025-04-22T22-12-26Z"
"""Pinned MinIO server image (the S3-compatible store of seed 004)."""
S3_PORT = 9000
HOST_ALIAS = "object-store"
"""MinIO's DNS name on the private network."""


class BucketArgs(TypedDict, total=False):
    """Inputs of the local `Bucket`."""

    network_name: Required[pulumi.Input[str]]
    """Required. The private Docker network the server reaches MinIO on."""
    access_key_id: Required[pulumi.Input[str]]
    """Required. MinIO's root user (see `Credentials`)."""
    secret_access_key: Required[pulumi.Input[str]]
    """Required. MinIO's root password, 8+ characters (see `Credentials`); kept secret."""
    bucket_name: str
    """The bucket MLflow writes artifacts to; default `mlflow` (MinIO is per stack)."""
    public_port: int | None
    """Publish the S3 API on 127.0.0.1:<port> (scenario `direct`: clients use the bucket
    themselves); None (default) keeps MinIO on the private network only."""
    public_network_name: pulumi.Input[str]
    """With `public_port`: a non-internal network to publish from (Docker publishes no
    ports from an internal network)."""
    image: str
    """Override the pinned MinIO image."""
    protect: bool
    """Protect the data volume from `pulumi destroy` (config `deletionProtection`)."""
    labels: Mapping[str, str]
    """Docker labels on the container and volume (the stack's tags)."""


class Bucket(pulumi.ComponentResource):
    """An S3-compatible artifact store: MinIO in a container with a named data volume.

    Children: `image` (docker.RemoteImage, pinned tag), `volume` (docker.Volume),
    `container` (docker.Container: private network, S3 API published on 127.0.0.1 only
    when `public_port` is set, health-checked with `mc ready local`, replaced delete-first).
    """

    name: pulumi.Output[str]
    """Bucket name."""
    uri: pulumi.Output[str]
    """`s3://<bucket>`: MLflow's artifact root."""
    endpoint: pulumi.Output[str]
    """S3 endpoint URL on the private network (what the server uses)."""
    public_endpoint: pulumi.Output[str] | None
    """S3 endpoint URL on the host (`http://127.0.0.1:<public_port>`), or None."""

    def __init__(
        self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        settings = bucket_settings(args, default_image=IMAGE)
        labels = args.get("labels", {})
        super().__init__("mlflow-local:index:Bucket", name, None, opts)

        self.image = self._image(name, settings.image)
        self.volume = self._volume(name, labels, args.get("protect", False))
        self.container = self._container(name, args, settings, labels)
        self._expose(settings)
        self.register_outputs(
            {
                "name": self.name,
                "uri": self.uri,
                "endpoint": self.endpoint,
                "public_endpoint": self.public_endpoint,
            }
        )

    def _image(self, name: str, image: str) -> docker.RemoteImage:
        """The pinned image, kept after destroy so the next `up` does not pull it again."""
        return docker.RemoteImage(
            f"{name}-image", name=image, keep_locally=True, opts=pulumi.ResourceOptions(parent=self)
        )

    def _volume(self, name: str, labels: Mapping[str, str], protect: bool) -> docker.Volume:
        """The objects, kept across container replacement."""
        return docker.Volume(
            f"{name}-data",
            labels=volume_labels(labels),
            # Docker cannot relabel a volume (labels force a new one): a `tags` edit must not
            # cost the data, so labels are set when the volume is made and kept after.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, ignore_changes=["labels"]),
        )

    def _container(
        self, name: str, args: BucketArgs, settings: BucketSettings, labels: Mapping[str, str]
    ) -> docker.Container:
        """MinIO itself, on the private network; its S3 API also on 127.0.0.1 with
        `public_port`. The *_FILE names are relative: MinIO reads them from /run/secrets.
        Replaced delete-first: one MinIO per data volume, and the host port is free again."""
        networks = [
            docker.ContainerNetworksAdvancedArgs(name=args["network_name"], aliases=[HOST_ALIAS])
        ]
        ports: list[docker.ContainerPortArgs] = []
        if settings.public_port is not None:
            public_network = args.get("public_network_name")
            assert public_network is not None  # checked by bucket_settings
            networks.append(docker.ContainerNetworksAdvancedArgs(name=public_network))
            ports.append(
                docker.ContainerPortArgs(
                    internal=S3_PORT, external=settings.public_port, ip="127.0.0.1"
                )
            )
        return docker.Container(
            f"{name}-minio",
            image=self.image.image_id,
            command=["server", "/data", "--address", f":{S3_PORT}"],
            envs=env_list(
                {
                    "MINIO_ROOT_USER_FILE": "minio-root-user",
                    "MINIO_ROOT_PASSWORD_FILE": "minio-root-password",
                    "MINIO_BROWSER": "off",
                }
            ),
            uploads=[
                secret_file("minio-root-user", args["access_key_id"]),
                secret_file("minio-root-password", args["secret_access_key"]),
            ],
            networks_advanced=networks,
            ports=ports,
            volumes=[
                docker.ContainerVolumeArgs(volume_name=self.volume.name, container_path="/data")
            ],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "mc", "ready", "local"],
                interval="5s",
                timeout="5s",
                retries=12,
                start_period="10s",
            ),
            restart="unless-stopped",
            wait=True,
            wait_timeout=120,
            labels=container_labels(labels),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
        )

    def _expose(self, settings: BucketSettings) -> None:
        """The outputs; consumers of each wait for MinIO to be up."""
        bucket_name, public_port = settings.bucket_name, settings.public_port
        self.name = self.container.id.apply(lambda _: bucket_name)
        self.uri = self.name.apply(lambda bucket: f"s3://{bucket}")
        self.endpoint = self.container.id.apply(lambda _: f"http://{HOST_ALIAS}:{S3_PORT}")
        self.public_endpoint = (
            None
            if public_port is None
            else self.container.id.apply(lambda _: f"http://127.0.0.1:{public_port}")
        )
