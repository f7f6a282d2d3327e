"""`Identity`: the server's user-assigned managed identity, the Key Vault of its secrets, and
who may touch the artifacts (the server; in scenario direct, the principals you name)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi
from pulumi_azure_native import authorization, keyvault, managedidentity, storage

from mlflow_iac.azure.naming import key_vault_name
from mlflow_iac.azure.roles import BLOB_DATA, role_definition_id, server_roles
from mlflow_iac.vocabulary import CLOUD_SCENARIOS

_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
VAULT_RETENTION_DAYS = 90
"""Soft-delete retention of the vault (the maximum): a deleted secret stays recoverable."""


class IdentityArgs(TypedDict, total=False):
    """Inputs of `Identity`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group. Required."""
    location: Required[str]
    """Azure region. Required."""
    name_suffix: Required[pulumi.Input[str]]
    """Random per-stack suffix of the globally unique vault name. Required."""
    scenario: Required[str]
    """direct, proxied or artifacts-only: decides the server's storage roles. Required."""
    storage_account_id: Required[pulumi.Input[str]]
    """The artifact storage account (the delegator role's scope). Required."""
    storage_account_name: Required[pulumi.Input[str]]
    """Its name (the optional client account key is listed from it). Required."""
    container_id: Required[pulumi.Input[str]]
    """The artifact container (the data roles' scope). Required."""
    client_principal_ids: Sequence[str]
    """Scenario direct: Entra object ids granted Storage Blob Data Contributor on the container."""
    client_account_key: bool
    """Scenario direct: export the storage account key for clients (the account must allow
    shared keys). Default False."""
    deletion_protection: bool
    """Purge protection on the vault (irreversible). Default True."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Identity(pulumi.ComponentResource):
    """Who the MLflow server is, where its secrets live, and who reaches the artifacts.

    A user-assigned managed identity runs the Container App. It gets `Storage Blob Data
    Contributor` on the artifact container only and, where the server signs multipart upload
    URLs (proxied, artifacts-only), `Storage Blob Delegator` on the account (see
    `roles.py`). The Key Vault uses Azure RBAC, not access policies; each component that
    writes a secret grants the identity `Key Vault Secrets User` on that secret alone.
    In scenario direct the principals in `client_principal_ids` get the same data role on
    the container; the account key is listed only with `client_account_key`.

    Children: UserAssignedIdentity, Vault, RoleAssignment per server role and per client.
    """

    identity_id: pulumi.Output[str]
    """Resource id of the managed identity (the app's identity and registry credential)."""
    client_id: pulumi.Output[str]
    """Its client id: AZURE_CLIENT_ID for DefaultAzureCredential in the container."""
    principal_id: pulumi.Output[str]
    """Its object id (role assignments)."""
    vault_name: pulumi.Output[str]
    """Name of the Key Vault."""
    vault_uri: pulumi.Output[str]
    """https://<vault>.vault.azure.net/"""
    subscription_id: pulumi.Output[str]
    """The deployment's subscription."""
    storage_grants: list[authorization.RoleAssignment]
    """The server's storage role assignments (the app waits for them)."""
    client_account_key: pulumi.Output[str | None]
    """Scenario direct with `client_account_key`: the account key (secret), else None."""

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        principals = _validate(args)
        super().__init__("mlflow-azure:index:Identity", name, None, opts)
        self._name, self._args = name, args
        self._tags = dict(args.get("tags") or {})
        client = authorization.get_client_config_output(opts=pulumi.InvokeOptions(parent=self))
        self.subscription_id = client.subscription_id
        self.identity = managedidentity.UserAssignedIdentity(
            f"{name}-server",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.vault = self._vault(client.tenant_id)
        self.storage_grants = self._server_storage_roles()
        self.client_grants = [self._client_role(i, p) for i, p in enumerate(principals)]
        self.client_account_key = self._account_key()
        self.identity_id = self.identity.id
        self.client_id = self.identity.client_id
        self.principal_id = self.identity.principal_id
        self.vault_name = self.vault.name
        self.vault_uri = self.vault.properties.vault_uri.apply(lambda u: u or "")
        self.register_outputs(
            {
                "identity_id": self.identity_id,
                "client_id": self.client_id,
                "principal_id": self.principal_id,
                "vault_name": self.vault_name,
                "vault_uri": self.vault_uri,
                "client_account_key": self.client_account_key,
            }
        )

    def _vault(self, tenant_id: pulumi.Input[str]) -> keyvault.Vault:
        """A Key Vault with RBAC authorization, soft delete and (protected stacks) purge
        protection."""
        args = self._args
        protect = args.get("deletion_protection", True)
        return keyvault.Vault(
            f"{self._name}-vault",
            vault_name=pulumi.Output.from_input(args["name_suffix"]).apply(
                lambda suffix: key_vault_name(pulumi.get_stack(), suffix)
            ),
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            properties={
                "tenant_id": tenant_id,
                "sku": {"family": "A", "name": keyvault.SkuName.STANDARD},
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": VAULT_RETENTION_DAYS,
                # Purge protection cannot be turned off again: only on protected stacks.
                "enable_purge_protection": True if protect else None,
                "enabled_for_deployment": False,
                "enabled_for_disk_encryption": False,
                "enabled_for_template_deployment": False,
            },
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )

    def _server_storage_roles(self) -> list[authorization.RoleAssignment]:
        """The server's storage roles: data on the container, delegator on the account."""
        args = self._args
        scopes = {"container": args["container_id"], "account": args["storage_account_id"]}
        grants = []
        for role, scope in server_roles(args["scenario"]):
            grants.append(
                authorization.RoleAssignment(
                    f"{self._name}-server-{role.lower().replace(' ', '-')}",
                    scope=scopes[scope],
                    principal_id=self.identity.principal_id,
                    principal_type="ServicePrincipal",
                    role_definition_id=self.subscription_id.apply(
                        lambda sub, role=role: role_definition_id(sub, role)
                    ),
                    description=f"MLflow server: {role} on the artifact {scope}",
                    opts=pulumi.ResourceOptions(parent=self),
                )
            )
        return grants

    def _client_role(self, index: int, principal: str) -> authorization.RoleAssignment:
        """Scenario direct: one named principal may read and write the artifact container."""
        return authorization.RoleAssignment(
            f"{self._name}-client-{index}",
            scope=self._args["container_id"],
            principal_id=principal,
            role_definition_id=self.subscription_id.apply(
                lambda sub: role_definition_id(sub, BLOB_DATA)
            ),
            description="MLflow clients: direct artifact access",
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _account_key(self) -> pulumi.Output[str | None]:
        """The first account key, secret, when scenario direct asks for one."""
        if not self._args.get("client_account_key"):
            return pulumi.Output.from_input(None)
        keys = storage.list_storage_account_keys_output(
            account_name=self._args["storage_account_name"],
            resource_group_name=self._args["resource_group_name"],
            opts=pulumi.InvokeOptions(parent=self),
        )
        return pulumi.Output.secret(keys.keys.apply(lambda k: k[0].value if k else None))


def _validate(args: IdentityArgs) -> list[str]:
    for required in (
        "resource_group_name",
        "location",
        "name_suffix",
        "scenario",
        "storage_account_id",
        "storage_account_name",
        "container_id",
    ):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    scenario = args["scenario"]
    if scenario not in CLOUD_SCENARIOS:
        raise ValueError(f"scenario: {scenario!r} is not one of {', '.join(CLOUD_SCENARIOS)}")
    principals = [p.lower() for p in args.get("client_principal_ids") or ()]
    for principal in principals:
        if not _GUID.match(principal):
            raise ValueError(f"client_principal_ids: {principal!r} is not an Entra object id")
    direct = scenario == "direct"
    if principals and not direct:
        raise ValueError("client_principal_ids: only with scenario 'direct'")
    if args.get("client_account_key") and not direct:
        raise ValueError("client_account_key: only with scenario 'direct'")
    return principals
