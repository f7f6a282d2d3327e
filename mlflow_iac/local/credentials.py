"""The local stack's identity: the S3 access key pair of the MinIO container.

On the clouds this concern is a role / service account with a least-privilege policy.
Locally the key pair is MinIO's root credential: the server uses it, and in scenario
`direct` so do the clients (MinIO users and policies would need `mc admin` steps that
no Docker resource models; the endpoint only listens on 127.0.0.1).
"""

from __future__ import annotations

from typing import TypedDict

import pulumi
import pulumi_random as random

from mlflow_iac.local.settings import require_access_key_id


class CredentialsArgs(TypedDict, total=False):
    """Inputs of the local `Credentials`."""

    access_key_id: str
    """The access key id (MinIO's root user); default `mlflow`. Not a secret."""


class Credentials(pulumi.ComponentResource):
    """An S3 access key pair for the local MinIO container.

    Children: `secret_key` (random.RandomPassword, 40 letters and digits, like AWS keys).
    """

    access_key_id: pulumi.Output[str]
    """The access key id."""
    secret_access_key: pulumi.Output[str]
    """The secret access key (secret)."""

    def __init__(
        self,
        name: str,
        args: CredentialsArgs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        access_key_id = require_access_key_id((args or {}).get("access_key_id", "mlflow"))
        super().__init__("mlflow-local:index:Credentials", name, None, opts)

        self.secret_key = self._secret_key(name)
        self.access_key_id = pulumi.Output.from_input(access_key_id)
        self.secret_access_key = pulumi.Output.secret(self.secret_key.result)
        self.register_outputs(
            {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}
        )

    def _secret_key(self, name: str) -> random.RandomPassword:
        """The secret key: generated once, kept encrypted in the state."""
        return random.RandomPassword(
            f"{name}-secret-key", length=40, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
