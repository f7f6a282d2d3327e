"""Storage permissions name their bucket (`storage-iam-scoped`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.base import Resource, parse_json, statements, strings, violation
from policy.rules.tokens import (
    AWS_ATTACHMENTS,
    AWS_IAM_DOCUMENTS,
    AZURE_ROLE_ASSIGNMENT,
    GCP_PROJECT_IAM,
)

AWS_WIDE_MANAGED_POLICIES = frozenset(
    {
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    }
)
"""AWS-managed policies that grant S3 actions on every bucket."""
GCP_WIDE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
AZURE_STORAGE_ROLES = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}
"""Built-in Azure roles (definition GUID -> name) that reach blob data or storage accounts."""
AZURE_STORAGE_SCOPE = "/providers/microsoft.storage/storageaccounts/"


def _storage_action(action: str) -> bool:
    action = action.lower()
    return action == "*" or action.startswith("s3:") or action.startswith("s3*")


def _wildcard_resource(resource: str) -> bool:
    return resource in ("*", "arn:aws:s3:::*", "arn:aws:s3:::*/*")


def wide_storage_statements(document: Any) -> list[str]:
    """Descriptions of Allow statements granting storage actions on every bucket: a wildcard
    resource or a NotResource (everything but...)."""
    found = []
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        actions = [a for a in strings(statement.get("Action")) if _storage_action(a)]
        if statement.get("NotAction") is not None:
            actions.append("NotAction")
        if not actions:
            continue
        resources = strings(statement.get("Resource"))
        wide = [x for x in resources if _wildcard_resource(x)]
        if statement.get("NotResource") is not None:
            wide.append("NotResource")
        if wide:
            sid = statement.get("Sid") or f"#{index}"
            found.append(f"statement {sid} allows {actions} on {wide}")
    return found


def scoped_storage_iam(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """Storage permissions name their bucket: no IAM statement, managed policy, project
    role or subscription/resource-group role assignment that reaches every bucket."""
    if r.type in AWS_IAM_DOCUMENTS:
        wide = wide_storage_statements(parse_json(r.props.get("policy")))
        if wide:
            return [
                violation(
                    r,
                    "; ".join(wide),
                    "list the bucket ARN (and arn:aws:s3:::<bucket>/*) as the Resource",
                )
            ]
    if r.type in AWS_ATTACHMENTS and r.props.get("policyArn") in AWS_WIDE_MANAGED_POLICIES:
        return [
            violation(
                r,
                f"attaches {r.props.get('policyArn')}, which reaches every bucket",
                "attach a policy whose statements name the bucket",
            )
        ]
    if r.type in GCP_PROJECT_IAM:
        role = str(r.props.get("role") or "")
        if role.startswith("roles/storage.") or role in GCP_WIDE_ROLES:
            return [
                violation(
                    r,
                    f"grants {role} on the whole project/folder/organization",
                    "grant the role on the bucket (gcp.storage.BucketIAMMember)",
                )
            ]
    if r.type == AZURE_ROLE_ASSIGNMENT:
        definition = str(r.props.get("roleDefinitionId") or "").lower()
        role = next((n for g, n in AZURE_STORAGE_ROLES.items() if definition.endswith(g)), None)
        scope = str(r.props.get("scope") or "").lower()
        if role and AZURE_STORAGE_SCOPE not in scope:
            return [
                violation(
                    r,
                    f"assigns {role} at scope {r.props.get('scope')!r}, above the storage account",
                    "scope the assignment to the storage account (or its container)",
                )
            ]
    return []
