"""The AWS stack: one `MlflowServer` (ECS Fargate, RDS, S3) for scenario direct, proxied or
artifacts-only, and the stack outputs users and clients need.

Imports only `pulumi_aws` (through `mlflow_iac.aws`), never another cloud's SDK. Provider
settings (region, default tags) are the caller's: `pulumi config set aws:region ...`.
"""

from __future__ import annotations

from typing import Any

import pulumi

from mlflow_iac.aws import MlflowServer
from mlflow_iac.aws.sizing import fargate_memory_sizes, max_replicas_that_fit, server_workers
from mlflow_iac.db_pool import server_engines
from stacks.config import (
    K_ALLOW_HTTP,
    K_DB_SIZE,
    K_DOMAIN,
    K_MAX_REPLICAS,
    K_MEMORY,
    NAMESPACE,
    StackConfig,
)


def deploy(config: StackConfig) -> dict[str, Any]:
    """Create the MLflow server for `config` and return the stack outputs by name."""
    service, artifacts, network = config.service, config.artifacts, config.network
    sizes = fargate_memory_sizes(service.cpu)
    if service.memory_mb not in sizes:
        # The config accepts every cloud's ratios; Fargate only these steps.
        raise pulumi.RunError(
            f"{NAMESPACE}:{K_MEMORY}: invalid value {service.memory_mb} for serverCpu "
            f"{service.cpu:g} on AWS; allowed: {', '.join(str(s) for s in sizes)}"
        )
    db = config.database
    if db is not None or config.auth.enabled:
        # artifacts-only with auth: the auth tables' small PostgreSQL.
        engine, size = (db.engine, db.size) if db is not None else ("postgresql", "small")
        workers = server_workers(service.cpu, service.memory_mb)
        engines = server_engines(db is not None, config.auth.enabled)
        fits = max_replicas_that_fit(engine, size, workers, engines)
        if service.max_replicas > fits:
            # Every engine of every worker of every task has its own pool (db_pool_settings).
            raise pulumi.RunError(
                f"{NAMESPACE}:{K_MAX_REPLICAS}: invalid value {service.max_replicas} with "
                f"dbSize {size!r} ({engine}, {workers} workers per task, {engines} database "
                f"engines per worker): the database cannot hold that many connection pools; "
                f"allowed: {fits} or fewer"
                + (f", or a larger {NAMESPACE}:{K_DB_SIZE}" if db is not None else "")
            )
    if service.allow_http:
        pulumi.log.warn(
            f"{NAMESPACE}:{K_ALLOW_HTTP} is true: the load balancer serves plain HTTP, so every "
            "MLflow password, token and artifact crosses the network unencrypted; set "
            f"{NAMESPACE}:{K_DOMAIN} (HTTPS) or remove {K_ALLOW_HTTP} (CloudFront HTTPS)"
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
            "db_storage_gb": db.storage_gb if db else 20,
            "db_high_availability": db.high_availability if db else False,
            "db_backup_retention_days": db.backup_retention_days if db else 7,
            "auth_enabled": config.auth.enabled,
            "admin_username": config.auth.admin_username,
            "admin_password": admin_password,
            "default_permission": config.auth.default_permission,
            "replicas": service.replicas,
            "min_replicas": service.min_replicas,
            "max_replicas": service.max_replicas,
            "cpu": service.cpu,
            "memory_mb": service.memory_mb,
            "ephemeral_storage_gib": service.ephemeral_storage_gb,
            "max_upload_mb": artifacts.max_upload_mb,
            "domain": service.domain,
            "allowed_hosts": service.allowed_hosts,
            "allowed_cidrs": service.allowed_cidrs,
            "public_http": service.allow_http,
            "log_retention_days": service.log_retention_days,
            "artifact_versioning": artifacts.versioning,
            "artifact_noncurrent_days": artifacts.noncurrent_version_days,
            "artifact_force_destroy": artifacts.force_destroy,
            "client_access_key": artifacts.create_client_access_key,
            "artifact_kms_key_arn": config.kms_key_arn,
            "db_kms_key_arn": config.kms_key_arn,
            "kms_key_arn": config.kms_key_arn,
            "private_endpoints": network.private_endpoints,
            "load_balancer_access_logs": service.load_balancer_access_logs,
            "vpc_cidr": network.vpc_cidr,
            "vpc_id": network.vpc_id,
            "public_subnet_ids": network.public_subnet_ids,
            "private_subnet_ids": network.private_subnet_ids,
            "deletion_protection": config.deletion_protection,
            "tags": dict(config.tags),
        },
    )
    outputs: dict[str, Any] = {
        "scenario": config.scenario,
        "trackingUri": server.url,
        "artifactLocation": server.artifact_location,
        "loadBalancerDnsName": server.load_balancer_dns_name,
        "clientEnvironment": client_environment(config, server),
    }
    if config.database is not None or config.auth.enabled:
        # artifacts-only with auth: the auth tables' database.
        outputs["databaseSecretArn"] = server.database_secret_arn
        # What `pulumi destroy` leaves behind (README, AWS: Teardown).
        outputs["databaseFinalSnapshot"] = server.database_final_snapshot
    if config.auth.enabled:
        outputs["adminUsername"] = server.admin_username
        outputs["adminPassword"] = pulumi.Output.secret(server.admin_password)
        outputs["adminPasswordSecretArn"] = server.admin_password_secret_arn
        outputs["flaskSecretKeySecretArn"] = server.flask_secret_key_secret_arn
    if config.scenario == "direct":
        outputs["clientPolicyArn"] = server.client_policy_arn
        outputs["clientRoleArn"] = server.client_role_arn
        outputs["clientAwsConfig"] = server.client_aws_config
    if artifacts.create_client_access_key:
        outputs["clientAccessKeyId"] = server.client_access_key_id
        outputs["clientSecretAccessKey"] = pulumi.Output.secret(server.client_secret_access_key)
    if service.domain:
        outputs["certificateValidationRecords"] = server.certificate_validation_records
    return outputs


def client_environment(config: StackConfig, server: MlflowServer) -> pulumi.Output[dict[str, str]]:
    """What an MLflow client exports to use this server: secret when it carries credentials.

    direct without an access key: `AWS_PROFILE` names the profile of the `clientAwsConfig`
    output, which the user appends to ~/.aws/config; boto3 then assumes the client role with
    the `default` profile's credentials. Not `AWS_ROLE_ARN`: boto3 follows it only with a
    web-identity token file, so clients would keep their own credentials and get 403.
    """
    env: dict[str, Any] = {"MLFLOW_TRACKING_URI": server.url}
    secret = False
    if config.auth.enabled:
        env["MLFLOW_TRACKING_USERNAME"] = config.auth.admin_username
        env["MLFLOW_TRACKING_PASSWORD"] = server.admin_password
        secret = True
    if config.scenario == "direct":
        if config.artifacts.create_client_access_key:
            env["AWS_ACCESS_KEY_ID"] = server.client_access_key_id
            env["AWS_SECRET_ACCESS_KEY"] = server.client_secret_access_key
            secret = True
        else:
            env["AWS_PROFILE"] = server.client_profile
    result = pulumi.Output.all(**env).apply(client_variables)
    return pulumi.Output.secret(result) if secret else result


def client_variables(values: dict[str, Any]) -> dict[str, str]:
    """The variables as strings; a missing value fails the update by name, never "None"."""
    missing = sorted(name for name, value in values.items() if value is None)
    if missing:
        raise ValueError(f"clientEnvironment: no value for {', '.join(missing)}")
    return {name: str(value) for name, value in values.items()}
