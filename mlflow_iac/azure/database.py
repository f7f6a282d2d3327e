"""`Database`: a private Azure Database for PostgreSQL (or MySQL) Flexible Server."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Required, TypedDict

import pulumi
import pulumi_random as random
from pulumi_azure_native import authorization, dbformysql, dbforpostgresql

from mlflow_iac.azure._vault import vault_secret
from mlflow_iac.azure.sizing import (
    DB_PORTS,
    DB_TLS_PARAMETER,
    DB_VERSIONS,
    backup_retention_problem,
    db_sku,
    db_storage_gb,
    high_availability_problem,
)

DB_NAME = "mlflow"
DB_USERNAME = "mlflow"
"""The server's administrator login, which MLflow uses (Azure refuses admin, root, azure_*)."""
PASSWORD_SPECIALS = "!#$%^&*()-_=+[]{}<>:?.,~"
"""Specials in the generated password; the image URL-encodes whatever it gets."""
SECRET_NAME = "db-password"
_ENGINES: dict[str, Any] = {"postgresql": dbforpostgresql, "mysql": dbformysql}


class DatabaseArgs(TypedDict, total=False):
    """Inputs of `Database`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group. Required."""
    location: Required[str]
    """Azure region. Required."""
    subnet_id: Required[pulumi.Input[str]]
    """Subnet delegated to the engine's Flexible Server. Required."""
    private_dns_zone_id: Required[pulumi.Input[str]]
    """Private DNS zone linked to the VNet. Required."""
    vault_name: Required[pulumi.Input[str]]
    """Key Vault that keeps the password. Required."""
    reader_principal_id: Required[pulumi.Input[str]]
    """Principal (the server's identity) allowed to read the password secret. Required."""
    subscription_id: Required[pulumi.Input[str]]
    """Subscription of the role definitions. Required."""
    engine: str
    """postgresql (default) or mysql."""
    size: str
    """small (burstable, default), medium or large (general purpose)."""
    storage_gb: int
    """Disk in GB, 20 to 16384 (PostgreSQL rounds up to its next size). Default 20."""
    high_availability: bool
    """Zone-redundant standby (not on small). Default False."""
    backup_retention_days: int
    """Backups: 7 to 35 days (PostgreSQL), 1 to 35 (MySQL). Default 7."""
    deletion_protection: bool
    """A CanNotDelete lock and Pulumi `protect` on the server. Default True."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Database(pulumi.ComponentResource):
    """MLflow's backend store: a Flexible Server reachable only inside the VNet.

    Private access (VNet integration: a delegated subnet and a private DNS zone, no public
    endpoint, no firewall rule), TLS required by the server parameter `require_secure_transport`, a
    database `mlflow`, and the administrator login `mlflow` with a generated password kept
    in Key Vault (the server's identity may read that secret only). Azure creates no other
    login from ARM, so MLflow uses the administrator login, as on RDS.

    Children: RandomPassword, Server, Configuration (TLS), Database, Secret + RoleAssignment,
    ManagementLockByScope (deletion protection).
    """

    host: pulumi.Output[str]
    """Private FQDN of the server."""
    port: pulumi.Output[int]
    """5432 (PostgreSQL) or 3306 (MySQL)."""
    name: pulumi.Output[str]
    """Database name."""
    username: pulumi.Output[str]
    """Login MLflow uses."""
    password: pulumi.Output[str]
    """The login's password (secret)."""
    secret_uri: pulumi.Output[str]
    """Versionless Key Vault URI of the password secret (what the Container App references)."""
    secret_read_grant: authorization.RoleAssignment
    """The identity's read grant on the secret (the app waits for it)."""
    engine: str
    """postgresql or mysql (plain)."""
    sslmode: str
    """TLS mode of the server's clients: require (Azure's CA is not in the image)."""

    def __init__(
        self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.engine, size = _validate(args)
        super().__init__("mlflow-azure:index:Database", name, None, opts)
        self._name, self._args = name, args
        self._tags = dict(args.get("tags") or {})
        self.sslmode = "require"
        self.random_password = random.RandomPassword(
            f"{name}-password",
            length=32,
            special=True,
            override_special=PASSWORD_SPECIALS,
            min_lower=1,
            min_upper=1,
            min_numeric=1,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.password = pulumi.Output.secret(self.random_password.result)
        self.server = self._server(size)
        self._tls_and_database()
        if args.get("deletion_protection", True):
            self._delete_lock()
        secret, self.secret_read_grant = vault_secret(
            self,
            f"{name}-password-secret",
            resource_group_name=args["resource_group_name"],
            vault_name=args["vault_name"],
            secret_name=SECRET_NAME,
            value=self.password,
            reader_principal_id=args["reader_principal_id"],
            subscription_id=args["subscription_id"],
            tags=self._tags,
        )
        self.secret_uri = secret.properties.secret_uri
        self.host = self.server.fully_qualified_domain_name.apply(lambda h: h or "")
        self.port = pulumi.Output.from_input(DB_PORTS[self.engine])
        self.name = pulumi.Output.from_input(DB_NAME)
        self.username = pulumi.Output.from_input(DB_USERNAME)
        self.register_outputs(
            {
                "host": self.host,
                "port": self.port,
                "name": self.name,
                "username": self.username,
                "password": self.password,
                "secret_uri": self.secret_uri,
            }
        )

    def _server(self, size: str) -> Any:
        """The Flexible Server: private, sized, backed up, optionally zone-redundant."""
        args, sdk = self._args, _ENGINES[self.engine]
        sku_name, tier = db_sku(self.engine, size)
        # VNet integration (a delegated subnet) gives the server no public endpoint at all;
        # Azure reports publicNetworkAccess Disabled and refuses the field on such a server.
        network: dict[str, Any] = {"delegated_subnet_resource_id": args["subnet_id"]}
        # The two APIs name the zone field differently.
        zone_field = (
            "private_dns_zone_arm_resource_id"
            if self.engine == "postgresql"
            else "private_dns_zone_resource_id"
        )
        network[zone_field] = args["private_dns_zone_id"]
        ha = args.get("high_availability", False)
        storage: dict[str, Any] = {
            "storage_size_gb": db_storage_gb(self.engine, args.get("storage_gb", 20)),
            "auto_grow": "Enabled",
        }
        return sdk.Server(
            f"{self._name}-server",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            version=DB_VERSIONS[self.engine],
            sku={"name": sku_name, "tier": tier},
            administrator_login=DB_USERNAME,
            administrator_login_password=self.password,
            network=network,
            storage=storage,
            backup={
                "backup_retention_days": args.get("backup_retention_days", 7),
                "geo_redundant_backup": "Disabled",
            },
            high_availability={"mode": "ZoneRedundant" if ha else "Disabled"},
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=args.get("deletion_protection", True)),
        )

    def _tls_and_database(self) -> None:
        """TLS required by the server, and MLflow's database."""
        args, sdk = self._args, _ENGINES[self.engine]
        child = pulumi.ResourceOptions(parent=self)
        parameter, value = DB_TLS_PARAMETER[self.engine]
        sdk.Configuration(
            f"{self._name}-tls",
            resource_group_name=args["resource_group_name"],
            server_name=self.server.name,
            configuration_name=parameter,
            value=value,
            source="user-override",
            opts=child,
        )
        charset, collation = (
            ("UTF8", "en_US.utf8") if self.engine == "postgresql" else ("utf8mb4", "utf8mb4_bin")
        )
        sdk.Database(
            f"{self._name}-mlflow",
            resource_group_name=args["resource_group_name"],
            server_name=self.server.name,
            database_name=DB_NAME,
            charset=charset,
            collation=collation,
            opts=child,
        )

    def _delete_lock(self) -> None:
        """CanNotDelete on the server: deleting it (portal, CLI or Pulumi) fails until the lock
        is removed on purpose."""
        authorization.ManagementLockByScope(
            f"{self._name}-lock",
            scope=self.server.id,
            level="CanNotDelete",
            notes="MLflow backend store: remove this lock to delete the server.",
            opts=pulumi.ResourceOptions(parent=self),
        )


def _validate(args: DatabaseArgs) -> tuple[str, str]:
    for required in (
        "resource_group_name",
        "location",
        "subnet_id",
        "private_dns_zone_id",
        "vault_name",
        "reader_principal_id",
        "subscription_id",
    ):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    engine, size = args.get("engine", "postgresql"), args.get("size", "small")
    db_sku(engine, size)  # raises on an unknown engine or size
    db_storage_gb(engine, args.get("storage_gb", 20))
    problem = high_availability_problem(engine, size, args.get("high_availability", False))
    if problem:
        raise ValueError(f"high_availability: needs size {problem}")
    days = args.get("backup_retention_days", 7)
    problem = backup_retention_problem(engine, days)
    if problem:
        raise ValueError(f"backup_retention_days: {days} is not {problem}")
    return engine, size
