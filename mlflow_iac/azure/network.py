"""`Network`: the VNet (or your subnets) the Container Apps environment and the private
Flexible Server live in, and the database's private DNS zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Required, TypedDict

import pulumi
from pulumi_azure_native import network, privatedns

from mlflow_iac.azure.naming import private_dns_zone_name, vnet_id_of_subnet
from mlflow_iac.azure.sizing import DB_PORTS, subnet_prefixes

DB_DELEGATIONS = {
    "postgresql": "Microsoft.DBforPostgreSQL/flexibleServers",
    "mysql": "Microsoft.DBforMySQL/flexibleServers",
}
APPS_DELEGATION = "Microsoft.App/environments"


class NetworkArgs(TypedDict, total=False):
    """Inputs of `Network`."""

    resource_group_name: Required[pulumi.Input[str]]
    """Resource group of every child. Required."""
    location: Required[str]
    """Azure region. Required."""
    name_suffix: Required[pulumi.Input[str]]
    """Random per-stack suffix of the private DNS zone's name. Required."""
    vnet_cidr: str
    """Address space of a new VNet, /16 to /22. Default 10.0.0.0/16."""
    apps_subnet_id: str | None
    """An existing subnet delegated to Microsoft.App/environments instead of a new VNet."""
    db_subnet_id: str | None
    """With apps_subnet_id and a database: an existing subnet delegated to the engine."""
    database_engine: str | None
    """postgresql or mysql: add the database subnet and private DNS zone; None: no database."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Network(pulumi.ComponentResource):
    """Private networking of the MLflow server.

    A new VNet has two subnets: one delegated to the Container Apps environment and, with a
    database, one delegated to the Flexible Server behind a network security group that
    admits the database port from the apps subnet only (and the server's own subnet, which
    zone-redundant HA replicates through). The database's private DNS zone is linked to the
    VNet, so the apps resolve the server's private address. With `apps_subnet_id` the VNet
    and subnets are yours (delegated beforehand); the zone and its link are still created.

    Children: VirtualNetwork, Subnet x1-2, NetworkSecurityGroup (new VNet with a database),
    PrivateZone + VirtualNetworkLink (with a database).
    """

    apps_subnet_id: pulumi.Output[str]
    """Subnet of the Container Apps environment."""
    db_subnet_id: pulumi.Output[str | None]
    """Subnet delegated to the Flexible Server (None without a database)."""
    private_dns_zone_id: pulumi.Output[str | None]
    """Private DNS zone of the Flexible Server (None without a database)."""
    vnet_id: pulumi.Output[str]
    """The VNet's resource id."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        engine, existing = _validate(args)
        super().__init__("mlflow-azure:index:Network", name, None, opts)
        self._name, self._args = name, args
        self._tags = dict(args.get("tags") or {})
        none: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        self.vnet: network.VirtualNetwork | None = None
        if existing:
            self.apps_subnet_id = pulumi.Output.from_input(args.get("apps_subnet_id") or "")
            self.db_subnet_id = pulumi.Output.from_input(args.get("db_subnet_id"))
            self.vnet_id = pulumi.Output.from_input(
                vnet_id_of_subnet(args.get("apps_subnet_id") or "")
            )
        else:
            self.apps_subnet_id, self.db_subnet_id = self._new_vnet(engine)
            assert self.vnet is not None
            self.vnet_id = self.vnet.id
        self.private_dns_zone_id = self._dns_zone(engine) if engine else none
        self.register_outputs(
            {
                "apps_subnet_id": self.apps_subnet_id,
                "db_subnet_id": self.db_subnet_id,
                "private_dns_zone_id": self.private_dns_zone_id,
                "vnet_id": self.vnet_id,
            }
        )

    def _new_vnet(self, engine: str | None) -> tuple[pulumi.Output[str], pulumi.Output[str | None]]:
        """A VNet with the apps subnet and, with a database, the database subnet and its NSG."""
        name, args, child = self._name, self._args, pulumi.ResourceOptions(parent=self)
        cidr = args.get("vnet_cidr", "10.0.0.0/16")
        apps_prefix, db_prefix = subnet_prefixes(cidr)
        self.vnet = network.VirtualNetwork(
            f"{name}-vnet",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            address_space={"address_prefixes": [cidr]},
            tags=self._tags,
            opts=child,
        )
        # Subnets one after the other: Azure refuses concurrent changes to one VNet.
        apps = network.Subnet(
            f"{name}-apps",
            resource_group_name=args["resource_group_name"],
            virtual_network_name=self.vnet.name,
            address_prefix=apps_prefix,
            delegations=[{"name": "containerapps", "service_name": APPS_DELEGATION}],
            opts=child,
        )
        if engine is None:
            return apps.id, pulumi.Output.from_input(None)
        nsg = network.NetworkSecurityGroup(
            f"{name}-db-nsg",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            security_rules=database_rules(apps_prefix, db_prefix, DB_PORTS[engine]),
            tags=self._tags,
            opts=child,
        )
        database = network.Subnet(
            f"{name}-db",
            resource_group_name=args["resource_group_name"],
            virtual_network_name=self.vnet.name,
            address_prefix=db_prefix,
            delegations=[{"name": "flexibleserver", "service_name": DB_DELEGATIONS[engine]}],
            network_security_group={"id": nsg.id},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[apps]),
        )
        return apps.id, database.id.apply(lambda i: i)

    def _dns_zone(self, engine: str) -> pulumi.Output[str | None]:
        """The Flexible Server's private DNS zone, linked to the VNet."""
        name, args, child = self._name, self._args, pulumi.ResourceOptions(parent=self)
        zone = privatedns.PrivateZone(
            f"{name}-db-dns",
            resource_group_name=args["resource_group_name"],
            private_zone_name=pulumi.Output.from_input(args["name_suffix"]).apply(
                lambda suffix: private_dns_zone_name(engine, pulumi.get_stack(), suffix)
            ),
            location="global",
            tags=self._tags,
            opts=child,
        )
        link = privatedns.VirtualNetworkLink(
            f"{name}-db-dns-link",
            resource_group_name=args["resource_group_name"],
            private_zone_name=zone.name,
            location="global",
            virtual_network={"id": self.vnet_id},
            registration_enabled=False,
            tags=self._tags,
            opts=child,
        )
        # The zone's id resolves once the link exists: the server is created into a zone the
        # VNet already resolves.
        return pulumi.Output.all(zone.id, link.id).apply(lambda ids: ids[0])


def database_rules(
    apps_prefix: str, db_prefix: str, port: int
) -> list[network.SecurityRuleArgsDict]:
    """NSG rules of the database subnet: the database port from the apps subnet, everything
    within the database subnet (HA replication), nothing else from the VNet."""

    def rule(
        name: str, priority: int, access: str, source: str, *, ports: str, protocol: str
    ) -> network.SecurityRuleArgsDict:
        return {
            "name": name,
            "priority": priority,
            "direction": "Inbound",
            "access": access,
            "protocol": protocol,
            "source_address_prefix": source,
            "source_port_range": "*",
            "destination_address_prefix": db_prefix if access == "Allow" else "*",
            "destination_port_range": ports,
        }

    return [
        rule("allow-apps-to-database", 100, "Allow", apps_prefix, ports=str(port), protocol="Tcp"),
        rule("allow-within-database-subnet", 110, "Allow", db_prefix, ports="*", protocol="*"),
        rule("deny-other-vnet-traffic", 4000, "Deny", "VirtualNetwork", ports="*", protocol="*"),
    ]


def _validate(args: NetworkArgs) -> tuple[str | None, bool]:
    for required in ("resource_group_name", "location", "name_suffix"):
        if args.get(required) is None:
            raise ValueError(f"{required}: required")
    engine = args.get("database_engine")
    if engine is not None and engine not in DB_DELEGATIONS:
        raise ValueError(f"database_engine: {engine!r} is not one of {', '.join(DB_DELEGATIONS)}")
    apps, db = args.get("apps_subnet_id"), args.get("db_subnet_id")
    if apps is None:
        if db is not None:
            raise ValueError("db_subnet_id: only with apps_subnet_id")
        subnet_prefixes(args.get("vnet_cidr", "10.0.0.0/16"))  # raises on a too small VNet
        return engine, False
    vnet = vnet_id_of_subnet(apps)
    if engine is not None and db is None:
        raise ValueError("db_subnet_id: required with apps_subnet_id and a database")
    if db is not None and (engine is None or vnet_id_of_subnet(db).lower() != vnet.lower()):
        raise ValueError("db_subnet_id: a subnet of the apps subnet's VNet, with a database")
    return engine, True
