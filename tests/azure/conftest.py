"""Realistic computed outputs and invoke results for the Azure resources the stack uses.

Registered into the shared harness (`OUTPUTS`, `INVOKES`) for the Azure tests only; the
harness raises on any other invoke, so a new data source must be mocked here on purpose.
Auto-named resources get `<logical name><8 hex>` as Pulumi's azure-native provider does;
resources the components name explicitly keep that name.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pytest

from tests import harness

SUBSCRIPTION = "00000000-1111-2222-3333-444444444444"
TENANT = "99999999-8888-7777-6666-555555555555"
LOCATION = "westeurope"
ENV_DOMAIN = "bluesky-1a2b3c4d.westeurope.azurecontainerapps.io"
ACCOUNT_KEY = "bW9jay1hY2NvdW50LWtleQ=="
"""The mocked storage account key (a secret output of the stack)."""
WORKSPACE_KEY = "mock-log-analytics-shared-key"
REGISTRY_PASSWORD = "mock-registry-admin-password"

Args = pulumi.runtime.MockResourceArgs


def hexof(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def guid(text: str) -> str:
    h = hexof(text, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def rg_id(group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"


def _auto(args: Args, field: str) -> str:
    return args.inputs.get(field) or f"{args.name}{hexof(args.name)}"


def _arm(provider: str, field: str, parent: str | None = None):
    """Outputs of an ARM resource: its name (given or auto) and its resource id."""

    def outputs(args: Args) -> dict[str, Any]:
        name = _auto(args, field)
        group = args.inputs.get("resourceGroupName", "rg")
        scope = rg_id(group) + f"/providers/{provider}"
        if parent:
            scope += f"/{args.inputs[parent]}"
        return {"name": name, "id": f"{scope}/{name}"}

    return outputs


def _storage_account(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.Storage/storageAccounts", "accountName")(args)
    out["primaryEndpoints"] = {"blob": f"https://{out['name']}.blob.core.windows.net/"}
    return out


def _container(args: Args) -> dict[str, Any]:
    account = args.inputs["accountName"]
    name = args.inputs["containerName"]
    account_id = rg_id(args.inputs["resourceGroupName"]) + (
        f"/providers/Microsoft.Storage/storageAccounts/{account}"
    )
    return {"name": name, "id": f"{account_id}/blobServices/default/containers/{name}"}


def _identity(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.ManagedIdentity/userAssignedIdentities", "resourceName")(args)
    return {
        **out,
        "clientId": guid("client" + args.name),
        "principalId": guid("principal" + args.name),
        "tenantId": TENANT,
    }


def _vault(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.KeyVault/vaults", "vaultName")(args)
    properties = dict(args.inputs.get("properties") or {})
    properties["vaultUri"] = f"https://{out['name']}.vault.azure.net/"
    return {**out, "properties": properties}


def _secret(args: Args) -> dict[str, Any]:
    vault = args.inputs["vaultName"]
    name = args.inputs["secretName"]
    uri = f"https://{vault}.vault.azure.net/secrets/{name}"
    return {
        "name": name,
        "id": rg_id(args.inputs["resourceGroupName"])
        + f"/providers/Microsoft.KeyVault/vaults/{vault}/secrets/{name}",
        # Azure never returns the value.
        "properties": {"secretUri": uri, "secretUriWithVersion": f"{uri}/{hexof(name, 32)}"},
    }


def _role_assignment(args: Args) -> dict[str, Any]:
    name = guid(args.name)
    return {
        "name": name,
        "id": f"{args.inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}",
    }


def _db_server(domain: str):
    def outputs(args: Args) -> dict[str, Any]:
        provider = f"Microsoft.DBfor{'PostgreSQL' if 'postgres' in domain else 'MySQL'}"
        out = _arm(f"{provider}/flexibleServers", "serverName")(args)
        return {**out, "fullyQualifiedDomainName": f"{out['name']}.{domain}"}

    return outputs


def _registry(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.ContainerRegistry/registries", "registryName")(args)
    return {**out, "loginServer": f"{out['name']}.azurecr.io"}


def _image(args: Args) -> dict[str, Any]:
    tag = args.inputs["tags"][0]
    digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    return {"ref": f"{tag}@{digest}", "digest": digest}


def _workspace(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.OperationalInsights/workspaces", "workspaceName")(args)
    return {**out, "customerId": guid("workspace" + args.name)}


def _environment(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.App/managedEnvironments", "environmentName")(args)
    return {**out, "defaultDomain": ENV_DOMAIN, "staticIp": "20.0.0.10"}


def _container_app(args: Args) -> dict[str, Any]:
    out = _arm("Microsoft.App/containerApps", "containerAppName")(args)
    fqdn = f"{out['name']}.{ENV_DOMAIN}"
    configuration = dict(args.inputs.get("configuration") or {})
    configuration["ingress"] = {**configuration.get("ingress", {}), "fqdn": fqdn}
    identity = dict(args.inputs.get("identity") or {})
    # Azure answers with a map id -> {clientId, principalId}; the input is a list of ids.
    identity["userAssignedIdentities"] = {
        i: {"clientId": guid("c" + i), "principalId": guid("p" + i)}
        for i in identity.get("userAssignedIdentities") or []
    }
    return {
        **out,
        "configuration": configuration,
        "identity": identity,
        "latestRevisionFqdn": fqdn,
    }


AZURE_OUTPUTS: dict[str, harness.OutputsFn] = {
    "azure-native:resources:ResourceGroup": lambda a: {
        "name": _auto(a, "resourceGroupName"),
        "id": rg_id(_auto(a, "resourceGroupName")),
    },
    "random:index/randomString:RandomString": lambda a: {"result": hexof(a.name)},
    "random:index/randomPassword:RandomPassword": lambda a: {
        "result": ("Rnd-" + hexof(a.name, 40))[: int(a.inputs.get("length", 16))]
    },
    "azure-native:network:VirtualNetwork": _arm(
        "Microsoft.Network/virtualNetworks", "virtualNetworkName"
    ),
    "azure-native:network:Subnet": _arm(
        "Microsoft.Network/virtualNetworks", "subnetName", "virtualNetworkName"
    ),
    "azure-native:network:NetworkSecurityGroup": _arm(
        "Microsoft.Network/networkSecurityGroups", "networkSecurityGroupName"
    ),
    "azure-native:privatedns:PrivateZone": _arm(
        "Microsoft.Network/privateDnsZones", "privateZoneName"
    ),
    "azure-native:privatedns:VirtualNetworkLink": _arm(
        "Microsoft.Network/privateDnsZones", "virtualNetworkLinkName", "privateZoneName"
    ),
    "azure-native:storage:StorageAccount": _storage_account,
    "azure-native:storage:BlobServiceProperties": _arm(
        "Microsoft.Storage/storageAccounts", "blobServicesName", "accountName"
    ),
    "azure-native:storage:BlobContainer": _container,
    "azure-native:storage:ManagementPolicy": _arm(
        "Microsoft.Storage/storageAccounts", "managementPolicyName", "accountName"
    ),
    "azure-native:authorization:ManagementLockByScope": lambda a: {
        "name": _auto(a, "lockName"),
        "id": f"{a.inputs['scope']}/providers/Microsoft.Authorization/locks/{_auto(a, 'lockName')}",
    },
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:keyvault:Vault": _vault,
    "azure-native:keyvault:Secret": _secret,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azure-native:dbforpostgresql:Server": _db_server("postgres.database.azure.com"),
    "azure-native:dbforpostgresql:Configuration": _arm(
        "Microsoft.DBforPostgreSQL/flexibleServers", "configurationName", "serverName"
    ),
    "azure-native:dbforpostgresql:Database": _arm(
        "Microsoft.DBforPostgreSQL/flexibleServers", "databaseName", "serverName"
    ),
    "azure-native:dbformysql:Server": _db_server("mysql.database.azure.com"),
    "azure-native:dbformysql:Configuration": _arm(
        "Microsoft.DBforMySQL/flexibleServers", "configurationName", "serverName"
    ),
    "azure-native:dbformysql:Database": _arm(
        "Microsoft.DBforMySQL/flexibleServers", "databaseName", "serverName"
    ),
    "azure-native:containerregistry:Registry": _registry,
    "docker-build:index:Image": _image,
    "azure-native:operationalinsights:Workspace": _workspace,
    "azure-native:app:ManagedEnvironment": _environment,
    "azure-native:app:ContainerApp": _container_app,
}

AZURE_INVOKES: dict[str, harness.InvokeFn] = {
    "azure-native:authorization:getClientConfig": lambda args: {
        "clientId": guid("deployer"),
        "objectId": guid("deployer-object"),
        "subscriptionId": SUBSCRIPTION,
        "tenantId": TENANT,
    },
    "azure-native:storage:listStorageAccountKeys": lambda args: {
        "keys": [
            {"keyName": "key1", "value": ACCOUNT_KEY, "permissions": "FULL"},
            {"keyName": "key2", "value": "c2Vjb25kLWtleQ==", "permissions": "FULL"},
        ]
    },
    "azure-native:containerregistry:listRegistryCredentials": lambda args: {
        "username": args["registryName"],
        "passwords": [{"name": "password", "value": REGISTRY_PASSWORD}],
    },
    "azure-native:operationalinsights:getSharedKeys": lambda args: {
        "primarySharedKey": WORKSPACE_KEY,
        "secondarySharedKey": "mock-secondary",
    },
}


@pytest.fixture(autouse=True)
def azure_mocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the Azure outputs and invokes for one test; monkeypatch removes them after."""
    for token, outputs in AZURE_OUTPUTS.items():
        monkeypatch.setitem(harness.OUTPUTS, token, outputs)
    for token, invoke in AZURE_INVOKES.items():
        monkeypatch.setitem(harness.INVOKES, token, invoke)
