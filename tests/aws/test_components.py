"""Component input validation: a bad plain input raises ValueError naming it, before anything
is registered (no half-built component)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from mlflow_iac.aws import (
    AccessLogBucket,
    ArtifactBucket,
    Database,
    Identity,
    MlflowServer,
    Network,
    Service,
)
from mlflow_iac.environment import DatabaseEndpoint
from tests import harness

BUCKET_ARN = "arn:aws:s3:::bucket"

SERVICE: dict[str, Any] = {
    "scenario": "proxied",
    "artifact_url": "s3://bucket",
    "database": DatabaseEndpoint("postgresql", "db", 5432, "mlflow", "mlflow", "pw"),
    "database_password_value_from": "arn:aws:secretsmanager:eu-west-1:1:secret:x:password::",
    "database_secret_arn": "arn:aws:secretsmanager:eu-west-1:1:secret:x",
    "vpc_id": "vpc-1",
    "public_subnet_ids": ["subnet-1", "subnet-2"],
    "private_subnet_ids": ["subnet-3", "subnet-4"],
    "load_balancer_security_group_id": "sg-1",
    "service_security_group_id": "sg-2",
    "task_role_arn": "arn:aws:iam::1:role/task",
    "image": "public.ecr.aws/example/mlflow:1",
}

CASES: list[tuple[type, dict[str, Any], str]] = [
    (Network, {"allowed_cidrs": []}, "allowed_cidrs"),
    (Network, {"allowed_cidrs": ["0.0.0.0/0"], "vpc_cidr": "10.0.0.0/29"}, "vpc_cidr"),
    (
        Network,
        {"allowed_cidrs": ["0.0.0.0/0"], "vpc_id": "vpc-1", "public_subnet_ids": ["s"]},
        "public_subnet_ids",
    ),
    (
        Network,
        {"allowed_cidrs": ["0.0.0.0/0"], "private_subnet_ids": ["a", "b"]},
        "public_subnet_ids/private_subnet_ids",
    ),
    (Network, {"allowed_cidrs": ["0.0.0.0/0"], "database_port": 70000}, "database_port"),
    (
        Network,
        {
            "allowed_cidrs": ["0.0.0.0/0"],
            "vpc_id": "vpc-1",
            "public_subnet_ids": ["a", "b"],
            "private_subnet_ids": ["c", "d"],
            "private_endpoints": True,
        },
        "private_endpoints",
    ),
    (AccessLogBucket, {"expiration_days": 0}, "expiration_days"),
    (Service, {**SERVICE, "access_log_days": 0}, "access_log_days"),
    (Service, {**SERVICE, "kms_key_arn": "alias/mine"}, "kms_key_arn"),
    (Database, {"subnet_ids": ["a"], "security_group_id": "sg", "engine": "oracle"}, "engine"),
    (Database, {"subnet_ids": ["a"], "security_group_id": "sg", "size": "xl"}, "size"),
    (Database, {"subnet_ids": ["a"], "security_group_id": "sg", "storage_gb": 5}, "storage_gb"),
    (
        Database,
        {"subnet_ids": ["a"], "security_group_id": "sg", "backup_retention_days": 0},
        "backup_retention_days",
    ),
    (Database, {"subnet_ids": ["a"]}, "security_group_id"),
    (ArtifactBucket, {"noncurrent_version_days": 0}, "noncurrent_version_days"),
    (ArtifactBucket, {"kms_key_arn": "alias/mine"}, "kms_key_arn"),
    (
        ArtifactBucket,
        {"kms_key_arn": "arn:aws:kms:eu-west-1:123456789012:alias/mine"},
        "kms_key_arn",
    ),
    (
        Database,
        {"subnet_ids": ["a"], "security_group_id": "sg", "kms_key_arn": "arn:aws:s3:::b"},
        "kms_key_arn",
    ),
    (Identity, {}, "bucket_arn"),
    (Identity, {"bucket_arn": BUCKET_ARN, "client_access_key": True}, "client_access_key"),
    (
        Identity,
        {"bucket_arn": BUCKET_ARN, "client_access": True, "client_principal_arns": ["*"]},
        "client_principal_arns",
    ),
    (Service, {**SERVICE, "scenario": "local-server"}, "scenario"),
    (Service, {**SERVICE, "task_role_arn": None}, "task_role_arn"),
    (Service, {**SERVICE, "database_secret_arn": None}, "database_secret_arn"),
    (Service, {**SERVICE, "image_context": "docker"}, "image_context"),
    (Service, {**SERVICE, "auth_enabled": True}, "admin_password"),
    (Service, {**SERVICE, "replicas": 5, "max_replicas": 4}, "replicas"),
    (Service, {**SERVICE, "cpu": 3.0}, "cpu"),
    (Service, {**SERVICE, "cpu": 1.0, "memory_mb": 1024}, "memory_mb"),
    (Service, {**SERVICE, "domain": "Not A Domain"}, "domain"),
    (Service, {**SERVICE, "database_size": "xl"}, "database_size"),
    (Service, {**SERVICE, "database_size": "small", "max_replicas": 40}, "max_replicas"),
    (
        Service,
        {**SERVICE, "database": None, "scenario": "artifacts-only", "database_size": "small"},
        "database_size",
    ),
    (MlflowServer, {"scenario": "local-server"}, "scenario"),
    (MlflowServer, {"scenario": "proxied", "db_engine": "sqlite"}, "db_engine"),
    (MlflowServer, {"scenario": "artifacts-only", "db_engine": "mysql"}, "db_engine"),
    (
        Service,
        {
            **SERVICE,
            "database": None,
            "database_password_value_from": None,
            "database_secret_arn": None,
            "scenario": "artifacts-only",
            "auth_enabled": True,
            "admin_password": "x" * 12,
        },
        "auth_database",
    ),
    (MlflowServer, {"scenario": "proxied", "client_access_key": True}, "client_access_key"),
    (MlflowServer, {"scenario": "proxied", "db_size": "xl", "image": "x"}, "db_size"),
    (MlflowServer, {"scenario": "proxied", "max_replicas": 19, "image": "x"}, "max_replicas"),
]


@pytest.mark.parametrize(
    ("component", "args", "field"), CASES, ids=[f"{c.__name__}-{f}" for c, _, f in CASES]
)
def test_bad_input_fails_before_registration(
    mocks: harness.RecordingMocks, component: type, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        component("bad", args)
    assert mocks.resources == []


def test_type_tokens() -> None:
    tokens = {
        c.__name__: c
        for c in (
            Network,
            Database,
            ArtifactBucket,
            AccessLogBucket,
            Identity,
            Service,
            MlflowServer,
        )
    }
    result = harness.run_program(config={"cloud": "aws", "scenario": "direct"})
    registered = {r.type for r in result.mocks.resources if r.type.startswith("mlflow-aws:")}
    assert registered == {f"mlflow-aws:index:{name}" for name in tokens}


def test_prebuilt_image_skips_ecr_and_build(mocks: harness.RecordingMocks) -> None:
    args: Any = {
        **SERVICE,
        "database": None,
        "scenario": "artifacts-only",
        "database_password_value_from": None,
        "database_secret_arn": None,
    }

    def program() -> None:
        service = Service("svc", args)
        pulumi.export("image", service.image_ref)

    result = harness.run_program(program)
    assert result.outputs["image"] == SERVICE["image"]
    types = result.mocks.types()
    assert "aws:ecr/repository:Repository" not in types
    assert "docker-build:index:Image" not in types
    # no secrets in artifacts-only: no secrets policy on the execution role
    assert "aws:iam/rolePolicy:RolePolicy" not in types
