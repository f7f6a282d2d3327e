"""`ArtifactBucket`: the storage account and private blob container holding MLflow artifacts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi
from pulumi_azure_native import authorization, storage

from mlflow_iac.azure.naming import storage_account_name, wasbs_uri

CONTAINER_NAME = "mlflow"
SOFT_DELETE_DAYS = 7
"""Deleted blobs and containers stay recoverable this long."""


class ArtifactBucketArgs(TypedDict, total=False):
    """Inputs of `ArtifactBucket`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group. Required."""
    location: Required[str]
    """Azure region. Required."""
    name_suffix: Required[pulumi.Input[str]]
    """Random per-stack suffix of the globally unique account name. Required."""
    shared_key_access: bool
    """Allow account-key (shared key) requests: only for a client account key in scenario
    direct. Default False: Entra ID (RBAC) only."""
    versioning: bool
    """Keep previous versions of overwritten or deleted blobs. Default True."""
    noncurrent_version_days: int
    """Days before a previous version is deleted (with versioning), 1 to 3650. Default 30."""
    deletion_protection: bool
    """A CanNotDelete lock and Pulumi `protect` on the account. Default True."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class ArtifactBucket(pulumi.ComponentResource):
    """A StorageV2 account for MLflow artifacts with secure defaults.

    HTTPS only, TLS 1.2 minimum, anonymous blob access off, shared-key (account key) access
    off unless asked for (the portal and clients then default to Entra ID), blob and
    container soft delete, optional versioning with a lifecycle rule deleting previous
    versions, and one private container `mlflow`. No CORS: browsers talk to the MLflow server.

    Children: StorageAccount, BlobServiceProperties, BlobContainer, ManagementPolicy
    (versioning), ManagementLockByScope (deletion protection).
    """

    name: pulumi.Output[str]
    """The blob container's name."""
    uri: pulumi.Output[str]
    """wasbs://<container>@<account>.blob.core.windows.net: MLflow's artifact location."""
    account_name: pulumi.Output[str]
    """The storage account's name."""
    account_id: pulumi.Output[str]
    """The storage account's resource id (account-scoped role assignments)."""
    container_id: pulumi.Output[str]
    """The container's resource id (data role assignments are scoped to it)."""

    def __init__(
        self, name: str, args: ArtifactBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        _validate(args)
        super().__init__("mlflow-azure:index:ArtifactBucket", name, None, opts)
        self._name, self._args = name, args
        self._tags = dict(args.get("tags") or {})
        protect = args.get("deletion_protection", True)
        self.account = self._account(protect)
        service = self._blob_service()
        self.container = storage.BlobContainer(
            f"{name}-container",
            resource_group_name=args["resource_group_name"],
            account_name=self.account.name,
            container_name=CONTAINER_NAME,
            public_access=storage.PublicAccess.NONE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]),
        )
        if args.get("versioning", True):
            self._expire_old_versions(service)
        if protect:
            authorization.ManagementLockByScope(
                f"{name}-lock",
                scope=self.account.id,
                level="CanNotDelete",
                notes="MLflow artifacts: remove this lock to delete the storage account.",
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.name = pulumi.Output.from_input(CONTAINER_NAME)
        self.account_name = self.account.name
        self.account_id = self.account.id
        self.container_id = self.container.id
        self.uri = self.account.name.apply(lambda account: wasbs_uri(CONTAINER_NAME, account))
        self.register_outputs(
            {
                "name": self.name,
                "uri": self.uri,
                "account_name": self.account_name,
                "account_id": self.account_id,
                "container_id": self.container_id,
            }
        )

    def _account(self, protect: bool) -> storage.StorageAccount:
        """The account: HTTPS and TLS 1.2 only, no anonymous access, Entra ID by default."""
        args = self._args
        shared_key = args.get("shared_key_access", False)
        return storage.StorageAccount(
            f"{self._name}-account",
            account_name=pulumi.Output.from_input(args["name_suffix"]).apply(
                lambda suffix: storage_account_name(pulumi.get_stack(), suffix)
            ),
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            kind="StorageV2",
            sku={"name": "Standard_LRS"},
            access_tier=storage.AccessTier.HOT,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            allow_blob_public_access=False,
            allow_shared_key_access=shared_key,
            default_to_o_auth_authentication=not shared_key,
            allow_cross_tenant_replication=False,
            encryption={
                "key_source": "Microsoft.Storage",
                "require_infrastructure_encryption": False,
                "services": {"blob": {"enabled": True, "key_type": "Account"}},
            },
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )

    def _blob_service(self) -> storage.BlobServiceProperties:
        """Soft delete of blobs and containers; versioning when asked for."""
        return storage.BlobServiceProperties(
            f"{self._name}-blob-service",
            resource_group_name=self._args["resource_group_name"],
            account_name=self.account.name,
            blob_services_name="default",
            is_versioning_enabled=self._args.get("versioning", True),
            delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            container_delete_retention_policy={"enabled": True, "days": SOFT_DELETE_DAYS},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _expire_old_versions(self, service: storage.BlobServiceProperties) -> None:
        """Lifecycle rule: previous versions are deleted `noncurrent_version_days` after they
        stopped being current."""
        days = self._args.get("noncurrent_version_days", 30)
        storage.ManagementPolicy(
            f"{self._name}-lifecycle",
            resource_group_name=self._args["resource_group_name"],
            account_name=self.account.name,
            management_policy_name="default",
            policy={
                "rules": [
                    {
                        "name": "expire-noncurrent-versions",
                        "enabled": True,
                        "type": "Lifecycle",
                        "definition": {
                            "filters": {"blob_types": ["blockBlob"]},
                            "actions": {
                                "version": {"delete": {"days_after_creation_greater_than": days}}
                            },
                        },
                    }
                ]
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[service]),
        )


def _validate(args: ArtifactBucketArgs) -> None:
    for required in ("resource_group_name", "location", "name_suffix"):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    days = args.get("noncurrent_version_days", 30)
    if not 1 <= days <= 3650:
        raise ValueError(f"noncurrent_version_days: {days} is not from 1 to 3650")
