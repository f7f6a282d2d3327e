"""The Azure stack under mocks: the real `__main__.py` with cloud=azure for every scenario and
every option that changes the graph; what a user relies on is asserted."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any

import pulumi
import pytest
from mlflow_image import contract

from mlflow_iac.azure.roles import ROLE_IDS
from tests import harness
from tests.azure.conftest import ACCOUNT_KEY, ENV_DOMAIN, LOCATION, REGISTRY_PASSWORD, WORKSPACE_KEY

AZ = "azure-native"
SUBNETS = (
    "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/net/providers/"
    "Microsoft.Network/virtualNetworks/hub/subnets/"
)
ALICE = "0f0e0d0c-0b0a-0908-0706-050403020100"


def run(secret_keys: tuple[str, ...] = (), /, **config: Any) -> harness.ProgramResult:
    full = {"cloud": "azure", f"{AZ}:location": LOCATION, **guarded(config)}
    return harness.run_program(config=full, secret_keys=secret_keys)


def guarded(config: dict[str, Any]) -> dict[str, Any]:
    """`config`, with the ingress limited to named networks in scenario artifacts-only (its
    required guard on Azure: no basic-auth there yet) unless the test sets it itself."""
    if config.get("scenario") == "artifacts-only" and "allowedCidrs" not in config:
        return {**config, "allowedCidrs": ARTIFACTS_ONLY_CIDRS}
    return config


ARTIFACTS_ONLY_CIDRS = ["10.0.0.0/8"]


def inputs(result: harness.ProgramResult, token: str) -> dict[str, Any]:
    return result.mocks.one(token).inputs


def all_inputs(result: harness.ProgramResult, token: str) -> list[dict[str, Any]]:
    return [r.inputs for r in result.mocks.of_type(token)]


def container_app(result: harness.ProgramResult) -> dict[str, Any]:
    return inputs(result, f"{AZ}:app:ContainerApp")


def container(result: harness.ProgramResult) -> dict[str, Any]:
    (only,) = container_app(result)["template"]["containers"]
    return only


def environment(result: harness.ProgramResult) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(result)["env"] if "value" in e}


def secret_refs(result: harness.ProgramResult) -> dict[str, str]:
    return {e["name"]: e["secretRef"] for e in container(result)["env"] if "secretRef" in e}


def role_assignments(result: harness.ProgramResult) -> list[tuple[str, str, str]]:
    """(role name, scope, principal) of every role assignment."""
    names = {guid: name for name, guid in ROLE_IDS.items()}
    return sorted(
        (names[i["roleDefinitionId"].rsplit("/", 1)[1]], i["scope"], i["principalId"])
        for i in all_inputs(result, f"{AZ}:authorization:RoleAssignment")
    )


def out(resource: harness.Registered) -> dict[str, Any]:
    """The mocked computed outputs (id, name, ...) of a registered resource."""
    args = pulumi.runtime.MockResourceArgs(
        resource.type, resource.name, resource.inputs, None, None, False
    )
    return harness.OUTPUTS[resource.type](args)


# ---------------------------------------------------------------------------- the graph

NETWORK = Counter(
    {
        "mlflow-azure:index:Network": 1,
        f"{AZ}:network:VirtualNetwork": 1,
        f"{AZ}:network:Subnet": 1,
    }
)
DB_NETWORK = Counter(
    {
        f"{AZ}:network:Subnet": 1,
        f"{AZ}:network:NetworkSecurityGroup": 1,
        f"{AZ}:privatedns:PrivateZone": 1,
        f"{AZ}:privatedns:VirtualNetworkLink": 1,
    }
)
BUCKET = Counter(
    {
        "mlflow-azure:index:ArtifactBucket": 1,
        f"{AZ}:storage:StorageAccount": 1,
        f"{AZ}:storage:BlobServiceProperties": 1,
        f"{AZ}:storage:BlobContainer": 1,
        f"{AZ}:storage:ManagementPolicy": 1,
        f"{AZ}:authorization:ManagementLockByScope": 1,
    }
)
IDENTITY = Counter(
    {
        "mlflow-azure:index:Identity": 1,
        f"{AZ}:managedidentity:UserAssignedIdentity": 1,
        f"{AZ}:keyvault:Vault": 1,
        f"{AZ}:authorization:RoleAssignment": 1,  # blob data on the container
    }
)
DELEGATOR = Counter({f"{AZ}:authorization:RoleAssignment": 1})
DATABASE = Counter(
    {
        "mlflow-azure:index:Database": 1,
        "random:index/randomPassword:RandomPassword": 1,
        f"{AZ}:dbforpostgresql:Server": 1,
        f"{AZ}:dbforpostgresql:Configuration": 1,
        f"{AZ}:dbforpostgresql:Database": 1,
        f"{AZ}:keyvault:Secret": 1,
        f"{AZ}:authorization:RoleAssignment": 1,
        f"{AZ}:authorization:ManagementLockByScope": 1,
    }
)
SERVICE = Counter(
    {
        "mlflow-azure:index:Service": 1,
        f"{AZ}:containerregistry:Registry": 1,
        f"{AZ}:authorization:RoleAssignment": 1,  # AcrPull
        "docker-build:index:Image": 1,
        f"{AZ}:operationalinsights:Workspace": 1,
        f"{AZ}:app:ManagedEnvironment": 1,
        f"{AZ}:app:ContainerApp": 1,
    }
)
AUTH = Counter(
    {
        # admin password (generated) and Flask key, each a secret read by the identity alone
        "random:index/randomPassword:RandomPassword": 2,
        f"{AZ}:keyvault:Secret": 2,
        f"{AZ}:authorization:RoleAssignment": 2,
    }
)
SERVER = Counter(
    {
        "mlflow-azure:index:MlflowServer": 1,
        f"{AZ}:resources:ResourceGroup": 1,
        "random:index/randomString:RandomString": 1,
    }
)
BASE = SERVER + NETWORK + BUCKET + IDENTITY + SERVICE
EXPECTED = {
    "proxied": BASE + DB_NETWORK + DATABASE + AUTH + DELEGATOR,
    "direct": BASE + DB_NETWORK + DATABASE + AUTH,
    "artifacts-only": BASE + DELEGATOR,
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_exact_resource_types_per_scenario(scenario: str) -> None:
    result = run(scenario=scenario)
    assert Counter(result.mocks.types()) == EXPECTED[scenario]


def _mysql(counter: Counter) -> Counter:
    out = Counter()
    for token, n in counter.items():
        out[token.replace("dbforpostgresql", "dbformysql")] += n
    return out


GRAPH_OPTIONS = [
    (
        {"dbEngine": "mysql", "authEnabled": "false"},
        "proxied",
        _mysql(BASE + DB_NETWORK + DATABASE + DELEGATOR),
    ),
    (
        {"deletionProtection": "false"},
        "proxied",
        EXPECTED["proxied"] - Counter({f"{AZ}:authorization:ManagementLockByScope": 2}),
    ),
    (
        {"artifactVersioning": "false"},
        "artifacts-only",
        EXPECTED["artifacts-only"] - Counter({f"{AZ}:storage:ManagementPolicy": 1}),
    ),
    (
        {"resourceGroupName": "ml-platform"},
        "artifacts-only",
        EXPECTED["artifacts-only"] - Counter({f"{AZ}:resources:ResourceGroup": 1}),
    ),
    (
        {"clientPrincipalIds": f'["{ALICE}", "{ALICE.replace("0f", "1f")}"]'},
        "direct",
        EXPECTED["direct"] + Counter({f"{AZ}:authorization:RoleAssignment": 2}),
    ),
    ({"clientAccessKey": "true"}, "direct", EXPECTED["direct"]),
    (
        {"appsSubnetId": SUBNETS + "apps", "dbSubnetId": SUBNETS + "db"},
        "proxied",
        EXPECTED["proxied"]
        - NETWORK
        - DB_NETWORK
        + Counter(
            {
                "mlflow-azure:index:Network": 1,
                f"{AZ}:privatedns:PrivateZone": 1,
                f"{AZ}:privatedns:VirtualNetworkLink": 1,
            }
        ),
    ),
]


@pytest.mark.parametrize(("config", "scenario", "expected"), GRAPH_OPTIONS)
def test_options_change_the_graph_exactly(
    config: dict[str, str], scenario: str, expected: Counter
) -> None:
    result = run(scenario=scenario, **config)
    assert Counter(result.mocks.types()) == expected


def test_every_child_is_parented_under_the_server_and_tagged() -> None:
    result = run(tags='{"team": "ml"}')
    server = result.mocks.one("mlflow-azure:index:MlflowServer")
    components = {r.urn: r for r in result.mocks.resources if r.type.startswith("mlflow-azure:")}
    untaggable = (
        "Subnet",
        "Configuration",
        "Database",
        "RoleAssignment",
        "ManagementLock",
        "BlobServiceProperties",
        "BlobContainer",
        "ManagementPolicy",
        "random:",
        "docker-build:",
        "mlflow-azure:",
    )
    for resource in result.mocks.resources:
        if resource.type.startswith("mlflow-azure:"):
            if resource is not server:
                assert resource.parent == server.urn, resource.name
            continue
        assert resource.parent in components, resource.name
        assert resource.name.startswith("mlflow-"), resource.name
        if not any(word in resource.type for word in untaggable):
            assert resource.inputs.get("tags") == {"team": "ml"}, resource.type


# ---------------------------------------------------------------------------- database


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_database_private_tls_no_firewall(engine: str) -> None:
    result = run(dbEngine=engine, authEnabled="false")
    sdk = "dbforpostgresql" if engine == "postgresql" else "dbformysql"
    server = inputs(result, f"{AZ}:{sdk}:Server")
    zone_field = (
        "privateDnsZoneArmResourceId" if engine == "postgresql" else "privateDnsZoneResourceId"
    )
    # VNet integration: no public endpoint exists (Azure refuses publicNetworkAccess there).
    assert set(server["network"]) == {"delegatedSubnetResourceId", zone_field}
    db_subnet = next(
        r for r in result.mocks.of_type(f"{AZ}:network:Subnet") if r.name.endswith("-db")
    )
    assert server["network"]["delegatedSubnetResourceId"] == out(db_subnet)["id"]
    zone = result.mocks.one(f"{AZ}:privatedns:PrivateZone")
    assert server["network"][zone_field] == out(zone)["id"]
    assert zone.inputs["privateZoneName"].endswith(
        f".private.{engine.replace('postgresql', 'postgres')}.database.azure.com"
    )
    assert not result.mocks.of_type(f"{AZ}:{sdk}:FirewallRule")
    tls = inputs(result, f"{AZ}:{sdk}:Configuration")
    assert tls["configurationName"] == "require_secure_transport"
    assert tls["value"].lower() == "on"
    assert inputs(result, f"{AZ}:{sdk}:Database")["databaseName"] == "mlflow"
    assert server["administratorLogin"] == "mlflow"
    assert "administratorLoginPassword" in result.mocks.one(f"{AZ}:{sdk}:Server").secret_inputs
    env = environment(result)
    assert env["DB_SSLMODE"] == "require"
    assert env["DB_HOST"].endswith(".database.azure.com")
    assert env["DB_PORT"] == ("5432" if engine == "postgresql" else "3306")
    assert env["DB_ENGINE"] == engine and env["DB_USER"] == "mlflow"


@pytest.mark.parametrize(
    ("config", "sku", "disk", "ha", "backup"),
    [
        ({}, ("Standard_B2s", "Burstable"), 32, "Disabled", 7),
        (
            {
                "dbSize": "medium",
                "dbHighAvailability": "true",
                "dbStorageGb": "100",
                "dbBackupRetentionDays": "35",
            },
            ("Standard_D2ds_v5", "GeneralPurpose"),
            128,
            "ZoneRedundant",
            35,
        ),
    ],
)
def test_database_sized_backed_up_and_ha(
    config: dict[str, str], sku: tuple, disk: int, ha: str, backup: int
) -> None:
    server = inputs(run(**config), f"{AZ}:dbforpostgresql:Server")
    assert (server["sku"]["name"], server["sku"]["tier"]) == sku
    assert server["storage"] == {"storageSizeGB": disk, "autoGrow": "Enabled"}
    assert server["highAvailability"] == {"mode": ha}
    assert server["backup"]["backupRetentionDays"] == backup
    assert server["version"] == "16"


def test_deletion_protection_locks_database_and_storage_and_purge_protects_the_vault() -> None:
    result = run()
    locks = {
        i["scope"].split("/providers/")[1]
        for i in all_inputs(result, f"{AZ}:authorization:ManagementLockByScope")
    }
    assert {s.split("/")[0] for s in locks} == {"Microsoft.DBforPostgreSQL", "Microsoft.Storage"}
    assert all(
        i["level"] == "CanNotDelete"
        for i in all_inputs(result, f"{AZ}:authorization:ManagementLockByScope")
    )
    assert inputs(result, f"{AZ}:keyvault:Vault")["properties"]["enablePurgeProtection"] is True
    off = run(deletionProtection="false")
    assert "enablePurgeProtection" not in inputs(off, f"{AZ}:keyvault:Vault")["properties"]


# ---------------------------------------------------------------------------- storage


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_storage_private_https_entra_only(scenario: str) -> None:
    result = run(scenario=scenario)
    account = inputs(result, f"{AZ}:storage:StorageAccount")
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["defaultToOAuthAuthentication"] is True
    assert account["enableHttpsTrafficOnly"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert inputs(result, f"{AZ}:storage:BlobContainer")["publicAccess"] == "None"
    service = inputs(result, f"{AZ}:storage:BlobServiceProperties")
    assert service["isVersioningEnabled"] is True
    assert service["deleteRetentionPolicy"] == {"enabled": True, "days": 7}
    (rule,) = inputs(result, f"{AZ}:storage:ManagementPolicy")["policy"]["rules"]
    assert rule["definition"]["actions"]["version"]["delete"] == {
        "daysAfterCreationGreaterThan": 30
    }
    assert "AZURE_STORAGE_ACCESS_KEY" not in str(result.outputs["clientEnvironment"])
    assert "AZURE_STORAGE_CONNECTION_STRING" not in environment(result)


def test_account_key_only_when_asked_for_and_only_as_a_secret() -> None:
    result = run(scenario="direct", clientAccessKey="true")
    assert inputs(result, f"{AZ}:storage:StorageAccount")["allowSharedKeyAccess"] is True
    assert result.outputs["storageAccountKey"] == ACCOUNT_KEY
    assert result.outputs["clientEnvironment"]["AZURE_STORAGE_ACCESS_KEY"] == ACCOUNT_KEY
    assert {"storageAccountKey", "clientEnvironment"} <= result.secret_outputs
    # The server never gets the key: it uses its identity.
    assert ACCOUNT_KEY not in str(container_app(result))


# ---------------------------------------------------------------------------- identity and roles


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_role_assignments_are_scoped_to_container_account_secrets_and_registry(
    scenario: str,
) -> None:
    principals = {"clientPrincipalIds": f'["{ALICE}"]'} if scenario == "direct" else {}
    result = run(scenario=scenario, **principals)
    container_id = result.outputs["artifactContainerId"]
    account_id = container_id.split("/blobServices/")[0]
    identity = result.mocks.one(f"{AZ}:managedidentity:UserAssignedIdentity")
    server_principal = out(identity)["principalId"]
    secrets = {r.inputs["secretName"]: r for r in result.mocks.of_type(f"{AZ}:keyvault:Secret")}
    grants = role_assignments(result)
    expected = [("Storage Blob Data Contributor", container_id, server_principal)]
    if scenario != "direct":
        expected.append(("Storage Blob Delegator", account_id, server_principal))
    else:
        expected.append(("Storage Blob Data Contributor", container_id, ALICE))
    registry = result.mocks.one(f"{AZ}:containerregistry:Registry")
    registry_id = out(registry)["id"]
    expected.append(("AcrPull", registry_id, server_principal))
    for name in secrets:
        vault = secrets[name].inputs["vaultName"]
        secret_id = f"/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{name}"
        (scope,) = [
            s for role, s, p in grants if role == "Key Vault Secrets User" and s.endswith(secret_id)
        ]
        expected.append(("Key Vault Secrets User", scope, server_principal))
    assert grants == sorted(expected)
    assert len(secrets) == (0 if scenario == "artifacts-only" else 3)
    # Nothing at resource group or subscription scope.
    for _, scope, _ in grants:
        assert "/providers/" in scope, scope


def test_key_vault_uses_rbac_and_soft_delete() -> None:
    vault = inputs(run(), f"{AZ}:keyvault:Vault")["properties"]
    assert vault["enableRbacAuthorization"] is True and "accessPolicies" not in vault
    assert vault["enableSoftDelete"] is True and vault["softDeleteRetentionInDays"] == 90


# ---------------------------------------------------------------------------- the container app


def _secret_values(result: harness.ProgramResult) -> set[str]:
    values = {i["properties"]["value"] for i in all_inputs(result, f"{AZ}:keyvault:Secret")}
    values |= {WORKSPACE_KEY, REGISTRY_PASSWORD}
    return {v for v in values if v}


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_container_environment_follows_the_contract_with_key_vault_references(
    scenario: str,
) -> None:
    result = run(scenario=scenario)
    app = container_app(result)
    env, refs = environment(result), secret_refs(result)
    for name in env:
        assert contract.is_contract_variable(name), name
        assert name not in contract.SECRET_NAMES, name
    assert set(refs) <= contract.SECRET_NAMES
    expected_refs = {
        "proxied": {"DB_PASSWORD", "AUTH_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"},
        "artifacts-only": set(),
    }
    expected_refs["direct"] = expected_refs["proxied"]
    assert set(refs) == expected_refs[scenario]
    secrets = app["configuration"].get("secrets", [])
    uris = {
        i["secretName"]: f"https://{i['vaultName']}.vault.azure.net/secrets/{i['secretName']}"
        for i in all_inputs(result, f"{AZ}:keyvault:Secret")
    }
    identity_id = out(result.mocks.one(f"{AZ}:managedidentity:UserAssignedIdentity"))["id"]
    for secret in secrets:
        assert set(secret) == {"name", "keyVaultUrl", "identity"}, secret  # never a value
        assert secret["keyVaultUrl"] == uris[secret["name"]]
        assert secret["identity"] == identity_id
    assert app["identity"]["userAssignedIdentities"] == [identity_id]
    assert {s["name"] for s in secrets} == set(refs.values())
    # No secret value anywhere in the app's definition.
    text = str(app)
    for value in _secret_values(result):
        assert value not in text
    assert env["ARTIFACT_URL"] == result.outputs["artifactLocation"]
    assert env["ARTIFACT_MODE"] == scenario
    assert env["AZURE_CLIENT_ID"]  # DefaultAzureCredential picks the user-assigned identity
    assert app["identity"]["type"] == "UserAssigned"


def test_public_hostnames_carry_the_app_fqdn_and_extra_hosts() -> None:
    result = run(allowedHosts='["mlflow.internal"]')
    fqdn = f"{container_app(result)['containerAppName']}.{ENV_DOMAIN}"
    assert result.outputs["appFqdn"] == fqdn
    assert result.outputs["trackingUri"] == f"https://{fqdn}"
    assert environment(result)["PUBLIC_HOSTNAMES"] == f"{fqdn},mlflow.internal"


def test_probes_resources_scale_and_ingress() -> None:
    result = run(
        minReplicas="2",
        replicas="2",
        maxReplicas="7",
        serverCpu="2",
        serverMemoryMb="4096",
        allowedCidrs='["10.0.0.0/8", "192.168.0.0/16"]',
        dbSize="medium",  # 7 replicas x 4 workers x 4 engines: 560 connections at least
    )
    app, box = container_app(result), container(result)
    assert {p["type"]: p["httpGet"]["path"] for p in box["probes"]} == {
        "Startup": "/health",
        "Readiness": "/health",
        "Liveness": "/health",
    }
    assert all(p["httpGet"]["port"] == 5000 for p in box["probes"])
    assert box["resources"] == {"cpu": 2.0, "memory": "4Gi"}
    scale = app["template"]["scale"]
    assert (scale["minReplicas"], scale["maxReplicas"]) == (2, 7)
    assert scale["rules"][0]["http"]["metadata"] == {"concurrentRequests": "40"}
    assert environment(result)["SERVER_WORKERS"] == "4"
    ingress = app["configuration"]["ingress"]
    assert ingress["external"] is True and ingress["allowInsecure"] is False
    assert ingress["targetPort"] == 5000
    assert [r["ipAddressRange"] for r in ingress["ipSecurityRestrictions"]] == [
        "10.0.0.0/8",
        "192.168.0.0/16",
    ]
    assert {r["action"] for r in ingress["ipSecurityRestrictions"]} == {"Allow"}


# PostgreSQL small: 386 connections for replicas x 2 workers x 4 engines (tracking,
# registry, jobs, auth): 4 replicas -> 12 per engine, 9 replicas -> 5 (the minimum).
@pytest.mark.parametrize(("max_replicas", "pool"), [("4", ("4", "8")), ("9", ("2", "3"))])
def test_database_pool_budgeted_against_the_server_connections(
    max_replicas: str, pool: tuple[str, str]
) -> None:
    env = environment(run(maxReplicas=max_replicas))
    got = (env["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"], env["MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"])
    assert got == pool
    assert "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE" not in environment(run(scenario="artifacts-only"))


def test_environment_on_the_vnet_with_log_retention() -> None:
    result = run(logRetentionDays="90")
    managed = inputs(result, f"{AZ}:app:ManagedEnvironment")
    apps_subnet = next(
        r for r in result.mocks.of_type(f"{AZ}:network:Subnet") if r.name.endswith("-apps")
    )
    assert managed["vnetConfiguration"] == {
        "infrastructureSubnetId": out(apps_subnet)["id"],
        "internal": False,
    }
    assert "appLogsConfiguration" in result.mocks.one(f"{AZ}:app:ManagedEnvironment").secret_inputs
    assert (
        managed["appLogsConfiguration"]["logAnalyticsConfiguration"]["sharedKey"] == WORKSPACE_KEY
    )
    assert inputs(result, f"{AZ}:operationalinsights:Workspace")["retentionInDays"] == 90
    delegations = {
        r.name.rsplit("-", 1)[1]: r.inputs["delegations"][0]["serviceName"]
        for r in result.mocks.of_type(f"{AZ}:network:Subnet")
    }
    assert delegations == {
        "apps": "Microsoft.App/environments",
        "db": "Microsoft.DBforPostgreSQL/flexibleServers",
    }


def test_registry_pull_by_identity_admin_only_for_the_push() -> None:
    result = run()
    app = container_app(result)
    (registry,) = app["configuration"]["registries"]
    assert set(registry) == {"server", "identity"}  # no password reference
    image = inputs(result, "docker-build:index:Image")
    assert image["push"] is True
    assert "registries" in result.mocks.one("docker-build:index:Image").secret_inputs
    assert image["registries"][0]["password"] == REGISTRY_PASSWORD
    assert container(result)["image"].startswith(image["tags"][0] + "@sha256:")


def test_existing_subnets_are_used_as_given() -> None:
    result = run(appsSubnetId=SUBNETS + "apps", dbSubnetId=SUBNETS + "db")
    managed = inputs(result, f"{AZ}:app:ManagedEnvironment")
    assert managed["vnetConfiguration"]["infrastructureSubnetId"] == SUBNETS + "apps"
    server = inputs(result, f"{AZ}:dbforpostgresql:Server")
    assert server["network"]["delegatedSubnetResourceId"] == SUBNETS + "db"
    link = inputs(result, f"{AZ}:privatedns:VirtualNetworkLink")
    assert link["virtualNetwork"]["id"] == SUBNETS.rsplit("/subnets/", 1)[0]


# ---------------------------------------------------------------------------- outputs


def test_outputs_and_secrets_per_scenario() -> None:
    proxied = run()
    assert {"adminPassword", "clientEnvironment"} <= proxied.secret_outputs
    client = proxied.outputs["clientEnvironment"]
    assert client["MLFLOW_TRACKING_PASSWORD"] == proxied.outputs["adminPassword"]
    assert client["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] == "true"
    assert client["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"] == str(100 * 1024 * 1024)
    assert proxied.outputs["databaseSecretUri"].endswith("/secrets/db-password")
    only = run(scenario="artifacts-only")
    assert only.secret_outputs == frozenset()
    assert "adminPassword" not in only.outputs and "databaseSecretUri" not in only.outputs
    direct = run(scenario="direct")
    assert "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD" not in direct.outputs["clientEnvironment"]


def test_given_admin_password_is_stored_not_generated() -> None:
    result = run(("adminPassword",), adminPassword="a given long password")
    assert result.outputs["adminPassword"] == "a given long password"
    stored = {
        i["secretName"]: i["properties"]["value"]
        for i in all_inputs(result, f"{AZ}:keyvault:Secret")
    }
    assert stored["auth-password"] == "a given long password"
    assert Counter(result.mocks.types())["random:index/randomPassword:RandomPassword"] == 2


# ---------------------------------------------------------------------------- refusals

INVALID = [
    ({f"{AZ}:location": ""}, f"{AZ}:location", "(unset)"),
    ({f"{AZ}:location": "West Europe"}, f"{AZ}:location", "'West Europe'"),
    ({f"{AZ}:location": "mars-north"}, f"{AZ}:location", "westeurope"),
    ({"domain": "mlflow.example.com"}, "mlflow:domain", "az containerapp hostname"),
    ({"replicas": "3", "minReplicas": "2"}, "mlflow:replicas", "minReplicas (2)"),
    ({"serverMemoryMb": "4096"}, "mlflow:serverMemoryMb", "2048 for serverCpu 1"),
    ({"dbHighAvailability": "true"}, "mlflow:dbHighAvailability", "burstable"),
    ({"dbBackupRetentionDays": "3"}, "mlflow:dbBackupRetentionDays", "7 to 35"),
    ({"logRetentionDays": "14"}, "mlflow:logRetentionDays", "30 to 730"),
    ({"maxReplicas": "10"}, "mlflow:maxReplicas", "9 or fewer"),
    ({"vnetCidr": "10.0.0.0/24"}, "mlflow:vnetCidr", "/16 to /22"),
    ({"appsSubnetId": "subnet-1"}, "mlflow:appsSubnetId", "subnet resource id"),
    ({"appsSubnetId": SUBNETS + "apps"}, "mlflow:dbSubnetId", "(unset)"),
    (
        {"appsSubnetId": SUBNETS + "apps", "dbSubnetId": SUBNETS.replace("hub", "spoke") + "db"},
        "mlflow:dbSubnetId",
        "the VNet of",
    ),
    ({"dbSubnetId": SUBNETS + "db"}, "mlflow:dbSubnetId", "appsSubnetId"),
    ({"clientPrincipalIds": f'["{ALICE}"]'}, "mlflow:clientPrincipalIds", "'direct'"),
    (
        {"scenario": "direct", "clientPrincipalIds": '["alice@example.com"]'},
        "mlflow:clientPrincipalIds",
        "GUID",
    ),
    ({"resourceGroupName": "rg."}, "mlflow:resourceGroupName", "not ending"),
    ({"clientAccessKey": "true"}, "mlflow:clientAccessKey", "'direct'"),
]


@pytest.mark.parametrize(
    ("config", "key", "shown"), INVALID, ids=[c[1] + str(i) for i, c in enumerate(INVALID)]
)
def test_invalid_azure_config_stops_before_any_resource(
    config: dict[str, str], key: str, shown: str
) -> None:
    mocks = harness.new_mocks()
    full = {"cloud": "azure", f"{AZ}:location": LOCATION, **config}
    with pytest.raises(pulumi.RunError) as error:
        harness.run_program(config=full, mocks=mocks)
    message = str(error.value)
    assert message.startswith(f"{key}: "), message
    assert shown in message and "allowed" in message and "\n" not in message, message
    assert mocks.resources == []


@pytest.mark.parametrize("key", ["resourceGroupName", "vnetCidr", "clientPrincipalIds"])
def test_azure_keys_are_refused_on_aws(key: str) -> None:
    mocks = harness.new_mocks()
    with pytest.raises(pulumi.RunError, match=f"^mlflow:{key}: .*cloud 'azure'"):
        harness.run_program(
            config={"cloud": "aws", key: '["x"]' if key.endswith("Ids") else "x"}, mocks=mocks
        )
    assert mocks.resources == []


def test_azure_stack_never_imports_other_clouds() -> None:
    code = (
        "import sys, stacks.azure, mlflow_iac.azure; mlflow_iac.azure.MlflowServer; "
        "bad = [m for m in sys.modules if m.startswith(('pulumi_aws', 'pulumi_gcp'))]; "
        "assert not bad, bad; assert 'pulumi_azure_native' in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_config_check_of_other_clouds_does_not_load_the_azure_sdk() -> None:
    code = (
        "import sys, stacks.config; stacks.config.parse_config({'cloud': 'aws'}, frozenset(), {'aws:region': 'eu-west-1'}); "
        "assert 'pulumi_azure_native' not in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
