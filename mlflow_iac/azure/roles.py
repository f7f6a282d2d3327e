"""Azure built-in role definitions the stack assigns, and their full ids: pure, no Pulumi.

Every assignment is scoped as narrowly as the role allows: blob data on the one container,
secrets on each secret, image pull on the one registry. The one account-scoped grant is
`Storage Blob Delegator`: a user delegation key (which signs the SAS URLs of MLflow's
proxied multipart upload when the server has no account key) is requested from the
account's blob service (`blobServices/generateUserDelegationKey/action`), so a container
scope cannot carry it. The role holds that one action and no data access; a SAS signed
with the key grants at most what the identity's container-scoped data role allows.
"""

from __future__ import annotations

import re

ROLE_IDS = {
    "Storage Blob Data Contributor": "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    "Storage Blob Delegator": "db58b8e5-c6ad-4a2a-8342-4190687cbf4a",
    "Key Vault Secrets User": "4633458b-17de-408a-b874-0445c86b69e6",
    "AcrPull": "7f951dda-4ed3-4680-a7ca-43fe172d538d",
}
"""Built-in role name -> role definition GUID (the same in every Azure public tenant)."""

BLOB_DATA = "Storage Blob Data Contributor"
BLOB_DELEGATOR = "Storage Blob Delegator"
SECRETS_USER = "Key Vault Secrets User"
ACR_PULL = "AcrPull"


def role_definition_id(subscription_id: str, role: str) -> str:
    """The subscription-level resource id of a built-in role, as role assignments take it."""
    if role not in ROLE_IDS:
        raise ValueError(f"role: {role!r} is not one of {', '.join(ROLE_IDS)}")
    if not re.fullmatch(r"[0-9a-fA-F-]{36}", subscription_id):
        raise ValueError(f"subscription_id: {subscription_id!r} is not a subscription GUID")
    return (
        f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/"
        f"roleDefinitions/{ROLE_IDS[role]}"
    )


def server_roles(scenario: str) -> list[tuple[str, str]]:
    """(role, scope kind) the server's identity needs on the artifact storage.

    Blob data on the container in every scenario (direct: the server still deletes and
    lists for runs and experiments it removes; proxied and artifacts-only: it proxies every
    byte). The delegator on the account only where the server signs multipart upload URLs
    for clients (proxied, artifacts-only).
    """
    roles = [(BLOB_DATA, "container")]
    if scenario in ("proxied", "artifacts-only"):
        roles.append((BLOB_DELEGATOR, "account"))
    return roles
