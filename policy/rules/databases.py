"""No database endpoint reachable from the internet (`no-public-database`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policy.rules.base import Resource, get, maps, violation
from policy.rules.tokens import AWS_DB_INSTANCES, AZURE_DB_FIREWALL, AZURE_DB_SERVERS, GCP_SQL


def no_public_database(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """No database endpoint reachable from the internet.

    Cloud SQL with a public IP and *no* authorized networks accepts only the Cloud SQL
    connector (IAM-authenticated, TLS), which is how Cloud Run reaches it without a VPC:
    allowed. Any authorized network on a public IP is a public endpoint. An Azure firewall
    rule starting at 0.0.0.0 is refused too: 0.0.0.0-0.0.0.0 is "every Azure service of
    every tenant", a wider range is the internet.
    """
    if r.type in AWS_DB_INSTANCES and r.props.get("publiclyAccessible") is True:
        return [
            violation(
                r,
                "publiclyAccessible is true",
                "set publicly_accessible=False and reach the database from inside its VPC",
            )
        ]
    if r.type == GCP_SQL:
        ip = get(r.props, "settings", "ipConfiguration") or {}
        networks = [n.get("value") for n in maps(ip.get("authorizedNetworks"))]
        if ip.get("ipv4Enabled", True) is not False and networks:
            return [
                violation(
                    r,
                    f"a public IP with authorized networks {networks}",
                    "remove settings.ip_configuration.authorized_networks (connect through the "
                    "Cloud SQL connector) or set ipv4_enabled=False with a private_network",
                )
            ]
    if r.type in AZURE_DB_SERVERS:
        # A server in a delegated subnet (VNet integration) has no public endpoint at all,
        # and Azure refuses publicNetworkAccess on it; otherwise it must be Disabled.
        access = get(r.props, "network", "publicNetworkAccess")
        in_vnet = bool(get(r.props, "network", "delegatedSubnetResourceId"))
        if access != "Disabled" and not in_vnet:
            return [
                violation(
                    r,
                    f"network.publicNetworkAccess is {access or 'unset (Enabled)'}",
                    "set network.public_network_access='Disabled' and reach the server through "
                    "a delegated subnet or a private endpoint",
                )
            ]
    if r.type in AZURE_DB_FIREWALL and r.props.get("startIpAddress") == "0.0.0.0":
        end = r.props.get("endIpAddress")
        return [
            violation(
                r,
                f"the firewall opens 0.0.0.0-{end} (every Azure tenant or the internet)",
                "delete the rule and disable public network access on the server",
            )
        ]
    return []
