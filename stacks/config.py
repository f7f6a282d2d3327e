"""The stack's typed configuration: parsed and validated once, before any resource exists.

`parse_config` is pure: it takes the raw string values Pulumi holds for the
project's namespace (objects and lists arrive as JSON text) and returns a frozen
`StackConfig`, or raises `ConfigError` with one line naming the key, the value
and what is allowed. `load_config` reads the values from Pulumi. Secret values
are kept in `Secret` wrappers whose repr never shows them; stacks turn them into
`pulumi.Output.secret` before handing them to resources.

Every key parsed here is declared in `Pulumi.yaml`; `tests/test_config_reference.py`
holds the two (and the README's config table) together.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from mlflow_iac.limits import (
    CLOUD_RUN_REQUEST_MB,
    DEFAULT_MAX_UPLOAD_MB,
    FARGATE_DEFAULT_STORAGE_GIB,
    FARGATE_STORAGE_GIB_RANGE,
    container_apps_spool_mb,
    fargate_spool_mb,
    upload_limit_problem,
)
from mlflow_iac.vocabulary import CPU_CHOICES, DB_SIZES, ENGINES, SCENARIOS
from mlflow_iac.vocabulary import PERMISSIONS as AUTH_PERMISSIONS

NAMESPACE = "mlflow"
"""The Pulumi config namespace: the project name in Pulumi.yaml (`mlflow:scenario`, ...)."""

CLOUDS = ("local", "aws", "gcp", "azure")
BUILT_CLOUDS = ("local", "aws", "gcp", "azure")
"""Clouds whose stack exists (all of CLOUDS; a designed but unbuilt cloud is refused by name
rather than failing later with an import error)."""
AUTH_DATABASE_CLOUDS = ("aws",)
"""Clouds that give artifacts-only a database for the basic-auth tables (so auth works there)."""
MIN_ADMIN_PASSWORD_LENGTH = 12
"""MLflow 3.16.1+ refuses a shorter admin password."""

_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
)
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.@-]{0,62}$")
_TAG_KEY = re.compile(r"^[A-Za-z0-9_.:/=+@-]{1,63}$")


class ConfigError(ValueError):
    """Invalid stack configuration; the message is one line naming key, value and what is allowed."""


@dataclass(frozen=True)
class Secret:
    """A secret config value. Its repr and str never show the value."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "[secret]"


@dataclass(frozen=True)
class DatabaseConfig:
    """The backend store database (absent for scenarios 3 and 6)."""

    engine: str
    size: str
    storage_gb: int
    high_availability: bool
    backup_retention_days: int


@dataclass(frozen=True)
class AuthConfig:
    """MLflow basic-auth settings."""

    enabled: bool
    admin_username: str
    admin_password: Secret | None
    """None: the stack generates one (RandomPassword) and exports it as a secret."""
    default_permission: str


@dataclass(frozen=True)
class ServiceConfig:
    """The container service running the mlflow-server image."""

    replicas: int
    min_replicas: int
    max_replicas: int
    cpu: float
    memory_mb: int
    domain: str | None
    allowed_hosts: tuple[str, ...]
    allowed_cidrs: tuple[str, ...]
    log_retention_days: int
    local_port: int
    allow_http: bool = False
    """AWS without a domain: plain HTTP instead of CloudFront (explicit, warned about)."""
    load_balancer_access_logs: bool = True
    """AWS: the load balancer's access logs to a bucket of their own."""
    ephemeral_storage_gb: int | None = None
    """AWS: the Fargate task's ephemeral storage in GiB (21-200); None: Fargate's 20 GiB."""


@dataclass(frozen=True)
class ArtifactConfig:
    """The artifact bucket."""

    versioning: bool
    noncurrent_version_days: int
    force_destroy: bool
    create_client_access_key: bool
    """Scenario 4 on AWS: also create a long-lived access key for clients (secret output)."""
    max_upload_mb: int | None = None
    """ARTIFACT_MAX_UPLOAD_MB: the largest proxied upload the server's spool must hold; None
    with scenario direct (the server proxies nothing)."""


@dataclass(frozen=True)
class NetworkConfig:
    """AWS networking: a new VPC, or an existing one given by ids."""

    vpc_cidr: str
    vpc_id: str | None
    public_subnet_ids: tuple[str, ...]
    private_subnet_ids: tuple[str, ...]
    private_endpoints: bool = False
    """New VPC only: interface endpoints (ECR, Secrets Manager, Logs) and no NAT gateway."""


@dataclass(frozen=True)
class GcpConfig:
    """GCP: where (the provider's project and region, checked here) and the GCP-only keys."""

    project: str
    region: str
    db_private_ip: bool
    db_tier: str | None
    client_members: tuple[str, ...]
    iap_members: tuple[str, ...]
    kms_key_name: str | None


@dataclass(frozen=True)
class AzureConfig:
    """Azure placement: region, resource group, network, direct-access principals."""

    location: str
    """The `azure-native:location` provider setting, a region name such as westeurope."""
    resource_group_name: str | None
    """An existing resource group; None: the stack creates one."""
    vnet_cidr: str
    apps_subnet_id: str | None
    """An existing subnet for the Container Apps environment; None: a new VNet."""
    db_subnet_id: str | None
    """An existing subnet delegated to the Flexible Server (with apps_subnet_id)."""
    client_principal_ids: tuple[str, ...]
    """Scenario direct: Entra object ids granted read/write on the artifact container."""


@dataclass(frozen=True)
class StackConfig:
    """Everything a stack program needs, validated."""

    cloud: str
    scenario: str
    database: DatabaseConfig | None
    auth: AuthConfig
    service: ServiceConfig
    artifacts: ArtifactConfig
    network: NetworkConfig
    deletion_protection: bool
    tags: Mapping[str, str]
    kms_key_arn: str | None = None
    """AWS: the customer-managed KMS key for the bucket and the database storage."""
    gcp: GcpConfig | None = None
    """GCP only: the provider's project and region and the GCP-only keys."""
    azure: AzureConfig | None = None
    """Azure only: placement and direct-access principals."""

    @property
    def scenario_number(self) -> int:
        """The MLflow scenario number (3 to 6)."""
        return SCENARIOS[self.scenario]

    @property
    def needs_database(self) -> bool:
        """True when the scenario keeps runs in a database server (4 and 5)."""
        return self.database is not None

    @property
    def needs_bucket(self) -> bool:
        """True when the scenario keeps artifacts in a bucket (4, 5 and 6)."""
        return self.scenario != "local-server"


def _allowed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


class _Reader:
    """Typed access to raw config strings; every error names the full key."""

    def __init__(self, raw: Mapping[str, str], secret_keys: frozenset[str]):
        unknown = sorted(set(raw) - set(KNOWN_KEYS))
        if unknown:
            key = unknown[0]
            raise ConfigError(
                f"{NAMESPACE}:{key}: unknown config key; allowed keys: {_allowed(sorted(KNOWN_KEYS))}"
            )
        self._raw = raw
        self._secret_keys = secret_keys

    def has(self, key: str) -> bool:
        return key in self._raw

    def _show(self, key: str) -> str:
        if key not in self._raw:
            return "(unset)"  # a key required by another one's value
        return (
            "(secret)" if key in self._secret_keys or key in SECRET_KEYS else repr(self._raw[key])
        )

    def fail(self, key: str, allowed: str) -> ConfigError:
        return ConfigError(
            f"{NAMESPACE}:{key}: invalid value {self._show(key)}; allowed: {allowed}"
        )

    def string(self, key: str, default: str | None = None) -> str | None:
        value = self._raw.get(key)
        if value is None:
            return default
        return value.strip()

    def choice(self, key: str, choices: Any, default: str) -> str:
        value = self.string(key, default)
        if value is None or value not in choices:
            raise self.fail(key, f"one of {_allowed(choices)}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.string(key)
        if value is None:
            return default
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.fail(key, "true or false")

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.string(key)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self.fail(key, f"a whole number from {low} to {high}") from None
        if not low <= number <= high:
            raise self.fail(key, f"a whole number from {low} to {high}")
        return number

    def number(self, key: str, default: float, choices: tuple[float, ...]) -> float:
        value = self.string(key)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise self.fail(key, f"one of {_allowed(choices)}") from None
        if number not in choices:
            raise self.fail(key, f"one of {_allowed(choices)}")
        return number

    def string_list(self, key: str) -> tuple[str, ...]:
        value = self.string(key)
        if value is None:
            return ()
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise self.fail(key, 'a list of strings, e.g. ["a", "b"]') from None
        if not isinstance(parsed, list) or not all(isinstance(v, str) for v in parsed):
            raise self.fail(key, 'a list of strings, e.g. ["a", "b"]')
        return tuple(v.strip() for v in parsed)

    def string_map(self, key: str) -> dict[str, str]:
        value = self.string(key)
        if value is None:
            return {}
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            raise self.fail(key, 'an object of string values, e.g. {"team": "ml"}') from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise self.fail(key, 'an object of string values, e.g. {"team": "ml"}')
        return parsed

    def secret(self, key: str) -> Secret | None:
        value = self._raw.get(key)
        if value is None:
            return None
        if key not in self._secret_keys:
            raise ConfigError(
                f"{NAMESPACE}:{key}: stored in plain text; allowed: a secret, set it with "
                f"`pulumi config set --secret {key} ...`"
            )
        return Secret(value)


@dataclass(frozen=True)
class KeyDoc:
    """One config key as documented in Pulumi.yaml and the README."""

    name: str
    type: str
    """Pulumi.yaml type: string, integer, boolean or array (objects are JSON strings)."""
    default: str
    description: str


KNOWN_KEYS: dict[str, KeyDoc] = {}
"""Every config key this program reads, in Pulumi.yaml order."""

SECRET_KEYS = frozenset({"adminPassword"})


def _key(name: str, type_: str, default: str, description: str) -> str:
    KNOWN_KEYS[name] = KeyDoc(name, type_, default, description)
    return name


K_CLOUD = _key("cloud", "string", "local", "Where to deploy: local (Docker), aws, gcp or azure.")
K_SCENARIO = _key(
    "scenario",
    "string",
    "proxied",
    "MLflow scenario: local-server (3, local only), direct (4), proxied (5), artifacts-only (6).",
)
K_DB_ENGINE = _key(
    "dbEngine",
    "string",
    "postgresql",
    "Backend database engine: postgresql or mysql. Not allowed without a database "
    "(local-server, artifacts-only).",
)
K_DB_SIZE = _key(
    "dbSize",
    "string",
    "small",
    "Database size: small, medium or large (mapped to each cloud's instance classes).",
)
K_DB_STORAGE = _key("dbStorageGb", "integer", "20", "Database storage in GB, 20 to 16384.")
K_DB_HA = _key(
    "dbHighAvailability",
    "boolean",
    "false",
    "A standby in a second zone (RDS multi-AZ, Cloud SQL regional, Azure zone-redundant HA).",
)
K_DB_BACKUP = _key(
    "dbBackupRetentionDays", "integer", "7", "Automated backup retention, 1 to 35 days."
)
K_AUTH = _key(
    "authEnabled",
    "boolean",
    "true; false on local, and with artifacts-only except on aws",
    "Run MLflow's basic-auth app.",
)
K_ADMIN_USER = _key("adminUsername", "string", "admin", "The basic-auth admin user.")
K_ADMIN_PASSWORD = _key(
    "adminPassword",
    "string",
    "generated",
    "Secret. The basic-auth admin password, 12+ characters; generated and "
    "exported as a secret when unset.",
)
K_DEFAULT_PERMISSION = _key(
    "authDefaultPermission",
    "string",
    "NO_PERMISSIONS",
    "Permission of users on experiments they were not granted: READ, EDIT, "
    "MANAGE or NO_PERMISSIONS.",
)
K_REPLICAS = _key("replicas", "integer", "2; 1 on local", "Server containers at deploy time.")
K_MIN_REPLICAS = _key("minReplicas", "integer", "replicas", "Autoscaling lower bound.")
K_MAX_REPLICAS = _key("maxReplicas", "integer", "max(4, replicas)", "Autoscaling upper bound.")
K_CPU = _key("serverCpu", "string", "1", "vCPU per server container: 0.25, 0.5, 1, 2 or 4.")
K_MEMORY = _key(
    "serverMemoryMb",
    "integer",
    "2048",
    "Memory per server container in MB, 512 per vCPU to 8192 per vCPU.",
)
K_DOMAIN = _key(
    "domain",
    "string",
    "none",
    "Custom domain for the server (HTTPS certificate on AWS); added to allowed hosts.",
)
K_ALLOWED_HOSTS = _key(
    "allowedHosts",
    "array",
    "[]",
    "Extra Host header values MLflow accepts, e.g. an internal alias.",
)
K_ALLOWED_CIDRS = _key(
    "allowedCidrs", "array", '["0.0.0.0/0"]', "IPv4 CIDRs allowed to reach the load balancer."
)
K_LOG_RETENTION = _key(
    "logRetentionDays",
    "integer",
    "30",
    "Server log retention in days (AWS: also the load balancer's access logs).",
)
K_LOCAL_PORT = _key(
    "localPort",
    "integer",
    "5000",
    "Local: host port of the server (127.0.0.1 only); scenario direct also takes localPort + 1 "
    "for MinIO's S3 API.",
)
K_VERSIONING = _key("artifactVersioning", "boolean", "true", "Keep old versions of artifacts.")
K_NONCURRENT = _key(
    "artifactNoncurrentDays",
    "integer",
    "30",
    "Days before non-current artifact versions are deleted.",
)
K_FORCE_DESTROY = _key(
    "artifactForceDestroy",
    "boolean",
    "false; true on local",
    "Let `pulumi destroy` delete a bucket that still holds artifacts.",
)
K_MAX_UPLOAD = _key(
    "artifactMaxUploadMb",
    "integer",
    "local 1024, aws 4096, gcp 32, azure 1024",
    "Largest single proxied upload (MB) the server's spool must hold (ARTIFACT_MAX_UPLOAD_MB): "
    "refused when the cloud's spool is smaller (see the README's 'Proxied uploads and stops'). "
    "Not with scenario direct.",
)
K_EPHEMERAL_STORAGE = _key(
    "ephemeralStorageGb",
    "integer",
    "20: Fargate's default, not set",
    "AWS: the Fargate task's ephemeral storage in GiB, 21 to 200; the proxied uploads' spool "
    "gets it less 2 GiB for the image.",
)
K_CLIENT_KEY = _key(
    "clientAccessKey",
    "boolean",
    "false",
    "AWS, GCP or Azure, scenario direct: also hand clients a long-lived key (AWS access key; "
    "GCP service account key; Azure storage account key, which turns shared-key access on), "
    "exported as a secret. Prefer the client role (AWS), impersonating the client service "
    "account (GCP) or Entra principals (Azure).",
)
K_KMS_KEY = _key(
    "kmsKeyArn",
    "string",
    "none: AWS-managed keys",
    "AWS: a customer-managed KMS key (key ARN) for the artifact bucket (SSE-KMS), the "
    "database storage, the Secrets Manager secrets, the log group and the ECR repository; "
    "its key policy must admit CloudWatch Logs (README).",
)
K_ALB_ACCESS_LOGS = _key(
    "loadBalancerAccessLogs",
    "boolean",
    "true",
    "AWS: the load balancer's access logs to an S3 bucket of their own (SSE-S3, kept "
    "logRetentionDays).",
)
K_PRIVATE_ENDPOINTS = _key(
    "privateEndpoints",
    "boolean",
    "false",
    "AWS, new VPC only: VPC interface endpoints for ECR, Secrets Manager and CloudWatch Logs "
    "instead of the NAT gateway (about $58/month for 4 endpoints in 2 zones, against the "
    "NAT's $33); the tasks then have no route to the internet.",
)
K_ALLOW_HTTP = _key(
    "allowHttp",
    "boolean",
    "false",
    "AWS without a domain: plain HTTP on the load balancer instead of CloudFront's HTTPS "
    "(passwords cross the network in clear).",
)
# GCP only.
K_DB_PRIVATE_IP = _key(
    "dbPrivateIp",
    "boolean",
    "false",
    "GCP: Cloud SQL on a private IP only (a new VPC, Cloud Run Direct VPC egress) instead of "
    "Cloud Run's Cloud SQL connection.",
)
K_DB_TIER = _key(
    "dbTier",
    "string",
    "none: from dbSize",
    "GCP: an explicit Cloud SQL tier instead of dbSize: db-custom-CPUS-MB, or "
    "db-n1-standard-N / db-n1-highmem-N with mysql.",
)
K_CLIENT_MEMBERS = _key(
    "clientMembers",
    "array",
    "[]",
    "GCP, scenario direct: IAM principals (user:, group:, serviceAccount:) that may "
    "impersonate the client service account.",
)
K_IAP_MEMBERS = _key(
    "iapMembers",
    "array",
    "[]: public URL, MLflow login",
    "GCP: IAM principals (user:, group:, domain:) let through Cloud Run's Identity-Aware "
    "Proxy; set, it replaces public access.",
)
K_KMS_KEY_NAME = _key(
    "kmsKeyName",
    "string",
    "none: Google-managed keys",
    "GCP: a customer-managed Cloud KMS key (projects/P/locations/L/keyRings/R/cryptoKeys/K) "
    "for the artifact bucket.",
)
K_VPC_CIDR = _key("vpcCidr", "string", "10.0.0.0/16", "AWS: CIDR of the new VPC, /16 to /24.")
K_VPC_ID = _key("vpcId", "string", "none: a new VPC", "AWS: deploy into this existing VPC.")
K_PUBLIC_SUBNETS = _key(
    "publicSubnetIds",
    "array",
    "[]",
    "AWS, with vpcId: subnets for the load balancer, two zones or more.",
)
K_PRIVATE_SUBNETS = _key(
    "privateSubnetIds",
    "array",
    "[]",
    "AWS, with vpcId: subnets for the service and database, two zones or more.",
)
K_RESOURCE_GROUP = _key(
    "resourceGroupName",
    "string",
    "none: a new resource group",
    "Azure: deploy into this existing resource group.",
)
K_VNET_CIDR = _key("vnetCidr", "string", "10.0.0.0/16", "Azure: CIDR of the new VNet, /16 to /22.")
K_APPS_SUBNET = _key(
    "appsSubnetId",
    "string",
    "none: a new VNet",
    "Azure: an existing subnet (resource id), /27 or larger, delegated to "
    "Microsoft.App/environments, for the Container Apps environment.",
)
K_DB_SUBNET = _key(
    "dbSubnetId",
    "string",
    "none",
    "Azure, with appsSubnetId and a database: an existing subnet of the same VNet delegated "
    "to Microsoft.DBforPostgreSQL/flexibleServers (or Microsoft.DBforMySQL/flexibleServers).",
)
K_CLIENT_PRINCIPALS = _key(
    "clientPrincipalIds",
    "array",
    "[]",
    "Azure, scenario direct: Entra object ids (users, groups, service principals) granted "
    "Storage Blob Data Contributor on the artifact container.",
)
K_DELETION_PROTECTION = _key(
    "deletionProtection",
    "boolean",
    "true; false on local",
    "Protect the database and bucket from deletion (AWS: also the load balancer, the "
    "access-log bucket and the ECR repository; the final database snapshot is taken either "
    "way).",
)
K_TAGS = _key(
    "tags", "string", "{}", 'Tags/labels on every resource, as a JSON object: {"team": "ml"}.'
)


def parse_config(
    raw: Mapping[str, str],
    secret_keys: frozenset[str] = frozenset(),
    provider: Mapping[str, str] | None = None,
) -> StackConfig:
    """Validate raw config values (keys without the namespace) into a `StackConfig`.

    `secret_keys` are the keys whose values Pulumi holds encrypted; a secret
    key given in plain text is rejected. `provider` holds the chosen cloud's provider
    settings by full key (`aws:region`, `gcp:project`, `gcp:region`, `azure-native:location`),
    from config or the provider's environment variables (see `provider_settings`).
    """
    r = _Reader(raw, secret_keys)
    cloud = r.choice(K_CLOUD, CLOUDS, "local")
    if cloud not in BUILT_CLOUDS:
        raise r.fail(
            K_CLOUD, f"one of {_allowed(BUILT_CLOUDS)} ({cloud} is planned, not built yet)"
        )
    is_local = cloud == "local"
    scenario = r.choice(K_SCENARIO, tuple(SCENARIOS), "proxied")
    if scenario == "local-server" and not is_local:
        raise r.fail(
            K_SCENARIO,
            f"direct, proxied or artifacts-only with cloud {cloud!r} "
            "(local-server keeps SQLite inside the container)",
        )

    _refuse_keys_of_other_clouds(r, cloud)
    database = _parse_database(r, scenario)
    auth = _parse_auth(r, cloud, scenario)
    service = _parse_service(r, is_local)
    if is_local and scenario == "direct" and service.local_port == 65535:
        raise r.fail(
            K_LOCAL_PORT,
            "a whole number from 1024 to 65534 with scenario 'direct' "
            "(MinIO's S3 API for clients takes localPort + 1)",
        )
    artifacts = _parse_artifacts(r, cloud, scenario)
    network = _parse_network(r)
    tags = r.string_map(K_TAGS)
    for tag_key, tag_value in tags.items():
        if not _TAG_KEY.match(tag_key) or tag_key.lower().startswith("aws:"):
            raise r.fail(K_TAGS, "tag keys of 1 to 63 letters, digits or _.:/=+@-, not aws:...")
        if len(tag_value) > 256:
            raise r.fail(K_TAGS, f"tag values of at most 256 characters ({tag_key!r} is longer)")
    kms_key_arn = _parse_kms_key(r)
    if cloud == "aws":
        _check_aws_region(r, (provider or {}).get("aws:region"), kms_key_arn)
        service = replace(service, allow_http=_parse_allow_http(r, service))
        storage = _parse_ephemeral_storage(r)
        service = replace(service, ephemeral_storage_gb=storage)
        gib = storage or FARGATE_DEFAULT_STORAGE_GIB
        where = f"Fargate with {gib} GiB of ephemeral storage ({NAMESPACE}:{K_EPHEMERAL_STORAGE})"
        artifacts = _fit_upload(r, artifacts, fargate_spool_mb(storage), where)
    if cloud == "azure":
        where = f"Container Apps with {NAMESPACE}:{K_CPU} {service.cpu:g}"
        artifacts = _fit_upload(r, artifacts, container_apps_spool_mb(service.cpu), where)
    if cloud == "gcp":
        # Cloud Run's request limit here; whether memory holds the spool: stacks.gcp.
        limit = CLOUD_RUN_REQUEST_MB
        artifacts = _fit_upload(r, artifacts, limit, "Cloud Run", limit)
    gcp = _parse_gcp(r, provider or {}, database, service, tags) if cloud == "gcp" else None
    azure = _parse_azure(r, scenario, provider or {}) if cloud == "azure" else None
    _refuse_open_artifacts_proxy(r, cloud, scenario, auth)
    return StackConfig(
        cloud=cloud,
        scenario=scenario,
        database=database,
        auth=auth,
        service=service,
        artifacts=artifacts,
        network=network,
        deletion_protection=r.boolean(K_DELETION_PROTECTION, not is_local),
        tags=tags,
        kms_key_arn=kms_key_arn,
        gcp=gcp,
        azure=azure,
    )


_AWS_REGION = re.compile(
    r"^[a-z]{2,4}(-(gov|iso[a-z]?|[a-z]{2}))?-(north|south|east|west|central|northeast|"
    r"southeast|northwest|southwest)-\d{1,2}$"
)
"""The shape of every AWS region name (us-east-1, ap-southeast-5, us-gov-west-1, ...)."""


def _parse_allow_http(r: _Reader, service: ServiceConfig) -> bool:
    """Without a domain, CloudFront serves HTTPS and the load balancer admits only it, so
    allowedCidrs needs a domain or plain HTTP; plain HTTP is for no domain only."""
    allow_http = r.boolean(K_ALLOW_HTTP, False)
    if allow_http and service.domain:
        raise r.fail(K_ALLOW_HTTP, f"false with {NAMESPACE}:{K_DOMAIN} (it serves HTTPS)")
    if r.has(K_ALLOWED_CIDRS) and not (allow_http or service.domain):
        raise r.fail(
            K_ALLOWED_CIDRS,
            f"only with {NAMESPACE}:{K_DOMAIN} or {NAMESPACE}:{K_ALLOW_HTTP} (without them "
            "CloudFront serves HTTPS and the load balancer admits CloudFront only)",
        )
    return allow_http


def _check_aws_region(r: _Reader, region: str | None, kms_key_arn: str | None) -> None:
    """The AWS region must be set and real, and a KMS key must live in it."""
    if not region or not _AWS_REGION.match(region):
        raise ConfigError(
            f"aws:region: invalid value {repr(region) if region else '(unset)'}; allowed: an AWS region such as "
            "eu-west-1 (pulumi config set aws:region ..., or AWS_REGION/AWS_DEFAULT_REGION)"
        )
    if kms_key_arn and kms_key_arn.split(":")[3] != region:
        raise r.fail(K_KMS_KEY, f"a KMS key in the stack's region {region}")


def aws_region_of(config: Mapping[str, object], environ: Mapping[str, str]) -> str | None:
    """The region the AWS provider will use: `aws:region`, else AWS_REGION, else
    AWS_DEFAULT_REGION, else the region of the AWS profile in the shared config file."""
    region = config.get("aws:region") or environ.get("AWS_REGION")
    region = region or environ.get("AWS_DEFAULT_REGION")
    if region:
        return str(region)
    profile = str(config.get("aws:profile") or environ.get("AWS_PROFILE") or "default")
    parser = configparser.ConfigParser()
    parser.read(environ.get("AWS_CONFIG_FILE") or os.path.expanduser("~/.aws/config"))
    section = profile if profile == "default" else f"profile {profile}"
    return parser.get(section, "region", fallback=None)


_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]{1,128}$")


def _parse_kms_key(r: _Reader) -> str | None:
    key_arn = r.string(K_KMS_KEY)
    if key_arn is None:
        return None
    if not _KMS_KEY_ARN.match(key_arn):
        # RDS takes a key ARN, not an alias: one form for both the bucket and the database.
        raise r.fail(
            K_KMS_KEY, "a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/<key-id>"
        )
    return key_arn


_CLOUDS_WITH_RESOURCES = ("aws", "gcp", "azure")
KEY_CLOUDS: dict[str, tuple[str, ...]] = {
    # Keys that size or guard cloud resources: the local stack has nothing to apply them to.
    **dict.fromkeys(
        (
            K_DB_SIZE,
            K_DB_STORAGE,
            K_DB_HA,
            K_DB_BACKUP,
            K_MIN_REPLICAS,
            K_MAX_REPLICAS,
            K_VERSIONING,
            K_NONCURRENT,
        ),
        _CLOUDS_WITH_RESOURCES,
    ),
    # AWS networking, IAM and KMS.
    **dict.fromkeys(
        (
            K_VPC_CIDR,
            K_VPC_ID,
            K_PUBLIC_SUBNETS,
            K_PRIVATE_SUBNETS,
            K_KMS_KEY,
            K_ALLOW_HTTP,
            K_ALB_ACCESS_LOGS,
            K_PRIVATE_ENDPOINTS,
            K_EPHEMERAL_STORAGE,
        ),
        ("aws",),
    ),
    K_CLIENT_KEY: ("aws", "gcp", "azure"),
    # Azure placement and direct-access principals.
    **dict.fromkeys(
        (K_RESOURCE_GROUP, K_VNET_CIDR, K_APPS_SUBNET, K_DB_SUBNET, K_CLIENT_PRINCIPALS),
        ("azure",),
    ),
    # GCP: Cloud Run has no CIDR filter of its own and logs to the project's Cloud Logging
    # buckets, so these two would be ignored there.
    **dict.fromkeys((K_ALLOWED_CIDRS, K_LOG_RETENTION), ("aws", "azure")),
    **dict.fromkeys(
        (K_DB_PRIVATE_IP, K_DB_TIER, K_CLIENT_MEMBERS, K_IAP_MEMBERS, K_KMS_KEY_NAME), ("gcp",)
    ),
    K_LOCAL_PORT: ("local",),
}
"""Keys that only some clouds read; every other key applies to all of them."""


def _refuse_keys_of_other_clouds(r: _Reader, cloud: str) -> None:
    """A key the chosen cloud would ignore is an error: a silently ignored value is a surprise."""
    for key, clouds in KEY_CLOUDS.items():
        if r.has(key) and cloud not in clouds:
            where = ("cloud " if len(clouds) == 1 else "clouds ") + ", ".join(
                repr(c) for c in clouds
            )
            raise r.fail(key, f"nothing with cloud {cloud!r} (it applies to {where})")


def _parse_database(r: _Reader, scenario: str) -> DatabaseConfig | None:
    has_db = scenario in ("direct", "proxied")
    if not has_db:
        for key in (K_DB_ENGINE, K_DB_SIZE, K_DB_STORAGE, K_DB_HA, K_DB_BACKUP):
            if r.has(key):
                raise r.fail(key, f"nothing: scenario {scenario!r} has no database")
        return None
    return DatabaseConfig(
        engine=r.choice(K_DB_ENGINE, ENGINES, "postgresql"),
        size=r.choice(K_DB_SIZE, DB_SIZES, "small"),
        storage_gb=r.integer(K_DB_STORAGE, 20, 20, 16384),
        high_availability=r.boolean(K_DB_HA, False),
        backup_retention_days=r.integer(K_DB_BACKUP, 7, 1, 35),
    )


ARTIFACTS_PROXY_GUARDS = {"gcp": "iapMembers", "azure": "allowedCidrs"}
"""What must stand in front of an artifacts-only server without basic-auth, per cloud that
has no database for the auth tables there yet: Cloud Run's IAP, or Container Apps' ingress
restricted to named networks."""


def _refuse_open_artifacts_proxy(r: _Reader, cloud: str, scenario: str, auth: AuthConfig) -> None:
    """No default in which an anonymous internet client can write: scenario artifacts-only
    without auth on GCP or Azure needs its guard key set, spelled out in config."""
    guard = ARTIFACTS_PROXY_GUARDS.get(cloud)
    if scenario != "artifacts-only" or auth.enabled or guard is None or r.has(guard):
        return
    raise r.fail(
        K_SCENARIO,
        f"artifacts-only on {cloud} only with {NAMESPACE}:{guard} set: without basic-auth "
        "(no database for its tables there) anyone who reaches the server could read, write "
        "and delete every artifact",
    )


def _parse_auth(r: _Reader, cloud: str, scenario: str) -> AuthConfig:
    # On by default on every cloud: no default lets an anonymous client write. Artifacts-only
    # keeps the auth tables in a database of their own, which only some clouds build yet.
    apart = scenario != "artifacts-only" or cloud in AUTH_DATABASE_CLOUDS
    enabled = r.boolean(K_AUTH, cloud != "local" and apart)
    if enabled and scenario == "artifacts-only" and cloud not in AUTH_DATABASE_CLOUDS:
        raise r.fail(
            K_AUTH,
            f"false with scenario 'artifacts-only' on cloud {cloud!r} (no database for the "
            f"auth tables there; clouds {_allowed(AUTH_DATABASE_CLOUDS)} create one)",
        )
    username = r.string(K_ADMIN_USER, "admin") or ""
    if not _USERNAME.match(username):
        raise r.fail(K_ADMIN_USER, "1 to 63 letters, digits or _.@-, starting with a letter")
    password = r.secret(K_ADMIN_PASSWORD)
    if password is not None and not password.value.isascii():
        # Such a password logs in to the tracking API but gets 401 on proxied artifact
        # requests (MLflow 3.17.2 decodes Basic credentials as ASCII on its FastAPI routes);
        # the image refuses it too: refused rather than half working.
        raise ConfigError(
            f"{NAMESPACE}:{K_ADMIN_PASSWORD}: a secret with non-ASCII characters (not shown); "
            "allowed: printable ASCII only"
        )
    if password is not None and len(password.value) < MIN_ADMIN_PASSWORD_LENGTH:
        raise ConfigError(
            f"{NAMESPACE}:{K_ADMIN_PASSWORD}: a secret of {len(password.value)} characters; "
            f"allowed: at least {MIN_ADMIN_PASSWORD_LENGTH} characters"
        )
    if not enabled:
        # The image refuses credentials without AUTH_ENABLED=true, never ignores them.
        for key in (K_ADMIN_USER, K_ADMIN_PASSWORD, K_DEFAULT_PERMISSION):
            if r.has(key):
                raise r.fail(key, f"nothing while {NAMESPACE}:{K_AUTH} is false")
    return AuthConfig(
        enabled=enabled,
        admin_username=username,
        admin_password=password,
        default_permission=r.choice(K_DEFAULT_PERMISSION, AUTH_PERMISSIONS, "NO_PERMISSIONS"),
    )


def _parse_service(r: _Reader, is_local: bool) -> ServiceConfig:
    replicas = r.integer(K_REPLICAS, 1 if is_local else 2, 1, 100)
    if is_local and replicas != 1:
        raise r.fail(K_REPLICAS, "1 on cloud 'local' (one container publishes the port)")
    min_replicas = r.integer(K_MIN_REPLICAS, replicas, 1, 100)
    max_replicas = r.integer(K_MAX_REPLICAS, max(4, replicas), 1, 100)
    if not min_replicas <= replicas <= max_replicas:
        raise r.fail(
            K_REPLICAS if r.has(K_REPLICAS) else K_MIN_REPLICAS,
            f"minReplicas ({min_replicas}) <= replicas ({replicas}) "
            f"<= maxReplicas ({max_replicas})",
        )
    cpu = r.number(K_CPU, 1.0, CPU_CHOICES)
    memory = r.integer(K_MEMORY, 2048, 512, 32768)
    if memory < cpu * 1024 / 2 or memory > cpu * 8192:
        raise r.fail(
            K_MEMORY,
            f"{int(cpu * 512)} to {int(cpu * 8192)} MB for serverCpu {cpu:g} "
            "(the ratios Fargate, Cloud Run and Container Apps accept)",
        )
    domain = r.string(K_DOMAIN)
    if domain is not None:
        domain = domain.lower().rstrip(".")
        if not _HOSTNAME.match(domain) or "." not in domain:
            raise r.fail(K_DOMAIN, "a DNS name such as mlflow.example.com")
    allowed_hosts = r.string_list(K_ALLOWED_HOSTS)
    for host in allowed_hosts:
        name, _, port = host.partition(":")
        if not _HOSTNAME.match(name.lower()) or (port and not port.isdigit()):
            raise r.fail(
                K_ALLOWED_HOSTS, 'host names, optionally with :port, e.g. ["mlflow.internal"]'
            )
    cidrs = r.string_list(K_ALLOWED_CIDRS) if r.has(K_ALLOWED_CIDRS) else ("0.0.0.0/0",)
    if not cidrs:
        raise r.fail(K_ALLOWED_CIDRS, "at least one IPv4 CIDR such as 10.0.0.0/8")
    for cidr in cidrs:
        try:
            ipaddress.IPv4Network(cidr)
        except ValueError:
            raise r.fail(K_ALLOWED_CIDRS, "IPv4 CIDRs such as 10.0.0.0/8, host bits zero") from None
    return ServiceConfig(
        replicas=replicas,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        cpu=cpu,
        memory_mb=memory,
        domain=domain,
        allowed_hosts=tuple(h.lower() for h in allowed_hosts),
        allowed_cidrs=cidrs,
        log_retention_days=int(r.choice(K_LOG_RETENTION, _LOG_RETENTION_CHOICES, "30")),
        local_port=r.integer(K_LOCAL_PORT, 5000, 1024, 65535),
        load_balancer_access_logs=r.boolean(K_ALB_ACCESS_LOGS, True),
    )


_LOG_RETENTION_CHOICES = tuple(
    str(d) for d in (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653)
)
"""Retention periods CloudWatch accepts (the other clouds accept any of them too)."""


def _parse_artifacts(r: _Reader, cloud: str, scenario: str) -> ArtifactConfig:
    client_key = r.boolean(K_CLIENT_KEY, False)
    if scenario == "direct" and r.has(K_MAX_UPLOAD):
        raise r.fail(
            K_MAX_UPLOAD,
            "nothing with scenario 'direct' (clients write to the bucket themselves; the "
            "server spools no upload)",
        )
    if client_key and scenario != "direct":
        raise r.fail(
            K_CLIENT_KEY,
            "true only with scenario 'direct' (clients read the bucket themselves only there)",
        )
    return ArtifactConfig(
        versioning=r.boolean(K_VERSIONING, True),
        noncurrent_version_days=r.integer(K_NONCURRENT, 30, 1, 3650),
        force_destroy=r.boolean(K_FORCE_DESTROY, cloud == "local"),
        create_client_access_key=client_key,
        max_upload_mb=(
            None
            if scenario == "direct"
            else r.integer(K_MAX_UPLOAD, DEFAULT_MAX_UPLOAD_MB[cloud], 1, 204800)
        ),
    )


def _parse_ephemeral_storage(r: _Reader) -> int | None:
    """AWS: the Fargate task's ephemeral storage (None: Fargate's default)."""
    low, high = FARGATE_STORAGE_GIB_RANGE
    return r.integer(K_EPHEMERAL_STORAGE, 0, low, high) if r.has(K_EPHEMERAL_STORAGE) else None


def _fit_upload(
    r: _Reader,
    artifacts: ArtifactConfig,
    spool_mb: int,
    where: str,
    request_mb: int | None = None,
) -> ArtifactConfig:
    """A set artifactMaxUploadMb the cloud's spool (or request limit) cannot hold is refused:
    the image would refuse to start on it, or the platform refuse the upload. Unset, the
    cloud's default is lowered to what fits (a 0.25 vCPU Container App's smaller spool)."""
    if artifacts.max_upload_mb is None:
        return artifacts
    if not r.has(K_MAX_UPLOAD):
        fits = min(artifacts.max_upload_mb, spool_mb, request_mb or spool_mb)
        return replace(artifacts, max_upload_mb=fits)
    problem = upload_limit_problem(artifacts.max_upload_mb, spool_mb, request_mb)
    if problem:
        raise r.fail(
            K_MAX_UPLOAD,
            f"{problem} on {where}; each proxied upload is spooled whole before it goes "
            "to the bucket",
        )
    return artifacts


def _parse_network(r: _Reader) -> NetworkConfig:
    vpc_cidr = r.string(K_VPC_CIDR, "10.0.0.0/16") or ""
    try:
        network = ipaddress.IPv4Network(vpc_cidr)
    except ValueError:
        raise r.fail(K_VPC_CIDR, "an IPv4 CIDR from /16 to /24, host bits zero") from None
    if not 16 <= network.prefixlen <= 24:
        raise r.fail(K_VPC_CIDR, "an IPv4 CIDR from /16 to /24, host bits zero")
    vpc_id = r.string(K_VPC_ID)
    public = r.string_list(K_PUBLIC_SUBNETS)
    private = r.string_list(K_PRIVATE_SUBNETS)
    if vpc_id is not None:
        if not re.match(r"^vpc-[0-9a-f]{8,17}$", vpc_id):
            raise r.fail(K_VPC_ID, "an id such as vpc-0123456789abcdef0")
        for key, ids in ((K_PUBLIC_SUBNETS, public), (K_PRIVATE_SUBNETS, private)):
            if len(ids) < 2 or not all(re.match(r"^subnet-[0-9a-f]{8,17}$", i) for i in ids):
                raise r.fail(
                    key,
                    "at least two subnet ids (two availability zones) "
                    f"such as subnet-0123456789abcdef0 when {NAMESPACE}:vpcId is set",
                )
            if len(set(ids)) != len(ids) or (key == K_PRIVATE_SUBNETS and set(ids) & set(public)):
                raise r.fail(key, f"distinct subnet ids, none also in {K_PUBLIC_SUBNETS}")
        if r.has(K_VPC_CIDR):
            raise r.fail(K_VPC_CIDR, f"nothing when {NAMESPACE}:vpcId is set")
        if r.boolean(K_PRIVATE_ENDPOINTS, False):
            raise r.fail(
                K_PRIVATE_ENDPOINTS,
                f"false when {NAMESPACE}:vpcId is set (the endpoints of your VPC are yours: "
                "its private subnets must reach ECR, Secrets Manager, Logs and S3)",
            )
    else:
        for key in (K_PUBLIC_SUBNETS, K_PRIVATE_SUBNETS):
            if r.has(key):
                raise r.fail(key, f"nothing unless {NAMESPACE}:vpcId is set")
    return NetworkConfig(
        vpc_cidr=vpc_cidr,
        vpc_id=vpc_id,
        public_subnet_ids=public,
        private_subnet_ids=private,
        private_endpoints=r.boolean(K_PRIVATE_ENDPOINTS, False),
    )


GCP_PROJECT_SOURCES = (
    "GOOGLE_PROJECT",
    "GOOGLE_CLOUD_PROJECT",
    "GCLOUD_PROJECT",
    "CLOUDSDK_CORE_PROJECT",
)
"""Environment variables the GCP provider reads its project from when `gcp:project` is unset."""
GCP_REGION_SOURCES = ("GOOGLE_REGION", "GCLOUD_REGION", "CLOUDSDK_COMPUTE_REGION")
"""Likewise for `gcp:region`."""
_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_GCP_REGION = re.compile(r"^[a-z]+(-[a-z]+)+[0-9]+$")
_GCP_MEMBER = re.compile(r"^(user|group|serviceAccount|domain|principal|principalSet):\S+$")
_GCP_KMS_KEY = re.compile(r"^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$")
_GCP_LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")


def _parse_gcp(
    r: _Reader,
    provider: Mapping[str, str],
    database: DatabaseConfig | None,
    service: ServiceConfig,
    tags: Mapping[str, str],
) -> GcpConfig:
    """GCP's refusals, each naming its key, and the GCP-only keys."""
    project, region = provider.get("gcp:project", ""), provider.get("gcp:region", "")
    if not _GCP_PROJECT.match(project):
        raise ConfigError(
            f"gcp:project: {'unset' if not project else repr(project)}; allowed: a project id "
            "(6-30 lowercase letters, digits, hyphens) set with `pulumi config set gcp:project "
            f"ID` or {'/'.join(GCP_PROJECT_SOURCES)}"
        )
    if not _GCP_REGION.match(region):
        raise ConfigError(
            f"gcp:region: {'unset' if not region else repr(region)}; allowed: a region such as "
            "europe-west1 (not a zone or multi-region), set with `pulumi config set gcp:region "
            f"REGION` or {'/'.join(GCP_REGION_SOURCES)}"
        )
    if r.has(K_REPLICAS) and r.has(K_MIN_REPLICAS) and service.replicas != service.min_replicas:
        raise r.fail(
            K_REPLICAS,
            f"unset or equal to {NAMESPACE}:{K_MIN_REPLICAS} on GCP (Cloud Run starts "
            "minReplicas instances and scales on load)",
        )
    if service.cpu < 1:
        # Cloud Run's fractional CPU serves one request at a time per instance.
        raise r.fail(K_CPU, "1, 2 or 4 on GCP (whole vCPUs on Cloud Run)")
    if service.memory_mb > service.cpu * 4096:
        raise r.fail(
            K_MEMORY,
            f"at most {int(service.cpu * 4096)} MB for serverCpu "
            f"{service.cpu:g} on GCP (Cloud Run: 4096 MB per vCPU)",
        )
    for key, value in tags.items():
        if not _GCP_LABEL.match(key) or not _GCP_LABEL_VALUE.match(value):
            raise r.fail(
                K_TAGS,
                "GCP labels: keys of a lowercase letter then up to 62 lowercase letters, "
                "digits, _ or -; values of up to 63 of those",
            )
    private_ip = r.boolean(K_DB_PRIVATE_IP, False)
    tier = r.string(K_DB_TIER)
    for key, given in ((K_DB_PRIVATE_IP, private_ip), (K_DB_TIER, tier)):
        if given and database is None:
            raise r.fail(key, "nothing: scenario 'artifacts-only' has no database")
    if tier is not None:
        if r.has(K_DB_SIZE):
            raise r.fail(K_DB_TIER, f"nothing together with {NAMESPACE}:{K_DB_SIZE}")
        if not re.match(r"^db-[a-z0-9-]+$", tier):
            # Which tiers the engine has is the GCP stack's check (mlflow_iac.gcp.sizing).
            raise r.fail(K_DB_TIER, "a Cloud SQL tier such as db-custom-2-7680")
    members = r.string_list(K_CLIENT_MEMBERS)
    if members and r.string(K_SCENARIO) != "direct":
        raise r.fail(K_CLIENT_MEMBERS, "nothing unless scenario is 'direct'")
    if not all(_GCP_MEMBER.match(m) for m in members):
        raise r.fail(K_CLIENT_MEMBERS, 'IAM principals such as ["group:ml@example.com"]')
    iap_members = r.string_list(K_IAP_MEMBERS)
    if r.has(K_IAP_MEMBERS) and not iap_members:
        raise r.fail(K_IAP_MEMBERS, 'at least one IAM principal such as ["group:ml@example.com"]')
    if not all(_GCP_MEMBER.match(m) for m in iap_members):
        raise r.fail(K_IAP_MEMBERS, 'IAM principals such as ["group:ml@example.com"]')
    kms_key = r.string(K_KMS_KEY_NAME)
    if kms_key is not None and not _GCP_KMS_KEY.match(kms_key):
        raise r.fail(K_KMS_KEY_NAME, "projects/P/locations/L/keyRings/R/cryptoKeys/K")
    return GcpConfig(project, region, private_ip, tier, members, iap_members, kms_key)


def provider_settings(
    all_config: Mapping[str, object], environ: Mapping[str, str]
) -> dict[str, str]:
    """The provider settings the program checks, as the providers resolve them: the AWS
    provider's region (`aws_region_of`), GCP's project and region (its config keys first,
    then its environment variables) and the Azure provider's location (config only)."""
    settings: dict[str, str] = {"aws:region": aws_region_of(all_config, environ) or ""}
    location = all_config.get(AZURE_LOCATION_KEY)
    if isinstance(location, str):
        settings[AZURE_LOCATION_KEY] = location
    for key, sources in (("gcp:project", GCP_PROJECT_SOURCES), ("gcp:region", GCP_REGION_SOURCES)):
        value = all_config.get(key)
        if not isinstance(value, str) or not value:
            value = next((environ[v] for v in sources if environ.get(v)), "")
        settings[key] = value.strip()
    return settings


AZURE_LOCATION_KEY = "azure-native:location"
"""The Azure provider's region setting: every Azure resource is placed there."""
_AZURE_SUBNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w.()]{1,90}/providers/"
    r"Microsoft\.Network/virtualNetworks/[-\w.]{2,64}/subnets/[-\w.]{1,80}$",
    re.IGNORECASE,
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_RESOURCE_GROUP = re.compile(r"^[-\w.()]{0,89}[-\w()]$")


def _parse_azure(r: _Reader, scenario: str, provider: Mapping[str, str]) -> AzureConfig:
    from mlflow_iac.azure.locations import LOCATIONS  # noqa: PLC0415  # Azure stacks only

    location = (provider.get(AZURE_LOCATION_KEY) or "").strip()
    if location not in LOCATIONS:
        shown = repr(location) if location else "(unset)"
        raise ConfigError(
            f"{AZURE_LOCATION_KEY}: invalid value {shown}; allowed: an Azure region name such as "
            f"westeurope or eastus2 (`pulumi config set {AZURE_LOCATION_KEY} westeurope`)"
        )
    group = r.string(K_RESOURCE_GROUP)
    if group is not None and not _RESOURCE_GROUP.match(group):
        raise r.fail(K_RESOURCE_GROUP, "1 to 90 letters, digits or -_.(), not ending in '.'")
    vnet_cidr = r.string(K_VNET_CIDR, "10.0.0.0/16") or ""
    try:
        prefix = ipaddress.IPv4Network(vnet_cidr).prefixlen
    except ValueError:
        prefix = 0
    if not 16 <= prefix <= 22:
        raise r.fail(K_VNET_CIDR, "an IPv4 CIDR from /16 to /22, host bits zero")
    apps, db = r.string(K_APPS_SUBNET), r.string(K_DB_SUBNET)
    subnet_form = "a subnet resource id /subscriptions/<id>/resourceGroups/<rg>/providers/"
    for key, value in ((K_APPS_SUBNET, apps), (K_DB_SUBNET, db)):
        if value is not None and not _AZURE_SUBNET_ID.match(value):
            raise r.fail(
                key, subnet_form + "Microsoft.Network/virtualNetworks/<vnet>/subnets/<name>"
            )
    has_db = scenario in ("direct", "proxied")
    if apps is not None:
        if r.has(K_VNET_CIDR):
            raise r.fail(K_VNET_CIDR, f"nothing when {NAMESPACE}:{K_APPS_SUBNET} is set")
        if has_db and db is None:
            raise r.fail(K_DB_SUBNET, f"a subnet id when {NAMESPACE}:{K_APPS_SUBNET} is set")
        if (
            db is not None
            and db.lower().rsplit("/subnets/", 1)[0] != apps.lower().rsplit("/subnets/", 1)[0]
        ):
            raise r.fail(K_DB_SUBNET, f"a subnet of the VNet of {NAMESPACE}:{K_APPS_SUBNET}")
    if db is not None and (apps is None or not has_db):
        raise r.fail(
            K_DB_SUBNET,
            f"nothing unless {NAMESPACE}:{K_APPS_SUBNET} is set and there is a database",
        )
    principals = r.string_list(K_CLIENT_PRINCIPALS)
    if principals and scenario != "direct":
        raise r.fail(K_CLIENT_PRINCIPALS, "nothing unless scenario is 'direct'")
    if not all(_GUID.match(p) for p in principals):
        raise r.fail(K_CLIENT_PRINCIPALS, 'Entra object ids (GUIDs), e.g. ["<object id>"]')
    return AzureConfig(
        location=location,
        resource_group_name=group,
        vnet_cidr=vnet_cidr,
        apps_subnet_id=apps,
        db_subnet_id=db,
        client_principal_ids=tuple(p.lower() for p in principals),
    )


def load_config() -> StackConfig:
    """Read this project's config namespace from the Pulumi engine and parse it."""
    prefix = f"{NAMESPACE}:"
    raw: dict[str, str] = {}
    secret_keys: set[str] = set()
    # The engine hands config over either in the runtime's map or in PULUMI_CONFIG.
    all_config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    env_secrets = set(runtime_config.get_config_secret_keys_env())
    for full_key, value in all_config.items():
        if full_key.startswith(prefix):
            key = full_key[len(prefix) :]
            raw[key] = value if isinstance(value, str) else json.dumps(value)
            if pulumi.runtime.is_config_secret(full_key) or full_key in env_secrets:
                secret_keys.add(key)
    return parse_config(raw, frozenset(secret_keys), provider_settings(all_config, os.environ))
