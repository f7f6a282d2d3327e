"""`Identity`: the service accounts of the MLflow server and (scenario direct) its clients."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Required, TypedDict

import pulumi
from pulumi_gcp import organizations, projects, secretmanager, serviceaccount, storage

from mlflow_iac.gcp.iam import (
    BUCKET_ROLE,
    CLOUD_SQL_CONDITION_TITLE,
    CLOUD_SQL_ROLE,
    SECRET_ROLE,
    TOKEN_CREATOR_ROLE,
    check_members,
    cloud_sql_condition_expression,
)
from mlflow_iac.gcp.naming import account_id


class IdentityArgs(TypedDict, total=False):
    """Inputs of `Identity`. Which grants exist depends only on plain fields."""

    bucket_name: Required[pulumi.Input[str]]
    """The artifact bucket; object rights on it alone. Required."""
    secret_ids: Sequence[pulumi.Input[str]]
    """Secret Manager secrets (resource ids) the server reads: accessor on each, no other."""
    database_instance: pulumi.Input[str] | None
    """The Cloud SQL instance name: roles/cloudsql.client conditioned to it. None: no grant."""
    signs_urls: bool
    """Proxied scenarios: the server signs GCS URLs for multipart uploads through IAM
    signBlob, so it gets roles/iam.serviceAccountTokenCreator on its own account. Default False."""
    client_access: bool
    """Scenario direct: a client service account with the same object rights. Default False."""
    client_members: Sequence[str]
    """Principals (user:, group:, serviceAccount:) that may impersonate the client account."""
    client_key: bool
    """Also a long-lived key of the client account (secret output). Default False."""


class Identity(pulumi.ComponentResource):
    """Least-privilege identities: the server's own service account (never the default
    compute one) with object rights on this bucket, accessor on exactly its secrets,
    Cloud SQL client on this instance only and, when it signs upload URLs, token creator on
    itself; for scenario direct a client account with object rights on this bucket.

    Children: Account (server), BucketIAMMember, IAMMember (Cloud SQL), SecretIamMember per
    secret, serviceaccount IAMMember (signBlob); direct: Account (client), BucketIAMMember,
    serviceaccount IAMMember per client member, Key (with client_key).
    """

    server_email: pulumi.Output[str]
    """The server's service account e-mail (Cloud Run runs as it)."""
    client_email: pulumi.Output[str | None]
    """direct: the client service account's e-mail."""
    client_key: pulumi.Output[str | None]
    """direct with a key: the key file, base64 JSON (GOOGLE_AUTH_STRING form; secret)."""

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        if args.get("bucket_name") is None:
            raise ValueError("bucket_name: required")
        client_access = args.get("client_access", False)
        members = check_members("client_members", args.get("client_members") or ())
        for field, given in (("client_members", members), ("client_key", args.get("client_key"))):
            if given and not client_access:
                raise ValueError(f"{field}: only with client_access")
        super().__init__("mlflow-gcp:index:Identity", name, None, opts)
        self._child = pulumi.ResourceOptions(parent=self)
        self.server = self._account(name, "server", "MLflow server (Cloud Run)")
        self._server_grants(name, args)
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.client: serviceaccount.Account | None = None
        self.key: serviceaccount.Key | None = None
        if client_access:
            self.client = self._client(name, args["bucket_name"], members)
            if args.get("client_key"):
                self.key = serviceaccount.Key(
                    f"{name}-client-key", service_account_id=self.client.name, opts=self._child
                )
        self.server_email = self.server.email
        self.client_email = self.client.email if self.client else none
        self.client_key = pulumi.Output.secret(self.key.private_key) if self.key else none
        self.register_outputs(
            {
                "server_email": self.server_email,
                "client_email": self.client_email,
                "client_key": self.client_key,
            }
        )

    def _account(self, name: str, role: str, display: str) -> serviceaccount.Account:
        return serviceaccount.Account(
            f"{name}-{role}",
            account_id=account_id(pulumi.get_project(), pulumi.get_stack(), name, role),
            display_name=display,
            opts=self._child,
        )

    def _server_grants(self, name: str, args: IdentityArgs) -> None:
        member = self.server.member
        storage.BucketIAMMember(
            f"{name}-server-objects",
            bucket=args["bucket_name"],
            role=BUCKET_ROLE,
            member=member,
            opts=self._child,
        )
        instance = args.get("database_instance")
        if instance is not None:
            project = organizations.get_client_config_output(
                opts=pulumi.InvokeOptions(parent=self)
            ).project
            projects.IAMMember(
                f"{name}-server-cloudsql",
                project=project,
                role=CLOUD_SQL_ROLE,
                member=member,
                condition={
                    "title": CLOUD_SQL_CONDITION_TITLE,
                    "expression": pulumi.Output.all(project, instance).apply(
                        lambda pi: cloud_sql_condition_expression(pi[0], pi[1])
                    ),
                },
                opts=self._child,
            )
        for index, secret in enumerate(args.get("secret_ids") or ()):
            secretmanager.SecretIamMember(
                f"{name}-server-secret-{index}",
                secret_id=secret,
                role=SECRET_ROLE,
                member=member,
                opts=self._child,
            )
        if args.get("signs_urls"):
            serviceaccount.IAMMember(
                f"{name}-server-signs",
                service_account_id=self.server.name,
                role=TOKEN_CREATOR_ROLE,
                member=member,
                opts=self._child,
            )

    def _client(
        self, name: str, bucket: pulumi.Input[str], members: list[str]
    ) -> serviceaccount.Account:
        client = self._account(name, "client", "MLflow clients (direct artifact access)")
        storage.BucketIAMMember(
            f"{name}-client-objects",
            bucket=bucket,
            role=BUCKET_ROLE,
            member=client.member,
            opts=self._child,
        )
        for index, principal in enumerate(members):
            # People and jobs impersonate the client account instead of holding a key.
            serviceaccount.IAMMember(
                f"{name}-client-impersonators-{index}",
                service_account_id=client.name,
                role=TOKEN_CREATOR_ROLE,
                member=principal,
                opts=self._child,
            )
        return client
