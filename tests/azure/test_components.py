"""Azure component input validation: a bad plain input raises ValueError naming it, before
anything is registered (no half-built component); a prebuilt image skips the registry."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from mlflow_iac.azure import ArtifactBucket, Database, Identity, MlflowServer, Network, Service
from mlflow_iac.environment import DatabaseEndpoint
from tests import harness

SUB = "00000000-1111-2222-3333-444444444444"
SUBNET = (
    f"/subscriptions/{SUB}/resourceGroups/n/providers/Microsoft.Network/virtualNetworks/v/subnets/"
)
PLACE = {"resource_group_name": "rg", "location": "westeurope", "name_suffix": "abcd1234"}
DATABASE = {
    **PLACE,
    "subnet_id": "s",
    "private_dns_zone_id": "z",
    "vault_name": "v",
    "reader_principal_id": "p",
    "subscription_id": SUB,
}
IDENTITY = {
    **PLACE,
    "scenario": "proxied",
    "storage_account_id": "a",
    "storage_account_name": "a",
    "container_id": "c",
}
SERVICE: dict[str, Any] = {
    **PLACE,
    "scenario": "proxied",
    "apps_subnet_id": "s",
    "identity_id": "i",
    "identity_client_id": "c",
    "identity_principal_id": "p",
    "vault_name": "v",
    "subscription_id": SUB,
    "artifact_url": "wasbs://mlflow@acct.blob.core.windows.net",
    "database": DatabaseEndpoint("postgresql", "db", 5432, "mlflow", "mlflow", "pw"),
    "database_password_secret_uri": "https://v.vault.azure.net/secrets/db-password",
    "image": "example.azurecr.io/mlflow:1",
}
SERVER = {"location": "westeurope", "image": "x"}

CASES: list[tuple[type, dict[str, Any], str]] = [
    (Network, {"location": "westeurope", "name_suffix": "abcd1234"}, "resource_group_name"),
    (Network, {**PLACE, "database_engine": "oracle"}, "database_engine"),
    (Network, {**PLACE, "vnet_cidr": "10.0.0.0/24"}, "vnet_cidr"),
    (Network, {**PLACE, "db_subnet_id": SUBNET + "db"}, "db_subnet_id"),
    (
        Network,
        {**PLACE, "apps_subnet_id": SUBNET + "a", "database_engine": "mysql"},
        "db_subnet_id",
    ),
    (Network, {**PLACE, "apps_subnet_id": "not-an-id"}, "subnet_id"),
    (Database, {**DATABASE, "engine": "oracle"}, "engine"),
    (Database, {**DATABASE, "size": "xl"}, "size"),
    (Database, {**DATABASE, "storage_gb": 5}, "storage_gb"),
    (Database, {**DATABASE, "high_availability": True}, "high_availability"),
    (Database, {**DATABASE, "backup_retention_days": 3}, "backup_retention_days"),
    (Database, {**DATABASE, "vault_name": None}, "vault_name"),
    (ArtifactBucket, {**PLACE, "noncurrent_version_days": 0}, "noncurrent_version_days"),
    (ArtifactBucket, {"location": "westeurope", "resource_group_name": "rg"}, "name_suffix"),
    (Identity, {**IDENTITY, "container_id": None}, "container_id"),
    (Identity, {**IDENTITY, "scenario": "local-server"}, "scenario"),
    (Identity, {**IDENTITY, "client_principal_ids": ["abc"]}, "client_principal_ids"),
    (Identity, {**IDENTITY, "client_account_key": True}, "client_account_key"),
    (Service, {**SERVICE, "scenario": "local-server"}, "scenario"),
    (Service, {**SERVICE, "identity_client_id": None}, "identity_client_id"),
    (Service, {**SERVICE, "database_password_secret_uri": None}, "database_password_secret_uri"),
    (Service, {**SERVICE, "image_context": "docker"}, "image_context"),
    (Service, {**SERVICE, "auth_enabled": True}, "admin_password"),
    (Service, {**SERVICE, "min_replicas": 5, "max_replicas": 4}, "replicas"),
    (Service, {**SERVICE, "cpu": 3.0}, "cpu"),
    (Service, {**SERVICE, "memory_mb": 4096}, "memory_mb"),
    (Service, {**SERVICE, "log_retention_days": 7}, "log_retention_days"),
    (MlflowServer, {"image": "x"}, "location"),
    (MlflowServer, {**SERVER, "scenario": "local-server"}, "scenario"),
    (MlflowServer, {**SERVER, "db_engine": "sqlite"}, "db_engine"),
    (MlflowServer, {**SERVER, "scenario": "artifacts-only", "auth_enabled": True}, "auth_enabled"),
    (MlflowServer, {**SERVER, "db_size": "xl"}, "size"),
    (MlflowServer, {**SERVER, "db_high_availability": True}, "db_high_availability"),
    (MlflowServer, {**SERVER, "db_backup_retention_days": 2}, "db_backup_retention_days"),
    (MlflowServer, {**SERVER, "memory_mb": 1024}, "memory_mb"),
    (MlflowServer, {**SERVER, "log_retention_days": 3653}, "log_retention_days"),
    (MlflowServer, {**SERVER, "max_replicas": 40}, "max_replicas"),
    (Service, {**SERVICE, "database_size": "small", "max_replicas": 40}, "max_replicas"),
    (Service, {**SERVICE, "database": None, "database_size": "small"}, "database_size"),
]


@pytest.mark.parametrize(
    ("component", "args", "field"), CASES, ids=[f"{c.__name__}-{f}" for c, _, f in CASES]
)
def test_bad_input_fails_before_registration(
    mocks: harness.RecordingMocks, component: type, args: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        component("bad", args)
    assert mocks.resources == []


def test_type_tokens() -> None:
    names = {
        c.__name__ for c in (Network, Database, ArtifactBucket, Identity, Service, MlflowServer)
    }
    config = {"cloud": "azure", "azure-native:location": "westeurope", "scenario": "direct"}
    result = harness.run_program(config=config)
    registered = {r.type for r in result.mocks.resources if r.type.startswith("mlflow-azure:")}
    assert registered == {f"mlflow-azure:index:{name}" for name in names}


def test_prebuilt_image_skips_registry_build_and_acr_pull(mocks: harness.RecordingMocks) -> None:
    args: Any = {
        **SERVICE,
        "database": None,
        "scenario": "artifacts-only",
        "database_password_secret_uri": None,
    }

    def program() -> None:
        service = Service("svc", args)
        pulumi.export("image", service.image_ref)

    result = harness.run_program(program)
    assert result.outputs["image"] == SERVICE["image"]
    types = result.mocks.types()
    assert "azure-native:containerregistry:Registry" not in types
    assert "docker-build:index:Image" not in types
    assert "azure-native:authorization:RoleAssignment" not in types  # no AcrPull, no secrets
    app = result.mocks.one("azure-native:app:ContainerApp").inputs
    assert app["configuration"]["registries"] == []
    assert "secrets" not in app["configuration"] or app["configuration"]["secrets"] == []
