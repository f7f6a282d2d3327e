"""`Service`: the mlflow-server image on Azure Container Apps, in a VNet-integrated
environment, running as the managed identity, with Key Vault secret references."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_docker_build as docker_build
import pulumi_random as random
from pulumi_azure_native import app, authorization, containerregistry, operationalinsights

from mlflow_iac.azure._vault import vault_secret
from mlflow_iac.azure.naming import (
    app_fqdn,
    container_app_name,
    registry_name,
    secret_name,
)
from mlflow_iac.azure.roles import ACR_PULL, role_definition_id
from mlflow_iac.azure.sizing import (
    concurrent_requests,
    container_memory,
    db_pool,
    log_retention_problem,
    server_workers,
)
from mlflow_iac.db_pool import server_engines
from mlflow_iac.environment import DEFAULT_PORT, DatabaseEndpoint, server_environment
from mlflow_iac.image import build_context, context_digest
from mlflow_iac.limits import (
    CONTAINER_APPS_GRACE_MAX,
    DEFAULT_SHUTDOWN_SECONDS,
    SPOOL_DIR,
    container_apps_spool_mb,
    stop_timeout_seconds,
    upload_limit_problem,
)
from mlflow_iac.vocabulary import CLOUD_SCENARIOS

CONTAINER_NAME = "mlflow"
IMAGE_REPOSITORY = "mlflow-server"
WORKLOAD_PROFILE = "Consumption"
SPOOL_VOLUME = "spool"
"""EmptyDir volume (the replica's ephemeral storage) of the proxied uploads' spool."""
STARTUP_SECONDS = 300
"""The startup probe's budget (30 s x 10): the first replica on an empty database migrates."""


class ServiceArgs(TypedDict, total=False):
    """Inputs of `Service`. Fields that decide which resources exist are plain values."""

    scenario: Required[str]
    """direct, proxied or artifacts-only. Required."""
    resource_group_name: Required[pulumi.Input[str]]
    """Resource group. Required."""
    location: Required[str]
    """Azure region. Required."""
    name_suffix: Required[pulumi.Input[str]]
    """Random per-stack suffix of the registry's globally unique name. Required."""
    apps_subnet_id: Required[pulumi.Input[str]]
    """Subnet delegated to Microsoft.App/environments. Required."""
    identity_id: Required[pulumi.Input[str]]
    """The server's user-assigned identity (app identity, registry pull, secret references)."""
    identity_client_id: Required[pulumi.Input[str]]
    """Its client id: AZURE_CLIENT_ID, so DefaultAzureCredential picks that identity."""
    identity_principal_id: Required[pulumi.Input[str]]
    """Its object id: AcrPull and the secrets' read grants."""
    vault_name: Required[pulumi.Input[str]]
    """Key Vault for the admin password and the Flask key. Required."""
    subscription_id: Required[pulumi.Input[str]]
    """Subscription of the role definitions. Required."""
    artifact_url: Required[pulumi.Input[str]]
    """wasbs:// URI of the artifact container. Required."""
    database: DatabaseEndpoint | None
    """The backend store (direct, proxied); None for artifacts-only."""
    database_password_secret_uri: pulumi.Input[str] | None
    """Key Vault URI of the database password (with `database`)."""
    database_size: str | None
    """small, medium or large (with `database`): the servers' pools are budgeted against its
    connection limit at `max_replicas` (`sizing.db_pool`). None: the image's defaults."""
    wait_for: Sequence[pulumi.Resource]
    """Role assignments the first revision needs (storage data, database secret read)."""
    auth_enabled: bool
    """Run MLflow's basic-auth app. Default False."""
    admin_username: str
    """The basic-auth admin user. Default admin."""
    admin_password: pulumi.Input[str] | None
    """The admin password (secret), stored in Key Vault; required with auth."""
    default_permission: str
    """Permission on experiments a user was not granted. Default NO_PERMISSIONS."""
    allowed_hosts: Sequence[str]
    """Extra Host header values MLflow accepts (beyond the app's FQDN)."""
    allowed_cidrs: Sequence[str]
    """IPv4 CIDRs admitted by the ingress. Default ["0.0.0.0/0"]."""
    min_replicas: int
    """Scale lower bound (also the replicas at deploy time). Default 2."""
    max_replicas: int
    """Scale upper bound. Default max(4, min_replicas)."""
    cpu: float
    """vCPU per replica: 0.25, 0.5, 1, 2 or 4. Default 1."""
    memory_mb: int
    """Memory per replica: exactly 2048 MB per vCPU on Container Apps. Default 2048."""
    max_upload_mb: int | None
    """Largest proxied upload (MB), ARTIFACT_MAX_UPLOAD_MB: must fit the spool, an EmptyDir
    on the replica's ephemeral storage (1, 2, 4 or 8 GiB by vCPU, less 512 MB). None: no
    check (and none with direct)."""
    log_retention_days: int
    """Log Analytics retention, 30 to 730. Default 30."""
    image_context: str
    """Docker build context of the mlflow-server image, built and pushed to a new registry.
    Default: the context packaged with mlflow-iac (`mlflow_iac.image.default_context()`).
    Not with `image`."""
    image: str | None
    """A prebuilt image reference instead (no registry, no build)."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Service(pulumi.ComponentResource):
    """The MLflow server as a Container App.

    The environment is VNet-integrated (workload profiles, Consumption) with logs in a Log
    Analytics workspace. The app runs as the user-assigned identity: it pulls the image with
    `AcrPull` on the registry, reads its secrets as Key Vault references (the Container Apps
    secret holds the secret's URI and the identity, never the value), and reaches Blob
    Storage through `DefaultAzureCredential` (`AZURE_CLIENT_ID`). The container environment
    comes from `mlflow_iac.environment.server_environment`: `plain` becomes `env` values,
    `secrets` becomes `env` entries with a `secretRef`. `PUBLIC_HOSTNAMES` carries the app's
    FQDN (its name under the environment's default domain), known before the app exists.
    Ingress is external, HTTPS only, limited to `allowed_cidrs`; probes hit `/health`;
    replicas scale on concurrent HTTP requests between `min_replicas` and `max_replicas`.

    Children: Registry + RoleAssignment (AcrPull) + Image (when building); Workspace,
    ManagedEnvironment, RandomPassword (Flask key) and Secret + RoleAssignment per secret
    (with auth), ContainerApp.
    """

    url: pulumi.Output[str]
    """https://<app FQDN>."""
    fqdn: pulumi.Output[str]
    """The app's FQDN."""
    admin_password_secret_uri: pulumi.Output[str | None]
    """Key Vault URI of the admin password (with auth)."""
    flask_secret_key_secret_uri: pulumi.Output[str | None]
    """Key Vault URI of the Flask session key (with auth)."""
    image_ref: pulumi.Output[str]
    """The image the app runs (registry/repository@digest when built here)."""

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        s = _validate(args)
        super().__init__("mlflow-azure:index:Service", name, None, opts)
        self._name, self._args, self._s = name, args, s
        self._tags = dict(args.get("tags") or {})
        self._waits: list[pulumi.Resource] = list(args.get("wait_for") or ())
        self.registry: containerregistry.Registry | None = None
        self.image_ref = self._image()
        self.environment = self._managed_environment()
        self.app_name = container_app_name(pulumi.get_project(), pulumi.get_stack())
        self.fqdn = self.environment.default_domain.apply(
            lambda domain: app_fqdn(self.app_name, domain)
        )
        env = self._container_environment()
        secret_refs = self._secrets(env.secrets)
        self.app = self._container_app(env.plain, secret_refs)
        self.url = pulumi.Output.concat("https://", self.fqdn)
        self.register_outputs(
            {
                "url": self.url,
                "fqdn": self.fqdn,
                "admin_password_secret_uri": self.admin_password_secret_uri,
                "flask_secret_key_secret_uri": self.flask_secret_key_secret_uri,
                "image_ref": self.image_ref,
            }
        )

    def _image(self) -> pulumi.Output[str]:
        """The prebuilt image, or a registry (admin user for the build's push only; the app
        pulls with its identity) and the image built from the context."""
        args = self._args
        if args.get("image"):
            return pulumi.Output.from_input(args.get("image") or "")
        name, child = self._name, pulumi.ResourceOptions(parent=self)
        context = build_context(args.get("image_context"))
        self.registry = containerregistry.Registry(
            f"{name}-registry",
            registry_name=pulumi.Output.from_input(args["name_suffix"]).apply(
                lambda suffix: registry_name(pulumi.get_stack(), suffix)
            ),
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            sku={"name": "Basic"},
            admin_user_enabled=True,
            tags=self._tags,
            opts=child,
        )
        self._waits.append(
            authorization.RoleAssignment(
                f"{name}-acr-pull",
                scope=self.registry.id,
                principal_id=args["identity_principal_id"],
                principal_type="ServicePrincipal",
                role_definition_id=pulumi.Output.from_input(args["subscription_id"]).apply(
                    lambda sub: role_definition_id(sub, ACR_PULL)
                ),
                description="MLflow server: pull its image",
                opts=child,
            )
        )
        credentials = containerregistry.list_registry_credentials_output(
            registry_name=self.registry.name,
            resource_group_name=args["resource_group_name"],
            opts=pulumi.InvokeOptions(parent=self),
        )
        server = self.registry.login_server
        self.image = docker_build.Image(
            f"{name}-image",
            context={"location": str(context)},
            dockerfile={"location": str(context / "Dockerfile")},
            platforms=[docker_build.Platform.LINUX_AMD64],
            push=True,
            tags=[pulumi.Output.concat(server, f"/{IMAGE_REPOSITORY}:", context_digest(context))],
            registries=[
                {
                    "address": server,
                    "username": credentials.username.apply(lambda u: u or ""),
                    "password": pulumi.Output.secret(
                        credentials.passwords.apply(lambda p: (p[0].value or "") if p else "")
                    ),
                }
            ],
            opts=child,
        )
        return self.image.ref

    def _managed_environment(self) -> app.ManagedEnvironment:
        """Log Analytics workspace and the VNet-integrated Container Apps environment."""
        args, name, child = self._args, self._name, pulumi.ResourceOptions(parent=self)
        self.workspace = operationalinsights.Workspace(
            f"{name}-logs",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            sku={"name": "PerGB2018"},
            retention_in_days=self._s["log_retention_days"],
            tags=self._tags,
            opts=child,
        )
        keys = operationalinsights.get_shared_keys_output(
            resource_group_name=args["resource_group_name"],
            workspace_name=self.workspace.name,
            opts=pulumi.InvokeOptions(parent=self),
        )
        return app.ManagedEnvironment(
            f"{name}-env",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            vnet_configuration={
                "infrastructure_subnet_id": args["apps_subnet_id"],
                "internal": False,
            },
            workload_profiles=[
                {"name": WORKLOAD_PROFILE, "workload_profile_type": WORKLOAD_PROFILE}
            ],
            app_logs_configuration={
                "destination": "log-analytics",
                "log_analytics_configuration": {
                    "customer_id": self.workspace.customer_id,
                    "shared_key": pulumi.Output.secret(
                        keys.primary_shared_key.apply(lambda k: k or "")
                    ),
                },
            },
            tags=self._tags,
            opts=child,
        )

    def _container_environment(self) -> Any:
        """The image's contract for this scenario, plus AZURE_CLIENT_ID for the identity."""
        args, s = self._args, self._s
        self.flask_key: random.RandomPassword | None = None
        flask_key: pulumi.Output[str] | None = None
        if s["auth_enabled"]:
            # One key for every replica: a session or CSRF token made by one is valid on all.
            self.flask_key = random.RandomPassword(
                f"{self._name}-flask-key",
                length=48,
                special=False,
                opts=pulumi.ResourceOptions(parent=self),
            )
            flask_key = pulumi.Output.secret(self.flask_key.result)
        return server_environment(
            scenario=s["scenario"],
            artifact_url=args["artifact_url"],
            database=args.get("database"),
            auth_enabled=s["auth_enabled"],
            admin_username=args.get("admin_username", "admin"),
            admin_password=args.get("admin_password"),
            flask_secret_key=flask_key,
            default_permission=args.get("default_permission", "NO_PERMISSIONS"),
            public_hostnames=[self.fqdn, *s["allowed_hosts"]],
            port=DEFAULT_PORT,
            workers=s["workers"],
            shutdown_seconds=DEFAULT_SHUTDOWN_SECONDS,
            spool_dir=SPOOL_DIR if s["spool"] else None,
            max_upload_mb=args.get("max_upload_mb"),
            extra_plain={"AZURE_CLIENT_ID": args["identity_client_id"], **s["pool"]},
        )

    def _secrets(self, secrets: Mapping[str, pulumi.Input[str]]) -> dict[str, pulumi.Input[str]]:
        """Key Vault secret URI per secret variable: the database's own secret, one new
        secret (read by the identity alone) per other value."""
        args = self._args
        uris: dict[str, pulumi.Input[str]] = {}
        for variable in sorted(secrets):
            if variable == "DB_PASSWORD":
                uris[variable] = args.get("database_password_secret_uri") or ""
                continue
            secret, grant = vault_secret(
                self,
                f"{self._name}-{secret_name(variable)}",
                resource_group_name=args["resource_group_name"],
                vault_name=args["vault_name"],
                secret_name=secret_name(variable),
                value=secrets[variable],
                reader_principal_id=args["identity_principal_id"],
                subscription_id=args["subscription_id"],
                tags=self._tags,
            )
            self._waits.append(grant)
            uris[variable] = secret.properties.secret_uri
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.admin_password_secret_uri = (
            pulumi.Output.from_input(uris.get("AUTH_PASSWORD")) if "AUTH_PASSWORD" in uris else none
        )
        self.flask_secret_key_secret_uri = (
            pulumi.Output.from_input(uris.get("MLFLOW_FLASK_SERVER_SECRET_KEY"))
            if "MLFLOW_FLASK_SERVER_SECRET_KEY" in uris
            else none
        )
        return uris

    def _container_app(
        self, plain: Mapping[str, pulumi.Input[str]], secret_uris: Mapping[str, pulumi.Input[str]]
    ) -> app.ContainerApp:
        """The app: identity, Key Vault references, ingress, probes, resources, scale, the
        spool volume, and a termination grace period above the server's shutdown bound."""
        args, s = self._args, self._s
        identity = args["identity_id"]
        env: list[app.EnvironmentVarArgsDict] = []
        for k in sorted(plain):
            env.append({"name": k, "value": plain[k]})
        for k in sorted(secret_uris):
            env.append({"name": k, "secret_ref": secret_name(k)})  # never a value
        registries: list[app.RegistryCredentialsArgsDict] = (
            [{"server": self.registry.login_server, "identity": identity}] if self.registry else []
        )
        return app.ContainerApp(
            f"{self._name}-app",
            container_app_name=self.app_name,
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            managed_environment_id=self.environment.id,
            workload_profile_name=WORKLOAD_PROFILE,
            identity={"type": "UserAssigned", "user_assigned_identities": [identity]},
            configuration={
                "active_revisions_mode": "Single",
                "ingress": _ingress(s["allowed_cidrs"]),
                "registries": registries,
                "secrets": [
                    {"name": secret_name(k), "key_vault_url": secret_uris[k], "identity": identity}
                    for k in sorted(secret_uris)
                ],
            },
            template={
                "containers": [
                    {
                        "name": CONTAINER_NAME,
                        "image": self.image_ref,
                        "env": env,
                        "resources": {"cpu": s["cpu"], "memory": s["memory"]},
                        "probes": _probes(),
                        "volume_mounts": (
                            [{"volume_name": SPOOL_VOLUME, "mount_path": SPOOL_DIR}]
                            if s["spool"]
                            else []
                        ),
                    }
                ],
                "volumes": (
                    [{"name": SPOOL_VOLUME, "storage_type": "EmptyDir"}] if s["spool"] else []
                ),
                "scale": {
                    "min_replicas": s["min_replicas"],
                    "max_replicas": s["max_replicas"],
                    "rules": [
                        {
                            "name": "http-concurrency",
                            "http": {
                                "metadata": {
                                    "concurrentRequests": str(concurrent_requests(s["workers"]))
                                }
                            },
                        }
                    ],
                },
                # SIGKILL only after the server's own bounded shutdown.
                "termination_grace_period_seconds": stop_timeout_seconds(
                    int(str(plain["SERVER_SHUTDOWN_SECONDS"])), CONTAINER_APPS_GRACE_MAX
                ),
            },
            tags=self._tags,
            # The first revision pulls the image, resolves its secrets and reaches storage
            # with the identity: its role assignments must exist first.
            opts=pulumi.ResourceOptions(parent=self, depends_on=self._waits),
        )


def _ingress(allowed_cidrs: Sequence[str]) -> app.IngressArgsDict:
    """External HTTPS ingress to port 5000 admitting `allowed_cidrs` only."""
    return {
        "external": True,
        "target_port": DEFAULT_PORT,
        "transport": "auto",
        "allow_insecure": False,  # HTTP is redirected to HTTPS
        "ip_security_restrictions": [
            {"name": f"allow-{i}", "action": "Allow", "ip_address_range": cidr}
            for i, cidr in enumerate(allowed_cidrs)
        ],
    }


def _probes() -> list[app.ContainerAppProbeArgsDict]:
    """Startup, readiness and liveness on /health (startup allows a first migration)."""
    http: app.ContainerAppProbeHttpGetArgsDict = {"path": "/health", "port": DEFAULT_PORT}
    return [
        {
            "type": "Startup",
            "http_get": http,
            "period_seconds": 30,
            "failure_threshold": 10,
            "timeout_seconds": 5,
        },
        {
            "type": "Readiness",
            "http_get": http,
            "period_seconds": 10,
            "failure_threshold": 3,
            "timeout_seconds": 5,
        },
        {
            "type": "Liveness",
            "http_get": http,
            "period_seconds": 30,
            "failure_threshold": 3,
            "timeout_seconds": 5,
        },
    ]


def _validate(args: ServiceArgs) -> dict[str, Any]:
    """Check the plain inputs before any resource is registered; return them with defaults."""
    scenario = args.get("scenario")
    if scenario not in CLOUD_SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(CLOUD_SCENARIOS)}")
    for required in (
        "resource_group_name",
        "location",
        "name_suffix",
        "apps_subnet_id",
        "identity_id",
        "identity_client_id",
        "identity_principal_id",
        "vault_name",
        "subscription_id",
        "artifact_url",
    ):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    if args.get("database") is not None and args.get("database_password_secret_uri") is None:
        raise ValueError("database_password_secret_uri: required with database")
    if args.get("image") and args.get("image_context"):
        raise ValueError("image_context: not with image (a prebuilt image is not built)")
    auth = args.get("auth_enabled", False)
    if auth and args.get("admin_password") is None:
        raise ValueError("admin_password: required with auth_enabled")
    low = args.get("min_replicas", 2)
    high = args.get("max_replicas", max(4, low))
    if not 1 <= low <= high <= 100:
        raise ValueError(
            f"replicas: need 1 <= min_replicas ({low}) <= max_replicas ({high}) <= 100"
        )
    cpu, memory_mb = float(args.get("cpu", 1.0)), args.get("memory_mb", 2048)
    memory = container_memory(cpu, memory_mb)
    retention = args.get("log_retention_days", 30)
    problem = log_retention_problem(retention)
    if problem:
        raise ValueError(f"log_retention_days: {retention} is not {problem}")
    cidrs = list(args.get("allowed_cidrs") or ("0.0.0.0/0",))
    workers = server_workers(cpu, memory_mb)
    max_upload = args.get("max_upload_mb")
    if max_upload is not None:
        if scenario == "direct":
            raise ValueError("max_upload_mb: not with scenario 'direct' (nothing is spooled)")
        problem = upload_limit_problem(max_upload, container_apps_spool_mb(cpu))
        if problem:
            raise ValueError(f"max_upload_mb: {max_upload} with cpu {cpu:g}; allowed: {problem}")
    pool: dict[str, str] = {}
    database, size = args.get("database"), args.get("database_size")
    if size is not None:
        if database is None:
            raise ValueError("database_size: only with database")
        engines = server_engines(backend_store=True, auth_tables=auth)
        pool_size, overflow = db_pool(database.engine, size, high, workers, engines)
        pool = {
            "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": str(pool_size),
            "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": str(overflow),
        }
    return {
        "scenario": scenario,
        "auth_enabled": auth,
        "min_replicas": low,
        "max_replicas": high,
        "cpu": cpu,
        "memory": memory,
        "workers": workers,
        "spool": scenario != "direct",
        "pool": pool,
        "log_retention_days": retention,
        "allowed_hosts": list(args.get("allowed_hosts") or []),
        "allowed_cidrs": cidrs,
    }
