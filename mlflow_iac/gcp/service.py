"""`Service`: the mlflow-server image on Cloud Run (v2), running as its own service account."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_docker_build as docker_build
from pulumi_gcp import artifactregistry, cloudrun, cloudrunv2, iap, organizations

from mlflow_iac.db_pool import server_engines
from mlflow_iac.environment import DEFAULT_PORT, DatabaseEndpoint, server_environment
from mlflow_iac.gcp.iam import (
    IAP_ACCESSOR_ROLE,
    INVOKER_ROLE,
    PUBLIC_INVOKER,
    check_members,
    iap_service_agent,
)
from mlflow_iac.gcp.naming import (
    cloud_run_service_name,
    image_repository_url,
    physical_name,
    run_app_host,
    unserved_host_warning,
)
from mlflow_iac.gcp.naming import labels as gcp_labels
from mlflow_iac.gcp.secrets import SecretRef
from mlflow_iac.gcp.sizing import (
    CLOUD_RUN_MAX_INSTANCES,
    cloud_run_memory_range,
    db_pool_settings,
    server_workers,
    tier_problem,
)
from mlflow_iac.image import build_context, context_digest
from mlflow_iac.limits import (
    CLOUD_RUN_GRACE_SECONDS,
    CLOUD_RUN_REQUEST_MB,
    SPOOL_DIR,
    cloud_run_spool_mb,
    shutdown_seconds_within,
    upload_limit_problem,
)
from mlflow_iac.vocabulary import CLOUD_SCENARIOS

REQUEST_TIMEOUT = "3600s"
"""Cloud Run's longest request: a large artifact download or a slow client's upload."""
REQUEST_CONCURRENCY = 80
"""Requests per instance before Cloud Run adds one (its default, stated)."""
SOCKET_VOLUME = "cloudsql"
SPOOL_VOLUME = "spool"
"""In-memory volume (Cloud Run has no disk) of the proxied uploads' spool, size-limited so
that a burst of uploads fails one upload with ENOSPC, never the instance with an
out-of-memory kill."""
RESERVED_VARIABLES = ("PORT",)
"""Cloud Run sets PORT itself (to the container port, 5000) and refuses a service that sets it."""
STARTUP_FAILURES = 24
"""Startup probe: 24 x 10 s = 240 s, the most Cloud Run allows a service's startup probe
(failureThreshold x periodSeconds); a first start normally migrates an empty database within
it. A longer migration (a large existing
database after an MLflow upgrade) belongs in `python -m mlflow_image migrate` run once as a
Cloud Run job before the rollout."""


class ServiceArgs(TypedDict, total=False):
    """Inputs of `Service`. Fields that decide which resources exist are plain values."""

    scenario: Required[str]
    """direct, proxied or artifacts-only. Required."""
    artifact_url: Required[pulumi.Input[str]]
    """gs://bucket of the artifacts. Required."""
    service_account_email: Required[pulumi.Input[str]]
    """The account Cloud Run runs as (from `Identity`). Required."""
    database: DatabaseEndpoint | None
    """The backend store (direct, proxied); None for artifacts-only."""
    database_tier: str | None
    """The database's Cloud SQL tier: the servers' pools are budgeted against its
    `max_connections` at `max_replicas` (`sizing.db_pool_settings`); with `database`."""
    cloud_sql_connection: pulumi.Input[str] | None
    """PROJECT:REGION:INSTANCE: mounted at /cloudsql (the database's socket). None with a
    private database (reached over Direct VPC egress) or without a database."""
    vpc_network: pulumi.Input[str] | None
    """Direct VPC egress: the network and `vpc_subnet` (private database only)."""
    vpc_subnet: pulumi.Input[str] | None
    """Direct VPC egress subnet."""
    secrets: Required[Mapping[str, SecretRef]]
    """Secret Manager secret of each secret variable of the environment (DB_PASSWORD,
    AUTH_PASSWORD, MLFLOW_FLASK_SERVER_SECRET_KEY, ...); one missing is an error. Required."""
    auth_enabled: bool
    """MLflow basic-auth. Default False."""
    admin_username: str
    """The basic-auth admin. Default admin."""
    admin_password: pulumi.Input[str] | None
    """The admin password (its value only decides the environment; it travels in `secrets`)."""
    flask_secret_key: pulumi.Input[str] | None
    """The shared Flask key, likewise."""
    default_permission: str
    """Permission on experiments a user was not granted. Default NO_PERMISSIONS."""
    iap_members: Sequence[str]
    """Principals (user:, group:, domain:) let through Cloud Run's built-in Identity-Aware
    Proxy; non-empty turns IAP on instead of the public invoker. Default []: anyone may
    reach the URL (roles/run.invoker for allUsers) and MLflow's basic-auth guards it."""
    domain: str | None
    """A custom domain: a Cloud Run domain mapping with a Google-managed certificate."""
    allowed_hosts: Sequence[str]
    """Extra Host header values MLflow accepts (beyond the run.app host and the domain)."""
    replicas: int
    """Kept for the family's shape: Cloud Run starts `min_replicas`. Default 2."""
    min_replicas: int
    """Instances kept running (Cloud Run min instances). Default `replicas`."""
    max_replicas: int
    """Cloud Run max instances. Default max(4, replicas)."""
    cpu: float
    """Whole vCPUs: 1, 2, 4 or 8. Default 1."""
    memory_mb: int
    """Memory in MB: 512 to 4096 per vCPU. Default 2048. It holds the workers (512 MB
    each) and the in-memory spool (the rest, at least `max_upload_mb`)."""
    max_upload_mb: int | None
    """Largest proxied upload (MB), ARTIFACT_MAX_UPLOAD_MB: at most Cloud Run's 32 MiB
    request limit and the spool. None: no check (and none with direct)."""
    deletion_protection: bool
    """Cloud Run deletion protection. Default True."""
    image_context: str
    """Docker build context of the mlflow-server image, built and pushed to a new Artifact Registry repository.
    Default: the context packaged with mlflow-iac (`mlflow_iac.image.default_context()`).
    Not with `image`."""
    image: str | None
    """A prebuilt image reference instead (no repository, no build)."""
    tags: Mapping[str, str]
    """Labels on every resource that takes them."""


class Service(pulumi.ComponentResource):
    """The MLflow server on Cloud Run: the container environment from
    `mlflow_iac.environment.server_environment`, its `plain` part as env values and every
    `secrets` variable as a Secret Manager reference (pinned version), never a value;
    /health startup and liveness probes, min/max instances, startup CPU boost, a one-hour
    request timeout, the database over Cloud Run's Cloud SQL socket or Direct VPC egress.

    MLflow answers 403 to a Host it was not told of; the run.app host name
    (`<service>-<project number>.<region>.run.app`) is computed before the service exists
    (the service name is chosen here, not auto-named) and put into PUBLIC_HOSTNAMES.

    Children: Repository + Image (docker-build) when building; Service (Cloud Run v2);
    ServiceIamMember (allUsers, or the IAP service agent) + WebCloudRunServiceIamMember per
    IAP member; DomainMapping (domain).
    """

    url: pulumi.Output[str]
    """https://<domain> with a domain, else https://<run.app host>."""
    run_app_host: pulumi.Output[str]
    """The deterministic run.app host name (also in PUBLIC_HOSTNAMES)."""
    service_name: str
    """The Cloud Run service's name (plain: chosen here)."""
    image_ref: pulumi.Output[str]
    """The image the service runs (repository@digest when built here)."""
    domain_records: pulumi.Output[list[dict[str, str]]]
    """DNS records the domain needs (name, type, rrdata); [] without a domain."""

    def __init__(
        self, name: str, args: ServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        s = _validate(args)
        labels = gcp_labels(dict(args.get("tags") or {}))
        super().__init__("mlflow-gcp:index:Service", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        client = organizations.get_client_config_output(opts=pulumi.InvokeOptions(parent=self))
        self.service_name = cloud_run_service_name(pulumi.get_project(), pulumi.get_stack(), name)
        number = organizations.get_project_output(
            project_id=client.project, opts=pulumi.InvokeOptions(parent=self)
        ).number
        self.run_app_host = pulumi.Output.all(number, client.region).apply(
            lambda nr: run_app_host(self.service_name, str(nr[0]), str(nr[1]))
        )
        self.image_ref = self._image(name, args, client, labels)
        envs = self._environment(args, s)
        self.service = self._cloud_run(
            name, args=args, s=s, envs=envs, region=client.region, labels=labels
        )
        self._access(name, s["iap_members"], number)
        self.domain_records = self._domain(name, args.get("domain"), client)
        domain = args.get("domain")
        self.url = (
            pulumi.Output.from_input(f"https://{domain}")
            if domain
            else pulumi.Output.concat("https://", self.run_app_host)
        )
        # The computed host must be one Cloud Run serves: say so at `pulumi up` if not.
        pulumi.Output.all(self.run_app_host, self.service.urls).apply(_warn_unless_served)
        self.register_outputs(
            {
                "url": self.url,
                "run_app_host": self.run_app_host,
                "image_ref": self.image_ref,
                "domain_records": self.domain_records,
            }
        )

    def _image(
        self,
        name: str,
        args: ServiceArgs,
        client: pulumi.Output[Any],
        labels: dict[str, str],
    ) -> pulumi.Output[str]:
        if args.get("image"):
            return pulumi.Output.from_input(args.get("image") or "")
        context = build_context(args.get("image_context"))
        repository_id = physical_name(pulumi.get_project(), pulumi.get_stack(), name)
        self.repository = artifactregistry.Repository(
            f"{name}-repo",
            repository_id=repository_id,
            location=client.region,
            format="DOCKER",
            docker_config={"immutable_tags": True},  # a tag is a content digest
            # Images older than 30 days go, except the 10 newest (a rollback target).
            cleanup_policies=[
                {
                    "id": "keep-last-10",
                    "action": "KEEP",
                    "most_recent_versions": {"keep_count": 10},
                },
                {
                    "id": "delete-after-30-days",
                    "action": "DELETE",
                    "condition": {"tag_state": "ANY", "older_than": "2592000s"},
                },
            ],
            labels=labels,
            opts=self._child,
        )
        url = pulumi.Output.all(client.region, client.project).apply(
            lambda rp: image_repository_url(rp[0], rp[1], repository_id)
        )
        self.image = docker_build.Image(
            f"{name}-image",
            context={"location": str(context)},
            dockerfile={"location": str(context / "Dockerfile")},
            platforms=[docker_build.Platform.LINUX_AMD64],
            push=True,
            tags=[pulumi.Output.concat(url, "/mlflow-server:", context_digest(context))],
            registries=[
                {
                    "address": pulumi.Output.concat(client.region, "-docker.pkg.dev"),
                    "username": "oauth2accesstoken",
                    "password": pulumi.Output.secret(client.access_token),
                }
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.repository]),
        )
        return self.image.ref

    def _environment(
        self, args: ServiceArgs, s: dict[str, Any]
    ) -> list[cloudrunv2.ServiceTemplateContainerEnvArgsDict]:
        """Cloud Run `envs`: plain values, then one Secret Manager reference per secret."""
        domain = args.get("domain")
        env = server_environment(
            scenario=s["scenario"],
            artifact_url=args["artifact_url"],
            database=args.get("database"),
            auth_enabled=s["auth_enabled"],
            admin_username=args.get("admin_username", "admin"),
            admin_password=args.get("admin_password"),
            flask_secret_key=args.get("flask_secret_key"),
            default_permission=args.get("default_permission", "NO_PERMISSIONS"),
            public_hostnames=[self.run_app_host, domain or "", *s["allowed_hosts"]],
            port=DEFAULT_PORT,
            workers=s["workers"],
            # Cloud Run's grace period is fixed (10 s): the server's bound fits inside it.
            shutdown_seconds=shutdown_seconds_within(CLOUD_RUN_GRACE_SECONDS),
            spool_dir=SPOOL_DIR if s["spool_mb"] else None,
            max_upload_mb=args.get("max_upload_mb"),
            extra_plain=s["pool_environment"],
        )
        refs = args["secrets"]  # one per secret variable: checked by _validate
        plain: list[cloudrunv2.ServiceTemplateContainerEnvArgsDict] = [
            {"name": k, "value": v}
            for k, v in sorted(env.plain.items())
            if k not in RESERVED_VARIABLES
        ]
        secret: list[cloudrunv2.ServiceTemplateContainerEnvArgsDict] = [
            {
                "name": k,
                "value_source": {
                    "secret_key_ref": {
                        "secret": refs[k].secret.secret_id,
                        "version": refs[k].version.version,
                    }
                },
            }
            for k in sorted(env.secrets)
        ]
        return plain + secret

    def _cloud_run(
        self,
        name: str,
        *,
        args: ServiceArgs,
        s: dict[str, Any],
        envs: list[cloudrunv2.ServiceTemplateContainerEnvArgsDict],
        region: pulumi.Input[str],
        labels: dict[str, str],
    ) -> cloudrunv2.Service:
        connection = args.get("cloud_sql_connection")
        volumes: list[cloudrunv2.ServiceTemplateVolumeArgsDict] = []
        mounts: list[cloudrunv2.ServiceTemplateContainerVolumeMountArgsDict] = []
        if connection is not None:
            volumes.append(
                {"name": SOCKET_VOLUME, "cloud_sql_instance": {"instances": [connection]}}
            )
            mounts.append({"name": SOCKET_VOLUME, "mount_path": "/cloudsql"})
        if s["spool_mb"]:
            volumes.append(
                {
                    "name": SPOOL_VOLUME,
                    "empty_dir": {"medium": "MEMORY", "size_limit": f"{s['spool_mb']}Mi"},
                }
            )
            mounts.append({"name": SPOOL_VOLUME, "mount_path": SPOOL_DIR})
        vpc: cloudrunv2.ServiceTemplateVpcAccessArgsDict | None = (
            {
                "network_interfaces": [
                    {"network": args.get("vpc_network"), "subnetwork": args.get("vpc_subnet")}
                ],
                "egress": "PRIVATE_RANGES_ONLY",
            }
            if args.get("vpc_subnet") is not None
            else None
        )
        container: cloudrunv2.ServiceTemplateContainerArgsDict = {
            "name": "mlflow",
            "image": self.image_ref,
            "ports": {"name": "http1", "container_port": DEFAULT_PORT},
            "envs": envs,
            "resources": {
                "limits": {"cpu": f"{s['cpu']:g}", "memory": f"{s['memory_mb']}Mi"},
                "cpu_idle": True,  # billed per request; min instances stay warm
                "startup_cpu_boost": True,  # imports and migrations start faster
            },
            "startup_probe": {
                "http_get": {"path": "/health", "port": DEFAULT_PORT},
                "timeout_seconds": 5,
                "period_seconds": 10,
                "failure_threshold": STARTUP_FAILURES,
            },
            "liveness_probe": {
                "http_get": {"path": "/health", "port": DEFAULT_PORT},
                "timeout_seconds": 5,
                "period_seconds": 30,
                "failure_threshold": 3,
            },
            "volume_mounts": mounts,
        }
        return cloudrunv2.Service(
            f"{name}-run",
            name=self.service_name,
            location=region,
            ingress="INGRESS_TRAFFIC_ALL",
            deletion_protection=args.get("deletion_protection", True),
            iap_enabled=bool(s["iap_members"]),
            labels=labels,
            template={
                "service_account": args["service_account_email"],
                "execution_environment": "EXECUTION_ENVIRONMENT_GEN2",
                "timeout": REQUEST_TIMEOUT,
                "max_instance_request_concurrency": REQUEST_CONCURRENCY,
                "scaling": {
                    "min_instance_count": s["min_replicas"],
                    "max_instance_count": s["max_replicas"],
                },
                "vpc_access": vpc,
                "volumes": volumes,
                "labels": labels,
                "containers": [container],
            },
            opts=self._child,
        )

    def _access(self, name: str, iap_members: list[str], number: pulumi.Output[str]) -> None:
        """Who may reach the service: everyone (MLflow's login guards it), or with IAP the
        given principals, the IAP service agent invoking the service for them."""
        invokers: list[pulumi.Input[str]] = [PUBLIC_INVOKER]
        if iap_members:
            invokers = [number.apply(lambda n: iap_service_agent(str(n)))]
            for index, member in enumerate(iap_members):
                iap.WebCloudRunServiceIamMember(
                    f"{name}-iap-{index}",
                    cloud_run_service_name=self.service.name,
                    location=self.service.location,
                    role=IAP_ACCESSOR_ROLE,
                    member=member,
                    opts=self._child,
                )
        for index, invoker in enumerate(invokers):
            cloudrunv2.ServiceIamMember(
                f"{name}-invoker" if index == 0 else f"{name}-invoker-{index}",
                name=self.service.name,
                location=self.service.location,
                role=INVOKER_ROLE,
                member=invoker,
                opts=self._child,
            )

    def _domain(
        self, name: str, domain: str | None, client: pulumi.Output[Any]
    ) -> pulumi.Output[list[dict[str, str]]]:
        if not domain:
            return pulumi.Output.from_input([])
        # Cloud Run v2 has no domain mapping of its own; the v1 mapping serves v2 services.
        self.domain_mapping = cloudrun.DomainMapping(
            f"{name}-domain",
            name=domain,
            location=client.region,
            metadata={"namespace": client.project},
            spec={"route_name": self.service.name},
            opts=self._child,
        )
        return self.domain_mapping.statuses.apply(
            lambda statuses: [
                {"name": r.name or "", "type": r.type or "", "rrdata": r.rrdata or ""}
                for status in statuses or []
                for r in status.resource_records or []
            ]
        )


def _warn_unless_served(values: list[Any]) -> None:
    warning = unserved_host_warning(str(values[0]), list(values[1] or []))
    if warning:
        pulumi.log.warn(warning)


def _validate(args: ServiceArgs) -> dict[str, Any]:
    """Check the plain inputs before any resource is registered; return them with defaults."""
    scenario = args.get("scenario")
    if scenario not in CLOUD_SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(CLOUD_SCENARIOS)}")
    for required in ("artifact_url", "service_account_email", "secrets"):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    if args.get("image") and args.get("image_context"):
        raise ValueError("image, image_context: not both (a prebuilt image is not built)")
    if (args.get("vpc_subnet") is None) != (args.get("vpc_network") is None):
        raise ValueError("vpc_network, vpc_subnet: both or neither")
    auth = args.get("auth_enabled", False)
    replicas = args.get("replicas", 2)
    low = args.get("min_replicas", replicas)
    high = args.get("max_replicas", max(4, replicas))
    if not 0 <= low <= high <= CLOUD_RUN_MAX_INSTANCES or high < 1:
        raise ValueError(
            f"min_replicas, max_replicas: need 0 <= min_replicas ({low}) <= max_replicas "
            f"({high}) <= {CLOUD_RUN_MAX_INSTANCES}, max_replicas >= 1"
        )
    cpu = float(args.get("cpu", 1.0))
    lowest, highest = cloud_run_memory_range(cpu)
    memory = args.get("memory_mb", 2048)
    if not lowest <= memory <= highest:
        raise ValueError(f"memory_mb: {memory} is not from {lowest} to {highest} for cpu {cpu:g}")
    workers = server_workers(cpu, memory)
    spool_mb = 0 if scenario == "direct" else cloud_run_spool_mb(memory, workers)
    max_upload = args.get("max_upload_mb")
    if max_upload is not None:
        if scenario == "direct":
            raise ValueError("max_upload_mb: not with scenario 'direct' (nothing is spooled)")
        problem = upload_limit_problem(max_upload, spool_mb, CLOUD_RUN_REQUEST_MB)
        if problem:
            raise ValueError(
                f"max_upload_mb: {max_upload} with memory_mb {memory} ({workers} workers); "
                f"allowed: {problem}"
            )
    tier = args.get("database_tier")
    pool: dict[str, pulumi.Input[str]] | None = None
    if tier is not None:
        database = args.get("database")
        if database is None:
            raise ValueError("database_tier: only with database")
        problem = tier_problem(database.engine, tier)
        if problem:
            raise ValueError(f"database_tier: {tier!r}; allowed: {problem}")
        # Every worker's engines on the database: the backend stores' and, with auth, its own.
        engines = server_engines(backend_store=True, auth_tables=auth)
        pool_size, overflow = db_pool_settings(tier, high, workers, engines)
        pool = {
            "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": str(pool_size),
            "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": str(overflow),
        }
    # The same environment's secret names, before anything exists: each needs its secret.
    secret_names = server_environment(
        scenario=scenario,
        artifact_url=args["artifact_url"],
        database=args.get("database"),
        auth_enabled=auth,
        admin_password=args.get("admin_password"),
        flask_secret_key=args.get("flask_secret_key"),
        default_permission=args.get("default_permission", "NO_PERMISSIONS"),
        workers=workers,
    ).secrets
    missing = sorted(set(secret_names) - set(args["secrets"]))
    if missing:
        raise ValueError(f"secrets: no Secret Manager secret for {', '.join(missing)}")
    return {
        "scenario": scenario,
        "auth_enabled": auth,
        "min_replicas": low,
        "max_replicas": high,
        "cpu": cpu,
        "memory_mb": memory,
        "workers": workers,
        "spool_mb": spool_mb,
        "allowed_hosts": list(args.get("allowed_hosts") or []),
        "pool_environment": pool,
        "iap_members": check_members("iap_members", args.get("iap_members") or ()),
    }
