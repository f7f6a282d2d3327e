"""Pure Azure logic without mocks: names and their limits, ids, URIs, SKU and size mapping,
Container Apps' CPU/memory pairs, role definitions, subnet maths, regions."""

from __future__ import annotations

import re

import pytest
from mlflow.store.artifact.azure_blob_artifact_repo import AzureBlobArtifactRepository

from mlflow_iac.azure import locations, naming, roles, sizing

SUB = "00000000-1111-2222-3333-444444444444"


@pytest.mark.parametrize("stack", ["dev", "production-eu-west", "UPPER_case.stack", "x" * 80, "9"])
def test_global_names_fit_azure_limits(stack: str) -> None:
    suffix = "ab12cd34"
    account = naming.storage_account_name(stack, suffix)
    assert re.fullmatch(r"[a-z0-9]{3,24}", account) and account.endswith(suffix)
    vault = naming.key_vault_name(stack, suffix)
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,22}[a-z0-9]", vault) and "--" not in vault
    assert vault.endswith(suffix)
    registry = naming.registry_name(stack, suffix)
    assert re.fullmatch(r"[a-z0-9]{5,50}", registry)
    app = naming.container_app_name("mlflow", stack)
    assert re.fullmatch(r"[a-z][a-z0-9-]{0,30}[a-z0-9]", app) and "--" not in app
    zone = naming.private_dns_zone_name("postgresql", stack, suffix)
    assert zone.endswith(f"-{suffix}.private.postgres.database.azure.com")
    assert len(zone.split(".")[0]) <= 63


def test_bad_suffix_and_engine_are_refused() -> None:
    with pytest.raises(ValueError, match="suffix"):
        naming.storage_account_name("dev", "NOT-OK")
    with pytest.raises(ValueError, match="engine"):
        naming.private_dns_zone_name("oracle", "dev", "abcd1234")


def test_mysql_zone_suffix() -> None:
    assert naming.private_dns_zone_name("mysql", "dev", "abcd1234") == (
        "dev-abcd1234.private.mysql.database.azure.com"
    )


def test_app_fqdn_is_app_name_under_the_environment_domain() -> None:
    assert naming.app_fqdn("mlflow-prod", "Blue-1.westeurope.azurecontainerapps.io.") == (
        "mlflow-prod.blue-1.westeurope.azurecontainerapps.io"
    )
    with pytest.raises(ValueError):
        naming.app_fqdn("mlflow", "")


def test_vnet_of_a_subnet_id() -> None:
    vnet = (
        f"/subscriptions/{SUB}/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/hub"
    )
    assert naming.vnet_id_of_subnet(f"{vnet}/subnets/apps") == vnet
    with pytest.raises(ValueError, match="subnet_id"):
        naming.vnet_id_of_subnet(vnet)


def test_wasbs_uri_is_what_mlflow_parses() -> None:
    uri = naming.wasbs_uri("mlflow", "mlflowprod1234abcd")
    assert uri == "wasbs://mlflow@mlflowprod1234abcd.blob.core.windows.net"
    container, account, path, suffix = AzureBlobArtifactRepository.parse_wasbs_uri(uri + "/1/x")
    assert (container, account, path, suffix) == (
        "mlflow",
        "mlflowprod1234abcd",
        "1/x",
        "blob.core.windows.net",
    )
    with pytest.raises(ValueError):
        naming.wasbs_uri("Bad_Container", "account")


def test_secret_names() -> None:
    assert naming.secret_name("DB_PASSWORD") == "db-password"
    assert naming.secret_name("MLFLOW_FLASK_SERVER_SECRET_KEY") == "mlflow-flask-server-secret-key"
    with pytest.raises(ValueError):
        naming.secret_name("db password")


@pytest.mark.parametrize(
    ("engine", "size", "sku"),
    [
        ("postgresql", "small", ("Standard_B2s", "Burstable")),
        ("postgresql", "medium", ("Standard_D2ds_v5", "GeneralPurpose")),
        ("postgresql", "large", ("Standard_D4ds_v5", "GeneralPurpose")),
        ("mysql", "small", ("Standard_B2s", "Burstable")),
        ("mysql", "large", ("Standard_D4ds_v4", "GeneralPurpose")),
    ],
)
def test_db_sizes_map_to_flexible_server_skus(engine: str, size: str, sku: tuple) -> None:
    assert sizing.db_sku(engine, size) == sku


def test_db_sku_refuses_unknown() -> None:
    with pytest.raises(ValueError, match="size"):
        sizing.db_sku("postgresql", "huge")
    with pytest.raises(ValueError, match="engine"):
        sizing.db_sku("oracle", "small")


@pytest.mark.parametrize(
    ("engine", "requested", "disk"),
    [
        ("postgresql", 20, 32),
        ("postgresql", 32, 32),
        ("postgresql", 100, 128),
        ("postgresql", 16384, 16384),
        ("mysql", 20, 20),
        ("mysql", 100, 100),
    ],
)
def test_storage_is_honoured_upwards(engine: str, requested: int, disk: int) -> None:
    assert sizing.db_storage_gb(engine, requested) == disk


def test_high_availability_and_backup_limits() -> None:
    assert sizing.high_availability_problem("postgresql", "small", True)
    assert sizing.high_availability_problem("postgresql", "small", False) is None
    assert sizing.high_availability_problem("mysql", "medium", True) is None
    assert (
        sizing.backup_retention_problem("postgresql", 6) == "7 to 35 days for postgresql on Azure"
    )
    assert sizing.backup_retention_problem("postgresql", 7) is None
    assert sizing.backup_retention_problem("mysql", 1) is None


@pytest.mark.parametrize(
    ("cpu", "memory", "expected"),
    [
        (0.25, 512, "0.5Gi"),
        (0.5, 1024, "1Gi"),
        (1.0, 2048, "2Gi"),
        (2.0, 4096, "4Gi"),
        (4.0, 8192, "8Gi"),
    ],
)
def test_container_apps_cpu_memory_pairs(cpu: float, memory: int, expected: str) -> None:
    assert sizing.container_memory(cpu, memory) == expected


def test_container_apps_refuses_other_pairs_naming_the_one_allowed() -> None:
    with pytest.raises(ValueError, match=r"memory_mb: 4096 .* for cpu 1: 2048"):
        sizing.container_memory(1.0, 4096)
    with pytest.raises(ValueError, match="cpu"):
        sizing.container_memory(3.0, 6144)


def test_workers_scaling_and_log_retention() -> None:
    assert sizing.server_workers(0.25, 512) == 1
    assert sizing.server_workers(1.0, 2048) == 2
    assert sizing.server_workers(4.0, 8192) == 8
    assert sizing.concurrent_requests(2) == 20
    assert sizing.log_retention_problem(30) is None
    assert sizing.log_retention_problem(730) is None
    assert sizing.log_retention_problem(7) == "30 to 730 days on Azure (Log Analytics)"
    assert sizing.log_retention_problem(731)


def test_subnet_layout() -> None:
    assert sizing.subnet_prefixes("10.0.0.0/16") == ("10.0.0.0/23", "10.0.2.0/24")
    assert sizing.subnet_prefixes("172.16.4.0/22") == ("172.16.4.0/23", "172.16.6.0/24")
    with pytest.raises(ValueError, match="vnet_cidr"):
        sizing.subnet_prefixes("10.0.0.0/24")


def test_role_definitions_are_built_in_ids() -> None:
    role_id = roles.role_definition_id(SUB, roles.BLOB_DATA)
    assert role_id == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    )
    assert roles.ROLE_IDS[roles.BLOB_DELEGATOR] == "db58b8e5-c6ad-4a2a-8342-4190687cbf4a"
    assert roles.ROLE_IDS[roles.SECRETS_USER] == "4633458b-17de-408a-b874-0445c86b69e6"
    assert roles.ROLE_IDS[roles.ACR_PULL] == "7f951dda-4ed3-4680-a7ca-43fe172d538d"
    with pytest.raises(ValueError, match="role"):
        roles.role_definition_id(SUB, "Owner")
    with pytest.raises(ValueError, match="subscription_id"):
        roles.role_definition_id("nope", roles.BLOB_DATA)


def test_server_roles_per_scenario() -> None:
    # The delegator (account scope, no data access) only where the server signs SAS URLs.
    assert roles.server_roles("direct") == [(roles.BLOB_DATA, "container")]
    for scenario in ("proxied", "artifacts-only"):
        assert roles.server_roles(scenario) == [
            (roles.BLOB_DATA, "container"),
            (roles.BLOB_DELEGATOR, "account"),
        ]


def test_locations_are_arm_names() -> None:
    assert {"westeurope", "eastus", "swedencentral"} <= locations.LOCATIONS
    assert all(re.fullmatch(r"[a-z0-9]+", name) for name in locations.LOCATIONS)
    assert "West Europe" not in locations.LOCATIONS


def test_database_pool_budget() -> None:
    # PostgreSQL B2s: 429 connections, 43 kept free: 386 for the servers.
    assert sizing.db_connection_budget("postgresql", "small") == 386
    # 4 replicas x 2 workers x 4 engines (tracking, registry, jobs, auth): 386 // 32 = 12.
    assert sizing.db_pool("postgresql", "small", 4, 2, 4) == (4, 8)
    assert sizing.db_pool("postgresql", "small", 1, 2, 3) == (10, 20)  # the image's default
    assert sizing.db_pool("postgresql", "small", 9, 2, 4) == (2, 3)  # 386 // 72 = 5
    assert sizing.max_replicas_that_fit("postgresql", "small", 2, 4) == 9
    assert sizing.max_replicas_that_fit("mysql", "large", 2, 3) == (2731 - 274) // 30
    with pytest.raises(ValueError, match=r"^max_replicas: 10 .* allowed: 9 or fewer"):
        sizing.db_pool("postgresql", "small", 10, 2, 4)
