"""`MlflowServer`: the AWS deployment of one MLflow scenario, wired from the four components.

The component package `mlflow-aws` (provider/, `mlflow_iac.plugin`) builds its schema from
`MlflowServerArgs` and the output annotations at run time, so this module keeps real
annotations (no `from __future__ import annotations`) and types only the analyzer accepts:
scalars, `Sequence[str]`, `Mapping[str, ...]`, `X | None`, `pulumi.Input`/`pulumi.Output`.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pulumi
import pulumi_random as random

from mlflow_iac.aws.bucket import ArtifactBucket
from mlflow_iac.aws.database import Database
from mlflow_iac.aws.identity import Identity
from mlflow_iac.aws.network import Network
from mlflow_iac.aws.service import Service
from mlflow_iac.aws.sizing import (
    DB_ENGINES,
    DB_INSTANCE_CLASSES,
    db_pool_settings,
    server_workers,
)
from mlflow_iac.db_pool import server_engines
from mlflow_iac.environment import DEFAULT_PORT, DatabaseEndpoint
from mlflow_iac.limits import DEFAULT_MAX_UPLOAD_MB
from mlflow_iac.vocabulary import CLOUD_SCENARIOS


class MlflowServerArgs(TypedDict, total=False):
    """Inputs of `MlflowServer`: the stack config, flattened. All plain values but the
    admin password."""

    scenario: str
    """direct (4), proxied (5, default) or artifacts-only (6)."""
    db_engine: str
    """postgresql (default) or mysql; direct and proxied only."""
    db_size: str
    """small (default), medium or large."""
    db_storage_gb: int
    """Database storage in GB. Default 20."""
    db_high_availability: bool
    """RDS multi-AZ. Default False."""
    db_backup_retention_days: int
    """Backup retention in days. Default 7."""
    auth_enabled: bool
    """MLflow basic-auth. Default True, in every scenario: in artifacts-only the auth tables
    get their own small RDS PostgreSQL (`Database`, size `db_size`), since no backend store
    exists to share and the tables must survive restarts and serve every replica."""
    admin_username: str
    """The basic-auth admin. Default admin."""
    admin_password: pulumi.Input[str] | None
    """The admin password (secret); None: generated (RandomPassword)."""
    default_permission: str
    """Permission on experiments a user was not granted. Default NO_PERMISSIONS."""
    replicas: int
    """Server tasks at deploy time. Default 2."""
    min_replicas: int
    """Autoscaling lower bound. Default `replicas`."""
    max_replicas: int
    """Autoscaling upper bound. Default max(4, replicas). The servers' database pools are
    sized so that this many tasks fit the `db_size` instance's connection limit
    (`sizing.db_pool_settings`); too many for the size fails before any resource."""
    cpu: float
    """vCPU per task. Default 1."""
    memory_mb: int
    """Memory per task in MB. Default 2048."""
    ephemeral_storage_gib: int | None
    """The Fargate task's ephemeral storage, 21 to 200 GiB (the spool gets it less 2 GiB).
    None: Fargate's default 20 GiB."""
    max_upload_mb: int | None
    """Largest proxied upload (MB), ARTIFACT_MAX_UPLOAD_MB: it must fit the spool. Default
    4096; None with direct."""
    domain: str | None
    """Custom domain: ACM certificate and HTTPS."""
    allowed_hosts: Sequence[str]
    """Extra Host header values MLflow accepts."""
    allowed_cidrs: Sequence[str]
    """CIDRs that may reach the load balancer. Default ["0.0.0.0/0"]. Without a domain and
    `public_http`, CloudFront serves HTTPS and only it reaches the load balancer: then this
    must stay the default."""
    public_http: bool
    """Without a domain: plain HTTP on the load balancer instead of CloudFront. Default False."""
    log_retention_days: int
    """Server log retention in days. Default 30."""
    artifact_versioning: bool
    """Bucket versioning. Default True."""
    artifact_noncurrent_days: int
    """Days before non-current artifact versions expire. Default 30."""
    artifact_force_destroy: bool
    """Let destroy delete a non-empty bucket. Default False."""
    artifact_kms_key_arn: str | None
    """Customer-managed KMS key of the bucket; None: SSE-S3."""
    db_kms_key_arn: str | None
    """Customer-managed KMS key (key ARN) of the database storage and its secret; None:
    `aws/rds` and `aws/secretsmanager`."""
    kms_key_arn: str | None
    """Customer-managed KMS key (key ARN) of the server's secrets, its log group and the ECR
    repository; None: AWS-managed keys."""
    private_endpoints: bool
    """New VPC only: interface endpoints for ECR, Secrets Manager and Logs, no NAT gateway,
    the service's egress narrowed to them (see `NetworkArgs`). Default False."""
    load_balancer_access_logs: bool
    """The load balancer's access logs to a bucket of their own, kept `log_retention_days`.
    Default True."""
    client_access_key: bool
    """direct only: an IAM user and access key for clients. Default False."""
    client_principal_arns: Sequence[str]
    """direct only: principals that may assume the client role (default: this account)."""
    vpc_cidr: str
    """CIDR of a new VPC. Default 10.0.0.0/16."""
    vpc_id: str | None
    """An existing VPC instead (with the subnet ids)."""
    public_subnet_ids: Sequence[str]
    """Existing public subnets (with vpc_id)."""
    private_subnet_ids: Sequence[str]
    """Existing private subnets (with vpc_id)."""
    deletion_protection: bool
    """Protect the database (RDS deletion protection), the buckets (Pulumi protect), the
    load balancer (ALB deletion protection) and the ECR repository (no force delete).
    Default True. The database's final snapshot is taken either way."""
    image_context: str
    """Docker build context of the mlflow-server image. Default: the context packaged with
    mlflow-iac (`mlflow_iac.image.default_context()`)."""
    image: str | None
    """A prebuilt image reference instead of building one."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class MlflowServer(pulumi.ComponentResource):
    """An MLflow tracking server on AWS for scenario direct, proxied or artifacts-only.

    Children: `Network`, `ArtifactBucket`, `Database` (the backend store; in artifacts-only the auth tables', with auth), `Identity`,
    `Service`, and a RandomPassword for the admin when auth is on and none is given.
    """

    url: pulumi.Output[str]
    """Tracking URI clients use."""
    artifact_location: pulumi.Output[str]
    """s3://bucket of the artifacts."""
    load_balancer_dns_name: pulumi.Output[str]
    """DNS name of the load balancer."""
    database_secret_arn: pulumi.Output[str | None]
    """Secrets Manager ARN of the database credentials (None for artifacts-only)."""
    database_final_snapshot: pulumi.Output[str | None]
    """The snapshot RDS takes when the database is deleted (None without a database)."""
    admin_username: pulumi.Output[str | None]
    """The basic-auth admin (None without auth)."""
    admin_password: pulumi.Output[str | None]
    """The admin password (secret; None without auth)."""
    admin_password_secret_arn: pulumi.Output[str | None]
    """Secrets Manager ARN of the admin password (None without auth)."""
    flask_secret_key_secret_arn: pulumi.Output[str | None]
    """Secrets Manager ARN of the Flask key (None without auth)."""
    client_policy_arn: pulumi.Output[str | None]
    """direct: the clients' bucket policy."""
    client_role_arn: pulumi.Output[str | None]
    """direct: the role clients assume."""
    client_aws_config: pulumi.Output[str | None]
    """direct: the ~/.aws/config profile section that assumes the client role."""
    client_access_key_id: pulumi.Output[str | None]
    """direct with an access key: its id."""
    client_secret_access_key: pulumi.Output[str | None]
    """direct with an access key: its secret (secret)."""
    certificate_validation_records: pulumi.Output[list[dict[str, str]]]
    """With a domain: DNS records validating its certificate."""

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        v = _validate(args)
        super().__init__("mlflow-aws:index:MlflowServer", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)

        self.network = self._network(name, args, v)
        self.bucket = self._bucket(name, args, v)
        self.database, endpoint = self._database(name, args, v)
        backend, auth_database = (endpoint, None) if v["has_database"] else (None, endpoint)
        self.identity = self._identity(name, args, v)
        admin_password = self._admin_password(name, args, v)
        self.service = self._service(name, args, v, (backend, auth_database), admin_password)

        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.url = self.service.url
        self.artifact_location = self.bucket.uri
        self.load_balancer_dns_name = self.service.load_balancer_dns_name
        self.database_secret_arn = self.database.secret_arn if self.database else none
        self.database_final_snapshot = (
            self.database.final_snapshot_identifier if self.database else none
        )
        self.admin_username = pulumi.Output.from_input(v["admin_username"]) if v["auth"] else none
        self.admin_password = admin_password if admin_password is not None else none
        self.admin_password_secret_arn = self.service.admin_password_secret_arn
        self.flask_secret_key_secret_arn = self.service.flask_secret_key_secret_arn
        self.client_policy_arn = self.identity.client_policy_arn
        self.client_role_arn = self.identity.client_role_arn
        self.client_aws_config = self.identity.client_aws_config
        self.client_profile = self.identity.client_profile
        """direct: the profile name in `client_aws_config` (plain), else None."""
        self.client_access_key_id = self.identity.client_access_key_id
        self.client_secret_access_key = self.identity.client_secret_access_key
        self.certificate_validation_records = self.service.certificate_validation_records
        self.register_outputs({key: getattr(self, key) for key in type(self).__annotations__})

    def _network(self, name: str, args: MlflowServerArgs, v: dict[str, Any]) -> Network:
        """The VPC (new or given) and the security groups of the tiers."""
        return Network(
            f"{name}-net",
            {
                "vpc_cidr": args.get("vpc_cidr", "10.0.0.0/16"),
                "vpc_id": args.get("vpc_id"),
                "public_subnet_ids": args.get("public_subnet_ids", ()),
                "private_subnet_ids": args.get("private_subnet_ids", ()),
                "allowed_cidrs": args.get("allowed_cidrs", ("0.0.0.0/0",)),
                "cloudfront_only": not args.get("domain") and not args.get("public_http", False),
                "container_port": DEFAULT_PORT,
                "database_port": DB_ENGINES[v["engine"]][3] if v["rds"] else None,
                "private_endpoints": args.get("private_endpoints", False),
                "tags": self._tags,
            },
            opts=self._child,
        )

    def _bucket(self, name: str, args: MlflowServerArgs, v: dict[str, Any]) -> ArtifactBucket:
        """The artifact bucket."""
        return ArtifactBucket(
            f"{name}-artifacts",
            {
                "versioning": args.get("artifact_versioning", True),
                "noncurrent_version_days": args.get("artifact_noncurrent_days", 30),
                "force_destroy": args.get("artifact_force_destroy", False),
                "deletion_protection": v["protect"],
                "kms_key_arn": args.get("artifact_kms_key_arn"),
                "tags": self._tags,
            },
            opts=self._child,
        )

    def _database(
        self, name: str, args: MlflowServerArgs, v: dict[str, Any]
    ) -> tuple[Database | None, DatabaseEndpoint | None]:
        """The backend store (direct, proxied), or in artifacts-only with auth the database of
        the auth tables; and its endpoint for the container."""
        if not v["rds"]:
            return None, None
        db = Database(
            f"{name}-db",
            {
                "subnet_ids": self.network.private_subnet_ids,
                "security_group_id": self.network.database_security_group_id.apply(
                    lambda sg: sg or ""
                ),
                "engine": v["engine"],
                "size": v["size"],
                "storage_gb": args.get("db_storage_gb", 20),
                "high_availability": args.get("db_high_availability", False),
                "backup_retention_days": args.get("db_backup_retention_days", 7),
                "deletion_protection": v["protect"],
                "kms_key_arn": args.get("db_kms_key_arn"),
                "tags": self._tags,
            },
            opts=self._child,
        )
        endpoint = DatabaseEndpoint(
            engine=db.engine,
            host=db.host,
            port=db.port,
            name=db.name,
            username=db.username,
            password=db.password,
            sslmode=db.sslmode,
        )
        return db, endpoint

    def _identity(self, name: str, args: MlflowServerArgs, v: dict[str, Any]) -> Identity:
        """The task role, and in scenario direct the clients' policy, role and key."""
        return Identity(
            f"{name}-identity",
            {
                "bucket_arn": self.bucket.arn,
                "kms_key_arn": self.bucket.kms_key_arn,
                "client_access": v["scenario"] == "direct",
                "client_access_key": args.get("client_access_key", False),
                "client_principal_arns": args.get("client_principal_arns", ()),
                "tags": self._tags,
            },
            opts=self._child,
        )

    def _admin_password(
        self, name: str, args: MlflowServerArgs, v: dict[str, Any]
    ) -> pulumi.Output[str] | None:
        """With auth: the given admin password, or a generated one (secret either way)."""
        if not v["auth"]:
            return None
        given = args.get("admin_password")
        if given is None:
            generated = random.RandomPassword(
                f"{name}-admin-password",
                length=24,
                special=True,
                override_special="-_.~!#%^*",
                min_lower=1,
                min_upper=1,
                min_numeric=1,
                opts=self._child,
            )
            given = generated.result
        return pulumi.Output.secret(given)

    def _service(
        self,
        name: str,
        args: MlflowServerArgs,
        v: dict[str, Any],
        databases: tuple[DatabaseEndpoint | None, DatabaseEndpoint | None],
        admin_password: pulumi.Output[str] | None,
    ) -> Service:
        """The server tasks behind the load balancer, wired to the other four; `databases`
        is (backend store, auth tables' database), at most one of them set."""
        endpoint, auth_database = databases
        db = self.database
        return Service(
            f"{name}-server",
            {
                "scenario": v["scenario"],
                "artifact_url": self.bucket.uri,
                "database": endpoint,
                "auth_database": auth_database,
                "database_password_value_from": db.password_value_from if db else None,
                "database_secret_arn": db.secret_arn if db else None,
                "database_size": v["size"] if v["rds"] else None,
                "auth_enabled": v["auth"],
                "admin_username": v["admin_username"],
                "admin_password": admin_password,
                "default_permission": args.get("default_permission", "NO_PERMISSIONS"),
                "domain": args.get("domain"),
                "public_http": args.get("public_http", False),
                "allowed_hosts": args.get("allowed_hosts", ()),
                "vpc_id": self.network.vpc_id,
                "public_subnet_ids": self.network.public_subnet_ids,
                "private_subnet_ids": self.network.private_subnet_ids,
                "load_balancer_security_group_id": self.network.load_balancer_security_group_id,
                "service_security_group_id": self.network.service_security_group_id,
                "task_role_arn": self.identity.task_role_arn,
                "replicas": v["replicas"],
                "min_replicas": args.get("min_replicas", v["replicas"]),
                "max_replicas": v["max_replicas"],
                "cpu": args.get("cpu", 1.0),
                "memory_mb": args.get("memory_mb", 2048),
                "ephemeral_storage_gib": args.get("ephemeral_storage_gib"),
                "max_upload_mb": (
                    None
                    if v["scenario"] == "direct"
                    else args.get("max_upload_mb", DEFAULT_MAX_UPLOAD_MB["aws"])
                ),
                "log_retention_days": args.get("log_retention_days", 30),
                "image": v["image"],
                "image_context": v["image_context"] or "",
                "deletion_protection": v["protect"],
                "access_logs": args.get("load_balancer_access_logs", True),
                "kms_key_arn": args.get("kms_key_arn"),
                "tags": self._tags,
            },
            opts=self._child,
        )


def _validate(args: MlflowServerArgs) -> dict[str, Any]:
    """Check the plain inputs before any child exists; return the decisions they make."""
    scenario = args.get("scenario", "proxied")
    if scenario not in CLOUD_SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(CLOUD_SCENARIOS)}")
    has_database = scenario != "artifacts-only"
    engine = args.get("db_engine", "postgresql")
    if engine not in DB_ENGINES:
        raise ValueError(f"db_engine: {engine!r} is not one of {', '.join(DB_ENGINES)}")
    size = args.get("db_size", "small")
    replicas = args.get("replicas", 2)
    max_replicas = args.get("max_replicas", max(4, replicas))
    auth = args.get("auth_enabled", True)
    if has_database or auth:
        if size not in DB_INSTANCE_CLASSES:
            raise ValueError(f"db_size: {size!r} is not one of {', '.join(DB_INSTANCE_CLASSES)}")
        # The servers' pools (every engine they open on the database: the backend stores'
        # and, with auth, the auth store's) must fit the database at max_replicas: checked
        # here, before any child exists (Service computes the same figures).
        workers = server_workers(float(args.get("cpu", 1.0)), args.get("memory_mb", 2048))
        db_pool_settings(engine, size, max_replicas, workers, server_engines(has_database, auth))
    if auth and not has_database and engine != "postgresql":
        raise ValueError(
            f"db_engine: {engine!r}; allowed with auth in artifacts-only: postgresql (the auth "
            "tables' database; MLflow's auth migrations fail on MySQL, mlflow/mlflow#9642)"
        )
    if args.get("client_access_key") and scenario != "direct":
        raise ValueError("client_access_key: only with scenario 'direct'")
    image, image_context = _image_args(args)
    return {
        "scenario": scenario,
        "has_database": has_database,
        "rds": has_database or auth,
        "engine": engine,
        "size": size,
        "replicas": replicas,
        "max_replicas": max_replicas,
        "auth": auth,
        "admin_username": args.get("admin_username", "admin"),
        "protect": args.get("deletion_protection", True),
        "image": image,
        "image_context": image_context,
    }


def _image_args(args: MlflowServerArgs) -> tuple[str | None, str | None]:
    image = args.get("image")
    if image:
        return image, None
    return None, args.get("image_context")
