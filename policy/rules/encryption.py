"""Database and storage encryption on, at rest and in transit
(`storage-and-database-encryption`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.base import Resource, get, maps, violation
from policy.rules.tokens import (
    AWS_ENCRYPTED_STORAGE,
    AZURE_DB_CONFIGURATION,
    AZURE_STORAGE,
    GCP_SQL,
    S3_SSE,
)

S3_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
WEAK_TLS = frozenset({"TLS1_0", "TLS1_1"})


def encryption(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """Storage and database encryption on, at rest and in transit.

    At rest: RDS/Aurora `storageEncrypted`; an S3 encryption configuration names an
    algorithm (S3 has encrypted every new object with SSE-S3 since 2023 and cannot be
    turned off, so a bucket without one is still encrypted); GCS, Cloud SQL, Azure
    Storage and Azure Database encrypt at rest always. In transit, where the service
    lets it be turned off: Cloud SQL `sslMode`, Azure Storage HTTPS-only and TLS 1.2+,
    Azure Database `require_secure_transport`.
    """
    if r.type in AWS_ENCRYPTED_STORAGE and r.props.get("storageEncrypted") is not True:
        return [violation(r, "storageEncrypted is not true", "set storage_encrypted=True")]
    if r.type in S3_SSE:
        rules = maps(r.props.get("rules"))
        algorithms = [get(x, "applyServerSideEncryptionByDefault", "sseAlgorithm") for x in rules]
        if not algorithms or any(a not in S3_ALGORITHMS for a in algorithms):
            return [
                violation(
                    r,
                    f"default encryption algorithms {algorithms}",
                    "give every rule apply_server_side_encryption_by_default with sse_algorithm "
                    "AES256 or aws:kms",
                )
            ]
    if r.type == GCP_SQL:
        ip = get(r.props, "settings", "ipConfiguration") or {}
        mode = ip.get("sslMode")
        if mode not in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
            return [
                violation(
                    r,
                    f"settings.ipConfiguration.sslMode is {mode or 'unset'}: unencrypted "
                    "connections are accepted",
                    "set settings.ip_configuration.ssl_mode='ENCRYPTED_ONLY'",
                )
            ]
    if r.type == AZURE_STORAGE:
        found = []
        if r.props.get("enableHttpsTrafficOnly") is False:
            found.append(
                violation(
                    r, "enableHttpsTrafficOnly is false", "set enable_https_traffic_only=True"
                )
            )
        if r.props.get("minimumTlsVersion") in WEAK_TLS:
            found.append(
                violation(
                    r,
                    f"minimumTlsVersion is {r.props.get('minimumTlsVersion')}",
                    "set minimum_tls_version='TLS1_2'",
                )
            )
        return found
    if r.type in AZURE_DB_CONFIGURATION and (
        r.props.get("configurationName") == "require_secure_transport"
        and str(r.props.get("value", "")).lower() in ("off", "false", "0")
    ):
        return [
            violation(
                r,
                "require_secure_transport is off: unencrypted connections are accepted",
                "delete this configuration or set its value to 'on'",
            )
        ]
    return []
