"""Pure builders for the AWS stack: IAM/bucket policy documents, naming, sizing and CIDR maths.

Nothing here touches Pulumi: the components call these inside `Output.apply` (or with
plain values) and the tests call them directly, without mocks.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
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

DB_INSTANCE_CLASSES = {
    "small": "db.t4g.small",
    "medium": "db.t4g.large",
    "large": "db.m7g.xlarge",
}
"""dbSize -> RDS instance class (Graviton: cheaper per vCPU, supported by PostgreSQL and MySQL)."""

DB_INSTANCE_MEMORY_GIB = {"db.t4g.small": 2, "db.t4g.large": 8, "db.m7g.xlarge": 16}
"""Memory of each instance class of DB_INSTANCE_CLASSES, in GiB."""

DB_BYTES_PER_CONNECTION = {"postgresql": 9531392, "mysql": 12582880}
"""Divisor of DBInstanceClassMemory in the max_connections of RDS's default parameter groups."""
DB_CONNECTIONS_CAP = {"postgresql": 5000}
"""Upper bound in that formula (PostgreSQL: LEAST(..., 5000); MySQL has none)."""
DB_ENGINE_MEMORY_FRACTION = 0.9
"""DBInstanceClassMemory: the instance memory minus what the OS and RDS's own processes use,
about 10% (an approximation: AWS does not publish the exact figure per class)."""
DB_RESERVE_FRACTION = 0.10
DB_RESERVE_MIN = 10
"""Connections left free for admins, migrations at task start, monitoring, and the
superuser-reserved slots: 10% of max_connections, at least 10."""
POOL_PER_WORKER_MAX = 30
"""The image's default pool + overflow (10 + 20) per worker: never more than the image's."""
POOL_SIZE_MIN = 2
MAX_OVERFLOW_MIN = 3
"""The smallest pool worth running: 2 kept open, 3 more under load."""

DB_ENGINES: dict[str, tuple[str, str, str, int, tuple[str, str]]] = {
    # vocabulary engine -> (RDS engine, pinned major version, parameter group family, port, TLS parameter)
    "postgresql": ("postgres", "16", "postgres16", 5432, ("rds.force_ssl", "1")),
    "mysql": ("mysql", "8.4", "mysql8.4", 3306, ("require_secure_transport", "ON")),
}
"""Engine settings: the major version is pinned; RDS applies minor upgrades in the window."""


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


# --------------------------------------------------------------------------- network


def subnet_cidrs(vpc_cidr: str, zones: int = 2) -> tuple[list[str], list[str]]:
    """Split a VPC CIDR into `zones` public and `zones` private subnets.

    The upper half of the range holds the private subnets (service and database: most
    addresses); the first quarter is cut into small public subnets (load balancer, NAT).
    For 10.0.0.0/16 and two zones: public 10.0.0.0/19 and 10.0.32.0/19, private
    10.0.128.0/18 and 10.0.192.0/18.
    """
    network = ipaddress.IPv4Network(vpc_cidr)
    if not 2 <= zones <= 4:
        raise ValueError(f"zones: {zones} is not from 2 to 4")
    halves = list(network.subnets(prefixlen_diff=1))
    # Private: the upper half split into `zones` equal parts (rounded up to a power of two).
    diff = (zones - 1).bit_length()
    private = [str(s) for s in list(halves[1].subnets(prefixlen_diff=diff))[:zones]]
    quarter = next(halves[0].subnets(prefixlen_diff=1))
    public = [str(s) for s in list(quarter.subnets(prefixlen_diff=diff))[:zones]]
    if ipaddress.IPv4Network(public[0]).num_addresses < 32:
        raise ValueError(f"vpc_cidr: {vpc_cidr!r} is too small for {zones} zones")
    return public, private


# --------------------------------------------------------------------------- database


def db_settings(engine: str, size: str) -> tuple[str, str, str, int, str, tuple[str, str]]:
    """(RDS engine, engine version, parameter group family, port, instance class, TLS parameter)."""
    if engine not in DB_ENGINES:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(DB_ENGINES)}")
    if size not in DB_INSTANCE_CLASSES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(DB_INSTANCE_CLASSES)}")
    rds_engine, version, family, port, tls = DB_ENGINES[engine]
    return rds_engine, version, family, port, DB_INSTANCE_CLASSES[size], tls


def db_max_connections(engine: str, size: str) -> int:
    """Estimated max_connections of the RDS instance of `size` with the default parameter group.

    RDS derives it from DBInstanceClassMemory: PostgreSQL LEAST(DBInstanceClassMemory/9531392,
    5000), MySQL DBInstanceClassMemory/12582880. DBInstanceClassMemory is taken as the class's
    memory minus 10% (the OS and RDS's processes); the real value is close but not exact, so
    the budget keeps a reserve (see `db_pool_settings`).
    """
    instance_class = db_settings(engine, size)[4]
    memory = DB_INSTANCE_MEMORY_GIB[instance_class] * 2**30 * DB_ENGINE_MEMORY_FRACTION
    connections = int(memory // DB_BYTES_PER_CONNECTION[engine])
    cap = DB_CONNECTIONS_CAP.get(engine)
    return min(connections, cap) if cap else connections


def db_connection_budget(engine: str, size: str) -> int:
    """Connections the MLflow servers may use: max_connections minus the reserve."""
    total = db_max_connections(engine, size)
    return total - max(DB_RESERVE_MIN, math.ceil(total * DB_RESERVE_FRACTION))


def db_pool_settings(engine: str, size: str, max_replicas: int, workers: int) -> tuple[int, int]:
    """(pool_size, max_overflow) per worker process so that the fully scaled-out service stays
    within the database's connection limit.

    Every uvicorn worker of every task has its own SQLAlchemy pool, so at `max_replicas`
    tasks the service may open max_replicas x workers x (pool_size + max_overflow)
    connections. The budget is `db_connection_budget` (the estimated max_connections minus
    10%, at least 10, kept free); each worker gets an equal share, at most 30 (the image's
    default 10 + 20), about a third kept open (pool_size) and the rest as overflow. This
    counts the tracking store's pool; MLflow gives the model registry (and basic-auth) its
    own engine with the same settings, whose connections the reserve only partly covers.

    Raises ValueError naming max_replicas and size when even the minimum pool (2 + 3) does
    not fit, with the largest max_replicas that does.
    """
    if max_replicas < 1:
        raise ValueError(f"max_replicas: {max_replicas} must be at least 1")
    if workers < 1:
        raise ValueError(f"workers: {workers} must be at least 1")
    budget = db_connection_budget(engine, size)
    per_worker = min(POOL_PER_WORKER_MAX, budget // (max_replicas * workers))
    minimum = POOL_SIZE_MIN + MAX_OVERFLOW_MIN
    if per_worker < minimum:
        fits = max_replicas_that_fit(engine, size, workers)
        larger = [s for s in DB_INSTANCE_CLASSES if db_connection_budget(engine, s) > budget]
        raise ValueError(
            f"max_replicas: {max_replicas} tasks x {workers} workers need at least "
            f"{max_replicas * workers * minimum} database connections (pool {POOL_SIZE_MIN} + "
            f"overflow {MAX_OVERFLOW_MIN} per worker), but size {size!r} "
            f"({DB_INSTANCE_CLASSES[size]}, {engine}) allows about {budget} after the reserve; "
            f"allowed: max_replicas <= {fits} for size {size!r}"
            + (f", or a larger size ({', '.join(larger)})" if larger else "")
        )
    pool_size = max(POOL_SIZE_MIN, per_worker // 3)
    return pool_size, per_worker - pool_size


def max_replicas_that_fit(engine: str, size: str, workers: int) -> int:
    """The most tasks of `workers` workers whose minimum pools (2 + 3 each) fit the database."""
    return db_connection_budget(engine, size) // ((POOL_SIZE_MIN + MAX_OVERFLOW_MIN) * workers)


KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")
"""A KMS key ARN (not an alias: RDS takes only keys, and one form serves bucket and database)."""


def check_kms_key_arn(name: str, value: str | None) -> None:
    """Raise ValueError naming `name` unless `value` is None or a KMS key ARN."""
    if value is not None and not KMS_KEY_ARN.match(value):
        raise ValueError(
            f"{name}: {value!r} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
        )


def physical_name(*parts: str, max_length: int = 63) -> str:
    """A name for the few AWS fields Pulumi cannot auto-name (final snapshot id, task family):
    letters, digits and single hyphens, starting with a letter, unique per project/stack/resource
    when the caller passes those parts."""
    joined = "-".join(parts)
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9-]", "-", joined)).strip("-")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = f"m-{cleaned}".rstrip("-")
    if len(cleaned) > max_length:
        digest = hashlib.sha256(joined.encode()).hexdigest()[:8]
        cleaned = f"{cleaned[: max_length - 9].rstrip('-')}-{digest}"
    return cleaned


# --------------------------------------------------------------------------- service


def server_workers(cpu: float, memory_mb: int) -> int:
    """uvicorn workers per task: 2 per vCPU (the contract's guidance), about 512 MB each, at
    least one."""
    return max(1, min(round(cpu * 2), memory_mb // 512))


def fargate_memory_sizes(cpu: float) -> list[int]:
    """Memory sizes (MB) Fargate accepts for `cpu` vCPU (0.25, 0.5, 1, 2 or 4); [] otherwise."""
    if cpu == 0.25:
        return [512, 1024, 2048]
    if cpu in (0.5, 1.0, 2.0, 4.0):
        low = int(cpu * 2048) if cpu >= 1 else 1024
        high = 30720 if cpu == 4.0 else int(cpu * 8192)
        return list(range(low, high + 1, 1024))
    return []


# --------------------------------------------------------------------------- image


def context_digest(context: Path, ignore: Sequence[str] = ("__pycache__", ".pytest_cache")) -> str:
    """A short content hash of a Docker build context: the image tag, so an unchanged context
    keeps its tag (immutable ECR tags) and a changed one gets a new tag and a new deployment."""
    if not context.is_dir():
        raise ValueError(f"image_context: {str(context)!r} is not a directory")
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        relative = path.relative_to(context)
        if any(part in ignore or part.endswith(".pyc") for part in relative.parts):
            continue
        digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
