"""The local Docker stack: one `MlflowServer` on the local engine, for the chosen scenario.

Networks, volumes, the database, MinIO and the server container all come from
`mlflow_iac.local`; this module maps the validated config onto them and shapes the
stack outputs.
"""

from __future__ import annotations

import pulumi

from mlflow_iac.local import MlflowServer, MlflowServerArgs
from stacks.common import client_environment
from stacks.config import StackConfig


def deploy(config: StackConfig) -> dict[str, pulumi.Output]:
    """Create the local stack's resources; returns the stack outputs by name."""
    public = [config.service.domain] if config.service.domain else []
    public += list(config.service.allowed_hosts)
    admin_password = (
        pulumi.Output.secret(config.auth.admin_password.value)
        if config.auth.admin_password is not None
        else None
    )
    args: MlflowServerArgs = {
        "scenario": config.scenario,
        "auth_enabled": config.auth.enabled,
        "admin_username": config.auth.admin_username,
        "admin_password": admin_password,
        "default_permission": config.auth.default_permission,
        "local_port": config.service.local_port,
        "memory_mb": config.service.memory_mb,
        "cpu": config.service.cpu,
        "public_hostnames": public,
        "protect": config.deletion_protection,
        # One image tag per stack: two local stacks never overwrite each other's build.
        "image_tag": f"mlflow-server:{pulumi.get_stack()}",
        "labels": dict(config.tags),
    }
    if config.artifacts.max_upload_mb is not None:
        args["max_upload_mb"] = config.artifacts.max_upload_mb
    if config.database is not None:
        args["db_engine"] = config.database.engine
    server = MlflowServer("mlflow", args)

    plain: dict[str, pulumi.Input[str]] = {"MLFLOW_TRACKING_URI": server.url}
    secrets: dict[str, pulumi.Input[str]] = {}
    if config.scenario == "direct":
        # Direct artifact access: clients talk to MinIO themselves.
        assert server.s3_endpoint is not None and server.access_key_id is not None
        assert server.secret_access_key is not None
        plain["MLFLOW_S3_ENDPOINT_URL"] = server.s3_endpoint
        plain["AWS_ACCESS_KEY_ID"] = server.access_key_id
        secrets["AWS_SECRET_ACCESS_KEY"] = server.secret_access_key
    if server.admin_username is not None and server.admin_password is not None:
        plain["MLFLOW_TRACKING_USERNAME"] = server.admin_username
        secrets["MLFLOW_TRACKING_PASSWORD"] = server.admin_password

    outputs: dict[str, pulumi.Output] = {
        "scenario": pulumi.Output.from_input(config.scenario),
        "trackingUri": server.url,
        "artifactLocation": server.artifact_location,
        "clientEnvironment": client_environment(plain, secrets),
    }
    if server.s3_endpoint is not None:
        outputs["s3Endpoint"] = server.s3_endpoint
    if server.admin_username is not None and server.admin_password is not None:
        outputs["adminUsername"] = server.admin_username
        outputs["adminPassword"] = pulumi.Output.secret(server.admin_password)
    return outputs
