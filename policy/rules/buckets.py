"""Buckets are never public (`bucket-public-access-blocked`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.base import Resource, items, parse_json, statements, strings, violation
from policy.rules.tokens import (
    AZURE_CONTAINER,
    AZURE_STORAGE,
    GCS_ACLS,
    GCS_BUCKET,
    GCS_IAM,
    S3_ACLS,
    S3_BUCKET_POLICY,
    S3_BUCKETS,
    S3_PUBLIC_ACCESS_BLOCK,
)

PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
GCP_PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
S3_BLOCK_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _public_statements(document: Any) -> list[Mapping[str, Any]]:
    """Allow statements of a bucket policy whose principal is everyone, without a condition."""
    found = []
    for statement in statements(document):
        principal = statement.get("Principal")
        everyone = principal == "*" or (
            isinstance(principal, Mapping) and "*" in strings(principal.get("AWS"))
        )
        if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
            found.append(statement)
    return found


def bucket_public_access(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """Buckets are never public: S3 public access block fully on, no public ACL or
    bucket-policy grant; GCS public access prevention enforced with uniform bucket-level
    access, no allUsers/allAuthenticatedUsers; Azure blob public access off."""
    if r.type == S3_PUBLIC_ACCESS_BLOCK:
        off = [flag for flag in S3_BLOCK_FLAGS if r.props.get(flag) is not True]
        if off:
            return [violation(r, f"{', '.join(off)} not true", "set all four flags to True")]
    if r.type in S3_BUCKETS | S3_ACLS and r.props.get("acl") in PUBLIC_ACLS:
        return [violation(r, f"acl is {r.props.get('acl')}", "drop the ACL (keep it private)")]
    if r.type == S3_BUCKET_POLICY and _public_statements(parse_json(r.props.get("policy"))):
        return [
            violation(
                r,
                "the bucket policy allows Principal '*' without a condition",
                "grant named principals (roles) instead of everyone",
            )
        ]
    if r.type == GCS_BUCKET:
        found = []
        if r.props.get("publicAccessPrevention") != "enforced":
            found.append(
                violation(
                    r,
                    f"publicAccessPrevention is {r.props.get('publicAccessPrevention') or 'unset'}",
                    "set public_access_prevention='enforced'",
                )
            )
        if r.props.get("uniformBucketLevelAccess") is not True:
            found.append(
                violation(
                    r,
                    "uniformBucketLevelAccess is not true (object ACLs can make objects public)",
                    "set uniform_bucket_level_access=True",
                )
            )
        return found
    if r.type in GCS_IAM | GCS_ACLS:
        members = [r.props.get("member"), r.props.get("entity"), *items(r.props.get("members"))]
        public = sorted(GCP_PUBLIC_MEMBERS.intersection(m for m in members if isinstance(m, str)))
        if public:
            return [violation(r, f"grants the bucket to {public}", "grant named principals")]
    if r.type == AZURE_STORAGE and r.props.get("allowBlobPublicAccess") is not False:
        return [
            violation(
                r,
                f"allowBlobPublicAccess is {r.props.get('allowBlobPublicAccess', 'unset')}",
                "set allow_blob_public_access=False",
            )
        ]
    if r.type == AZURE_CONTAINER and r.props.get("publicAccess") not in (None, "None"):
        return [
            violation(
                r,
                f"publicAccess is {r.props.get('publicAccess')}",
                "set public_access='None' (or leave it unset)",
            )
        ]
    return []
