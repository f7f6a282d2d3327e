"""`ArtifactBucket`: the GCS bucket holding MLflow artifacts, private by construction."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypedDict

import pulumi
from pulumi_gcp import organizations, storage

from mlflow_iac.gcp.naming import labels as gcp_labels

KMS_KEY_NAME = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
ABORT_MULTIPART_DAYS = 7
"""Incomplete XML multipart uploads (MLflow's large proxied uploads) are aborted after this."""


class ArtifactBucketArgs(TypedDict, total=False):
    """Inputs of `ArtifactBucket`."""

    location: pulumi.Input[str] | None
    """Bucket location; None: the provider's region (where Cloud Run runs)."""
    versioning: bool
    """Keep non-current object versions. Default True."""
    noncurrent_version_days: int
    """Days before a non-current version is deleted (with versioning). Default 30."""
    force_destroy: bool
    """Let `pulumi destroy` delete a bucket that still holds objects. Default False."""
    deletion_protection: bool
    """Pulumi `protect` on the bucket. Default True."""
    kms_key_name: str | None
    """Customer-managed Cloud KMS key (projects/.../cryptoKeys/K) for new objects; the
    project's Cloud Storage service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter
    on it. None: Google-managed keys."""
    tags: Mapping[str, str]
    """Labels on the bucket."""


class ArtifactBucket(pulumi.ComponentResource):
    """A GCS bucket: uniform bucket-level access (no ACLs), public access prevention
    enforced, optional versioning with expiry of non-current versions, incomplete multipart
    uploads aborted, optional CMEK.

    Children: Bucket.
    """

    name: pulumi.Output[str]
    """Bucket name."""
    uri: pulumi.Output[str]
    """gs://<name>: the artifact root."""

    def __init__(
        self, name: str, args: ArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        days = args.get("noncurrent_version_days", 30)
        if not 1 <= days <= 3650:
            raise ValueError(f"noncurrent_version_days: {days} is not from 1 to 3650")
        kms = args.get("kms_key_name")
        if kms is not None and not KMS_KEY_NAME.match(kms):
            raise ValueError(
                f"kms_key_name: {kms!r} is not projects/P/locations/L/keyRings/R/cryptoKeys/K"
            )
        labels = gcp_labels(dict(args.get("tags") or {}))
        super().__init__("mlflow-gcp:index:ArtifactBucket", name, None, opts)
        location = (
            args.get("location")
            or organizations.get_client_config_output(opts=pulumi.InvokeOptions(parent=self)).region
        )
        versioning = args.get("versioning", True)
        self.bucket = storage.Bucket(
            f"{name}-bucket",
            location=location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": versioning},
            lifecycle_rules=_lifecycle_rules(versioning, days),
            encryption={"default_kms_key_name": kms} if kms else None,
            force_destroy=args.get("force_destroy", False),
            labels=labels,
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("deletion_protection", True)),
        )
        self.name = self.bucket.name
        self.uri = pulumi.Output.concat("gs://", self.bucket.name)
        self.register_outputs({"name": self.name, "uri": self.uri})


def _lifecycle_rules(
    versioning: bool, noncurrent_days: int
) -> list[storage.BucketLifecycleRuleArgsDict]:
    rules: list[storage.BucketLifecycleRuleArgsDict] = [
        {
            "action": {"type": "AbortIncompleteMultipartUpload"},
            "condition": {"age": ABORT_MULTIPART_DAYS},
        }
    ]
    if versioning:
        rules.append(
            {
                "action": {"type": "Delete"},
                "condition": {
                    "days_since_noncurrent_time": noncurrent_days,
                    "with_state": "ARCHIVED",
                },
            }
        )
    return rules
