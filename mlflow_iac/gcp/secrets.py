"""One Secret Manager secret holding one value: the only way a credential reaches Cloud Run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import secretmanager

from mlflow_iac.gcp.naming import secret_id


@dataclass(frozen=True)
class SecretRef:
    """A stored secret as Cloud Run references it (secret id and pinned version)."""

    secret: secretmanager.Secret
    version: secretmanager.SecretVersion

    @property
    def id(self) -> pulumi.Output[str]:
        """The secret's resource id (projects/P/secrets/S): what IAM bindings name."""
        return self.secret.id


def stored_secret(
    name: str,
    value: pulumi.Input[str],
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> SecretRef:
    """Create secret `name` (its id derived from project, stack and `name`) with `value` as
    its first version. Cloud Run pins that version: a new value is a new revision."""
    secret = secretmanager.Secret(
        name,
        secret_id=secret_id(pulumi.get_project(), pulumi.get_stack(), name),
        replication={"auto": {}},
        labels=dict(labels),
        opts=opts,
    )
    version = secretmanager.SecretVersion(
        name,
        secret=secret.id,
        secret_data=pulumi.Output.secret(value),
        opts=opts,
    )
    return SecretRef(secret, version)
