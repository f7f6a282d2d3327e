"""`Identity`: who may touch the MLflow artifacts: the server's task role and, for scenario 4
(direct artifact access), the clients' policy, role and optional access key."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi_aws import iam

from mlflow_iac.aws.client import client_aws_config, client_profile_name
from mlflow_iac.aws.iam import (
    bucket_access_policy,
    client_assume_role_policy,
    service_assume_role_policy,
)


class IdentityArgs(TypedDict, total=False):
    """Inputs of `Identity`."""

    bucket_arn: Required[pulumi.Input[str]]
    """ARN of the artifact bucket every policy is scoped to. Required."""
    kms_key_arn: str | None
    """The bucket's customer-managed KMS key, if any: the policies add kms:Decrypt and
    kms:GenerateDataKey on exactly that key."""
    client_access: bool
    """Scenario 4: create the clients' managed policy and role. Default False."""
    client_access_key: bool
    """Also create an IAM user with a long-lived access key for clients (needs
    `client_access`). Default False: prefer assuming the client role."""
    client_principal_arns: Sequence[str]
    """Principals allowed to assume the client role; empty (default): principals of this
    account that an identity policy lets assume it."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Identity(pulumi.ComponentResource):
    """IAM for MLflow's artifact access, least privilege on one bucket.

    The server's task role may list the bucket and read/write/delete its objects (including
    multipart uploads), nothing else: no `s3:*`, no `*` resource. In scenario 4 the clients
    get the same permissions through a managed policy attached to a client role (and, only
    on request, to an IAM user with an access key, exported as a secret).

    The task *execution* role (image pull, logs, reading the container's secrets) belongs to
    the `Service`, which creates the secrets it reads.

    Children: Role + RolePolicy (task); Policy, Role, RolePolicyAttachment (clients);
    User, UserPolicyAttachment, AccessKey (client access key).
    """

    task_role_arn: pulumi.Output[str]
    """Role the server containers run as (bucket access)."""
    client_policy_arn: pulumi.Output[str | None]
    """Managed policy with the clients' bucket permissions (scenario 4), else None."""
    client_role_arn: pulumi.Output[str | None]
    """Role clients assume for direct artifact access (scenario 4), else None."""
    client_aws_config: pulumi.Output[str | None]
    """Scenario 4: the `~/.aws/config` section (profile `client_profile`) that assumes the
    client role from the `default` profile's credentials (`client.client_aws_config`), else
    None."""
    client_access_key_id: pulumi.Output[str | None]
    """Access key id of the client user, when requested."""
    client_secret_access_key: pulumi.Output[str | None]
    """Secret access key of the client user (secret), when requested."""

    def __init__(
        self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        client_access = args.get("client_access", False)
        client_key = args.get("client_access_key", False)
        principals = list(args.get("client_principal_arns") or [])
        kms_key_arn = args.get("kms_key_arn")
        if args.get("bucket_arn") is None:
            raise ValueError("bucket_arn: required")
        if client_key and not client_access:
            raise ValueError("client_access_key: needs client_access (scenario 4, direct)")
        if principals and not client_access:
            raise ValueError("client_principal_arns: needs client_access (scenario 4, direct)")
        for arn in principals:
            if not arn.startswith("arn:aws"):
                raise ValueError(f"client_principal_arns: {arn!r} is not an IAM ARN")

        super().__init__("mlflow-aws:index:Identity", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)
        self._account_id = aws.get_caller_identity_output(
            opts=pulumi.InvokeOptions(parent=self)
        ).account_id
        access_policy = pulumi.Output.from_input(args["bucket_arn"]).apply(
            lambda arn: json.dumps(bucket_access_policy(arn, kms_key_arn))
        )

        self.task_role = self._task_role(name, access_policy)
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.client_policy: iam.Policy | None = None
        self.client_role: iam.Role | None = None
        self.client_user: iam.User | None = None
        self.client_access_key: iam.AccessKey | None = None
        self.client_policy_arn = self.client_role_arn = self.client_aws_config = none
        self.client_profile: str | None = None
        """Scenario 4: the profile name of `client_aws_config` (plain), else None."""
        self.client_access_key_id = self.client_secret_access_key = none
        if client_access:
            self.client_policy, self.client_role = self._client_role(
                name, access_policy, principals
            )
            self.client_policy_arn = self.client_policy.arn
            self.client_role_arn = self.client_role.arn
            self.client_profile, self.client_aws_config = self._client_config(self.client_role)
            if client_key:
                self.client_access_key = self._client_access_key(name, self.client_policy)
                self.client_access_key_id = self.client_access_key.id
                self.client_secret_access_key = pulumi.Output.secret(self.client_access_key.secret)
        self.task_role_arn = self.task_role.arn
        self.register_outputs({key: getattr(self, key) for key in type(self).__annotations__})

    def _task_role(self, name: str, access_policy: pulumi.Output[str]) -> iam.Role:
        """The role the server containers run as, with the bucket policy inline."""
        role = iam.Role(
            f"{name}-task",
            description="MLflow server tasks: artifact bucket access",
            assume_role_policy=self._account_id.apply(
                lambda account: json.dumps(
                    service_assume_role_policy("ecs-tasks.amazonaws.com", account)
                )
            ),
            tags=self._tags,
            opts=self._child,
        )
        iam.RolePolicy(f"{name}-task-bucket", role=role.id, policy=access_policy, opts=self._child)
        return role

    def _client_role(
        self, name: str, access_policy: pulumi.Output[str], principals: list[str]
    ) -> tuple[iam.Policy, iam.Role]:
        """Scenario 4: clients read and write artifacts in the bucket themselves, through a
        managed policy on a role they assume."""
        policy = iam.Policy(
            f"{name}-client",
            description="MLflow clients: direct access to the artifact bucket",
            policy=access_policy,
            tags=self._tags,
            opts=self._child,
        )
        role = iam.Role(
            f"{name}-client",
            description="MLflow clients: assume for direct artifact access",
            assume_role_policy=self._account_id.apply(
                lambda account: json.dumps(client_assume_role_policy(account, principals))
            ),
            max_session_duration=12 * 3600,  # a long training run keeps its session
            tags=self._tags,
            opts=self._child,
        )
        iam.RolePolicyAttachment(
            f"{name}-client", role=role.name, policy_arn=policy.arn, opts=self._child
        )
        return policy, role

    def _client_config(self, role: iam.Role) -> tuple[str, pulumi.Output[str | None]]:
        """The profile clients paste into ~/.aws/config to assume `role` (boto3 ignores
        AWS_ROLE_ARN without a web-identity token), in the provider's region."""
        profile = client_profile_name(pulumi.get_project(), pulumi.get_stack())
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        config: pulumi.Output[str | None] = pulumi.Output.all(role.arn, region).apply(
            lambda values: client_aws_config(profile, values[0], values[1])
        )
        return profile, config

    def _client_access_key(self, name: str, policy: iam.Policy) -> iam.AccessKey:
        """On request only: an IAM user with the client policy and a long-lived access key."""
        self.client_user = iam.User(f"{name}-client", tags=self._tags, opts=self._child)
        iam.UserPolicyAttachment(
            f"{name}-client",
            user=self.client_user.name,
            policy_arn=policy.arn,
            opts=self._child,
        )
        return iam.AccessKey(f"{name}-client", user=self.client_user.name, opts=self._child)
