"""One Key Vault secret and the read grant on exactly that secret, shared by the components
that own a secret (`Database`, `Service`)."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
from pulumi_azure_native import authorization, keyvault

from mlflow_iac.azure.roles import SECRETS_USER, role_definition_id


def vault_secret(
    parent: pulumi.Resource,
    name: str,
    *,
    resource_group_name: pulumi.Input[str],
    vault_name: pulumi.Input[str],
    secret_name: str,
    value: pulumi.Input[str],
    reader_principal_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    tags: Mapping[str, str],
) -> tuple[keyvault.Secret, authorization.RoleAssignment]:
    """A secret (value kept secret in the state) and `Key Vault Secrets User` on that secret
    alone for `reader_principal_id`. Written through ARM, so the deployer needs no data-plane
    role on the vault."""
    child = pulumi.ResourceOptions(parent=parent)
    secret = keyvault.Secret(
        name,
        resource_group_name=resource_group_name,
        vault_name=vault_name,
        secret_name=secret_name,
        properties={"value": pulumi.Output.secret(value)},
        tags=dict(tags),
        opts=child,
    )
    grant = authorization.RoleAssignment(
        f"{name}-reader",
        scope=secret.id,
        principal_id=reader_principal_id,
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.from_input(subscription_id).apply(
            lambda sub: role_definition_id(sub, SECRETS_USER)
        ),
        description="MLflow server: read this secret (Container Apps Key Vault reference)",
        opts=child,
    )
    return secret, grant
