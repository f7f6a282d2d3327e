"""`MlflowServer`: the GCP deployment of one MLflow scenario, wired from the components.

The component package `mlflow-gcp` (provider/, `mlflow_iac.plugin`) builds its schema from
`MlflowServerArgs` and the output annotations at run time, so this module keeps real
annotations (no `from __future__ import annotations`) and types only the analyzer accepts:
scalars, `Sequence[str]`, `Mapping[str, ...]`, `X | None`, `pulumi.Input`/`pulumi.Output`.
"""

from collections.abc import Mapping, Sequence
from typing import TypedDict

import pulumi
import pulumi_random as random

from mlflow_iac.environment import DatabaseEndpoint
from mlflow_iac.gcp.bucket import ArtifactBucket
from mlflow_iac.gcp.database import Database
from mlflow_iac.gcp.identity import Identity
from mlflow_iac.gcp.naming import labels as gcp_labels
from mlflow_iac.gcp.network import Network
from mlflow_iac.gcp.secrets import SecretRef, stored_secret
from mlflow_iac.gcp.service import Service
from mlflow_iac.limits import DEFAULT_MAX_UPLOAD_MB
from mlflow_iac.vocabulary import CLOUD_SCENARIOS, DATABASE_SCENARIOS


class MlflowServerArgs(TypedDict, total=False):
    """Inputs of `MlflowServer`: the stack config, flattened. All plain values but the
    admin password."""

    scenario: str
    """direct (4), proxied (5, default) or artifacts-only (6)."""
    db_engine: str
    """postgresql (default) or mysql; direct and proxied only."""
    db_size: str
    """small (default), medium or large (Cloud SQL tiers, see `sizing.DB_TIERS`)."""
    db_tier: str | None
    """An explicit Cloud SQL tier instead of `db_size`."""
    db_storage_gb: int
    """Database storage in GB. Default 20."""
    db_high_availability: bool
    """A regional Cloud SQL instance. Default False."""
    db_backup_retention_days: int
    """Daily backups kept. Default 7."""
    db_private: bool
    """Private IP only, through a new VPC and Direct VPC egress. Default False: Cloud Run's
    Cloud SQL connection (unix socket; the instance's public IP has no authorised network)."""
    auth_enabled: bool
    """MLflow basic-auth (not with artifacts-only). Default True except artifacts-only."""
    admin_username: str
    """The basic-auth admin. Default admin."""
    admin_password: pulumi.Input[str] | None
    """The admin password (secret); None: generated (RandomPassword)."""
    default_permission: str
    """Permission on experiments a user was not granted. Default NO_PERMISSIONS."""
    iap_members: Sequence[str]
    """Principals let through Cloud Run's IAP; [] (default): allUsers may invoke the service
    and MLflow's login guards it."""
    replicas: int
    """Default for min_replicas. Default 2."""
    min_replicas: int
    """Cloud Run min instances. Default `replicas`."""
    max_replicas: int
    """Cloud Run max instances. Default max(4, replicas)."""
    cpu: float
    """vCPU per instance (1, 2, 4, 8). Default 1."""
    memory_mb: int
    """Memory per instance in MB. Default 2048."""
    max_upload_mb: int | None
    """Largest proxied upload (MB), ARTIFACT_MAX_UPLOAD_MB: at most Cloud Run's 32 MiB
    request limit, and held in memory (the spool). Default 32; None with direct."""
    domain: str | None
    """Custom domain (Cloud Run domain mapping, managed certificate)."""
    allowed_hosts: Sequence[str]
    """Extra Host header values MLflow accepts."""
    artifact_versioning: bool
    """Bucket versioning. Default True."""
    artifact_noncurrent_days: int
    """Days before non-current artifact versions are deleted. Default 30."""
    artifact_force_destroy: bool
    """Let destroy delete a non-empty bucket. Default False."""
    artifact_kms_key_name: str | None
    """Customer-managed Cloud KMS key of the bucket."""
    client_members: Sequence[str]
    """direct only: principals that may impersonate the client service account."""
    client_key: bool
    """direct only: a key of the client service account (secret output). Default False."""
    deletion_protection: bool
    """Protect the database, the bucket and the Cloud Run service. Default True."""
    image_context: str
    """Docker build context of the mlflow-server image. Default: the context packaged with
    mlflow-iac (`mlflow_iac.image.default_context()`)."""
    image: str | None
    """A prebuilt image reference instead of building one."""
    tags: Mapping[str, str]
    """Labels on every resource that takes them."""


class MlflowServer(pulumi.ComponentResource):
    """An MLflow tracking server on GCP for scenario direct, proxied or artifacts-only.

    Children: `Network` (private database only), `ArtifactBucket`, `Database` (not
    artifacts-only), RandomPassword x1-2 + Secret + SecretVersion per auth secret (admin
    password, Flask key), `Identity`, `Service`.
    """

    url: pulumi.Output[str]
    """Tracking URI clients use."""
    artifact_location: pulumi.Output[str]
    """gs://bucket of the artifacts."""
    run_app_host: pulumi.Output[str]
    """The run.app host name of the service."""
    server_service_account: pulumi.Output[str]
    """The server's service account e-mail."""
    database_password_secret: pulumi.Output[str | None]
    """Secret Manager id of the database password (None for artifacts-only)."""
    database_connection_name: pulumi.Output[str | None]
    """PROJECT:REGION:INSTANCE of the Cloud SQL instance (None for artifacts-only)."""
    admin_username: pulumi.Output[str | None]
    """The basic-auth admin (None without auth)."""
    admin_password: pulumi.Output[str | None]
    """The admin password (secret; None without auth)."""
    admin_password_secret: pulumi.Output[str | None]
    """Secret Manager id of the admin password (None without auth)."""
    flask_secret_key_secret: pulumi.Output[str | None]
    """Secret Manager id of the Flask key (None without auth)."""
    client_service_account: pulumi.Output[str | None]
    """direct: the client service account's e-mail."""
    client_key: pulumi.Output[str | None]
    """direct with a key: base64 key file (secret)."""
    domain_records: pulumi.Output[list[dict[str, str]]]
    """With a domain: the DNS records it needs."""

    def __init__(
        self, name: str, args: MlflowServerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        scenario = args.get("scenario", "proxied")
        if scenario not in CLOUD_SCENARIOS:
            raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(CLOUD_SCENARIOS)}")
        has_database = scenario in DATABASE_SCENARIOS
        auth = args.get("auth_enabled", has_database)
        if auth and not has_database:
            raise ValueError("auth_enabled: basic-auth needs a tracking server, not artifacts-only")
        if (args.get("client_key") or args.get("client_members")) and scenario != "direct":
            raise ValueError("client_key, client_members: only with scenario 'direct'")
        if args.get("db_private") and not has_database:
            raise ValueError("db_private: only with a database (direct, proxied)")
        labels = gcp_labels(dict(args.get("tags") or {}))
        super().__init__("mlflow-gcp:index:MlflowServer", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self._name, self._labels = name, labels

        self.network = Network(f"{name}-net", {}, self._child) if args.get("db_private") else None
        self.bucket = self._bucket(args)
        self.database = self._database(args) if has_database else None
        secrets = self._auth_secrets(args) if auth else {}
        if self.database is not None:
            secrets["DB_PASSWORD"] = self.database.password_secret
        self.identity = self._identity(args, scenario, secrets)
        self.service = self._service(args, scenario, auth, secrets)
        self._outputs(args, auth, secrets)

    def _bucket(self, args: MlflowServerArgs) -> ArtifactBucket:
        return ArtifactBucket(
            f"{self._name}-artifacts",
            {
                "versioning": args.get("artifact_versioning", True),
                "noncurrent_version_days": args.get("artifact_noncurrent_days", 30),
                "force_destroy": args.get("artifact_force_destroy", False),
                "deletion_protection": args.get("deletion_protection", True),
                "kms_key_name": args.get("artifact_kms_key_name"),
                "tags": self._labels,
            },
            self._child,
        )

    def _database(self, args: MlflowServerArgs) -> Database:
        network = self.network
        return Database(
            f"{self._name}-db",
            {
                "engine": args.get("db_engine", "postgresql"),
                "size": args.get("db_size", "small"),
                "tier": args.get("db_tier"),
                "storage_gb": args.get("db_storage_gb", 20),
                "high_availability": args.get("db_high_availability", False),
                "backup_retention_days": args.get("db_backup_retention_days", 7),
                "private_network": network.network_id if network else None,
                "deletion_protection": args.get("deletion_protection", True),
                "tags": self._labels,
            },
            # The private IP comes from the peering range: the connection must exist first.
            pulumi.ResourceOptions(
                parent=self, depends_on=[network.connection] if network else None
            ),
        )

    def _auth_secrets(self, args: MlflowServerArgs) -> dict[str, SecretRef]:
        """The admin password (given or generated) and one Flask key shared by every
        instance (a session made by one is valid on all), each in Secret Manager."""
        given = args.get("admin_password")
        if given is None:
            given = random.RandomPassword(
                f"{self._name}-admin-password",
                length=24,
                special=True,
                override_special="-_.~!#%^*",
                min_lower=1,
                min_upper=1,
                min_numeric=1,
                opts=self._child,
            ).result
        flask = random.RandomPassword(
            f"{self._name}-flask-key", length=48, special=False, opts=self._child
        ).result
        self._admin_password = pulumi.Output.secret(given)
        self._flask_key = pulumi.Output.secret(flask)
        return {
            "AUTH_PASSWORD": stored_secret(
                f"{self._name}-admin-password", self._admin_password, self._labels, self._child
            ),
            "MLFLOW_FLASK_SERVER_SECRET_KEY": stored_secret(
                f"{self._name}-flask-key", self._flask_key, self._labels, self._child
            ),
        }

    def _identity(
        self, args: MlflowServerArgs, scenario: str, secrets: Mapping[str, SecretRef]
    ) -> Identity:
        return Identity(
            f"{self._name}-identity",
            {
                "bucket_name": self.bucket.name,
                "secret_ids": [secrets[k].id for k in sorted(secrets)],
                "database_instance": self.database.instance_name if self.database else None,
                # Proxied uploads are signed by the server; direct clients upload themselves.
                "signs_urls": scenario != "direct",
                "client_access": scenario == "direct",
                "client_members": list(args.get("client_members") or ()),
                "client_key": args.get("client_key", False),
            },
            self._child,
        )

    def _service(
        self,
        args: MlflowServerArgs,
        scenario: str,
        auth: bool,
        secrets: Mapping[str, SecretRef],
    ) -> Service:
        db, network = self.database, self.network
        endpoint = (
            DatabaseEndpoint(
                engine=db.engine,
                host=db.host,
                port=db.port,
                name=db.name,
                username=db.username,
                password=db.password,
                sslmode="require",
            )
            if db
            else None
        )
        replicas = args.get("replicas", 2)
        return Service(
            f"{self._name}-server",
            {
                "scenario": scenario,
                "artifact_url": self.bucket.uri,
                "service_account_email": self.identity.server_email,
                "database": endpoint,
                "database_tier": db.tier if db else None,
                "cloud_sql_connection": db.connection_name if db and not db.private else None,
                "vpc_network": network.network_id if network else None,
                "vpc_subnet": network.subnet_id if network else None,
                "secrets": secrets,
                "auth_enabled": auth,
                "admin_username": args.get("admin_username", "admin"),
                "admin_password": self._admin_password if auth else None,
                "flask_secret_key": self._flask_key if auth else None,
                "default_permission": args.get("default_permission", "NO_PERMISSIONS"),
                "iap_members": list(args.get("iap_members") or ()),
                "domain": args.get("domain"),
                "allowed_hosts": args.get("allowed_hosts", ()),
                "replicas": replicas,
                "min_replicas": args.get("min_replicas", replicas),
                "max_replicas": args.get("max_replicas", max(4, replicas)),
                "cpu": args.get("cpu", 1.0),
                "memory_mb": args.get("memory_mb", 2048),
                "max_upload_mb": (
                    None
                    if args.get("scenario") == "direct"
                    else args.get("max_upload_mb", DEFAULT_MAX_UPLOAD_MB["gcp"])
                ),
                "deletion_protection": args.get("deletion_protection", True),
                "image": args.get("image"),
                "image_context": "" if args.get("image") else args.get("image_context", ""),
                "tags": self._labels,
            },
            # Cloud Run checks the secrets' IAM when it deploys a revision.
            pulumi.ResourceOptions(parent=self, depends_on=[self.identity]),
        )

    def _outputs(
        self, args: MlflowServerArgs, auth: bool, secrets: Mapping[str, SecretRef]
    ) -> None:
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)

        def secret_id(variable: str) -> pulumi.Output[str | None]:
            ref = secrets.get(variable)
            return ref.secret.secret_id if ref else none

        self.url = self.service.url
        self.artifact_location = self.bucket.uri
        self.run_app_host = self.service.run_app_host
        self.server_service_account = self.identity.server_email
        self.database_password_secret = secret_id("DB_PASSWORD")
        self.database_connection_name = self.database.connection_name if self.database else none
        self.admin_username = (
            pulumi.Output.from_input(args.get("admin_username", "admin")) if auth else none
        )
        self.admin_password = self._admin_password if auth else none
        self.admin_password_secret = secret_id("AUTH_PASSWORD")
        self.flask_secret_key_secret = secret_id("MLFLOW_FLASK_SERVER_SECRET_KEY")
        self.client_service_account = self.identity.client_email
        self.client_key = self.identity.client_key
        self.domain_records = self.service.domain_records
        self.register_outputs(
            {
                "url": self.url,
                "artifact_location": self.artifact_location,
                "run_app_host": self.run_app_host,
                "server_service_account": self.server_service_account,
                "database_password_secret": self.database_password_secret,
                "database_connection_name": self.database_connection_name,
                "admin_username": self.admin_username,
                "admin_password": self.admin_password,
                "admin_password_secret": self.admin_password_secret,
                "flask_secret_key_secret": self.flask_secret_key_secret,
                "client_service_account": self.client_service_account,
                "client_key": self.client_key,
                "domain_records": self.domain_records,
            }
        )
