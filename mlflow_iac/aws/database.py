"""`Database`: the MLflow backend store on Amazon RDS (PostgreSQL 16 or MySQL 8.4)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_random as random
from pulumi_aws import rds, secretsmanager

from mlflow_iac.aws.iam import check_kms_key_arn
from mlflow_iac.aws.naming import physical_name
from mlflow_iac.aws.sizing import DB_ENGINES, DB_INSTANCE_CLASSES, DbSettings, db_settings

DB_NAME = "mlflow"
DB_USERNAME = "mlflow"
PASSWORD_SPECIALS = "!#$%^&*()-_=+[]{}<>:?.,~"
"""Special characters RDS accepts in a master password (not / @ " or space); the image
URL-encodes whatever it gets."""


class DatabaseArgs(TypedDict, total=False):
    """Inputs of `Database`."""

    subnet_ids: Required[pulumi.Input[Sequence[str]]]
    """Private subnets (two zones or more) of the DB subnet group. Required."""
    security_group_id: Required[pulumi.Input[str]]
    """Security group of the instance (ingress only from the service). Required."""
    engine: str
    """postgresql (default) or mysql."""
    size: str
    """small (db.t4g.small, default), medium (db.t4g.large) or large (db.m7g.xlarge)."""
    storage_gb: int
    """Allocated gp3 storage in GB, 20 to 16384. Default 20."""
    high_availability: bool
    """Multi-AZ: a synchronous standby in a second zone, automatic failover. Default False."""
    backup_retention_days: int
    """Automated backup retention, 1 to 35 days. Default 7."""
    deletion_protection: bool
    """RDS refuses to delete the instance. Default True. Whatever its value, deleting the
    instance takes a final snapshot (`final_snapshot_identifier`): protection decides whether
    a delete may happen, not whether the data survives it."""
    kms_key_arn: str | None
    """Customer-managed KMS key (key ARN) of the storage and the connection secret; None:
    the AWS-managed `aws/rds` and `aws/secretsmanager` keys."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Database(pulumi.ComponentResource):
    """An RDS instance for MLflow's tracking store, private, encrypted, TLS-only.

    The master password is a `RandomPassword` kept in a Secrets Manager secret of RDS's
    own JSON shape (`engine`, `host`, `port`, `dbname`, `username`, `password`); the ECS
    task reads it with `valueFrom: <secret_arn>:password::`. Why not RDS-managed passwords
    (`manage_master_user_password`): RDS rotates that secret every 7 days, and a running
    task, which reads its secrets only at start, would then fail to open new connections
    until it is replaced; the value is also unknown to Pulumi, so `password` could not be
    an output like on every other cloud. The cost of this choice: the password is in the
    Pulumi state, encrypted as a secret.

    TLS is enforced by the parameter group (PostgreSQL `rds.force_ssl=1`, MySQL
    `require_secure_transport=ON`); clients use `sslmode=require`.

    Teardown keeps the data: the instance's final snapshot is always taken, under a name
    unique to this instance (`<stack name>-final-<8 hex>`, the suffix a `RandomId` created
    with the instance), so a second stack of the same name, or a second teardown, never
    collides with a snapshot an earlier one left behind.

    Children: RandomPassword, RandomId (snapshot suffix), SubnetGroup, ParameterGroup,
    Instance, Secret, SecretVersion.
    """

    host: pulumi.Output[str]
    """Host name of the instance endpoint."""
    port: pulumi.Output[int]
    """Port of the instance (5432 PostgreSQL, 3306 MySQL)."""
    name: pulumi.Output[str]
    """Database name."""
    username: pulumi.Output[str]
    """Master user name."""
    password: pulumi.Output[str]
    """Master password (secret)."""
    secret_arn: pulumi.Output[str]
    """ARN of the Secrets Manager secret holding the connection JSON."""
    password_value_from: pulumi.Output[str]
    """The ECS `valueFrom` of the password: `<secret_arn>:password::`."""
    engine: str
    """postgresql or mysql (plain)."""
    sslmode: str
    """TLS mode clients use: require (encrypted; the RDS CA is not in the image)."""
    final_snapshot_identifier: pulumi.Output[str]
    """The snapshot RDS takes when the instance is deleted (unique to this instance)."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        v = _validate(args)
        super().__init__("mlflow-aws:index:Database", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)
        self.engine = v["engine"]
        self.sslmode = "require"
        settings = db_settings(v["engine"], v["size"])

        self.password = self._password(name)
        self.subnet_group, self.parameter_group = self._groups(name, args, settings)
        self.instance = self._instance(name, args, v, settings)
        self.secret = self._secret(name, settings, v["kms_key_arn"])

        self.host = self.instance.address
        self.port = self.instance.port
        self.name = pulumi.Output.from_input(DB_NAME)
        self.username = pulumi.Output.from_input(DB_USERNAME)
        self.secret_arn = self.secret.arn
        self.final_snapshot_identifier = self.instance.final_snapshot_identifier.apply(
            lambda snapshot: snapshot or ""
        )
        self.password_value_from = pulumi.Output.concat(self.secret.arn, ":password::")
        self.register_outputs({key: getattr(self, key) for key in OUTPUTS})

    def _password(self, name: str) -> pulumi.Output[str]:
        """The master password, generated (secret)."""
        self.random_password = random.RandomPassword(
            f"{name}-password",
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=self._child,
        )
        return pulumi.Output.secret(self.random_password.result)

    def _groups(
        self, name: str, args: DatabaseArgs, settings: DbSettings
    ) -> tuple[rds.SubnetGroup, rds.ParameterGroup]:
        """The private subnets of the instance, and the parameter group enforcing TLS."""
        tls_name, tls_value = settings[5]
        subnet_group = rds.SubnetGroup(
            f"{name}-subnets",
            subnet_ids=args["subnet_ids"],
            description="MLflow database: private subnets",
            tags=self._tags,
            opts=self._child,
        )
        parameter_group = rds.ParameterGroup(
            f"{name}-params",
            family=settings[2],
            description=f"MLflow database: TLS only ({tls_name}={tls_value})",
            parameters=[rds.ParameterGroupParameterArgs(name=tls_name, value=tls_value)],
            tags=self._tags,
            opts=self._child,
        )
        return subnet_group, parameter_group

    def _instance(
        self, name: str, args: DatabaseArgs, v: dict[str, Any], settings: DbSettings
    ) -> rds.Instance:
        """The RDS instance: private, encrypted, sized, backed up, protected."""
        rds_engine, version, _family, port, instance_class, _tls = settings
        protect = v["protect"]
        snapshot_id = self._final_snapshot_name(name)
        return rds.Instance(
            f"{name}-db",
            engine=rds_engine,
            engine_version=version,  # major pinned; minor upgrades in the maintenance window
            auto_minor_version_upgrade=True,
            instance_class=instance_class,
            # A dbSize (or storage, multi-AZ) change applies during this `pulumi up`, not in
            # the next maintenance window: the servers' pool budget for the new size rolls
            # out with the same update (the task definition waits on the instance), so the
            # pools never outgrow the instance they run against.
            apply_immediately=True,
            allocated_storage=v["storage_gb"],
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=v["kms_key_arn"],
            db_name=DB_NAME,
            username=DB_USERNAME,
            password=self.password,
            port=port,
            db_subnet_group_name=self.subnet_group.name,
            vpc_security_group_ids=[args["security_group_id"]],
            parameter_group_name=self.parameter_group.name,
            publicly_accessible=False,
            multi_az=args.get("high_availability", False),
            backup_retention_period=v["backup_days"],
            copy_tags_to_snapshot=True,
            deletion_protection=protect,
            # Always a final snapshot: turning protection off (to allow the delete) must not
            # also throw the data away. Backups are kept at least one day (see _validate).
            skip_final_snapshot=False,
            final_snapshot_identifier=snapshot_id,
            tags=self._tags,
            opts=self._child,
        )

    def _final_snapshot_name(self, name: str) -> pulumi.Output[str]:
        """`<project>-<stack>-<name>-final-<8 hex>`: the suffix is random per instance (a
        fixed name collides with the snapshot the previous teardown left: RDS then refuses
        the delete with DBSnapshotAlreadyExists)."""
        suffix = random.RandomId(f"{name}-final-snapshot", byte_length=4, opts=self._child)
        prefix = physical_name(
            pulumi.get_project(), pulumi.get_stack(), name, "final", max_length=255 - 9
        )
        return pulumi.Output.concat(prefix, "-", suffix.hex)

    def _secret(
        self, name: str, settings: DbSettings, kms_key_arn: str | None
    ) -> secretsmanager.Secret:
        """The connection in Secrets Manager, in RDS's own JSON shape."""
        rds_engine, port = settings[0], settings[3]
        secret = secretsmanager.Secret(
            f"{name}-secret",
            description="MLflow database master credentials (RDS JSON shape)",
            kms_key_id=kms_key_arn,  # None: aws/secretsmanager
            tags=self._tags,
            opts=self._child,
        )
        secretsmanager.SecretVersion(
            f"{name}-secret-value",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(
                pulumi.Output.all(self.instance.address, self.password).apply(
                    lambda values: json.dumps(
                        {
                            "engine": rds_engine,
                            "host": values[0],
                            "port": port,
                            "dbname": DB_NAME,
                            "username": DB_USERNAME,
                            "password": values[1],
                        }
                    )
                )
            ),
            opts=self._child,
        )
        return secret


OUTPUTS = (
    "host",
    "port",
    "name",
    "username",
    "password",
    "secret_arn",
    "password_value_from",
    "final_snapshot_identifier",
)
"""The outputs `Database` registers (`engine` and `sslmode` are plain attributes)."""


def _validate(args: DatabaseArgs) -> dict[str, Any]:
    """Check the plain inputs before any resource exists; return them with defaults."""
    engine = args.get("engine", "postgresql")
    size = args.get("size", "small")
    storage_gb = args.get("storage_gb", 20)
    backup_days = args.get("backup_retention_days", 7)
    if engine not in DB_ENGINES:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(DB_ENGINES)}")
    if size not in DB_INSTANCE_CLASSES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(DB_INSTANCE_CLASSES)}")
    if not 20 <= storage_gb <= 16384:
        raise ValueError(f"storage_gb: {storage_gb} is not from 20 to 16384")
    if not 1 <= backup_days <= 35:
        raise ValueError(f"backup_retention_days: {backup_days} is not from 1 to 35")
    kms_key_arn = args.get("kms_key_arn")
    check_kms_key_arn("kms_key_arn", kms_key_arn)
    for required in ("subnet_ids", "security_group_id"):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    return {
        "engine": engine,
        "size": size,
        "storage_gb": storage_gb,
        "backup_days": backup_days,
        "kms_key_arn": kms_key_arn,
        "protect": args.get("deletion_protection", True),
    }
