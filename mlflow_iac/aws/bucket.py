"""`ArtifactBucket`: the S3 bucket holding MLflow artifacts, private and TLS-only; and
`AccessLogBucket`: the bucket of the load balancer's access logs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TypedDict

import pulumi
import pulumi_aws as aws
from pulumi_aws import s3

from mlflow_iac.aws.iam import (
    check_kms_key_arn,
    load_balancer_log_bucket_policy,
    tls_only_bucket_policy,
)

MULTIPART_ABORT_DAYS = 7
"""Incomplete multipart uploads (an interrupted large artifact) are removed after this."""


class ArtifactBucketArgs(TypedDict, total=False):
    """Inputs of `ArtifactBucket`."""

    versioning: bool
    """Keep old versions of overwritten or deleted artifacts. Default True."""
    noncurrent_version_days: int
    """Days before a non-current version is deleted (with versioning), 1 to 3650. Default 30."""
    force_destroy: bool
    """Let `pulumi destroy` delete a bucket that still holds objects. Default False."""
    deletion_protection: bool
    """Pulumi `protect` on the bucket: `pulumi destroy` refuses to delete it. Default True."""
    kms_key_arn: str | None
    """Encrypt with this customer-managed KMS key (SSE-KMS, bucket key on) instead of
    S3-managed keys (SSE-S3, AES256, the default). Readers then need kms:Decrypt on it."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class ArtifactBucket(pulumi.ComponentResource):
    """An S3 bucket for MLflow artifacts with secure defaults.

    All four public-access blocks on, ACLs disabled (BucketOwnerEnforced), default
    encryption (SSE-S3, or SSE-KMS with `kms_key_arn`), a bucket policy refusing any request
    without TLS, optional versioning with non-current versions expiring, and a lifecycle
    rule removing incomplete multipart uploads. No CORS: browsers talk to the MLflow server,
    never to the bucket.

    Children: Bucket, BucketPublicAccessBlock, BucketOwnershipControls,
    BucketServerSideEncryptionConfiguration, BucketVersioning (with versioning),
    BucketLifecycleConfiguration, BucketPolicy.
    """

    name: pulumi.Output[str]
    """Bucket name (auto-named)."""
    uri: pulumi.Output[str]
    """s3://<name>: MLflow's artifact location."""
    arn: pulumi.Output[str]
    """Bucket ARN (IAM policies scope to it)."""
    kms_key_arn: str | None
    """The customer-managed key, when one encrypts the bucket."""

    def __init__(
        self, name: str, args: ArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        versioning = args.get("versioning", True)
        noncurrent_days = args.get("noncurrent_version_days", 30)
        kms_key_arn = args.get("kms_key_arn")
        if not 1 <= noncurrent_days <= 3650:
            raise ValueError(f"noncurrent_version_days: {noncurrent_days} is not from 1 to 3650")
        check_kms_key_arn("kms_key_arn", kms_key_arn)

        super().__init__("mlflow-aws:index:ArtifactBucket", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)
        self.kms_key_arn = kms_key_arn

        self.bucket = s3.Bucket(
            f"{name}-bucket",
            force_destroy=args.get("force_destroy", False),
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("deletion_protection", True)),
        )
        self._private(name)
        self._encryption(name, kms_key_arn)
        self._lifecycle(name, versioning, noncurrent_days)
        self.policy = s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
            # S3 rejects policy changes while the public access block is being written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )

        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.uri = pulumi.Output.concat("s3://", self.bucket.bucket)
        self.register_outputs({"name": self.name, "uri": self.uri, "arn": self.arn})

    def _private(self, name: str) -> None:
        """All four public-access blocks on, and ACLs off (BucketOwnerEnforced)."""
        self.public_access_block = _block_public_access(name, self.bucket, self._child)

    def _encryption(self, name: str, kms_key_arn: str | None) -> None:
        """Default encryption: SSE-KMS with the customer key (bucket key on), else SSE-S3."""
        encryption: s3.BucketServerSideEncryptionConfigurationRuleArgsDict = (
            {
                "apply_server_side_encryption_by_default": {
                    "sse_algorithm": "aws:kms",
                    "kms_master_key_id": kms_key_arn,
                },
                "bucket_key_enabled": True,  # fewer KMS requests: cheaper, faster
            }
            if kms_key_arn
            else {"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}
        )
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id, rules=[encryption], opts=self._child
        )

    def _lifecycle(self, name: str, versioning: bool, noncurrent_days: int) -> None:
        """Versioning (optional), and the rules expiring incomplete multipart uploads and
        (with versioning) non-current versions."""
        lifecycle_deps: list[pulumi.Resource] = []
        if versioning:
            lifecycle_deps.append(
                s3.BucketVersioning(
                    f"{name}-versioning",
                    bucket=self.bucket.id,
                    versioning_configuration={"status": "Enabled"},
                    opts=self._child,
                )
            )
        rules: list[s3.BucketLifecycleConfigurationRuleArgsDict] = [
            {
                "id": "abort-incomplete-multipart-uploads",
                "status": "Enabled",
                "filter": {},
                "abort_incomplete_multipart_upload": {
                    "days_after_initiation": MULTIPART_ABORT_DAYS
                },
            }
        ]
        if versioning:
            rules.append(
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": noncurrent_days},
                }
            )
        s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=rules,
            # Lifecycle rules on versions need versioning configured first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=lifecycle_deps),
        )


class AccessLogBucketArgs(TypedDict, total=False):
    """Inputs of `AccessLogBucket`."""

    expiration_days: int
    """Days a log file is kept, 1 or more. Default 30."""
    deletion_protection: bool
    """Pulumi `protect` on the bucket, and no force destroy. Default True. Without it,
    `pulumi destroy` deletes the bucket with the logs in it."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class AccessLogBucket(pulumi.ComponentResource):
    """An S3 bucket the load balancer writes its access logs to.

    SSE-S3 (AES256), since load balancer access logs support no other encryption (not
    SSE-KMS, whatever `kmsKeyArn` says: AWS's "Enable access logs for your Application Load
    Balancer"); all four public-access blocks, ACLs off, a policy that refuses requests
    without TLS and lets Elastic Load Balancing put objects under `AWSLogs/<account>/`
    only (`iam.load_balancer_log_bucket_policy`); logs expire after `expiration_days`.

    Children: Bucket, BucketPublicAccessBlock, BucketOwnershipControls,
    BucketServerSideEncryptionConfiguration, BucketLifecycleConfiguration, BucketPolicy.
    """

    name: pulumi.Output[str]
    """Bucket name (auto-named)."""
    arn: pulumi.Output[str]
    """Bucket ARN."""

    def __init__(
        self, name: str, args: AccessLogBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        days = args.get("expiration_days", 30)
        if days < 1:
            raise ValueError(f"expiration_days: {days} must be positive")
        protect = args.get("deletion_protection", True)
        super().__init__("mlflow-aws:index:AccessLogBucket", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)

        self.bucket = s3.Bucket(
            f"{name}-bucket",
            force_destroy=not protect,  # logs only: a protected stack keeps them
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        blocked = self._private_encrypted(name, days)
        self.policy = self._policy(name, blocked)

        self.name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"name": self.name, "arn": self.arn})

    def _private_encrypted(self, name: str, days: int) -> s3.BucketPublicAccessBlock:
        """Public access blocked, ACLs off, SSE-S3, expiry. Returns the access block."""
        blocked = _block_public_access(name, self.bucket, self._child)
        s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self._child,
        )
        s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": days},
                    "abort_incomplete_multipart_upload": {
                        "days_after_initiation": MULTIPART_ABORT_DAYS
                    },
                }
            ],
            opts=self._child,
        )
        return blocked

    def _policy(self, name: str, blocked: s3.BucketPublicAccessBlock) -> s3.BucketPolicy:
        """TLS only; Elastic Load Balancing may write this account's logs."""
        invoke = pulumi.InvokeOptions(parent=self)
        account = aws.get_caller_identity_output(opts=invoke).account_id
        region = aws.get_region_output(opts=invoke).region
        return s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=pulumi.Output.all(self.bucket.arn, account, region).apply(
                lambda values: json.dumps(load_balancer_log_bucket_policy(*values))
            ),
            # S3 rejects policy changes while the public access block is being written.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[blocked]),
        )


def _block_public_access(
    name: str, bucket: s3.Bucket, opts: pulumi.ResourceOptions
) -> s3.BucketPublicAccessBlock:
    """All four public-access blocks on `bucket`, and ACLs off (BucketOwnerEnforced): every
    bucket these components create. Returns the access block (a policy waits on it)."""
    blocked = s3.BucketPublicAccessBlock(
        f"{name}-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule={"object_ownership": "BucketOwnerEnforced"},  # ACLs off
        opts=opts,
    )
    return blocked
