"""The Azure stack: one `MlflowServer` (Container Apps, a private Flexible Server, Blob
Storage through a managed identity, Key Vault) for scenario direct, proxied or
artifacts-only, and the stack outputs users and clients need.

Imports only `pulumi_azure_native` (through `mlflow_iac.azure`), never another cloud's SDK.
The region is the provider's `azure-native:location`, checked with the config.
"""

from __future__ import annotations

from typing import Any

import pulumi

from mlflow_iac.azure import MlflowServer
from mlflow_iac.azure.sizing import (
    backup_retention_problem,
    high_availability_problem,
    log_retention_problem,
    max_replicas_that_fit,
    server_workers,
)
from mlflow_iac.db_pool import server_engines
from stacks.config import (
    K_DB_BACKUP,
    K_DB_HA,
    K_DB_SIZE,
    K_DOMAIN,
    K_LOG_RETENTION,
    K_MAX_REPLICAS,
    K_MEMORY,
    K_REPLICAS,
    NAMESPACE,
    StackConfig,
)

LARGE_UPLOAD_BYTES = 100 * 1024 * 1024
"""Proxied uploads from this size go as multipart: parts straight to Blob Storage with
SAS URLs the server signs, so no single request through the ingress (240 s limit) carries
a large file."""


def check(config: StackConfig) -> None:
    """Refuse, with one line naming the key, what Azure cannot honour (before any resource)."""
    service, db = config.service, config.database

    def refuse(key: str, value: object, allowed: str) -> None:
        raise pulumi.RunError(
            f"{NAMESPACE}:{key}: invalid value {value!r} on Azure; allowed: {allowed}"
        )

    if service.domain:
        # A managed certificate needs the name bound to the app first: two deployments.
        refuse(
            K_DOMAIN,
            service.domain,
            "unset on Azure (bind a custom domain with "
            "`az containerapp hostname add/bind` and list it in allowedHosts)",
        )
    if service.replicas != service.min_replicas:
        refuse(
            K_REPLICAS,
            service.replicas,
            f"minReplicas ({service.min_replicas}): "
            "Container Apps starts minReplicas and scales on HTTP load",
        )
    if service.memory_mb != int(service.cpu * 2048):
        refuse(
            K_MEMORY,
            service.memory_mb,
            f"{int(service.cpu * 2048)} for serverCpu "
            f"{service.cpu:g} (Container Apps pairs 2 GiB with each vCPU)",
        )
    problem = log_retention_problem(service.log_retention_days)
    if problem:
        refuse(K_LOG_RETENTION, str(service.log_retention_days), problem)
    if db is not None:
        workers = server_workers(service.cpu, service.memory_mb)
        engines = server_engines(backend_store=True, auth_tables=config.auth.enabled)
        fits = max_replicas_that_fit(db.engine, db.size, workers, engines)
        if service.max_replicas > fits:
            # Every engine of every worker of every replica has its own pool (sizing.db_pool).
            refuse(
                K_MAX_REPLICAS,
                str(service.max_replicas),
                f"{fits} or fewer with dbSize {db.size!r} ({db.engine}, {workers} workers "
                f"per replica, {engines} database engines per worker), or a larger "
                f"{NAMESPACE}:{K_DB_SIZE}",
            )
        problem = high_availability_problem(db.engine, db.size, db.high_availability)
        if problem:
            refuse(K_DB_HA, "true", f"false, or dbSize {problem}")
        problem = backup_retention_problem(db.engine, db.backup_retention_days)
        if problem:
            refuse(K_DB_BACKUP, str(db.backup_retention_days), problem)


def deploy(config: StackConfig) -> dict[str, Any]:
    """Create the MLflow server for `config` and return the stack outputs by name."""
    check(config)
    azure, service, artifacts, db = config.azure, config.service, config.artifacts, config.database
    assert azure is not None  # parse_config fills it for cloud azure
    admin_password = (
        pulumi.Output.secret(config.auth.admin_password.value)
        if config.auth.admin_password is not None
        else None
    )
    server = MlflowServer(
        "mlflow",
        {
            "location": azure.location,
            "resource_group_name": azure.resource_group_name,
            "scenario": config.scenario,
            "db_engine": db.engine if db else "postgresql",
            "db_size": db.size if db else "small",
            "db_storage_gb": db.storage_gb if db else 20,
            "db_high_availability": db.high_availability if db else False,
            "db_backup_retention_days": db.backup_retention_days if db else 7,
            "auth_enabled": config.auth.enabled,
            "admin_username": config.auth.admin_username,
            "admin_password": admin_password,
            "default_permission": config.auth.default_permission,
            "min_replicas": service.min_replicas,
            "max_replicas": service.max_replicas,
            "cpu": service.cpu,
            "memory_mb": service.memory_mb,
            "max_upload_mb": config.artifacts.max_upload_mb,
            "allowed_hosts": service.allowed_hosts,
            "allowed_cidrs": service.allowed_cidrs,
            "log_retention_days": service.log_retention_days,
            "artifact_versioning": artifacts.versioning,
            "artifact_noncurrent_days": artifacts.noncurrent_version_days,
            "client_principal_ids": azure.client_principal_ids,
            "client_account_key": artifacts.create_client_access_key,
            "vnet_cidr": azure.vnet_cidr,
            "apps_subnet_id": azure.apps_subnet_id,
            "db_subnet_id": azure.db_subnet_id,
            "deletion_protection": config.deletion_protection,
            "tags": dict(config.tags),
        },
    )
    outputs: dict[str, Any] = {
        "scenario": config.scenario,
        "trackingUri": server.url,
        "artifactLocation": server.artifact_location,
        "appFqdn": server.fqdn,
        "resourceGroupName": server.resource_group_name,
        "storageAccountName": server.storage_account_name,
        "artifactContainerId": server.artifact_container_id,
        "keyVaultName": server.vault_name,
        "clientEnvironment": client_environment(config, server),
    }
    if db is not None:
        outputs["databaseSecretUri"] = server.database_secret_uri
    if config.auth.enabled:
        outputs["adminUsername"] = server.admin_username
        outputs["adminPassword"] = pulumi.Output.secret(server.admin_password)
        outputs["adminPasswordSecretUri"] = server.admin_password_secret_uri
        outputs["flaskSecretKeySecretUri"] = server.flask_secret_key_secret_uri
    if artifacts.create_client_access_key:
        outputs["storageAccountKey"] = pulumi.Output.secret(server.client_account_key)
    return outputs


def client_environment(config: StackConfig, server: MlflowServer) -> pulumi.Output[dict[str, str]]:
    """What an MLflow client exports to use this server: secret when it carries credentials.

    proxied and artifacts-only: large files go as proxied multipart uploads (the parts
    straight to Blob Storage with server-signed SAS URLs, so no request through the
    Container Apps ingress outlives its 240 s limit). direct: clients use their own Entra
    login (`az login`, DefaultAzureCredential) or, when asked for, the account key.
    """
    env: dict[str, Any] = {"MLFLOW_TRACKING_URI": server.url}
    secret = False
    if config.auth.enabled:
        env["MLFLOW_TRACKING_USERNAME"] = config.auth.admin_username
        env["MLFLOW_TRACKING_PASSWORD"] = server.admin_password
        secret = True
    if config.scenario in ("proxied", "artifacts-only"):
        env["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] = "true"
        env["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] = str(LARGE_UPLOAD_BYTES)
        env["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"] = str(LARGE_UPLOAD_BYTES)
    if config.artifacts.create_client_access_key:
        env["AZURE_STORAGE_ACCESS_KEY"] = server.client_account_key
        secret = True
    result = pulumi.Output.all(**env).apply(lambda values: {k: str(v) for k, v in values.items()})
    return pulumi.Output.secret(result) if secret else result
