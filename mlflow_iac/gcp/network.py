"""`Network`: a VPC for a private Cloud SQL instance and Cloud Run's Direct VPC egress."""

from __future__ import annotations

import ipaddress
from typing import TypedDict

import pulumi
from pulumi_gcp import compute, servicenetworking

PEERING_PREFIX_LENGTH = 20
"""Size of the range reserved for Google's service producers (Cloud SQL): /20, as advised."""


class NetworkArgs(TypedDict, total=False):
    """Inputs of `Network`."""

    subnet_cidr: str
    """IPv4 range of the Cloud Run subnet (Direct VPC egress takes its addresses from it).
    Default 10.8.0.0/24."""


class Network(pulumi.ComponentResource):
    """A custom-mode VPC with one subnet for Cloud Run's Direct VPC egress (private Google
    access on) and a private services connection, through which the Cloud SQL instance
    gets a private IP and nothing else reaches it.

    Only built when the database is private; the default path (Cloud SQL connector over the
    instance's connector-only public IP) needs no network.

    Children: Network, Subnetwork, GlobalAddress (peering range), servicenetworking
    Connection.
    """

    network_id: pulumi.Output[str]
    """The VPC's id (projects/P/global/networks/N)."""
    subnet_id: pulumi.Output[str]
    """The Cloud Run subnet's id."""
    connection_id: pulumi.Output[str]
    """The private services connection (the database depends on it)."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        cidr = args.get("subnet_cidr", "10.8.0.0/24")
        try:
            subnet = ipaddress.IPv4Network(cidr)
        except ValueError:
            raise ValueError(f"subnet_cidr: {cidr!r} is not an IPv4 CIDR") from None
        if not 16 <= subnet.prefixlen <= 26:
            raise ValueError(f"subnet_cidr: {cidr!r} must be from /16 to /26")
        super().__init__("mlflow-gcp:index:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.network = compute.Network(f"{name}-vpc", auto_create_subnetworks=False, opts=child)
        self.subnet = compute.Subnetwork(
            f"{name}-run",
            network=self.network.id,
            ip_cidr_range=cidr,
            private_ip_google_access=True,  # GCS and Secret Manager without public egress
            opts=child,
        )
        self.peering_range = compute.GlobalAddress(
            f"{name}-services",
            network=self.network.id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            prefix_length=PEERING_PREFIX_LENGTH,
            opts=child,
        )
        self.connection = servicenetworking.Connection(
            f"{name}-services",
            network=self.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.peering_range.name],
            opts=child,
        )
        self.network_id = self.network.id
        self.subnet_id = self.subnet.id
        self.connection_id = self.connection.id
        self.register_outputs(
            {
                "network_id": self.network_id,
                "subnet_id": self.subnet_id,
                "connection_id": self.connection_id,
            }
        )
