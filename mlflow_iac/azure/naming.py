"""Physical names, URIs and resource ids for the Azure stack: pure functions, no Pulumi.

Most Azure resources are auto-named by Pulumi. A few cannot be: storage accounts, key vaults
and container registries have short, global, character-limited names; the Container App's
name is part of its FQDN, which the app's own environment must carry (PUBLIC_HOSTNAMES)
before the app exists; and a Flexible Server's private DNS zone must end in the engine's
suffix. These functions build them from the project, stack and a random per-stack suffix.
"""

from __future__ import annotations

import re

DNS_ZONE_SUFFIX = {
    "postgresql": "private.postgres.database.azure.com",
    "mysql": "private.mysql.database.azure.com",
}
"""A Flexible Server in a VNet needs a private DNS zone whose name ends in the engine's domain."""
BLOB_SUFFIX = "blob.core.windows.net"

_SUBNET_ID = re.compile(
    r"^(?P<vnet>/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
    r"Microsoft\.Network/virtualNetworks/[^/]+)/subnets/[^/]+$",
    re.IGNORECASE,
)


def _letters_digits(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _check_suffix(suffix: str) -> None:
    if not re.fullmatch(r"[a-z0-9]{4,12}", suffix):
        raise ValueError(f"suffix: {suffix!r} is not 4 to 12 lowercase letters or digits")


def storage_account_name(stack: str, suffix: str) -> str:
    """3-24 lowercase letters and digits, globally unique: `mlflow<stack><suffix>`, the stack
    part cut to fit."""
    _check_suffix(suffix)
    room = 24 - len("mlflow") - len(suffix)
    return f"mlflow{_letters_digits(stack)[:room]}{suffix}"


def registry_name(stack: str, suffix: str) -> str:
    """5-50 letters and digits, globally unique: `mlflow<stack><suffix>`."""
    _check_suffix(suffix)
    room = 50 - len("mlflow") - len(suffix)
    return f"mlflow{_letters_digits(stack)[:room]}{suffix}"


def _hyphenated(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


def key_vault_name(stack: str, suffix: str) -> str:
    """3-24 letters, digits and single hyphens, starting with a letter, globally unique
    (and reserved for the soft-delete period after deletion: hence the random suffix)."""
    _check_suffix(suffix)
    room = 24 - len("mlflow--") - len(suffix)
    stack_part = _hyphenated(stack)[:room].strip("-")
    return f"mlflow-{stack_part}-{suffix}" if stack_part else f"mlflow-{suffix}"


def container_app_name(project: str, stack: str) -> str:
    """At most 32 lowercase letters, digits and single hyphens, starting with a letter and
    ending with a letter or digit; unique within the stack's own environment."""
    name = _hyphenated(f"{project}-{stack}")[:32].strip("-")
    if not name or not name[0].isalpha():
        name = _hyphenated(f"m-{name}")[:32].strip("-")
    return name


def app_fqdn(app_name: str, default_domain: str) -> str:
    """The Container App's public name: its name under the environment's default domain."""
    if not app_name or not default_domain:
        raise ValueError("app_name and default_domain: both required")
    return f"{app_name}.{default_domain.strip('.').lower()}"


def private_dns_zone_name(engine: str, stack: str, suffix: str) -> str:
    """`<stack>-<suffix>.private.postgres.database.azure.com` (or mysql): a zone per stack."""
    if engine not in DNS_ZONE_SUFFIX:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(DNS_ZONE_SUFFIX)}")
    _check_suffix(suffix)
    label = _hyphenated(stack)[:40].strip("-") or "mlflow"
    return f"{label}-{suffix}.{DNS_ZONE_SUFFIX[engine]}"


def vnet_id_of_subnet(subnet_id: str) -> str:
    """The VNet resource id of a subnet resource id."""
    match = _SUBNET_ID.match(subnet_id)
    if not match:
        raise ValueError(f"subnet_id: {subnet_id!r} is not a subnet resource id")
    return match.group("vnet")


def wasbs_uri(container: str, account: str) -> str:
    """MLflow's Azure Blob artifact URI: wasbs://<container>@<account>.blob.core.windows.net."""
    if not re.fullmatch(r"[a-z0-9]{3,24}", account):
        raise ValueError(f"account: {account!r} is not a storage account name")
    if not re.fullmatch(r"[a-z0-9](-?[a-z0-9])*", container) or not 3 <= len(container) <= 63:
        raise ValueError(f"container: {container!r} is not a blob container name")
    return f"wasbs://{container}@{account}.{BLOB_SUFFIX}"


def secret_name(variable: str) -> str:
    """Key Vault and Container Apps secret name of a container variable: DB_PASSWORD ->
    db-password (both accept lowercase letters, digits and hyphens)."""
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", variable):
        raise ValueError(f"variable: {variable!r} is not an environment variable name")
    return variable.lower().replace("_", "-")
