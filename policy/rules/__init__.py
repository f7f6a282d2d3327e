"""The security invariants as pure functions over one resource's type and inputs.

Each rule takes a `Resource` (type token, name, camelCase inputs as the engine holds
them, the Pulumi `protect` option and the stack name) plus its settings, and returns
the violation messages: each names the resource and says how to fix it. Nothing here
imports `pulumi_policy` or the Pulumi engine, so the rules are tested on plain dicts,
on resources recorded under Pulumi's mocks, and by any team on its own stacks; the pack
(`policy/pack.py`) only wires them into `pulumi_policy` callbacks. One module per
concern; the type tokens they look at live in `tokens.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from policy.rules import tokens as t
from policy.rules.base import Resource, Rule, stack_of
from policy.rules.buckets import bucket_public_access
from policy.rules.credentials import credential_arguments, credential_variable, no_plain_credentials
from policy.rules.databases import no_public_database
from policy.rules.deletion import (
    NATIVE_DELETION_PROTECTION,
    PROTECTED_BY_OPTION,
    PULUMI_DEFAULT_ON,
    THROWAWAY_STACKS,
    deletion_protection,
)
from policy.rules.encryption import encryption
from policy.rules.iam import scoped_storage_iam, wide_storage_statements
from policy.rules.tls import https_redirects, https_where_domain

__all__ = [
    "RULES",
    "STACK_RULE_NAME",
    "Resource",
    "Rule",
    "credential_arguments",
    "credential_variable",
    "https_redirects",
    "stack_of",
    "violations",
    "wide_storage_statements",
]

RULES: tuple[Rule, ...] = (
    Rule(
        "no-public-database",
        "No database endpoint reachable from the internet.",
        no_public_database,
        t.AWS_DB_INSTANCES | {t.GCP_SQL} | t.AZURE_DB_SERVERS | t.AZURE_DB_FIREWALL,
    ),
    Rule(
        "storage-and-database-encryption",
        "Database and storage encryption on, at rest and in transit.",
        encryption,
        t.AWS_ENCRYPTED_STORAGE
        | {t.GCP_SQL, t.AZURE_STORAGE}
        | t.S3_SSE
        | t.AZURE_DB_CONFIGURATION,
    ),
    Rule(
        "bucket-public-access-blocked",
        "Artifact buckets are private: public access blocked, no public grant.",
        bucket_public_access,
        t.S3_BUCKETS
        | t.S3_ACLS
        | t.GCS_IAM
        | t.GCS_ACLS
        | {
            t.S3_PUBLIC_ACCESS_BLOCK,
            t.S3_BUCKET_POLICY,
            t.GCS_BUCKET,
            t.AZURE_STORAGE,
            t.AZURE_CONTAINER,
        },
    ),
    Rule(
        "storage-iam-scoped",
        "Storage permissions are scoped to named buckets, never every bucket.",
        scoped_storage_iam,
        t.AWS_IAM_DOCUMENTS | t.AWS_ATTACHMENTS | t.GCP_PROJECT_IAM | {t.AZURE_ROLE_ASSIGNMENT},
    ),
    Rule(
        "no-plain-credentials",
        "No credential in a container's plain environment, command or arguments.",
        no_plain_credentials,
        frozenset({t.ECS_TASK, t.DOCKER_CONTAINER, t.CLOUD_RUN_V1}) | t.CLOUD_RUN_V2 | t.AZURE_APPS,
    ),
    Rule(
        "https-where-domain-set",
        "A served domain gets HTTPS with TLS 1.2 or newer.",
        https_where_domain,
        frozenset({t.AWS_LISTENER, t.GCP_DOMAIN_MAPPING, t.GCP_SSL_POLICY, t.AZURE_CONTAINER_APP}),
    ),
    Rule(
        "deletion-protection",
        "Databases, buckets and storage accounts are protected from deletion outside "
        "throw-away stacks.",
        deletion_protection,
        frozenset(NATIVE_DELETION_PROTECTION) | frozenset(PULUMI_DEFAULT_ON) | PROTECTED_BY_OPTION,
        config_schema={
            "throwawayStacks": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Stack names (shell patterns) where deletion protection is "
                "not required.",
                "default": list(THROWAWAY_STACKS),
            }
        },
        defaults={"throwawayStacks": list(THROWAWAY_STACKS)},
    ),
)
"""Every resource rule of the pack, by policy name."""

STACK_RULE_NAME = "https-redirect-beside-https"
"""The stack-wide TLS policy (`https_redirects`)."""


def violations(
    resources: Iterable[Resource], config: Mapping[str, Mapping[str, Any]] | None = None
) -> list[tuple[str, str]]:
    """(policy name, message) for every violation in `resources`, the stack rule included;
    `config` is the policy config file's content (policy name -> settings)."""
    resources = list(resources)
    found = [
        (rule.name, message)
        for resource in resources
        for rule in RULES
        for message in rule(resource, (config or {}).get(rule.name))
    ]
    found += [(STACK_RULE_NAME, message) for _, message in https_redirects(resources)]
    return found
