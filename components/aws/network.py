"""`Network`: where the MLflow server runs on AWS: a VPC (new, or existing by id) and the three
security groups that chain load balancer -> service -> database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Required, TypedDict

import pulumi
import pulumi_aws as aws
from pulumi_aws import ec2, vpc

from components.aws.policies import subnet_cidrs

ZONES = 2
"""Availability zones used: the load balancer and RDS multi-AZ need two; more adds NAT cost."""


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
    container_port: int
    """Port the server container listens on. Default 5000."""
    database_port: int | None
    """Port of the database, or None when the scenario has no database (no database group)."""
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

    Security groups: the load balancer's accepts 80/443 from `allowed_cidrs`; the service's
    accepts only the load balancer on the container port; the database's accepts only the
    service on the database port.

    Children: Vpc, Subnet x4, InternetGateway, Eip, NatGateway, RouteTable x2, Route x2,
    RouteTableAssociation x4, VpcEndpoint (new VPC only); SecurityGroup x2-3 with their rules.
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
        vpc_cidr = args.get("vpc_cidr") or "10.0.0.0/16"
        existing_vpc = args.get("vpc_id")
        public_ids = list(args.get("public_subnet_ids") or [])
        private_ids = list(args.get("private_subnet_ids") or [])
        allowed_cidrs = list(args.get("allowed_cidrs") or [])
        container_port = args.get("container_port", 5000)
        database_port = args.get("database_port")
        tags = dict(args.get("tags") or {})
        public_cidrs: list[str] = []
        private_cidrs: list[str] = []
        if existing_vpc:
            for field, ids in (
                ("public_subnet_ids", public_ids),
                ("private_subnet_ids", private_ids),
            ):
                if len(ids) < ZONES:
                    raise ValueError(f"{field}: at least {ZONES} subnet ids with vpc_id, got {ids}")
        elif public_ids or private_ids:
            raise ValueError("public_subnet_ids/private_subnet_ids: only with vpc_id")
        else:
            try:
                public_cidrs, private_cidrs = subnet_cidrs(vpc_cidr, ZONES)
            except ValueError as error:
                raise ValueError(f"vpc_cidr: {vpc_cidr!r}: {error}") from None
        if not allowed_cidrs:
            raise ValueError("allowed_cidrs: at least one CIDR (use 0.0.0.0/0 for everyone)")
        for port_field, port in (
            ("container_port", container_port),
            ("database_port", database_port),
        ):
            if port is not None and not 1 <= port <= 65535:
                raise ValueError(f"{port_field}: {port} is not from 1 to 65535")

        super().__init__("mlflow-aws:index:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.vpc: ec2.Vpc | None = None
        self.nat_gateway: ec2.NatGateway | None = None
        if existing_vpc:
            vpc_id: pulumi.Input[str] = existing_vpc
            public_subnets: pulumi.Input[list[str]] = public_ids
            private_subnets: pulumi.Input[list[str]] = private_ids
        else:
            vpc_id, public_subnets, private_subnets = self._new_vpc(
                name, vpc_cidr, public_cidrs, private_cidrs, tags, child
            )

        # Load balancer: HTTP and HTTPS from the allowed ranges; out only to the service.
        self.load_balancer_security_group = ec2.SecurityGroup(
            f"{name}-lb-sg",
            vpc_id=vpc_id,
            description="MLflow load balancer: HTTP/HTTPS from allowed CIDRs",
            tags=tags,
            opts=child,
        )
        self.service_security_group = ec2.SecurityGroup(
            f"{name}-service-sg",
            vpc_id=vpc_id,
            description="MLflow server tasks: only from the load balancer",
            tags=tags,
            opts=child,
        )
        lb_sg = self.load_balancer_security_group.id
        service_sg = self.service_security_group.id
        for index, cidr in enumerate(allowed_cidrs):
            for port in (80, 443):
                vpc.SecurityGroupIngressRule(
                    f"{name}-lb-in-{port}-{index}",
                    security_group_id=lb_sg,
                    description=f"HTTP(S) {port} from an allowed range",
                    ip_protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_ipv4=cidr,
                    tags=tags,
                    opts=child,
                )
        vpc.SecurityGroupEgressRule(
            f"{name}-lb-out-service",
            security_group_id=lb_sg,
            description="To the server tasks",
            ip_protocol="tcp",
            from_port=container_port,
            to_port=container_port,
            referenced_security_group_id=service_sg,
            tags=tags,
            opts=child,
        )
        vpc.SecurityGroupIngressRule(
            f"{name}-service-in-lb",
            security_group_id=service_sg,
            description="From the load balancer on the container port",
            ip_protocol="tcp",
            from_port=container_port,
            to_port=container_port,
            referenced_security_group_id=lb_sg,
            tags=tags,
            opts=child,
        )
        # Tasks call AWS APIs (ECR, Secrets Manager, CloudWatch Logs, S3) over HTTPS only.
        vpc.SecurityGroupEgressRule(
            f"{name}-service-out-https",
            security_group_id=service_sg,
            description="HTTPS to AWS APIs (ECR, Secrets Manager, Logs, S3)",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            tags=tags,
            opts=child,
        )

        self.database_security_group: ec2.SecurityGroup | None = None
        database_sg: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if database_port is not None:
            # No egress rules: a database never opens connections.
            self.database_security_group = ec2.SecurityGroup(
                f"{name}-db-sg",
                vpc_id=vpc_id,
                description="MLflow database: only from the server tasks",
                tags=tags,
                opts=child,
            )
            database_sg = self.database_security_group.id
            vpc.SecurityGroupIngressRule(
                f"{name}-db-in-service",
                security_group_id=self.database_security_group.id,
                description="From the server tasks on the database port",
                ip_protocol="tcp",
                from_port=database_port,
                to_port=database_port,
                referenced_security_group_id=service_sg,
                tags=tags,
                opts=child,
            )
            vpc.SecurityGroupEgressRule(
                f"{name}-service-out-db",
                security_group_id=service_sg,
                description="To the database",
                ip_protocol="tcp",
                from_port=database_port,
                to_port=database_port,
                referenced_security_group_id=self.database_security_group.id,
                tags=tags,
                opts=child,
            )

        self.vpc_id = pulumi.Output.from_input(vpc_id)
        self.public_subnet_ids = pulumi.Output.from_input(public_subnets)
        self.private_subnet_ids = pulumi.Output.from_input(private_subnets)
        self.load_balancer_security_group_id = lb_sg
        self.service_security_group_id = service_sg
        self.database_security_group_id = database_sg
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "load_balancer_security_group_id": lb_sg,
                "service_security_group_id": service_sg,
                "database_security_group_id": database_sg,
            }
        )

    def _new_vpc(  # noqa: PLR0917  # private helper; the arguments are the constructor's locals
        self,
        name: str,
        cidr: str,
        public_cidrs: list[str],
        private_cidrs: list[str],
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> tuple[pulumi.Output[str], pulumi.Output[list[str]], pulumi.Output[list[str]]]:
        def named(suffix: str) -> dict[str, str]:
            return {**tags, "Name": f"{name}-{suffix}"}

        self.vpc = ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,  # RDS endpoints and the S3 endpoint resolve privately
            tags=named("vpc"),
            opts=child,
        )
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOptions(parent=self)
        ).names
        public: list[ec2.Subnet] = []
        private: list[ec2.Subnet] = []
        for index in range(ZONES):
            zone = zones.apply(lambda names, i=index: names[i])
            public.append(
                ec2.Subnet(
                    f"{name}-public-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=public_cidrs[index],
                    availability_zone=zone,
                    map_public_ip_on_launch=False,  # only the load balancer and NAT live here
                    tags=named(f"public-{index}"),
                    opts=child,
                )
            )
            private.append(
                ec2.Subnet(
                    f"{name}-private-{index}",
                    vpc_id=self.vpc.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    tags=named(f"private-{index}"),
                    opts=child,
                )
            )
        self.internet_gateway = ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags=named("igw"), opts=child
        )
        public_routes = ec2.RouteTable(
            f"{name}-public-rt", vpc_id=self.vpc.id, tags=named("public"), opts=child
        )
        ec2.Route(
            f"{name}-public-default",
            route_table_id=public_routes.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=self.internet_gateway.id,
            opts=child,
        )
        # One NAT gateway for both private subnets: see the class docstring for the trade-off.
        nat_ip = ec2.Eip(f"{name}-nat-ip", domain="vpc", tags=named("nat"), opts=child)
        self.nat_gateway = ec2.NatGateway(
            f"{name}-nat",
            allocation_id=nat_ip.id,
            subnet_id=public[0].id,
            tags=named("nat"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.internet_gateway]),
        )
        private_routes = ec2.RouteTable(
            f"{name}-private-rt", vpc_id=self.vpc.id, tags=named("private"), opts=child
        )
        ec2.Route(
            f"{name}-private-default",
            route_table_id=private_routes.id,
            destination_cidr_block="0.0.0.0/0",
            nat_gateway_id=self.nat_gateway.id,
            opts=child,
        )
        for index in range(ZONES):
            ec2.RouteTableAssociation(
                f"{name}-public-assoc-{index}",
                subnet_id=public[index].id,
                route_table_id=public_routes.id,
                opts=child,
            )
            ec2.RouteTableAssociation(
                f"{name}-private-assoc-{index}",
                subnet_id=private[index].id,
                route_table_id=private_routes.id,
                opts=child,
            )
        # Artifact traffic to S3 skips the NAT gateway (no per-GB NAT charge; survives a NAT
        # zone outage). Gateway endpoints are free.
        region = aws.get_region_output(opts=pulumi.InvokeOptions(parent=self)).region
        ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[private_routes.id],
            tags=named("s3"),
            opts=child,
        )
        return (
            self.vpc.id,
            pulumi.Output.all(*[s.id for s in public]),
            pulumi.Output.all(*[s.id for s in private]),
        )
