"""`Network`: where the MLflow server runs on AWS: a VPC (new, or existing by id) and the three
security groups that chain load balancer -> service -> database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Required, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi_aws import ec2, vpc

from mlflow_iac.aws.networking import subnet_cidrs

CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
"""AWS-managed prefix list of CloudFront's origin-facing servers."""
ZONES = 2
"""Availability zones used: the load balancer and RDS multi-AZ need two; more adds NAT cost."""
INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "secretsmanager", "logs")
"""What a Fargate task in a subnet without a route out needs besides S3 (image layers come
from S3 through the gateway endpoint): the ECR API and registry, its secrets, awslogs."""


class NetworkArgs(TypedDict, total=False):
    """Inputs of `Network`. Every field decides which resources exist, so all are plain values."""

    vpc_cidr: str
    """CIDR of a new VPC (/16 to /24). Ignored with `vpc_id`. Default 10.0.0.0/16."""
    vpc_id: str | None
    """Use this existing VPC instead of creating one (escape hatch); needs the subnet ids.
    Its private subnets must already reach ECR, Secrets Manager, CloudWatch Logs and S3
    (a NAT gateway or VPC endpoints)."""
    public_subnet_ids: Sequence[str]
    """With `vpc_id`: subnets of the load balancer, in two zones or more."""
    private_subnet_ids: Sequence[str]
    """With `vpc_id`: subnets of the service and database, in two zones or more."""
    allowed_cidrs: Required[Sequence[str]]
    """IPv4 CIDRs that may reach the load balancer on ports 80 and 443. Required."""
    cloudfront_only: bool
    """The load balancer admits only CloudFront's origin-facing servers, on port 80 (the
    managed prefix list), instead of `allowed_cidrs` (which must then be 0.0.0.0/0: the
    viewers' addresses are CloudFront's business). Default False."""
    container_port: int
    """Port the server container listens on. Default 5000."""
    database_port: int | None
    """Port of the database, or None when the scenario has no database (no database group)."""
    private_endpoints: bool
    """New VPC only: interface endpoints (private DNS) for `INTERFACE_ENDPOINTS` in the
    private subnets, their own security group admitting 443 from the service only, **no**
    NAT gateway, and the service's egress narrowed to S3 (the gateway endpoint's prefix
    list), the endpoints' group and the database. Each endpoint costs about $7.30/month per
    zone (4 x 2 zones, about $58/month, against the NAT's $33). Default False."""
    tags: Mapping[str, str]
    """Tags on every taggable resource."""


class Network(pulumi.ComponentResource):
    """A VPC for the MLflow server and the security groups that isolate its tiers.

    New VPC: two public subnets (load balancer, NAT gateway) and two private subnets
    (service tasks, database) in two availability zones, an internet gateway, **one** NAT
    gateway and an S3 gateway endpoint. One NAT gateway (about $33/month plus data) is a
    cost choice: if its zone fails, tasks in the other zone lose outbound access (image pulls,
    Secrets Manager) until the zone recovers; running tasks keep serving and S3 traffic stays
    up through the free gateway endpoint. For zone-independent egress, create one NAT gateway
    per zone in your own VPC and pass it with `vpc_id`.

    With `private_endpoints`, the tasks reach every AWS API they use through VPC endpoints
    and have no route to the internet at all: no NAT gateway (see `NetworkArgs`).

    Security groups: the load balancer's accepts 80/443 from `allowed_cidrs` (or, with
    `cloudfront_only`, 80 from CloudFront's origin-facing prefix list only); the service's
    accepts only the load balancer on the container port and sends HTTPS anywhere (AWS
    APIs through the NAT), or with `private_endpoints` only to S3 and the endpoints; the
    database's accepts only the service on the database port.

    Children: Vpc, Subnet x4, InternetGateway, Eip + NatGateway + Route (without private
    endpoints), RouteTable x2, Route, RouteTableAssociation x4, VpcEndpoint (S3; + 4
    interface endpoints and their SecurityGroup with private endpoints) (new VPC only);
    SecurityGroup x2-3 with their rules.
    """

    vpc_id: pulumi.Output[str]
    """Id of the VPC (new or given)."""
    public_subnet_ids: pulumi.Output[list[str]]
    """Subnets of the load balancer."""
    private_subnet_ids: pulumi.Output[list[str]]
    """Subnets of the service tasks and the database."""
    load_balancer_security_group_id: pulumi.Output[str]
    """Security group of the load balancer."""
    service_security_group_id: pulumi.Output[str]
    """Security group of the service tasks."""
    database_security_group_id: pulumi.Output[str | None]
    """Security group of the database (None without a database)."""

    def __init__(
        self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        v = _validate(args)
        super().__init__("mlflow-aws:index:Network", name, None, opts)
        self._tags = dict(args.get("tags") or {})
        self._child = pulumi.ResourceOptions(parent=self)

        self.vpc: ec2.Vpc | None = None
        self.nat_gateway: ec2.NatGateway | None = None
        self.s3_endpoint: ec2.VpcEndpoint | None = None
        self.endpoint_security_group: ec2.SecurityGroup | None = None
        if v["vpc_id"]:
            vpc_id: pulumi.Input[str] = v["vpc_id"]
            public_subnets: pulumi.Input[list[str]] = v["public_ids"]
            private_subnets: pulumi.Input[list[str]] = v["private_ids"]
        else:
            vpc_id, public_subnets, private_subnets = self._new_vpc(name, v)
        lb_sg, service_sg = self._security_groups(name, vpc_id, v)
        self._service_egress(name, service_sg)
        database_sg = self._database_security_group(name, vpc_id, service_sg, v)

        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.public_subnet_ids = pulumi.Output.from_input(public_subnets)
        self.private_subnet_ids = pulumi.Output.from_input(private_subnets)
        self.load_balancer_security_group_id = lb_sg
        self.service_security_group_id = service_sg
        self.database_security_group_id = database_sg
        self.register_outputs({key: getattr(self, key) for key in type(self).__annotations__})

    # ------------------------------------------------------------------ a new VPC

    def _new_vpc(
        self, name: str, v: dict[str, Any]
    ) -> tuple[pulumi.Output[str], pulumi.Output[list[str]], pulumi.Output[list[str]]]:
        """VPC, subnets, routes out (`_public_routes`, `_private_routes`) and the S3 endpoint.

        Returns the VPC id and the public and private subnet ids."""
        self.vpc = ec2.Vpc(
            f"{name}-vpc",
            cidr_block=v["vpc_cidr"],
            enable_dns_support=True,
            enable_dns_hostnames=True,  # RDS endpoints and the S3 endpoint resolve privately
            tags=self._named(name, "vpc"),
            opts=self._child,
        )
        public, private = self._subnets(name, self.vpc, v["public_cidrs"], v["private_cidrs"])
        self._public_routes(name, self.vpc, public)
        private_routes, routed = self._private_routes(
            name, self.vpc, public[0], private, nat=not v["private_endpoints"]
        )
        self.s3_endpoint = self._s3_endpoint(name, self.vpc, private_routes)
        routed.append(self.s3_endpoint)
        if v["private_endpoints"]:
            routed.extend(self._interface_endpoints(name, self.vpc, private))
        # The private subnet ids carry the routes out as dependencies: what runs there (the
        # ECS service's tasks) starts only once it can reach ECR, Secrets Manager and S3.
        private_ids = pulumi.Output.all(*[s.id for s in private], *[r.id for r in routed]).apply(
            lambda ids: [str(i) for i in ids[: len(private)]]
        )
        return self.vpc.id, pulumi.Output.all(*[s.id for s in public]), private_ids

    def _subnets(
        self, name: str, network: ec2.Vpc, public_cidrs: list[str], private_cidrs: list[str]
    ) -> tuple[list[ec2.Subnet], list[ec2.Subnet]]:
        """One public and one private subnet in each of the first `ZONES` zones."""
        # Regular zones only: where Local Zones are enabled they are "available" too, and
        # their names sort first (no NAT gateway, no RDS multi-AZ there).
        zones = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOptions(parent=self),
        ).names
        public: list[ec2.Subnet] = []
        private: list[ec2.Subnet] = []
        for index in range(ZONES):
            zone = zones.apply(lambda names, i=index: names[i])
            public.append(
                ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=network.id,
                    cidr_block=public_cidrs[index],
                    availability_zone=zone,
                    map_public_ip_on_launch=False,  # only the load balancer and NAT live here
                    tags=self._named(name, f"public-{index}"),
                    opts=self._child,
                )
            )
            private.append(
                ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=network.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    tags=self._named(name, f"private-{index}"),
                    opts=self._child,
                )
            )
        return public, private

    def _public_routes(self, name: str, network: ec2.Vpc, public: list[ec2.Subnet]) -> None:
        """The internet gateway, and the public subnets' default route through it."""
        self.internet_gateway = ec2.InternetGateway(
            f"{name}-igw", vpc_id=network.id, tags=self._named(name, "igw"), opts=self._child
        )
        routes = ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=network.id,
            tags=self._named(name, "public"),
            opts=self._child,
        )
        ec2.Route(
            f"{name}-public-default",
            route_table_id=routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
            opts=self._child,
        )
        for index, subnet in enumerate(public):
            ec2.RouteTableAssociation(
                f"{name}-public-assoc-{index}",
                subnet_id=subnet.id,
                route_table_id=routes.id,
                opts=self._child,
            )

    def _private_routes(
        self,
        name: str,
        network: ec2.Vpc,
        nat_subnet: ec2.Subnet,
        private: list[ec2.Subnet],
        nat: bool,
    ) -> tuple[ec2.RouteTable, list[pulumi.CustomResource]]:
        """The private subnets' route table; with `nat`, one NAT gateway (see the class
        docstring for the trade-off) and their default route through it. Returns the route
        table, and the route and associations that make the private subnets reach out."""
        routes = ec2.RouteTable(
            f"{name}-private-rt",
            vpc_id=network.id,
            tags=self._named(name, "private"),
            opts=self._child,
        )
        routed: list[pulumi.CustomResource] = []
        if nat:
            nat_ip = ec2.Eip(
                f"{name}-nat-ip", domain="vpc", tags=self._named(name, "nat"), opts=self._child
            )
            self.nat_gateway = ec2.NatGateway(
                f"{name}-nat",
                allocation_id=nat_ip.id,
                subnet_id=nat_subnet.id,
                tags=self._named(name, "nat"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.internet_gateway]),
            )
            routed.append(
                ec2.Route(
                    f"{name}-private-default",
                    route_table_id=routes.id,
                    destination_cidr_block="0.0.0.0/0",
                    nat_gateway_id=self.nat_gateway.id,
                    opts=self._child,
                )
            )
        for index, subnet in enumerate(private):
            routed.append(
                ec2.RouteTableAssociation(
                    f"{name}-private-assoc-{index}",
                    subnet_id=subnet.id,
                    route_table_id=routes.id,
                    opts=self._child,
                )
            )
        return routes, routed

    def _s3_endpoint(self, name: str, network: ec2.Vpc, routes: ec2.RouteTable) -> ec2.VpcEndpoint:
        """Artifact traffic to S3 skips the NAT gateway (no per-GB NAT charge; survives a NAT
        zone outage). Gateway endpoints are free."""
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        return ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=network.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[routes.id],
            tags=self._named(name, "s3"),
            opts=self._child,
        )

    def _interface_endpoints(
        self, name: str, network: ec2.Vpc, private: list[ec2.Subnet]
    ) -> list[ec2.VpcEndpoint]:
        """The interface endpoints of `INTERFACE_ENDPOINTS` in every private subnet, with
        private DNS (the SDKs' usual host names resolve to them), and their security group:
        443 from the service's group only."""
        self.endpoint_security_group = ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            vpc_id=network.id,
            description="MLflow VPC endpoints: HTTPS from the server tasks only",
            tags=self._tags,
            opts=self._child,
        )
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        return [
            ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=network.id,
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[subnet.id for subnet in private],
                security_group_ids=[self.endpoint_security_group.id],
                tags=self._named(name, service.replace(".", "-")),
                opts=self._child,
            )
            for service in INTERFACE_ENDPOINTS
        ]

    def _named(self, name: str, suffix: str) -> dict[str, str]:
        return {**self._tags, "Name": f"{name}-{suffix}"}

    # ------------------------------------------------------------------ security groups

    def _security_groups(
        self, name: str, vpc_id: pulumi.Input[str], v: dict[str, Any]
    ) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The load balancer's group (80/443 from the allowed CIDRs, out only to the service)
        and the service's (in only from the load balancer, out on HTTPS). Returns their ids."""
        self.load_balancer_security_group = ec2.SecurityGroup(
            f"{name}-lb-sg",
            vpc_id=vpc_id,
            description="MLflow load balancer: HTTP/HTTPS from allowed CIDRs",
            tags=self._tags,
            opts=self._child,
        )
        self.service_security_group = ec2.SecurityGroup(
            f"{name}-service-sg",
            vpc_id=vpc_id,
            description="MLflow server tasks: only from the load balancer",
            tags=self._tags,
            opts=self._child,
        )
        lb_sg = self.load_balancer_security_group.id
        service_sg = self.service_security_group.id
        port = v["container_port"]
        if v["cloudfront_only"]:
            # One rule; the prefix list's ~55 entries count against the group's rule quota (60).
            prefix_list = ec2.get_managed_prefix_list_output(
                name=CLOUDFRONT_PREFIX_LIST, opts=pulumi.InvokeOptions(parent=self)
            )
            self._rule(
                "in",
                f"{name}-lb-in-cloudfront",
                lb_sg,
                80,
                prefix_list_id=prefix_list.id,
                description="HTTP 80 from CloudFront's origin-facing servers",
            )
        for index, cidr in enumerate([] if v["cloudfront_only"] else v["allowed_cidrs"]):
            for web in (80, 443):
                self._rule(
                    "in",
                    f"{name}-lb-in-{web}-{index}",
                    lb_sg,
                    web,
                    cidr_ipv4=cidr,
                    description=f"HTTP(S) {web} from an allowed range",
                )
        self._rule(
            "out",
            f"{name}-lb-out-service",
            lb_sg,
            port,
            referenced_security_group_id=service_sg,
            description="To the server tasks",
        )
        self._rule(
            "in",
            f"{name}-service-in-lb",
            service_sg,
            port,
            referenced_security_group_id=lb_sg,
            description="From the load balancer on the container port",
        )
        return lb_sg, service_sg

    def _service_egress(self, name: str, service_sg: pulumi.Output[str]) -> None:
        """Tasks call AWS APIs (ECR, Secrets Manager, CloudWatch Logs, S3) over HTTPS only:
        anywhere (through the NAT or the caller's VPC), or with the private endpoints only
        to S3's prefix list and to the endpoints' group (no other way out exists then)."""
        endpoints = self.endpoint_security_group
        if endpoints is None or self.s3_endpoint is None:
            self._rule(
                "out",
                f"{name}-service-out-https",
                service_sg,
                443,
                cidr_ipv4="0.0.0.0/0",
                description="HTTPS to AWS APIs (ECR, Secrets Manager, Logs, S3)",
            )
            return
        self._rule(
            "out",
            f"{name}-service-out-s3",
            service_sg,
            443,
            prefix_list_id=self.s3_endpoint.prefix_list_id,
            description="HTTPS to S3 (artifacts, image layers) through the gateway endpoint",
        )
        self._rule(
            "out",
            f"{name}-service-out-endpoints",
            service_sg,
            443,
            referenced_security_group_id=endpoints.id,
            description="HTTPS to the ECR, Secrets Manager and Logs endpoints",
        )
        self._rule(
            "in",
            f"{name}-endpoints-in-service",
            endpoints.id,
            443,
            referenced_security_group_id=service_sg,
            description="HTTPS from the server tasks",
        )

    def _database_security_group(
        self,
        name: str,
        vpc_id: pulumi.Input[str],
        service_sg: pulumi.Output[str],
        v: dict[str, Any],
    ) -> pulumi.Output[str | None]:
        """With a database: its group, in only from the service (and the service's way out
        to it). No egress rules: a database never opens connections. Returns its id."""
        self.database_security_group: ec2.SecurityGroup | None = None
        port = v["database_port"]
        if port is None:
            return pulumi.Output.from_input(None)
        self.database_security_group = ec2.SecurityGroup(
            f"{name}-db-sg",
            vpc_id=vpc_id,
            description="MLflow database: only from the server tasks",
            tags=self._tags,
            opts=self._child,
        )
        db_sg = self.database_security_group.id
        self._rule(
            "in",
            f"{name}-db-in-service",
            db_sg,
            port,
            referenced_security_group_id=service_sg,
            description="From the server tasks on the database port",
        )
        self._rule(
            "out",
            f"{name}-service-out-db",
            service_sg,
            port,
            referenced_security_group_id=db_sg,
            description="To the database",
        )
        return db_sg

    def _rule(
        self,
        direction: str,
        rule_name: str,
        group_id: pulumi.Input[str],
        port: int,
        **target: pulumi.Input[str],
    ) -> None:
        """One TCP rule on one port; `target` is the description and the CIDR or group."""
        rule = vpc.SecurityGroupIngressRule if direction == "in" else vpc.SecurityGroupEgressRule
        rule(
            rule_name,
            security_group_id=group_id,
            ip_protocol="tcp",
            from_port=port,
            to_port=port,
            tags=self._tags,
            opts=self._child,
            **target,
        )


def _validate(args: NetworkArgs) -> dict[str, Any]:
    """Check the plain inputs before any resource exists; return them with defaults (and the
    new VPC's subnet CIDRs)."""
    vpc_cidr = args.get("vpc_cidr") or "10.0.0.0/16"
    existing_vpc = args.get("vpc_id")
    public_ids = list(args.get("public_subnet_ids") or [])
    private_ids = list(args.get("private_subnet_ids") or [])
    allowed_cidrs = list(args.get("allowed_cidrs") or [])
    container_port = args.get("container_port", 5000)
    database_port = args.get("database_port")
    public_cidrs: list[str] = []
    private_cidrs: list[str] = []
    if existing_vpc:
        for field, ids in (("public_subnet_ids", public_ids), ("private_subnet_ids", private_ids)):
            if len(ids) < ZONES:
                raise ValueError(f"{field}: at least {ZONES} subnet ids with vpc_id, got {ids}")
        if args.get("private_endpoints"):
            raise ValueError(
                "private_endpoints: only in a new VPC (with vpc_id, your VPC's subnets must "
                "already reach ECR, Secrets Manager, CloudWatch Logs and S3)"
            )
    elif public_ids or private_ids:
        raise ValueError("public_subnet_ids/private_subnet_ids: only with vpc_id")
    else:
        try:
            public_cidrs, private_cidrs = subnet_cidrs(vpc_cidr, ZONES)
        except ValueError as error:
            raise ValueError(f"vpc_cidr: {vpc_cidr!r}: {error}") from None
    if not allowed_cidrs:
        raise ValueError("allowed_cidrs: at least one CIDR (use 0.0.0.0/0 for everyone)")
    cloudfront_only = args.get("cloudfront_only", False)
    if cloudfront_only and allowed_cidrs != ["0.0.0.0/0"]:
        raise ValueError(
            f"allowed_cidrs: {allowed_cidrs} not with cloudfront_only (the load balancer then "
            "admits CloudFront only); allowed: ['0.0.0.0/0']"
        )
    for port_field, port in (("container_port", container_port), ("database_port", database_port)):
        if port is not None and not 1 <= port <= 65535:
            raise ValueError(f"{port_field}: {port} is not from 1 to 65535")
    return {
        "vpc_cidr": vpc_cidr,
        "vpc_id": existing_vpc,
        "public_ids": public_ids,
        "private_ids": private_ids,
        "public_cidrs": public_cidrs,
        "private_cidrs": private_cidrs,
        "allowed_cidrs": allowed_cidrs,
        "cloudfront_only": cloudfront_only,
        "container_port": container_port,
        "database_port": database_port,
        "private_endpoints": args.get("private_endpoints", False),
    }
