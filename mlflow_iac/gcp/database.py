"""`Database`: the MLflow backend store on Cloud SQL (PostgreSQL 16 or MySQL 8.4)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypedDict

import pulumi
import pulumi_random as random
from pulumi_gcp import sql

from mlflow_iac.gcp.naming import labels as gcp_labels
from mlflow_iac.gcp.secrets import SecretRef, stored_secret
from mlflow_iac.gcp.sizing import (
    DB_PORTS,
    EDITION,
    database_version,
    db_flags,
    db_tier,
    tier_problem,
    transaction_log_days,
)
from mlflow_iac.vocabulary import DB_SIZES, ENGINES

DB_NAME = "mlflow"
DB_USERNAME = "mlflow"
PASSWORD_SPECIALS = "!#$%^&*()-_=+[]{}<>:?.,~"
"""Special characters in generated passwords; the image URL-encodes whatever it gets."""


class DatabaseArgs(TypedDict, total=False):
    """Inputs of `Database`."""

    engine: str
    """postgresql (default) or mysql."""
    size: str
    """small (db-custom-1-3840, default), medium (2 vCPU) or large (4 vCPU)."""
    tier: str | None
    """An explicit Cloud SQL tier instead of `size` (db-custom-CPUS-MB; db-n1-* on MySQL)."""
    storage_gb: int
    """SSD storage in GB (grows automatically), 20 to 16384. Default 20."""
    high_availability: bool
    """A regional instance: a standby in a second zone, automatic failover. Default False."""
    backup_retention_days: int
    """Daily backups kept, 1 to 35; point-in-time recovery logs kept up to 7 days. Default 7."""
    private_network: pulumi.Input[str] | None
    """A VPC network id: private IP only (no public IP at all). None: a public IP that has no
    authorised networks, reachable only through the Cloud SQL connector (IAM + mTLS)."""
    deletion_protection: bool
    """Cloud SQL deletion protection and Pulumi's own. Default True."""
    tags: Mapping[str, str]
    """User labels."""


class Database(pulumi.ComponentResource):
    """A Cloud SQL instance for MLflow's tracking store: Enterprise edition, SSL required
    (`ENCRYPTED_ONLY`), no authorised networks, automated backups with point-in-time
    recovery, a database and a user with a generated password kept in Secret Manager.

    Children: RandomPassword (user; and root on MySQL), DatabaseInstance, Database, User,
    Secret + SecretVersion (the user's password).
    """

    host: pulumi.Output[str]
    """The private IP with a private network, else the Cloud Run socket path
    /cloudsql/<connection name>."""
    port: pulumi.Output[int]
    """5432 PostgreSQL, 3306 MySQL."""
    name: pulumi.Output[str]
    """Database name."""
    username: pulumi.Output[str]
    """The MLflow user."""
    password: pulumi.Output[str]
    """The MLflow user's password (secret)."""
    connection_name: pulumi.Output[str]
    """PROJECT:REGION:INSTANCE, what Cloud Run's Cloud SQL connection names."""
    instance_name: pulumi.Output[str]
    """The instance's name (what IAM conditions name)."""
    password_secret: SecretRef
    """The Secret Manager secret holding the password."""
    engine: str
    """postgresql or mysql (plain)."""
    tier: str
    """The Cloud SQL tier (plain)."""
    private: bool
    """True with a private network (plain)."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        engine, tier, storage_gb, backup_days = _validate(args)
        labels = gcp_labels(dict(args.get("tags") or {}))
        super().__init__("mlflow-gcp:index:Database", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.engine, self.private = engine, args.get("private_network") is not None
        self.tier = tier

        password = self._password(f"{name}-password", child)
        self.instance = self._instance(
            name,
            args=args,
            tier=tier,
            storage_gb=storage_gb,
            backup_days=backup_days,
            labels=labels,
        )
        self.database, self.user = self._database_and_user(name, password, child)
        self.password_secret = stored_secret(f"{name}-password", password, labels, child)

        self.connection_name = self.instance.connection_name
        self.instance_name = self.instance.name
        self.host = (
            self.instance.private_ip_address
            if self.private
            else pulumi.Output.concat("/cloudsql/", self.instance.connection_name)
        )
        self.port = pulumi.Output.from_input(DB_PORTS[engine])
        self.name = self.database.name
        self.username = self.user.name
        self.password = password
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "name": self.name,
                "username": self.username,
                "password": self.password,
                "connection_name": self.connection_name,
                "instance_name": self.instance_name,
            }
        )

    def _database_and_user(
        self, name: str, password: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> tuple[sql.Database, sql.User]:
        mysql = self.engine == "mysql"
        database = sql.Database(
            f"{name}-database",
            instance=self.instance.name,
            name=DB_NAME,
            charset="utf8mb4" if mysql else "UTF8",
            collation="utf8mb4_0900_ai_ci" if mysql else None,
            opts=child,
        )
        user = sql.User(
            f"{name}-user",
            instance=self.instance.name,
            name=DB_USERNAME,
            password=password,
            host="%" if mysql else None,
            # PostgreSQL cannot drop a role that owns MLflow's tables; the instance goes anyway.
            deletion_policy=None if mysql else "ABANDON",
            opts=child,
        )
        return database, user

    def _password(self, name: str, child: pulumi.ResourceOptions) -> pulumi.Output[str]:
        generated = random.RandomPassword(
            name,
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=child,
        )
        return pulumi.Output.secret(generated.result)

    def _instance(
        self,
        name: str,
        *,
        args: DatabaseArgs,
        tier: str,
        storage_gb: int,
        backup_days: int,
        labels: dict[str, str],
    ) -> sql.DatabaseInstance:
        protect = args.get("deletion_protection", True)
        mysql = self.engine == "mysql"
        # MySQL creates root@% without a password unless given one: give it one nobody uses.
        root_password = (
            self._password(f"{name}-root-password", pulumi.ResourceOptions(parent=self))
            if mysql
            else None
        )
        return sql.DatabaseInstance(
            f"{name}-instance",
            database_version=database_version(self.engine),
            root_password=root_password,
            deletion_protection=protect,
            settings={
                "tier": tier,
                "edition": EDITION,
                "availability_type": "REGIONAL" if args.get("high_availability") else "ZONAL",
                "disk_type": "PD_SSD",
                "disk_size": storage_gb,
                "disk_autoresize": True,
                "deletion_protection_enabled": protect,
                "user_labels": labels,
                "database_flags": [
                    {"name": k, "value": v} for k, v in db_flags(self.engine, tier).items()
                ],
                "ip_configuration": {
                    "ipv4_enabled": not self.private,
                    "private_network": args.get("private_network"),
                    "ssl_mode": "ENCRYPTED_ONLY",
                    "authorized_networks": [],
                },
                "backup_configuration": {
                    "enabled": True,
                    "start_time": "02:00",
                    "point_in_time_recovery_enabled": None if mysql else True,
                    "binary_log_enabled": True if mysql else None,
                    "transaction_log_retention_days": transaction_log_days(backup_days),
                    "backup_retention_settings": {
                        "retained_backups": backup_days,
                        "retention_unit": "COUNT",
                    },
                },
                "maintenance_window": {"day": 7, "hour": 3, "update_track": "stable"},
                "insights_config": {"query_insights_enabled": True},
            },
            opts=pulumi.ResourceOptions(parent=self),
        )


def _validate(args: DatabaseArgs) -> tuple[str, str, int, int]:
    """(engine, tier, storage_gb, backup_days), checked before any resource is registered."""
    engine, size = args.get("engine", "postgresql"), args.get("size", "small")
    if engine not in ENGINES:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    if size not in DB_SIZES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(DB_SIZES)}")
    tier = args.get("tier") or db_tier(size)
    problem = tier_problem(engine, tier)
    if problem:
        raise ValueError(f"tier: {tier!r} with {engine}; allowed: {problem}")
    storage_gb = args.get("storage_gb", 20)
    if not 20 <= storage_gb <= 16384:
        raise ValueError(f"storage_gb: {storage_gb} is not from 20 to 16384")
    backup_days = args.get("backup_retention_days", 7)
    if not 1 <= backup_days <= 35:
        raise ValueError(f"backup_retention_days: {backup_days} is not from 1 to 35")
    return engine, tier, storage_gb, backup_days
