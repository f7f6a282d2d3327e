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


def read_secrets_policy(
    secret_arns: Iterable[str], kms_key_arn: str | None = None, region: str | None = None
) -> PolicyDocument:
    """IAM policy: read exactly these Secrets Manager secrets (the ECS agent injects them).

    With `kms_key_arn` (the secrets' customer-managed key): kms:Decrypt on that key, only
    through Secrets Manager in `region` (GetSecretValue decrypts with the caller's rights)."""
    arns = sorted(set(secret_arns))
    if not arns:
        raise ValueError("secret_arns: at least one secret ARN")
    for arn in arns:
        _require_arn(arn, "secret_arns", "arn:aws:secretsmanager:")
    statements = [_statement("ReadContainerSecrets", ["secretsmanager:GetSecretValue"], arns)]
    if kms_key_arn:
        check_kms_key_arn("kms_key_arn", kms_key_arn)
        if not region:
            raise ValueError("region: required with kms_key_arn (kms:ViaService)")
        statement = _statement("DecryptContainerSecrets", ["kms:Decrypt"], kms_key_arn)
        statement["Condition"] = {
            "StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}
        }
        statements.append(statement)
    return {"Version": POLICY_VERSION, "Statement": statements}


ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-south-1": "718504428378",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "eu-south-1": "635631232127",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}
"""Elastic Load Balancing's log-delivery account per region opened before August 2022 (AWS's
"Enable access logs for your Application Load Balancer", the same table as the Terraform
provider's `aws_elb_service_account`). Newer regions know only the service principal."""
ELB_LOG_DELIVERY = "logdelivery.elasticloadbalancing.amazonaws.com"
"""The service principal that writes load balancer access logs (every region that has it)."""


def load_balancer_log_bucket_policy(
    bucket_arn: str, account_id: str, region: str
) -> PolicyDocument:
    """Bucket policy of the load balancers' access-log bucket: TLS only (as every bucket
    here), and Elastic Load Balancing may put objects under `AWSLogs/<account>/` only: the
    service principal everywhere, and in regions older than it also the region's
    log-delivery account (AWS documents one or the other by region)."""
    policy = tls_only_bucket_policy(bucket_arn)
    if not re.fullmatch(r"\d{12}", account_id):
        raise ValueError(f"account_id: {account_id!r} is not a 12-digit AWS account id")
    logs = f"{bucket_arn}/AWSLogs/{account_id}/*"
    principals: list[dict[str, str]] = [{"Service": ELB_LOG_DELIVERY}]
    legacy = ELB_LOG_ACCOUNTS.get(region)
    if legacy:
        partition = bucket_arn.split(":")[1]
        principals.append({"AWS": f"arn:{partition}:iam::{legacy}:root"})
    for index, principal in enumerate(principals):
        policy["Statement"].append(
            {
                "Sid": f"LoadBalancerAccessLogs{index}",
                "Effect": "Allow",
                "Principal": principal,
                "Action": "s3:PutObject",
                "Resource": logs,
            }
        )
    return policy


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
