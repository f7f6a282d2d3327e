"""IAM and bucket policy documents of the AWS components, and the ARN checks they rely on.

Pure: the components call these inside `Output.apply` and the tests call them directly,
without mocks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

PolicyDocument = dict[str, Any]

POLICY_VERSION = "2012-10-17"

BUCKET_ACTIONS = (
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
)
"""Bucket-level actions MLflow needs: list artifacts, find the region, list open uploads."""

OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
"""Object-level actions MLflow needs: read, write, delete artifacts, multipart uploads."""

KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
"""What reading and writing objects encrypted with a customer-managed KMS key needs."""


def _statement(sid: str, actions: Sequence[str], resources: Sequence[str] | str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": list(actions), "Resource": resources}


def bucket_access_statements(
    bucket_arn: str, kms_key_arn: str | None = None
) -> list[dict[str, Any]]:
    """Least-privilege statements for MLflow's artifact access to exactly one bucket."""
    _require_arn(bucket_arn, "bucket_arn", "arn:aws:s3:::")
    statements = [
        _statement("ListArtifactBucket", BUCKET_ACTIONS, bucket_arn),
        _statement("ReadWriteArtifacts", OBJECT_ACTIONS, f"{bucket_arn}/*"),
    ]
    if kms_key_arn:
        _require_arn(kms_key_arn, "kms_key_arn", "arn:")
        statements.append(_statement("UseArtifactKey", KMS_ACTIONS, kms_key_arn))
    return statements


def bucket_access_policy(bucket_arn: str, kms_key_arn: str | None = None) -> PolicyDocument:
    """IAM policy: MLflow's read/write access to one artifact bucket (server and clients)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": bucket_access_statements(bucket_arn, kms_key_arn),
    }


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """Bucket policy denying every request that does not use TLS."""
    _require_arn(bucket_arn, "bucket_arn", "arn:aws:s3:::")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def read_secrets_policy(secret_arns: Iterable[str]) -> PolicyDocument:
    """IAM policy: read exactly these Secrets Manager secrets (the ECS agent injects them)."""
    arns = sorted(set(secret_arns))
    if not arns:
        raise ValueError("secret_arns: at least one secret ARN")
    for arn in arns:
        _require_arn(arn, "secret_arns", "arn:aws:secretsmanager:")
    return {
        "Version": POLICY_VERSION,
        "Statement": [_statement("ReadContainerSecrets", ["secretsmanager:GetSecretValue"], arns)],
    }


def service_assume_role_policy(service: str, account_id: str) -> PolicyDocument:
    """Trust policy: `service` (e.g. ecs-tasks.amazonaws.com) may assume the role, only on
    behalf of this account (guards against the confused-deputy problem)."""
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def client_assume_role_policy(
    account_id: str, principal_arns: Sequence[str] = ()
) -> PolicyDocument:
    """Trust policy of the clients' role (scenario direct).

    With no `principal_arns`, the account itself is trusted: only IAM users and roles of
    this account that an identity policy allows `sts:AssumeRole` on this role can assume it
    (the account's administrators decide who), and only from within this account
    (`aws:PrincipalAccount`). With `principal_arns`, exactly those principals may.
    """
    if not re.fullmatch(r"\d{12}", account_id):
        raise ValueError(f"account_id: {account_id!r} is not a 12-digit AWS account id")
    for arn in principal_arns:
        _require_arn(arn, "principal_arns", "arn:")
    principal = list(principal_arns) or f"arn:aws:iam::{account_id}:root"
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": account_id}},
            }
        ],
    }


def _require_arn(value: str, what: str, prefix: str) -> None:
    if not isinstance(value, str) or not value.startswith(prefix) or value.strip() == prefix:
        raise ValueError(f"{what}: {value!r} is not an ARN starting with {prefix!r}")


KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")
"""A KMS key ARN (not an alias: RDS takes only keys, and one form serves bucket and database)."""


def check_kms_key_arn(name: str, value: str | None) -> None:
    """Raise ValueError naming `name` unless `value` is None or a KMS key ARN."""
    if value is not None and not KMS_KEY_ARN.match(value):
        raise ValueError(
            f"{name}: {value!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
        )
