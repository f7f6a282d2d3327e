"""The GCP stack: one `MlflowServer` (Cloud Run, Cloud SQL, GCS, Secret Manager) for scenario
direct, proxied or artifacts-only, and the stack outputs users and clients need.

Imports only `pulumi_gcp` (through `mlflow_iac.gcp`), never another cloud's SDK. Provider
settings are the caller's: `pulumi config set gcp:project ...` and `gcp:region ...` (checked
by `stacks.config` before any resource).
"""

from __future__ import annotations

from typing import Any

import pulumi

from mlflow_iac.db_pool import server_engines
from mlflow_iac.gcp import MlflowServer
from mlflow_iac.gcp.sizing import db_tier, max_instances_that_fit, server_workers, tier_problem
from mlflow_iac.limits import WORKER_MEMORY_MB, cloud_run_memory_needed
from stacks.config import (
    K_DB_SIZE,
    K_DB_TIER,
    K_MAX_REPLICAS,
    K_MAX_UPLOAD,
    K_MEMORY,
    NAMESPACE,
    StackConfig,
)

MULTIPART_CHUNK_BYTES = 16 * 1024 * 1024
"""Proxied uploads from this size on go in parts of this size, each a request far below
Cloud Run's 32 MiB limit on HTTP/1 request bodies (MLflow's default minimum is 500 MB)."""


def deploy(config: StackConfig) -> dict[str, Any]:
    """Create the MLflow server for `config` and return the stack outputs by name."""
    service, artifacts, gcp = config.service, config.artifacts, config.gcp
    assert gcp is not None  # parse_config fills it for cloud gcp
    _check_memory_holds_the_spool(config)
    db = config.database
    if db is not None:
        workers = server_workers(service.cpu, service.memory_mb)
        tier = gcp.db_tier or db_tier(db.size)
        problem = tier_problem(db.engine, tier)
        if problem:
            raise pulumi.RunError(
                f"{NAMESPACE}:{K_DB_TIER}: invalid value {tier!r} with {db.engine}; "
                f"allowed: {problem}"
            )
        engines = server_engines(backend_store=True, auth_tables=config.auth.enabled)
        fits = max_instances_that_fit(tier, workers, engines)
        if service.max_replicas > fits:
            # Every engine of every worker of every instance has its own connection pool.
            raise pulumi.RunError(
                f"{NAMESPACE}:{K_MAX_REPLICAS}: invalid value {service.max_replicas} with "
                f"tier {tier} ({workers} workers per instance, {engines} database engines per "
                f"worker): the database cannot hold "
                f"that many connection pools; allowed: {fits} or fewer, or a larger "
                f"{NAMESPACE}:{K_DB_SIZE}"
            )
    admin_password = (
        pulumi.Output.secret(config.auth.admin_password.value)
        if config.auth.admin_password is not None
        else None
    )
    server = MlflowServer(
        "mlflow",
        {
            "scenario": config.scenario,
            "db_engine": db.engine if db else "postgresql",
            "db_size": db.size if db else "small",
            "db_tier": gcp.db_tier,
            "db_storage_gb": db.storage_gb if db else 20,
            "db_high_availability": db.high_availability if db else False,
            "db_backup_retention_days": db.backup_retention_days if db else 7,
            "db_private": gcp.db_private_ip,
            "auth_enabled": config.auth.enabled,
            "admin_username": config.auth.admin_username,
            "admin_password": admin_password,
            "default_permission": config.auth.default_permission,
            "replicas": service.replicas,
            "min_replicas": service.min_replicas,
            "max_replicas": service.max_replicas,
            "cpu": service.cpu,
            "memory_mb": service.memory_mb,
            "max_upload_mb": artifacts.max_upload_mb,
            "domain": service.domain,
            "allowed_hosts": service.allowed_hosts,
            "artifact_versioning": artifacts.versioning,
            "artifact_noncurrent_days": artifacts.noncurrent_version_days,
            "artifact_force_destroy": artifacts.force_destroy,
            "artifact_kms_key_name": gcp.kms_key_name,
            "client_members": gcp.client_members,
            "iap_members": gcp.iap_members,
            "client_key": artifacts.create_client_access_key,
            "deletion_protection": config.deletion_protection,
            "tags": dict(config.tags),
        },
    )
    outputs: dict[str, Any] = {
        "scenario": config.scenario,
        "trackingUri": server.url,
        "artifactLocation": server.artifact_location,
        "runAppHost": server.run_app_host,
        "serverServiceAccount": server.server_service_account,
        "clientEnvironment": client_environment(config, server),
    }
    if db is not None:
        outputs["databasePasswordSecret"] = server.database_password_secret
        outputs["databaseConnectionName"] = server.database_connection_name
    if config.auth.enabled:
        outputs["adminUsername"] = server.admin_username
        outputs["adminPassword"] = pulumi.Output.secret(server.admin_password)
        outputs["adminPasswordSecret"] = server.admin_password_secret
        outputs["flaskSecretKeySecret"] = server.flask_secret_key_secret
    if config.scenario == "direct":
        outputs["clientServiceAccount"] = server.client_service_account
    if artifacts.create_client_access_key:
        outputs["clientKey"] = pulumi.Output.secret(server.client_key)
    if service.domain:
        outputs["domainDnsRecords"] = server.domain_records
    return outputs


def _check_memory_holds_the_spool(config: StackConfig) -> None:
    """Cloud Run's filesystem is memory: an instance must hold its workers and the in-memory
    spool of one upload of artifactMaxUploadMb (`mlflow_iac.limits`)."""
    service, max_upload = config.service, config.artifacts.max_upload_mb
    if max_upload is None:
        return
    workers = server_workers(service.cpu, service.memory_mb)
    needed = cloud_run_memory_needed(workers, max_upload)
    if service.memory_mb < needed:
        raise pulumi.RunError(
            f"{NAMESPACE}:{K_MEMORY}: invalid value {service.memory_mb} on GCP; allowed: "
            f"{needed} or more: {workers} workers x {WORKER_MEMORY_MB} MB plus an in-memory "
            f"spool for one {max_upload} MB upload ({NAMESPACE}:{K_MAX_UPLOAD}; Cloud Run's "
            "filesystem is memory)"
        )


def client_environment(config: StackConfig, server: MlflowServer) -> pulumi.Output[dict[str, str]]:
    """What an MLflow client exports to use this server: secret when it carries credentials.

    proxied: the multipart variables, so a file of 16 MiB or more goes up in 16 MiB parts
    through signed GCS URLs instead of one request body Cloud Run would refuse above 32 MiB.
    direct without a key: `CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT` names the client
    account (`gcloud auth application-default login --impersonate-service-account ...`);
    with a key: `GOOGLE_AUTH_STRING`, the key file base64-encoded (the seeds' form).
    """
    env: dict[str, Any] = {"MLFLOW_TRACKING_URI": server.url}
    secret = False
    if config.auth.enabled:
        env["MLFLOW_TRACKING_USERNAME"] = config.auth.admin_username
        env["MLFLOW_TRACKING_PASSWORD"] = server.admin_password
        secret = True
    if config.scenario == "direct":
        if config.artifacts.create_client_access_key:
            env["GOOGLE_AUTH_STRING"] = server.client_key
            secret = True
        else:
            env["CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT"] = server.client_service_account
    else:
        env["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true"
        env["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(MULTIPART_CHUNK_BYTES)
        env["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(MULTIPART_CHUNK_BYTES)
    result = pulumi.Output.all(**env).apply(lambda values: {k: str(v) for k, v in values.items()})
    return pulumi.Output.secret(result) if secret else result
