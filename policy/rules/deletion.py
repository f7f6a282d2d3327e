"""Stateful resources are protected from deletion outside throw-away stacks
(`deletion-protection`)."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from policy.rules.base import Resource, items, violation
from policy.rules.tokens import (
    AWS_DB_CLUSTER,
    AWS_DB_INSTANCE,
    AZURE_DB_SERVERS,
    AZURE_STORAGE,
    GCP_SQL,
    GCS_BUCKET,
    S3_BUCKETS,
)

NATIVE_DELETION_PROTECTION = {
    AWS_DB_INSTANCE: "deletionProtection",
    AWS_DB_CLUSTER: "deletionProtection",
}
"""Stateful types with a provider-side deletion protection flag that must be true."""
PULUMI_DEFAULT_ON = {GCP_SQL: "deletionProtection"}
"""Stateful types whose provider flag defaults to on: it must not be set to false."""
PROTECTED_BY_OPTION = frozenset(
    {
        *S3_BUCKETS,
        GCS_BUCKET,
        AZURE_STORAGE,
        *AZURE_DB_SERVERS,
    }
)
"""Stateful types without such a flag: Pulumi's `protect` option must be on."""
THROWAWAY_STACKS = ("dev", "test", "pr-*")


def deletion_protection(r: Resource, settings: Mapping[str, Any]) -> list[str]:
    """Stateful resources (databases, buckets, storage accounts) are protected from
    deletion, except in throw-away stacks (`throwawayStacks`, shell patterns)."""
    patterns = items(settings.get("throwawayStacks"))
    if any(fnmatch.fnmatchcase(r.stack, str(p)) for p in patterns):
        return []
    where = f"in stack '{r.stack}'"
    if r.type in NATIVE_DELETION_PROTECTION:
        key = NATIVE_DELETION_PROTECTION[r.type]
        if r.props.get(key) is not True:
            return [
                violation(
                    r,
                    f"{key} is not true {where}",
                    "set deletion_protection=True (mlflow:deletionProtection), or list the stack "
                    "in throwawayStacks",
                )
            ]
    if r.type in PULUMI_DEFAULT_ON and r.props.get(PULUMI_DEFAULT_ON[r.type]) is False:
        return [
            violation(
                r,
                f"deletionProtection is false {where}",
                "set deletion_protection=True, or list the stack in throwawayStacks",
            )
        ]
    if r.type in PROTECTED_BY_OPTION and not r.protect:
        return [
            violation(
                r,
                f"not protected from deletion {where}",
                "create it with pulumi.ResourceOptions(protect=True) "
                "(mlflow:deletionProtection), or list the stack in throwawayStacks",
            )
        ]
    return []
