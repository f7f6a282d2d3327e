"""`MlflowServer`: the Azure deployment of one MLflow scenario, wired from the components.

The component package `mlflow-azure` (provider/, `mlflow_iac.plugin`) builds its schema from
`MlflowServerArgs` and the output annotations at run time, so this module keeps real
annotations (no `from __future__ import annotations`) and types only the analyzer accepts:
scalars, `Sequence[str]`, `Mapping[str, ...]`, `X | None`, `pulumi.Input`/`pulumi.Output`.
"""

from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_random as random
from pulumi_azure_native import resources

from mlflow_iac.azure.bucket import ArtifactBucket, ArtifactBucketArgs
from mlflow_iac.azure.database import Database
from mlflow_iac.azure.identity import Identity
from mlflow_iac.azure.network import Network
from mlflow_iac.azure.service import Service, ServiceArgs
from mlflow_iac.azure.sizing import (
    backup_retention_problem,
    container_memory,
    db_pool,
    db_sku,
    db_storage_gb,
    high_availability_problem,
    log_retention_problem,
    server_workers,
)
from mlflow_iac.db_pool import server_engines
from mlflow_iac.environment import DatabaseEndpoint
from mlflow_iac.limits import DEFAULT_MAX_UPLOAD_MB, container_apps_spool_mb
from mlflow_iac.vocabulary import CLOUD_SCENARIOS, ENGINES


class MlflowServerArgs(TypedDict, total=False):
    """Inputs of `MlflowServer`: the stack config, flattened. All plain values but the
    admin password."""

    location: Required[str]
    """Azure region (`azure-native:location`). Required."""
    resource_group_name: str | None
    """An existing resource group; None (default): a new one."""
    scenario: str
    """direct (4), proxied (5, default) or artifacts-only (6)."""
    db_engine: str
    """postgresql (default) or mysql; direct and proxied only."""
    db_size: str
    """small (default), medium or large."""
    db_storage_gb: int
    """Database disk in GB. Default 20 (PostgreSQL: 32, its smallest)."""
    db_high_availability: bool
    """Zone-redundant HA (medium, large). Default False."""
    db_backup_retention_days: int
    """Backup retention in days. Default 7."""
    auth_enabled: bool
    """MLflow basic-auth (not with artifacts-only). Default True except artifacts-only."""
    admin_username: str
    """The basic-auth admin. Default admin."""
    admin_password: pulumi.Input[str] | None
    """The admin password (secret); None: generated (RandomPassword)."""
    default_permission: str
    """Permission on experiments a user was not granted. Default NO_PERMISSIONS."""
    min_replicas: int
    """Replicas at deploy time and scale lower bound. Default 2."""
    max_replicas: int
    """Scale upper bound. Default max(4, min_replicas)."""
    cpu: float
    """vCPU per replica. Default 1."""
    memory_mb: int
    """Memory per replica in MB (2048 per vCPU). Default 2048."""
    max_upload_mb: int | None
    """Largest proxied upload (MB), ARTIFACT_MAX_UPLOAD_MB: it must fit the replica's
    ephemeral storage less 512 MB (the spool). Default 1024, at most the spool; None with
    direct."""
    allowed_hosts: Sequence[str]
    """Extra Host header values MLflow accepts."""
    allowed_cidrs: Sequence[str]
    """CIDRs admitted by the ingress. Default ["0.0.0.0/0"]."""
    log_retention_days: int
    """Log retention in days, 30 to 730. Default 30."""
    artifact_versioning: bool
    """Blob versioning. Default True."""
    artifact_noncurrent_days: int
    """Days before previous blob versions are deleted. Default 30."""
    client_principal_ids: Sequence[str]
    """direct only: Entra object ids with read/write on the artifact container."""
    client_account_key: bool
    """direct only: allow shared keys and export the account key. Default False."""
    vnet_cidr: str
    """CIDR of a new VNet. Default 10.0.0.0/16."""
    apps_subnet_id: str | None
    """An existing Container Apps subnet instead of a new VNet."""
    db_subnet_id: str | None
    """An existing Flexible Server subnet (with apps_subnet_id and a database)."""
    deletion_protection: bool
    """Locks, Pulumi `protect` and vault purge protection. Default True."""
    image_context: str
    """Docker build context of the mlflow-server image. Default: the context packaged with
    mlflow-iac (`mlflow_iac.image.default_context()`)."""
    image: str | None
    """A prebuilt image reference instead of building one."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class MlflowServer(pulumi.ComponentResource):
    """An MLflow tracking server on Azure for scenario direct, proxied or artifacts-only.

    Children: ResourceGroup (unless given), RandomString (suffix of the globally unique
    names), `Network`, `ArtifactBucket`, `Identity`, `Database` (not artifacts-only),
    `Service`, and a RandomPassword for the admin when auth is on and none is given.
    """

    url: pulumi.Output[str]
    """Tracking URI clients use (https://<app FQDN>)."""
    fqdn: pulumi.Output[str]
    """The Container App's FQDN."""
    artifact_location: pulumi.Output[str]
    """wasbs:// URI of the artifact container."""
    resource_group_name: pulumi.Output[str]
    """The resource group holding everything."""
    storage_account_name: pulumi.Output[str]
    """The artifact storage account."""
    artifact_container_id: pulumi.Output[str]
    """Resource id of the artifact container (grant more principals on it)."""
    identity_client_id: pulumi.Output[str]
    """Client id of the server's managed identity."""
    vault_name: pulumi.Output[str]
    """The Key Vault holding the server's secrets."""
    database_secret_uri: pulumi.Output[str | None]
    """Key Vault URI of the database password (None for artifacts-only)."""
    admin_username: pulumi.Output[str | None]
    """The basic-auth admin (None without auth)."""
    admin_password: pulumi.Output[str | None]
    """The admin password (secret; None without auth)."""
    admin_password_secret_uri: pulumi.Output[str | None]
    """Key Vault URI of the admin password (None without auth)."""
    flask_secret_key_secret_uri: pulumi.Output[str | None]
    """Key Vault URI of the Flask key (None without auth)."""
    client_account_key: pulumi.Output[str | None]
    """direct with an account key: the key (secret)."""

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        scenario, engine, auth = _validate(args)
        super().__init__("mlflow-azure:index:MlflowServer", name, None, opts)
        self._name, self._args = name, args
        self._tags = dict(args.get("tags") or {})
        self._deletion_protection = bool(args.get("deletion_protection", True))
        self.resource_group_name = self._resource_group()
        # One random suffix for the globally unique names (account, vault, registry, zone).
        self.suffix = random.RandomString(
            f"{name}-suffix", length=8, special=False, upper=False, opts=self._child()
        ).result
        self.network = self._network(engine)
        self.bucket = self._bucket(scenario)
        self.identity = self._identity(scenario)
        self.database = self._database(engine) if engine else None
        admin_password = self._admin_password() if auth else None
        self.service = self._service(scenario, auth, admin_password)
        self._expose(auth, admin_password)

    def _child(self) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self)

    def _resource_group(self) -> pulumi.Output[str]:
        existing = self._args.get("resource_group_name")
        if existing:
            return pulumi.Output.from_input(existing)
        group = resources.ResourceGroup(
            f"{self._name}-rg",
            location=self._args["location"],
            tags=self._tags,
            opts=self._child(),
        )
        return group.name

    def _network(self, engine: str | None) -> Network:
        a = self._args
        return Network(
            f"{self._name}-net",
            {
                "resource_group_name": self.resource_group_name,
                "location": a["location"],
                "name_suffix": self.suffix,
                "vnet_cidr": a.get("vnet_cidr", "10.0.0.0/16"),
                "apps_subnet_id": a.get("apps_subnet_id"),
                "db_subnet_id": a.get("db_subnet_id"),
                "database_engine": engine,
                "tags": self._tags,
            },
            opts=self._child(),
        )

    def _bucket(self, scenario: str) -> ArtifactBucket:
        a = self._args
        bucket_args: ArtifactBucketArgs = {
            "resource_group_name": self.resource_group_name,
            "location": a["location"],
            "name_suffix": self.suffix,
            "shared_key_access": scenario == "direct" and bool(a.get("client_account_key")),
            "versioning": a.get("artifact_versioning", True),
            "noncurrent_version_days": a.get("artifact_noncurrent_days", 30),
            "deletion_protection": self._deletion_protection,
            "tags": self._tags,
        }
        return ArtifactBucket(f"{self._name}-artifacts", bucket_args, opts=self._child())

    def _identity(self, scenario: str) -> Identity:
        a = self._args
        return Identity(
            f"{self._name}-identity",
            {
                "resource_group_name": self.resource_group_name,
                "location": a["location"],
                "name_suffix": self.suffix,
                "scenario": scenario,
                "storage_account_id": self.bucket.account_id,
                "storage_account_name": self.bucket.account_name,
                "container_id": self.bucket.container_id,
                "client_principal_ids": a.get("client_principal_ids", ()),
                "client_account_key": bool(a.get("client_account_key")),
                "deletion_protection": self._deletion_protection,
                "tags": self._tags,
            },
            opts=self._child(),
        )

    def _database(self, engine: str) -> Database:
        a, net = self._args, self.network
        return Database(
            f"{self._name}-db",
            {
                "resource_group_name": self.resource_group_name,
                "location": a["location"],
                "subnet_id": net.db_subnet_id.apply(lambda i: i or ""),
                "private_dns_zone_id": net.private_dns_zone_id.apply(lambda i: i or ""),
                "vault_name": self.identity.vault_name,
                "reader_principal_id": self.identity.principal_id,
                "subscription_id": self.identity.subscription_id,
                "engine": engine,
                "size": a.get("db_size", "small"),
                "storage_gb": a.get("db_storage_gb", 20),
                "high_availability": bool(a.get("db_high_availability")),
                "backup_retention_days": a.get("db_backup_retention_days", 7),
                "deletion_protection": self._deletion_protection,
                "tags": self._tags,
            },
            opts=self._child(),
        )

    def _admin_password(self) -> pulumi.Output[str]:
        given = self._args.get("admin_password")
        if given is None:
            given = random.RandomPassword(
                f"{self._name}-admin-password",
                length=24,
                special=True,
                override_special="-_.~!#%^*",
                min_lower=1,
                min_upper=1,
                min_numeric=1,
                opts=self._child(),
            ).result
        return pulumi.Output.secret(given)

    def _service(
        self, scenario: str, auth: bool, admin_password: pulumi.Output[str] | None
    ) -> Service:
        a, db, ident = self._args, self.database, self.identity
        endpoint = (
            DatabaseEndpoint(
                engine=db.engine,
                host=db.host,
                port=db.port,
                name=db.name,
                username=db.username,
                password=db.password,
                sslmode=db.sslmode,
            )
            if db
            else None
        )
        min_replicas = a.get("min_replicas", 2)
        service_args: ServiceArgs = {
            "scenario": scenario,
            "resource_group_name": self.resource_group_name,
            "location": a["location"],
            "name_suffix": self.suffix,
            "apps_subnet_id": self.network.apps_subnet_id,
            "identity_id": ident.identity_id,
            "identity_client_id": ident.client_id,
            "identity_principal_id": ident.principal_id,
            "vault_name": ident.vault_name,
            "subscription_id": ident.subscription_id,
            "artifact_url": self.bucket.uri,
            "database": endpoint,
            "database_password_secret_uri": db.secret_uri if db else None,
            "database_size": a.get("db_size", "small") if db else None,
            "wait_for": [*ident.storage_grants, *([db.secret_read_grant] if db else [])],
            "auth_enabled": auth,
            "admin_username": a.get("admin_username", "admin"),
            "admin_password": admin_password,
            "default_permission": a.get("default_permission", "NO_PERMISSIONS"),
            "allowed_hosts": a.get("allowed_hosts", ()),
            "allowed_cidrs": a.get("allowed_cidrs", ("0.0.0.0/0",)),
            "min_replicas": min_replicas,
            "max_replicas": a.get("max_replicas", max(4, min_replicas)),
            "cpu": a.get("cpu", 1.0),
            "memory_mb": a.get("memory_mb", 2048),
            "max_upload_mb": (
                None
                if a.get("scenario") == "direct"
                else a.get(
                    "max_upload_mb",
                    min(
                        DEFAULT_MAX_UPLOAD_MB["azure"],
                        container_apps_spool_mb(float(a.get("cpu", 1.0))),
                    ),
                )
            ),
            "log_retention_days": a.get("log_retention_days", 30),
            "tags": self._tags,
        }
        if a.get("image"):
            service_args["image"] = a.get("image")
        else:
            service_args["image_context"] = a.get("image_context") or ""
        return Service(f"{self._name}-server", service_args, opts=self._child())

    def _expose(self, auth: bool, admin_password: pulumi.Output[str] | None) -> None:
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.url = self.service.url
        self.fqdn = self.service.fqdn
        self.artifact_location = self.bucket.uri
        self.storage_account_name = self.bucket.account_name
        self.artifact_container_id = self.bucket.container_id
        self.identity_client_id = self.identity.client_id
        self.vault_name = self.identity.vault_name
        self.database_secret_uri = self.database.secret_uri if self.database else none
        username = self._args.get("admin_username", "admin")
        self.admin_username = pulumi.Output.from_input(username) if auth else none
        self.admin_password = admin_password if admin_password is not None else none
        self.admin_password_secret_uri = self.service.admin_password_secret_uri
        self.flask_secret_key_secret_uri = self.service.flask_secret_key_secret_uri
        self.client_account_key = self.identity.client_account_key
        self.register_outputs(
            {
                "url": self.url,
                "fqdn": self.fqdn,
                "artifact_location": self.artifact_location,
                "resource_group_name": self.resource_group_name,
                "storage_account_name": self.storage_account_name,
                "artifact_container_id": self.artifact_container_id,
                "identity_client_id": self.identity_client_id,
                "vault_name": self.vault_name,
                "database_secret_uri": self.database_secret_uri,
                "admin_username": self.admin_username,
                "admin_password": self.admin_password,
                "admin_password_secret_uri": self.admin_password_secret_uri,
                "flask_secret_key_secret_uri": self.flask_secret_key_secret_uri,
                "client_account_key": self.client_account_key,
            }
        )


def _validate(args: MlflowServerArgs) -> tuple[str, str | None, bool]:
    """(scenario, engine or None, auth) after checking what decides the graph."""
    if not args.get("location"):
        raise ValueError("location: required (the azure-native:location region)")
    scenario = args.get("scenario", "proxied")
    if scenario not in CLOUD_SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(CLOUD_SCENARIOS)}")
    has_database = scenario != "artifacts-only"
    engine = args.get("db_engine", "postgresql")
    if engine not in ENGINES:
        raise ValueError(f"db_engine: {engine!r} is not one of {', '.join(ENGINES)}")
    auth = args.get("auth_enabled", has_database)
    if auth and not has_database:
        raise ValueError("auth_enabled: basic-auth needs a tracking server, not artifacts-only")
    # What the children would refuse, refused here: no half-built server.
    if has_database:
        size = args.get("db_size", "small")
        db_sku(engine, size)
        db_storage_gb(engine, args.get("db_storage_gb", 20))
        min_replicas = args.get("min_replicas", 2)
        workers = server_workers(float(args.get("cpu", 1.0)), args.get("memory_mb", 2048))
        engines = server_engines(backend_store=True, auth_tables=auth)
        db_pool(engine, size, args.get("max_replicas", max(4, min_replicas)), workers, engines)
        problem = high_availability_problem(engine, size, args.get("db_high_availability", False))
        if problem:
            raise ValueError(f"db_high_availability: needs db_size {problem}")
        days = args.get("db_backup_retention_days", 7)
        problem = backup_retention_problem(engine, days)
        if problem:
            raise ValueError(f"db_backup_retention_days: {days} is not {problem}")
    container_memory(float(args.get("cpu", 1.0)), args.get("memory_mb", 2048))
    days = args.get("log_retention_days", 30)
    problem = log_retention_problem(days)
    if problem:
        raise ValueError(f"log_retention_days: {days} is not {problem}")
    return scenario, engine if has_database else None, auth
