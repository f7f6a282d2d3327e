"""Realistic computed outputs and invoke results for the AWS resources the stack uses.

Registered into the shared harness (`OUTPUTS`, `INVOKES`) for the AWS tests only; the
harness raises on any other invoke, so a new data source must be mocked here on purpose.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
import pytest

from tests import harness

ACCOUNT = "123456789012"
REGION = "eu-west-1"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def _hex(name: str, length: int = 17) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:length]


def physical(name: str, limit: int = 63) -> str:
    """The mocked auto-name of the resource named `name` (Pulumi adds a random suffix)."""
    return f"{name}-{_hex(name, 7)}"[:limit].lower()


def _physical(args: pulumi.runtime.MockResourceArgs, limit: int = 63) -> str:
    return physical(args.name, limit)


def _arn(service: str, resource: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def _bucket(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = args.inputs.get("bucket") or _physical(args)
    return {
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "id": name,
        "bucketRegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
    }


def _instance(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    identifier = _physical(args)
    address = f"{identifier}.c{_hex(args.name, 12)}.{REGION}.rds.amazonaws.com"
    port = int(args.inputs.get("port", 5432))
    return {
        "identifier": identifier,
        "address": address,
        "port": port,
        "endpoint": f"{address}:{port}",
        "arn": _arn("rds", f"db:{identifier}"),
        "id": identifier,
    }


def _secret(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _physical(args)
    arn = _arn("secretsmanager", f"secret:{name}-{_hex(args.name, 6)}")
    return {"name": name, "arn": arn, "id": arn}


def _role(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _physical(args)
    return {
        "name": name,
        "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "id": name,
        "uniqueId": f"AROA{_hex(name, 16).upper()}",
    }


def _alb(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _physical(args, 32)
    return {
        "name": name,
        "dnsName": f"{name}-{int(_hex(name, 8), 16)}.{REGION}.elb.amazonaws.com",
        "arn": _arn("elasticloadbalancing", f"loadbalancer/app/{name}/{_hex(name, 16)}"),
        "zoneId": "Z32O12XQLNTSW2",
    }


def _certificate(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    domain = args.inputs["domainName"]
    return {
        "arn": _arn("acm", f"certificate/{_hex(domain, 8)}-0000-4000-8000-{_hex(domain, 12)}"),
        "domainValidationOptions": [
            {
                "domainName": domain,
                "resourceRecordName": f"_{_hex(domain, 32)}.{domain}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_hex(domain + 'v', 32)}.mhbtsbpdnt.acm-validations.aws.",
            }
        ],
    }


def _image(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    tag = args.inputs["tags"][0]
    digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
    return {"ref": f"{tag}@{digest}", "digest": digest}


def _repository(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
    name = _physical(args)
    return {
        "name": name,
        "arn": _arn("ecr", f"repository/{name}"),
        "registryId": ACCOUNT,
        "repositoryUrl": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}",
    }


def _named_arn(service: str, kind: str, limit: int = 63):
    def outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        name = _physical(args, limit)
        return {"name": name, "arn": _arn(service, f"{kind}{name}")}

    return outputs


def _ec2_id(prefix: str):
    def outputs(args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        resource_id = f"{prefix}-{_hex(args.name)}"
        return {"id": resource_id, "arn": _arn("ec2", f"{prefix}/{resource_id}")}

    return outputs


AWS_OUTPUTS: dict[str, harness.OutputsFn] = {
    "aws:ec2/vpc:Vpc": _ec2_id("vpc"),
    "aws:ec2/subnet:Subnet": _ec2_id("subnet"),
    "aws:ec2/internetGateway:InternetGateway": _ec2_id("igw"),
    "aws:ec2/eip:Eip": lambda a: {"id": f"eipalloc-{_hex(a.name)}", "publicIp": "203.0.113.10"},
    "aws:ec2/natGateway:NatGateway": _ec2_id("nat"),
    "aws:ec2/routeTable:RouteTable": _ec2_id("rtb"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_id("sg"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2_id("sgr"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2_id("sgr"),
    "aws:s3/bucket:Bucket": _bucket,
    "aws:rds/instance:Instance": _instance,
    "aws:rds/subnetGroup:SubnetGroup": _named_arn("rds", "subgrp:"),
    "aws:rds/parameterGroup:ParameterGroup": _named_arn("rds", "pg:"),
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:iam/role:Role": _role,
    "aws:iam/policy:Policy": lambda a: {"arn": f"arn:aws:iam::{ACCOUNT}:policy/{_physical(a)}"},
    "aws:iam/user:User": lambda a: {
        "name": _physical(a),
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{_physical(a)}",
    },
    "aws:iam/accessKey:AccessKey": lambda a: {
        "id": f"AKIA{_hex(a.name, 16).upper()}",
        "secret": f"wJalr{_hex(a.name, 35)}",
    },
    "aws:ecr/repository:Repository": _repository,
    "docker-build:index:Image": _image,
    "aws:cloudwatch/logGroup:LogGroup": _named_arn("logs", "log-group:", 512),
    "aws:ecs/cluster:Cluster": _named_arn("ecs", "cluster/"),
    "aws:ecs/taskDefinition:TaskDefinition": lambda a: {
        "arn": _arn("ecs", f"task-definition/{a.inputs['family']}:1"),
        "revision": 1,
    },
    "aws:ecs/service:Service": _named_arn("ecs", "service/"),
    "aws:lb/loadBalancer:LoadBalancer": _alb,
    "aws:lb/targetGroup:TargetGroup": _named_arn("elasticloadbalancing", "targetgroup/", 32),
    "aws:lb/listener:Listener": lambda a: {
        "arn": _arn("elasticloadbalancing", f"listener/{a.name}")
    },
    "aws:acm/certificate:Certificate": _certificate,
    "aws:cloudfront/distribution:Distribution": lambda a: {
        "id": f"E{_hex(a.name, 13).upper()}",
        "arn": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E{_hex(a.name, 13).upper()}",
        "domainName": f"d{_hex(a.name, 13)}.cloudfront.net",
        "hostedZoneId": "Z2FDTNDATAQYW2",
    },
    "aws:acm/certificateValidation:CertificateValidation": lambda a: {},
    "random:index/randomId:RandomId": lambda a: {
        "hex": _hex(a.name, 2 * int(a.inputs.get("byteLength", 4))),
        "id": _hex(a.name, 2 * int(a.inputs.get("byteLength", 4))),
    },
    "aws:ec2/vpcEndpoint:VpcEndpoint": lambda a: {
        **_ec2_id("vpce")(a),
        "prefixListId": "pl-6da54004" if a.inputs.get("vpcEndpointType") == "Gateway" else "",
    },
    "random:index/randomPassword:RandomPassword": lambda a: {
        "result": ("Rnd-" + _hex(a.name, 40))[: int(a.inputs.get("length", 16))]
    },
}

AWS_INVOKES: dict[str, harness.InvokeFn] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": lambda args: {
        "names": ZONES,
        "zoneIds": ["euw1-az1", "euw1-az2", "euw1-az3"],
        "id": REGION,
    },
    "aws:index/getRegion:getRegion": lambda args: {
        "name": REGION,
        "region": REGION,
        "id": REGION,
        "endpoint": f"ec2.{REGION}.amazonaws.com",
        "description": "Europe (Ireland)",
    },
    "aws:index/getCallerIdentity:getCallerIdentity": lambda args: {
        "accountId": ACCOUNT,
        "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer",
        "userId": "AIDAEXAMPLE",
        "id": ACCOUNT,
    },
    "aws:ec2/getManagedPrefixList:getManagedPrefixList": lambda args: {
        "id": "pl-4fa04526",
        "name": args["name"],
        "arn": f"arn:aws:ec2:{REGION}:aws:prefix-list/pl-4fa04526",
        "addressFamily": "IPv4",
        "maxEntries": 55,
        "ownerId": "AWS",
        "entries": [],
        "tags": {},
        "version": 1,
    },
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": lambda args: {
        "authorizationToken": "QVdTOnRva2Vu",
        "expiresAt": "2030-01-01T00:00:00Z",
        "id": REGION,
        "password": "ecr-token-password",
        "proxyEndpoint": f"https://{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
        "userName": "AWS",
    },
}


@pytest.fixture(autouse=True)
def aws_mocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the AWS outputs and invokes for one test; monkeypatch removes them after.

    Through monkeypatch (not a saved copy) so that a test's own `monkeypatch.setitem` on the
    same tables is undone in the right order and nothing AWS leaks into later tests.
    """
    # The AWS provider's region, as `pulumi config set aws:region` or the CLI's env gives it.
    monkeypatch.setenv("AWS_REGION", REGION)
    for token, outputs in AWS_OUTPUTS.items():
        monkeypatch.setitem(harness.OUTPUTS, token, outputs)
    for token, invoke in AWS_INVOKES.items():
        monkeypatch.setitem(harness.INVOKES, token, invoke)
