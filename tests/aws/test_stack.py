"""The AWS stack under mocks: the real `__main__.py` with cloud=aws for every scenario and
every option that changes the graph; what a user relies on is asserted."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter
from typing import Any

import pulumi
import pytest
from mlflow_image import contract

from tests import harness
from tests.aws.conftest import ACCOUNT, REGION, _hex, physical

# ---------------------------------------------------------------------------- helpers

SECRET_SIG = "4dabf18193072939515e22adb298388d"


def plain(value: Any) -> Any:
    """Inputs with Pulumi secret wrappers (if the harness leaves them) replaced by values."""
    if isinstance(value, dict):
        if SECRET_SIG in value and "value" in value:
            return plain(value["value"])
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def run(secret_keys: tuple[str, ...] = (), **config: Any) -> harness.ProgramResult:
    return harness.run_program(config={"cloud": "aws", **config}, secret_keys=secret_keys)


def inputs(result: harness.ProgramResult, type_token: str) -> dict[str, Any]:
    return plain(result.mocks.one(type_token).inputs)


def all_inputs(result: harness.ProgramResult, type_token: str) -> list[dict[str, Any]]:
    return [plain(r.inputs) for r in result.mocks.of_type(type_token)]


def sg_id(result: harness.ProgramResult, suffix: str) -> str:
    """The mocked id of the security group named `<...>-<suffix>`."""
    (group,) = [
        r
        for r in result.mocks.of_type("aws:ec2/securityGroup:SecurityGroup")
        if r.name.endswith(f"-{suffix}")
    ]
    return f"sg-{_hex(group.name)}"


def named(result: harness.ProgramResult, type_token: str, prefix: str) -> dict[str, Any]:
    """The inputs of the one resource of `type_token` whose name starts with `prefix`."""
    (found,) = [r for r in result.mocks.of_type(type_token) if r.name.startswith(prefix)]
    return plain(found.inputs)


ARTIFACTS = "mlflow-artifacts-"
ACCESS_LOG_BUCKET = "mlflow-server-access-logs-"


def container(result: harness.ProgramResult) -> dict[str, Any]:
    task = inputs(result, "aws:ecs/taskDefinition:TaskDefinition")
    (definition,) = json.loads(task["containerDefinitions"])
    return definition


def environment(result: harness.ProgramResult) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(result)["environment"]}


def secret_refs(result: harness.ProgramResult) -> dict[str, str]:
    return {s["name"]: s["valueFrom"] for s in container(result)["secrets"]}


def documents(result: harness.ProgramResult) -> list[dict[str, Any]]:
    """Every IAM policy document the stack attaches (inline and managed)."""
    docs = [
        json.loads(i["policy"])
        for token in ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")
        for i in all_inputs(result, token)
    ]
    assert docs
    return docs


# ---------------------------------------------------------------------------- the graph

NETWORK = Counter(
    {
        "mlflow-aws:index:Network": 1,
        "aws:ec2/vpc:Vpc": 1,
        "aws:ec2/subnet:Subnet": 4,
        "aws:ec2/internetGateway:InternetGateway": 1,
        "aws:ec2/eip:Eip": 1,
        "aws:ec2/natGateway:NatGateway": 1,
        "aws:ec2/routeTable:RouteTable": 2,
        "aws:ec2/route:Route": 2,
        "aws:ec2/routeTableAssociation:RouteTableAssociation": 4,
        "aws:ec2/vpcEndpoint:VpcEndpoint": 1,
        "aws:ec2/securityGroup:SecurityGroup": 2,
        # ALB 80 from CloudFront's prefix list, service from ALB
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2,
        # ALB -> service, service -> 443
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 2,
    }
)
BUCKET = Counter(
    {
        "mlflow-aws:index:ArtifactBucket": 1,
        "aws:s3/bucket:Bucket": 1,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
        "aws:s3/bucketVersioning:BucketVersioning": 1,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
        "aws:s3/bucketPolicy:BucketPolicy": 1,
    }
)
DATABASE = Counter(
    {
        "mlflow-aws:index:Database": 1,
        "random:index/randomPassword:RandomPassword": 1,
        "random:index/randomId:RandomId": 1,  # the final snapshot's suffix
        "aws:rds/subnetGroup:SubnetGroup": 1,
        "aws:rds/parameterGroup:ParameterGroup": 1,
        "aws:rds/instance:Instance": 1,
        "aws:secretsmanager/secret:Secret": 1,
        "aws:secretsmanager/secretVersion:SecretVersion": 1,
        # the database security group, its ingress rule, the service's egress to it
        "aws:ec2/securityGroup:SecurityGroup": 1,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1,
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
    }
)
IDENTITY = Counter(
    {"mlflow-aws:index:Identity": 1, "aws:iam/role:Role": 1, "aws:iam/rolePolicy:RolePolicy": 1}
)
CLIENT = Counter(
    {
        "aws:iam/policy:Policy": 1,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
    }
)
CLIENT_KEY = Counter(
    {
        "aws:iam/user:User": 1,
        "aws:iam/userPolicyAttachment:UserPolicyAttachment": 1,
        "aws:iam/accessKey:AccessKey": 1,
    }
)
SERVICE = Counter(
    {
        "mlflow-aws:index:Service": 1,
        "aws:ecr/repository:Repository": 1,
        "aws:ecr/lifecyclePolicy:LifecyclePolicy": 1,
        "docker-build:index:Image": 1,
        "aws:lb/loadBalancer:LoadBalancer": 1,
        "aws:lb/targetGroup:TargetGroup": 1,
        "aws:lb/listener:Listener": 1,
        "aws:iam/role:Role": 1,
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment": 1,
        "aws:cloudwatch/logGroup:LogGroup": 1,
        "aws:ecs/cluster:Cluster": 1,
        "aws:ecs/taskDefinition:TaskDefinition": 1,
        "aws:ecs/service:Service": 1,
        "aws:appautoscaling/target:Target": 1,
        "aws:appautoscaling/policy:Policy": 1,
    }
)
ACCESS_LOGS = Counter(
    {
        "mlflow-aws:index:AccessLogBucket": 1,
        "aws:s3/bucket:Bucket": 1,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": 1,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": 1,
        "aws:s3/bucketPolicy:BucketPolicy": 1,
    }
)
PRIVATE_ENDPOINTS_ADD = Counter(
    {
        # ECR api + dkr, Secrets Manager, Logs; their group, admitting the service only
        "aws:ec2/vpcEndpoint:VpcEndpoint": 4,
        "aws:ec2/securityGroup:SecurityGroup": 1,
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1,
        # 443 to anywhere becomes 443 to S3's prefix list and 443 to the endpoints
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": 1,
    }
)
PRIVATE_ENDPOINTS_REMOVE = Counter(
    {"aws:ec2/eip:Eip": 1, "aws:ec2/natGateway:NatGateway": 1, "aws:ec2/route:Route": 1}
)
CLOUDFRONT = Counter(
    {
        # HTTPS without a domain: CloudFront, and the ALB forwarding only its origin header
        "aws:cloudfront/distribution:Distribution": 1,
        "aws:lb/listenerRule:ListenerRule": 1,
        "random:index/randomPassword:RandomPassword": 1,
    }
)
# With a domain or allowHttp the ALB faces the clients: 80 and 443 from each allowed CIDR
# instead of one rule for CloudFront's prefix list.
NO_CLOUDFRONT = CLOUDFRONT
ONE_CIDR = Counter({"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 1})
AUTH = Counter(
    {
        # admin password (generated) and Flask key, each in its own secret
        "random:index/randomPassword:RandomPassword": 2,
        "aws:secretsmanager/secret:Secret": 2,
        "aws:secretsmanager/secretVersion:SecretVersion": 2,
    }
)
READ_SECRETS = Counter({"aws:iam/rolePolicy:RolePolicy": 1})
DOMAIN = Counter(
    {
        "aws:acm/certificate:Certificate": 1,
        "aws:acm/certificateValidation:CertificateValidation": 1,
        "aws:lb/listener:Listener": 1,
    }
)
SERVER = Counter({"mlflow-aws:index:MlflowServer": 1})
AUTH_DATABASE_URL = Counter(
    {"aws:secretsmanager/secret:Secret": 1, "aws:secretsmanager/secretVersion:SecretVersion": 1}
)
BASE = SERVER + NETWORK + BUCKET + IDENTITY + SERVICE + ACCESS_LOGS + CLOUDFRONT

EXPECTED = {
    "proxied": BASE + DATABASE + AUTH + READ_SECRETS,
    "direct": BASE + DATABASE + AUTH + READ_SECRETS + CLIENT,
    # Auth on by default: the auth tables get their own small RDS PostgreSQL, and the
    # container its URL as one more secret.
    "artifacts-only": BASE + DATABASE + AUTH + READ_SECRETS + AUTH_DATABASE_URL,
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_exact_resource_types_per_scenario(scenario: str) -> None:
    result = run(scenario=scenario)
    assert Counter(result.mocks.types()) == EXPECTED[scenario]


@pytest.mark.parametrize(
    ("config", "delta_add", "delta_remove"),
    [
        ({"scenario": "direct", "clientAccessKey": "true"}, CLIENT_KEY, Counter()),
        ({"domain": "mlflow.example.com"}, DOMAIN + ONE_CIDR, NO_CLOUDFRONT),
        ({"allowHttp": "true"}, ONE_CIDR, NO_CLOUDFRONT),
        ({"authEnabled": "false"}, Counter(), AUTH),  # the database secret is still read
        # a given admin password: no RandomPassword for it
        (
            {"adminPassword": "correct-horse-battery"},
            Counter(),
            Counter({"random:index/randomPassword:RandomPassword": 1}),
        ),
        (
            {"artifactVersioning": "false"},
            Counter(),
            Counter({"aws:s3/bucketVersioning:BucketVersioning": 1}),
        ),
        (
            {"allowedCidrs": ["10.0.0.0/8", "192.168.0.0/16"], "allowHttp": "true"},
            Counter({"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 3}),
            NO_CLOUDFRONT,
        ),
        (
            {"dbEngine": "mysql", "authEnabled": "false", "dbHighAvailability": "true"},
            Counter(),
            AUTH,
        ),
        ({"deletionProtection": "false"}, Counter(), Counter()),
        ({"loadBalancerAccessLogs": "false"}, Counter(), ACCESS_LOGS),
        ({"privateEndpoints": "true"}, PRIVATE_ENDPOINTS_ADD, PRIVATE_ENDPOINTS_REMOVE),
    ],
)
def test_options_change_the_graph_exactly(
    config: dict[str, Any], delta_add: Counter[str], delta_remove: Counter[str]
) -> None:
    secret = ("adminPassword",) if "adminPassword" in config else ()
    result = run(secret_keys=secret, **config)
    expected = EXPECTED[config.get("scenario", "proxied")] + delta_add
    expected.subtract(delta_remove)
    assert Counter(result.mocks.types()) == +expected


EXISTING = {
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    "privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
}


def test_existing_vpc_creates_no_network_and_uses_the_given_subnets() -> None:
    result = run(**EXISTING)
    new_network = {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/route:Route",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
    }
    expected = +(EXPECTED["proxied"] - Counter({t: 99 for t in new_network}))
    assert Counter(result.mocks.types()) == expected
    for group in all_inputs(result, "aws:ec2/securityGroup:SecurityGroup"):
        assert group["vpcId"] == EXISTING["vpcId"]
    assert (
        inputs(result, "aws:lb/loadBalancer:LoadBalancer")["subnets"] == EXISTING["publicSubnetIds"]
    )
    service = inputs(result, "aws:ecs/service:Service")
    assert service["networkConfiguration"]["subnets"] == EXISTING["privateSubnetIds"]
    assert (
        inputs(result, "aws:rds/subnetGroup:SubnetGroup")["subnetIds"]
        == EXISTING["privateSubnetIds"]
    )
    assert inputs(result, "aws:lb/targetGroup:TargetGroup")["vpcId"] == EXISTING["vpcId"]


def test_new_vpc_layout_two_zones_one_nat_private_routes() -> None:
    result = run(vpcCidr="10.20.0.0/16")
    assert inputs(result, "aws:ec2/vpc:Vpc")["cidrBlock"] == "10.20.0.0/16"
    subnets = {r.name: plain(r.inputs) for r in result.mocks.of_type("aws:ec2/subnet:Subnet")}
    zones = {s["availabilityZone"] for s in subnets.values()}
    assert zones == {"eu-west-1a", "eu-west-1b"}
    assert sorted(s["cidrBlock"] for s in subnets.values()) == [
        "10.20.0.0/19",
        "10.20.128.0/18",
        "10.20.192.0/18",
        "10.20.32.0/19",
    ]
    assert not any(s.get("mapPublicIpOnLaunch") for s in subnets.values())
    nat = inputs(result, "aws:ec2/natGateway:NatGateway")
    public_0 = next(n for n in subnets if n.endswith("public-0"))
    assert nat["subnetId"] == f"subnet-{_hex(public_0)}"
    routes = {
        plain(r.inputs).get("natGatewayId") is not None
        for r in result.mocks.of_type("aws:ec2/route:Route")
    }
    assert routes == {True, False}  # one default route via NAT (private), one via IGW (public)
    ((_, zone_query),) = [i for i in result.mocks.invokes if i[0].endswith("getAvailabilityZones")]
    # Local Zones are "available" too where enabled, and sort first: regular zones only.
    assert zone_query["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
    endpoint = inputs(result, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert endpoint["serviceName"] == "com.amazonaws.eu-west-1.s3"
    assert endpoint["vpcEndpointType"] == "Gateway"


# ---------------------------------------------------------------------------- security groups


def _rules(result: harness.ProgramResult, direction: str) -> list[dict[str, Any]]:
    token = f"aws:vpc/securityGroup{direction}Rule:SecurityGroup{direction}Rule"
    return all_inputs(result, token)


@pytest.mark.parametrize(("engine", "port"), [("postgresql", 5432.0), ("mysql", 3306.0)])
def test_security_groups_chain_alb_service_database(engine: str, port: float) -> None:
    result = run(
        dbEngine=engine,
        allowedCidrs=["10.0.0.0/8"],
        authEnabled=str(engine != "mysql"),
        domain="mlflow.example.com",
    )
    lb, service, db = sg_id(result, "lb-sg"), sg_id(result, "service-sg"), sg_id(result, "db-sg")
    ingress = _rules(result, "Ingress")
    by_group: dict[str, list[dict[str, Any]]] = {}
    for rule in ingress:
        by_group.setdefault(rule["securityGroupId"], []).append(rule)

    (db_rule,) = by_group[db]
    assert db_rule["referencedSecurityGroupId"] == service
    assert (db_rule["fromPort"], db_rule["toPort"], db_rule["ipProtocol"]) == (port, port, "tcp")
    assert "cidrIpv4" not in db_rule

    (service_rule,) = by_group[service]
    assert service_rule["referencedSecurityGroupId"] == lb
    assert (service_rule["fromPort"], service_rule["toPort"]) == (5000.0, 5000.0)
    assert "cidrIpv4" not in service_rule

    assert sorted((r["cidrIpv4"], r["fromPort"]) for r in by_group[lb]) == [
        ("10.0.0.0/8", 80.0),
        ("10.0.0.0/8", 443.0),
    ]
    egress = {
        (r["securityGroupId"], r.get("referencedSecurityGroupId"), r.get("cidrIpv4"), r["fromPort"])
        for r in _rules(result, "Egress")
    }
    assert egress == {
        (lb, service, None, 5000.0),
        (service, None, "0.0.0.0/0", 443.0),
        (service, db, None, port),
    }
    # The database group has no egress at all; the instance uses only it.
    assert inputs(result, "aws:rds/instance:Instance")["vpcSecurityGroupIds"] == [db]
    network = inputs(result, "aws:ecs/service:Service")["networkConfiguration"]
    assert network["securityGroups"] == [service]
    assert network["assignPublicIp"] is False


# ---------------------------------------------------------------------------- database


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, ("postgres", "16", "db.t4g.small", False, "postgres16", "rds.force_ssl", "1")),
        (
            {
                "dbEngine": "mysql",
                "authEnabled": "false",
                "dbSize": "medium",
                "dbHighAvailability": "true",
            },
            ("mysql", "8.4", "db.t4g.large", True, "mysql8.4", "require_secure_transport", "ON"),
        ),
        (
            {"dbSize": "large"},
            ("postgres", "16", "db.m7g.xlarge", False, "postgres16", "rds.force_ssl", "1"),
        ),
    ],
)
def test_rds_private_encrypted_tls_sized(config: dict[str, Any], expected: tuple) -> None:
    result = run(dbStorageGb="50", dbBackupRetentionDays="14", **config)
    db = inputs(result, "aws:rds/instance:Instance")
    engine, version, instance_class, multi_az, family, tls_name, tls_value = expected
    assert (db["engine"], db["engineVersion"], db["instanceClass"]) == (
        engine,
        version,
        instance_class,
    )
    assert db["multiAz"] is multi_az
    assert db["publiclyAccessible"] is False
    assert db["storageEncrypted"] is True
    assert db["storageType"] == "gp3"
    assert db["allocatedStorage"] == 50.0
    assert db["backupRetentionPeriod"] == 14.0
    # A dbSize change applies in this update, with the pool budget for the new size,
    # not in the maintenance window while the new budget already runs.
    assert db["applyImmediately"] is True
    params = inputs(result, "aws:rds/parameterGroup:ParameterGroup")
    assert params["family"] == family
    assert [(p["name"], p["value"]) for p in params["parameters"]] == [(tls_name, tls_value)]
    assert db["parameterGroupName"] == physical("mlflow-db-params")
    # The password reaches RDS as a secret, never as plain state.
    instance = result.mocks.one("aws:rds/instance:Instance")
    if instance.__dict__.get("secret_inputs") is not None:
        assert "password" in instance.secret_inputs


def _final_snapshot(result: harness.ProgramResult) -> str:
    """The final snapshot name the instance gets: the stack's prefix and its RandomId."""
    suffix = result.mocks.one("random:index/randomId:RandomId")
    assert suffix.name == "mlflow-db-final-snapshot"
    assert plain(suffix.inputs)["byteLength"] == 4.0
    return f"mlflow-test-mlflow-db-final-{_hex(suffix.name, 8)}"


def test_deletion_protection_on_keeps_a_unique_final_snapshot_and_protects_the_bucket() -> None:
    result = run()
    db = inputs(result, "aws:rds/instance:Instance")
    assert db["deletionProtection"] is True
    assert db["skipFinalSnapshot"] is False
    # Unique per instance (a random suffix): the fixed "...-final" of an earlier teardown
    # would make RDS refuse the next delete (DBSnapshotAlreadyExists).
    assert db["finalSnapshotIdentifier"] == _final_snapshot(result)
    assert db["finalSnapshotIdentifier"] != "mlflow-test-mlflow-db-final"
    assert named(result, "aws:s3/bucket:Bucket", ARTIFACTS)["forceDestroy"] is False


def test_ecr_repository_is_force_deleted_only_without_deletion_protection() -> None:
    assert inputs(run(), "aws:ecr/repository:Repository")["forceDelete"] is False
    unprotected = run(deletionProtection="false")
    assert inputs(unprotected, "aws:ecr/repository:Repository")["forceDelete"] is True


def test_the_final_snapshot_name_is_a_stack_output() -> None:
    result = run()
    assert result.outputs["databaseFinalSnapshot"] == _final_snapshot(result)


def test_deletion_protection_off_still_takes_the_final_snapshot() -> None:
    # The documented teardown turns protection off first: that must not drop the data.
    result = run(deletionProtection="false", artifactForceDestroy="true")
    db = inputs(result, "aws:rds/instance:Instance")
    assert db["deletionProtection"] is False
    assert db["skipFinalSnapshot"] is False
    assert db["finalSnapshotIdentifier"] == _final_snapshot(result)
    assert named(result, "aws:s3/bucket:Bucket", ARTIFACTS)["forceDestroy"] is True


def test_deletion_protection_protects_only_the_stateful_resources() -> None:
    """Pulumi `protect` on the two buckets only (RDS, ALB and ECR have their own flags):
    a protected task definition could not be replaced by the next image."""
    cases: list[tuple[dict[str, Any], bool]] = [
        ({}, True),
        ({"deletionProtection": "false"}, False),
    ]
    for config, expected in cases:
        result = run(**config)
        protected = {r.name for r in result.mocks.resources if r.options.get("protect")}
        buckets = (
            {r.name for r in result.mocks.of_type("aws:s3/bucket:Bucket")} if expected else set()
        )
        assert protected == buckets, config
        assert len(buckets) == (2 if expected else 0)


def test_database_secret_holds_the_rds_json_shape() -> None:
    result = run()
    versions = {
        r.name: plain(r.inputs)
        for r in result.mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    value = json.loads(versions["mlflow-db-secret-value"]["secretString"])
    db = result.mocks.one("aws:rds/instance:Instance")
    assert set(value) == {"engine", "host", "port", "dbname", "username", "password"}
    assert value["host"].endswith(".rds.amazonaws.com") and db.name in value["host"]
    assert value["port"] == 5432 and value["dbname"] == "mlflow" and value["username"] == "mlflow"
    assert len(value["password"]) == 32


def test_artifacts_only_without_auth_has_no_database_and_no_database_variables() -> None:
    result = run(scenario="artifacts-only", authEnabled="false")
    assert not result.mocks.of_type("aws:rds/instance:Instance")
    assert not [r for r in result.mocks.resources if r.name.endswith("db-sg")]
    env = environment(result)
    assert not [n for n in env if n.startswith("DB_")]
    assert env["ARTIFACT_MODE"] == "artifacts-only"
    assert "AUTH_ENABLED" not in env
    assert secret_refs(result) == {}
    assert "databaseSecretArn" not in result.outputs
    assert "databaseFinalSnapshot" not in result.outputs


def test_artifacts_only_has_auth_by_default_with_its_tables_in_a_private_postgres() -> None:
    result = run(scenario="artifacts-only")
    env = environment(result)
    assert env["AUTH_ENABLED"] == "true"
    assert not [n for n in env if n.startswith("DB_")]  # no tracking store
    db = inputs(result, "aws:rds/instance:Instance")
    assert (db["engine"], db["instanceClass"], db["publiclyAccessible"]) == (
        "postgres",
        "db.t4g.small",
        False,
    )
    assert db["vpcSecurityGroupIds"] == [sg_id(result, "db-sg")]
    refs = secret_refs(result)
    assert set(refs) == {"AUTH_DATABASE_URL", "AUTH_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"}
    (version,) = [
        r
        for r in result.mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
        if r.name == "mlflow-server-auth-database-url"
    ]
    assert "secretString" in version.secret_inputs
    url = version.inputs["secretString"]
    assert url.startswith("postgresql://mlflow:Rnd-")
    assert f"@{physical('mlflow-db-db')}." in url
    assert url.endswith(":5432/mlflow?sslmode=require")
    # Anonymous clients get nothing: the client environment carries the login (secret).
    assert "clientEnvironment" in result.secret_outputs
    assert result.outputs["clientEnvironment"]["MLFLOW_TRACKING_USERNAME"] == "admin"


# ---------------------------------------------------------------------------- bucket

SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"


def test_bucket_private_encrypted_tls_only_with_lifecycle() -> None:
    result = run(artifactNoncurrentDays="45")
    (bucket,) = [
        r for r in result.mocks.of_type("aws:s3/bucket:Bucket") if r.name.startswith(ARTIFACTS)
    ]
    name = result.outputs["artifactLocation"].removeprefix("s3://")
    arn = f"arn:aws:s3:::{name}"
    block = named(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", ARTIFACTS)
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True, flag
    assert block["bucket"] == name
    ownership = named(result, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", ARTIFACTS)
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    sse = named(result, SSE, ARTIFACTS)
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    versioning = inputs(result, "aws:s3/bucketVersioning:BucketVersioning")
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    rules = {r["id"]: r for r in named(result, LIFECYCLE, ARTIFACTS)["rules"]}
    assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
        "noncurrentDays": 45.0
    }
    assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
        "daysAfterInitiation": 7.0
    }
    policy = json.loads(named(result, "aws:s3/bucketPolicy:BucketPolicy", ARTIFACTS)["policy"])
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sorted(deny["Resource"]) == [arn, f"{arn}/*"]
    assert bucket.inputs.get("tags") == {}


def test_bucket_without_versioning_has_no_noncurrent_rule() -> None:
    result = run(artifactVersioning="false")
    rules = named(result, LIFECYCLE, ARTIFACTS)["rules"]
    assert [r["id"] for r in rules] == ["abort-incomplete-multipart-uploads"]


# ---------------------------------------------------------------------------- IAM


def test_customer_kms_key_encrypts_bucket_and_database_and_is_granted_narrowly() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = run(scenario="direct", kmsKeyArn=key)
    sse = named(result, SSE, ARTIFACTS)
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": key,
    }
    db = inputs(result, "aws:rds/instance:Instance")
    assert db["storageEncrypted"] is True and db["kmsKeyId"] == key
    # The task role and the clients' policy may use exactly that key, for S3 only; the
    # execution role may decrypt with it only through Secrets Manager.
    kms_statements = [
        statement
        for document in documents(result)
        for statement in document["Statement"]
        if any(str(a).startswith("kms:") for a in statement["Action"])
    ]
    assert len(kms_statements) == 3
    for statement in kms_statements:
        assert statement["Resource"] == key
    s3_use = [s for s in kms_statements if "Condition" not in s]
    assert [s["Action"] for s in s3_use] == [["kms:Decrypt", "kms:GenerateDataKey"]] * 2
    (secrets_use,) = [s for s in kms_statements if "Condition" in s]
    assert secrets_use["Action"] == ["kms:Decrypt"]
    assert secrets_use["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}
    }


def test_customer_kms_key_encrypts_secrets_log_group_and_ecr() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = run(kmsKeyArn=key)
    secrets = all_inputs(result, "aws:secretsmanager/secret:Secret")
    assert len(secrets) == 3  # the database's, the admin password, the Flask key
    assert {s.get("kmsKeyId") for s in secrets} == {key}
    assert inputs(result, "aws:cloudwatch/logGroup:LogGroup")["kmsKeyId"] == key
    repository = inputs(result, "aws:ecr/repository:Repository")
    assert repository["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}]
    # Load balancer access logs support SSE-S3 only, whatever the key.
    log_sse = named(result, SSE, ACCESS_LOG_BUCKET)
    assert log_sse["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}


def test_without_kms_key_secrets_logs_and_ecr_use_aws_managed_keys() -> None:
    result = run()
    assert all("kmsKeyId" not in s for s in all_inputs(result, "aws:secretsmanager/secret:Secret"))
    assert "kmsKeyId" not in inputs(result, "aws:cloudwatch/logGroup:LogGroup")
    repository = inputs(result, "aws:ecr/repository:Repository")
    assert repository["encryptionConfigurations"] == [{"encryptionType": "AES256"}]


def test_without_kms_key_aws_managed_keys() -> None:
    result = run()
    assert "kmsKeyId" not in inputs(result, "aws:rds/instance:Instance")


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_iam_documents_scoped_to_the_bucket_and_exact_secrets(scenario: str) -> None:
    extra: dict[str, Any] = {"clientAccessKey": "true"} if scenario == "direct" else {}
    result = run(scenario=scenario, **extra)
    arn = "arn:aws:s3:::" + result.outputs["artifactLocation"].removeprefix("s3://")
    for document in documents(result):
        for statement in document["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            resources = (
                statement["Resource"]
                if isinstance(statement["Resource"], list)
                else [statement["Resource"]]
            )
            assert statement["Effect"] == "Allow"
            assert "*" not in resources and "s3:*" not in actions and "*" not in actions
            if any(a.startswith("s3:") for a in actions):
                assert set(resources) <= {arn, f"{arn}/*"}, statement
            if "secretsmanager:GetSecretValue" in actions:
                expected = {v for k, v in result.outputs.items() if k.endswith("SecretArn")}
                if scenario == "artifacts-only":
                    # The server reads the auth tables' URL, not the database's own secret.
                    expected -= {result.outputs["databaseSecretArn"]}
                    expected |= {secret_refs(result)["AUTH_DATABASE_URL"]}
                assert set(resources) == expected
                assert len(expected) == 3
    s3_docs = [d for d in documents(result) if "s3:PutObject" in json.dumps(d)]
    # the task role's inline policy, plus the clients' managed policy in scenario direct
    assert len(s3_docs) == (2 if scenario == "direct" else 1)


def test_roles_trust_ecs_tasks_of_this_account_and_clients_of_this_account() -> None:
    result = run(scenario="direct")
    trusts = {
        r.name: json.loads(plain(r.inputs)["assumeRolePolicy"])
        for r in result.mocks.of_type("aws:iam/role:Role")
    }
    assert len(trusts) == 3
    client = trusts.pop("mlflow-identity-client")["Statement"][0]
    assert client["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert client["Condition"] == {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
    for trust in trusts.values():
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    task = inputs(result, "aws:ecs/taskDefinition:TaskDefinition")
    roles = {
        r.name: f"arn:aws:iam::{ACCOUNT}:role/" for r in result.mocks.of_type("aws:iam/role:Role")
    }
    assert task["taskRoleArn"].startswith(roles["mlflow-identity-task"])
    assert "mlflow-identity-task" in task["taskRoleArn"]
    assert "mlflow-server-execution" in task["executionRoleArn"]
    attachment = next(
        i
        for i in all_inputs(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if "AmazonECSTaskExecutionRolePolicy" in i["policyArn"]
    )
    assert "mlflow-server-execution" in attachment["role"]


# ---------------------------------------------------------------------------- container


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_container_environment_follows_the_image_contract(scenario: str) -> None:
    result = run(scenario=scenario, allowedHosts=["mlflow.internal"], domain="mlflow.example.com")
    definition = container(result)
    env = environment(result)
    refs = secret_refs(result)
    for name in env:
        assert contract.is_contract_variable(name), name
        assert name not in contract.SECRET_NAMES, name
    assert not set(env) & set(refs)
    assert set(refs) <= contract.SECRET_NAMES
    database = "AUTH_DATABASE_URL" if scenario == "artifacts-only" else "DB_PASSWORD"
    assert set(refs) == {database, "AUTH_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"}
    if scenario != "artifacts-only":
        assert refs["DB_PASSWORD"] == result.outputs["databaseSecretArn"] + ":password::"
    assert refs["AUTH_PASSWORD"] == result.outputs["adminPasswordSecretArn"]
    assert refs["MLFLOW_FLASK_SERVER_SECRET_KEY"] == result.outputs["flaskSecretKeySecretArn"]
    # No secret value anywhere in the task definition.
    text = json.dumps(definition)
    for value in _secret_values(result):
        assert value not in text
    assert env["ARTIFACT_URL"] == result.outputs["artifactLocation"]
    assert env["ARTIFACT_MODE"] == scenario
    assert env["PORT"] == "5000"
    assert int(env["SERVER_KEEP_ALIVE_SECONDS"]) > 300  # the ALB idle timeout
    hostnames = env["PUBLIC_HOSTNAMES"].split(",")
    assert hostnames == [
        result.outputs["loadBalancerDnsName"],
        "mlflow.example.com",
        "mlflow.internal",
    ]
    assert definition["portMappings"] == [
        {"containerPort": 5000, "hostPort": 5000, "protocol": "tcp"}
    ]
    assert "/health" in definition["healthCheck"]["command"][-1]
    logs = definition["logConfiguration"]
    assert logs["logDriver"] == "awslogs"
    assert logs["options"]["awslogs-region"] == "eu-west-1"
    assert logs["options"]["awslogs-group"] == physical("mlflow-server-logs", 512)
    # By digest alone: the repository's tags are mutable (docker-build re-pushes a tag when
    # only file modes changed), what a task definition runs never is.
    image = inputs(result, "docker-build:index:Image")
    repository = physical("mlflow-server-repo")
    digest = "sha256:" + hashlib.sha256(image["tags"][0].encode()).hexdigest()
    assert definition["image"] == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/{repository}@{digest}"


def _secret_values(result: harness.ProgramResult) -> list[str]:
    """The mocked values of every RandomPassword the stack made (admin, Flask key, database)."""
    make = harness.OUTPUTS["random:index/randomPassword:RandomPassword"]
    return [
        make(_Args(r.name, r.inputs))["result"]  # type: ignore[arg-type]  # duck-typed MockResourceArgs
        for r in result.mocks.of_type("random:index/randomPassword:RandomPassword")
    ]


class _Args:
    """The two fields of MockResourceArgs the output functions read."""

    def __init__(self, name: str, inputs: dict[str, Any]) -> None:
        self.name, self.inputs = name, inputs


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_database_variables_in_plain_environment(engine: str) -> None:
    auth = engine == "postgresql"
    result = run(dbEngine=engine, authEnabled=str(auth).lower())
    env = environment(result)
    db = inputs(result, "aws:rds/instance:Instance")
    assert env["DB_ENGINE"] == engine
    assert env["DB_PORT"] == str(int(db["port"]))
    assert env["DB_HOST"].endswith(".rds.amazonaws.com")
    assert (env["DB_NAME"], env["DB_USER"], env["DB_SSLMODE"]) == ("mlflow", "mlflow", "require")
    assert env.get("AUTH_ENABLED") == ("true" if auth else None)


POOL_VARIABLES = ("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # The default stack: PostgreSQL small (181 connections after the reserve), maxReplicas
        # 4, 2 workers, 4 engines each (tracking, registry, jobs, auth): 181 // 32 = 5.
        ({}, ("2", "3")),
        ({"dbEngine": "mysql", "authEnabled": "false"}, ("2", "3")),  # 137 // 24 = 5
        ({"dbSize": "medium"}, ("7", "15")),  # 729 // 32 = 22
        ({"dbSize": "medium", "maxReplicas": "8"}, ("3", "8")),  # 729 // 64 = 11
        # The auth tables' own small PostgreSQL: one engine per worker, 181 // 8 = 22.
        ({"scenario": "artifacts-only"}, ("7", "15")),
        ({"scenario": "artifacts-only", "authEnabled": "false"}, (None, None)),
    ],
    ids=["default", "mysql", "medium", "8-replicas", "artifacts-only", "artifacts-only-open"],
)
def test_database_pool_budgeted_in_the_container_environment(
    config: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    # Every worker of every task at maxReplicas fits the instance's connection limit.
    env = environment(run(**config))
    assert tuple(env.get(name) for name in POOL_VARIABLES) == expected
    assert "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE" not in env  # the image's default applies


def test_too_many_replicas_for_the_database_fails_before_any_resource() -> None:
    mocks = harness.new_mocks()
    with pytest.raises(pulumi.RunError) as raised:
        harness.run_program(config={"cloud": "aws", "maxReplicas": "5"}, mocks=mocks)
    assert str(raised.value) == (
        "mlflow:maxReplicas: invalid value 5 with dbSize 'small' (postgresql, 2 workers per "
        "task, 4 database engines per worker): the database cannot hold that many connection "
        "pools; allowed: 4 or fewer, or a larger mlflow:dbSize"
    )
    assert mocks.resources == []
    # 4 fits: the same stack evaluates.
    harness.run_program(config={"cloud": "aws", "maxReplicas": "4"}, mocks=harness.new_mocks())
    # artifacts-only: the auth tables' small PostgreSQL, one engine per worker.
    mocks = harness.new_mocks()
    with pytest.raises(pulumi.RunError, match=r"allowed: 18 or fewer$"):
        harness.run_program(
            config={"cloud": "aws", "scenario": "artifacts-only", "maxReplicas": "19"},
            mocks=mocks,
        )
    assert mocks.resources == []


def test_mysql_with_auth_is_deployed() -> None:
    # The image runs basic-auth on MySQL (it creates MLflow's initial auth tables with unique
    # constraint names, mlflow/mlflow#10964): AWS's default auth-on works with dbEngine=mysql
    # (3 tasks: a small MySQL holds 137 connections for 4 engines x 2 workers x 5 each).
    result = run(dbEngine="mysql", maxReplicas="3")
    env = environment(result)
    assert env["AUTH_ENABLED"] == "true" and env["DB_ENGINE"] == "mysql"
    assert "AUTH_PASSWORD" in secret_refs(result)


def test_auth_off_has_no_auth_variables_or_secrets() -> None:
    result = run(authEnabled="false")
    env = environment(result)
    assert not [n for n in env if n.startswith("AUTH_")]
    assert set(secret_refs(result)) == {"DB_PASSWORD"}
    for name in (
        "adminPassword",
        "adminUsername",
        "adminPasswordSecretArn",
        "flaskSecretKeySecretArn",
    ):
        assert name not in result.outputs
    assert "clientEnvironment" not in result.secret_outputs


def test_given_admin_password_is_stored_not_generated() -> None:
    result = run(
        secret_keys=("adminPassword",), adminPassword="correct-horse-battery", adminUsername="ops"
    )
    versions = [
        plain(r.inputs)["secretString"]
        for r in result.mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    ]
    assert "correct-horse-battery" in versions
    assert result.outputs["adminPassword"] == "correct-horse-battery"
    assert environment(result)["AUTH_USERNAME"] == "ops"
    assert (
        "correct-horse-battery"
        not in inputs(result, "aws:ecs/taskDefinition:TaskDefinition")["containerDefinitions"]
    )
    secret_versions = result.mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    if all(hasattr(v, "secret_inputs") for v in secret_versions):
        assert all("secretString" in v.secret_inputs for v in secret_versions)


def test_task_definition_sizes_and_fargate() -> None:
    result = run(
        serverCpu="2",
        serverMemoryMb="6144",
        replicas="3",
        minReplicas="2",
        maxReplicas="8",
        dbSize="large",  # 8 tasks x 4 workers x 4 engines need 640 connections at least
    )
    task = inputs(result, "aws:ecs/taskDefinition:TaskDefinition")
    assert (task["cpu"], task["memory"]) == ("2048", "6144")
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert task["family"] == "mlflow-test-mlflow-server"
    assert environment(result)["SERVER_WORKERS"] == "4"
    service = inputs(result, "aws:ecs/service:Service")
    assert service["desiredCount"] == 3.0
    assert service["launchType"] == "FARGATE"
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["loadBalancers"][0]["containerPort"] == 5000.0
    target = inputs(result, "aws:appautoscaling/target:Target")
    assert (target["minCapacity"], target["maxCapacity"]) == (2.0, 8.0)
    assert target["scalableDimension"] == "ecs:service:DesiredCount"
    cluster_name = physical("mlflow-server-cluster")
    assert target["resourceId"].startswith(f"service/{cluster_name}/")
    policy = inputs(result, "aws:appautoscaling/policy:Policy")
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["targetValue"] == 60.0
    assert (
        tracking["predefinedMetricSpecification"]["predefinedMetricType"]
        == "ECSServiceAverageCPUUtilization"
    )


def test_fargate_rejects_a_memory_size_the_config_allows_elsewhere() -> None:
    with pytest.raises(Exception, match=r"mlflow:serverMemoryMb: invalid value 1536"):
        run(serverCpu="1", serverMemoryMb="1536")


# ---------------------------------------------------------------------------- load balancer


def test_plain_http_only_when_asked_for_and_warned_about(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    result = run(allowHttp="true")
    (warning,) = warnings
    assert warning.startswith("mlflow:allowHttp is true: the load balancer serves plain HTTP")
    assert not result.mocks.of_type("aws:cloudfront/distribution:Distribution")
    alb = inputs(result, "aws:lb/loadBalancer:LoadBalancer")
    assert alb["idleTimeout"] == 300.0
    assert alb["internal"] is False
    assert alb["dropInvalidHeaderFields"] is True
    target = inputs(result, "aws:lb/targetGroup:TargetGroup")
    assert target["targetType"] == "ip"
    assert target["port"] == 5000.0
    assert target["healthCheck"]["path"] == "/health"
    assert target["healthCheck"]["matcher"] == "200"
    (listener,) = all_inputs(result, "aws:lb/listener:Listener")
    assert listener["port"] == 80.0
    assert listener["defaultActions"][0]["type"] == "forward"
    assert result.outputs["trackingUri"] == "http://" + result.outputs["loadBalancerDnsName"]


def test_https_by_default_through_cloudfront_to_an_alb_that_admits_only_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    result = run()
    assert warnings == []
    cdn = result.mocks.one("aws:cloudfront/distribution:Distribution")
    domain = f"d{_hex(cdn.name, 13)}.cloudfront.net"
    assert result.outputs["trackingUri"] == f"https://{domain}"
    config = plain(cdn.inputs)
    assert config["viewerCertificate"] == {"cloudfrontDefaultCertificate": True}
    behaviour = config["defaultCacheBehavior"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert set(behaviour["allowedMethods"]) >= {"GET", "PUT", "POST", "DELETE", "PATCH"}
    assert behaviour["forwardedValues"]["headers"] == ["*"]  # Authorization and Host
    assert behaviour["maxTtl"] == 0
    (origin,) = config["origins"]
    assert origin["domainName"] == result.outputs["loadBalancerDnsName"]
    assert origin["customOriginConfig"]["originReadTimeout"] == 60
    (header,) = origin["customHeaders"]
    assert "origins" in cdn.secret_inputs  # the origin header's value
    # The ALB: only CloudFront's origin-facing servers on 80; without our header, 403.
    (ingress,) = [
        r for r in _rules(result, "Ingress") if r["securityGroupId"] == sg_id(result, "lb-sg")
    ]
    assert (ingress["prefixListId"], ingress["fromPort"]) == ("pl-4fa04526", 80.0)
    assert "cidrIpv4" not in ingress
    (listener,) = all_inputs(result, "aws:lb/listener:Listener")
    assert listener["defaultActions"][0]["fixedResponse"]["statusCode"] == "403"
    rule = result.mocks.one("aws:lb/listenerRule:ListenerRule")
    assert "conditions" in rule.secret_inputs
    (condition,) = plain(rule.inputs)["conditions"]
    assert condition["httpHeader"] == {
        "httpHeaderName": header["name"],
        "values": [header["value"]],
    }
    assert plain(rule.inputs)["actions"][0]["type"] == "forward"
    # MLflow accepts the CloudFront host name.
    assert domain in environment(result)["PUBLIC_HOSTNAMES"].split(",")


def test_domain_adds_https_certificate_and_redirect() -> None:
    result = run(domain="mlflow.example.com")
    cert = inputs(result, "aws:acm/certificate:Certificate")
    assert (cert["domainName"], cert["validationMethod"]) == ("mlflow.example.com", "DNS")
    listeners = {i["port"]: i for i in all_inputs(result, "aws:lb/listener:Listener")}
    assert listeners[80.0]["defaultActions"][0]["type"] == "redirect"
    assert listeners[80.0]["defaultActions"][0]["redirect"]["protocol"] == "HTTPS"
    https = listeners[443.0]
    assert https["protocol"] == "HTTPS"
    assert https["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert https["certificateArn"].startswith("arn:aws:acm:")
    assert https["defaultActions"][0]["type"] == "forward"
    assert result.outputs["trackingUri"] == "https://mlflow.example.com"
    (record,) = result.outputs["certificateValidationRecords"]
    assert record["type"] == "CNAME" and record["name"].endswith("mlflow.example.com.")


def test_certificate_records_are_logged_before_the_validation_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pulumi up` waits on the validation until the records are in DNS; the output that
    lists them appears only after the update, so they are logged as soon as ACM issues them,
    before the validation resource is registered."""
    mocks = harness.new_mocks()
    logged: list[tuple[str, Any, set[str]]] = []

    def warn(message: str, resource: Any = None, *args: Any, **kwargs: Any) -> None:
        registered = {r.type for r in mocks.resources}
        logged.append((message, resource, registered))

    monkeypatch.setattr(pulumi.log, "warn", warn)
    result = harness.run_program(
        config={"cloud": "aws", "domain": "mlflow.example.com"}, mocks=mocks
    )
    (record,) = result.outputs["certificateValidationRecords"]
    ((message, resource, registered),) = logged
    assert message.startswith("domain mlflow.example.com: create these DNS records now")
    assert f"\n  {record['name']} CNAME {record['value']}" in message
    assert isinstance(resource, pulumi.CustomResource)  # shown on the certificate
    assert "aws:acm/certificate:Certificate" in registered
    assert "aws:acm/certificateValidation:CertificateValidation" not in registered
    validation = inputs(result, "aws:acm/certificateValidation:CertificateValidation")
    assert validation["certificateArn"].startswith("arn:aws:acm:")  # still the ARN itself


# ---------------------------------------------------------------------------- outputs


def test_outputs_with_credentials_are_secret() -> None:
    result = run(scenario="direct", clientAccessKey="true")
    assert {"adminPassword", "clientSecretAccessKey", "clientEnvironment"} <= result.secret_outputs
    env = result.outputs["clientEnvironment"]
    assert env["AWS_ACCESS_KEY_ID"] == result.outputs["clientAccessKeyId"]
    assert env["AWS_SECRET_ACCESS_KEY"] == result.outputs["clientSecretAccessKey"]
    assert env["MLFLOW_TRACKING_PASSWORD"] == result.outputs["adminPassword"]
    assert result.outputs["clientPolicyArn"].startswith(f"arn:aws:iam::{ACCOUNT}:policy/")
    assert result.outputs["clientRoleArn"].startswith(f"arn:aws:iam::{ACCOUNT}:role/")
    # ARNs and names are not secrets; no non-secret output holds a secret value.
    secrets = {str(result.outputs[k]) for k in ("adminPassword", "clientSecretAccessKey")}
    for name, value in result.outputs.items():
        if name not in result.secret_outputs:
            assert not any(s in json.dumps(value) for s in secrets), name


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (
            "proxied",
            {
                "scenario",
                "trackingUri",
                "artifactLocation",
                "loadBalancerDnsName",
                "clientEnvironment",
                "databaseSecretArn",
                "databaseFinalSnapshot",
                "adminUsername",
                "adminPassword",
                "adminPasswordSecretArn",
                "flaskSecretKeySecretArn",
            },
        ),
        (
            "direct",
            {
                "scenario",
                "trackingUri",
                "artifactLocation",
                "loadBalancerDnsName",
                "clientEnvironment",
                "databaseSecretArn",
                "databaseFinalSnapshot",
                "adminUsername",
                "adminPassword",
                "adminPasswordSecretArn",
                "flaskSecretKeySecretArn",
                "clientPolicyArn",
                "clientRoleArn",
                "clientAwsConfig",
            },
        ),
        (
            "artifacts-only",
            {
                "scenario",
                "trackingUri",
                "artifactLocation",
                "loadBalancerDnsName",
                "clientEnvironment",
                "databaseSecretArn",
                "databaseFinalSnapshot",
                "adminUsername",
                "adminPassword",
                "adminPasswordSecretArn",
                "flaskSecretKeySecretArn",
            },
        ),
    ],
)
def test_output_names_per_scenario(scenario: str, expected: set[str]) -> None:
    result = run(scenario=scenario)
    assert set(result.outputs) == expected
    assert result.outputs["scenario"] == scenario
    if scenario == "direct":
        # boto3 ignores AWS_ROLE_ARN without a web-identity token: the environment names the
        # profile of clientAwsConfig, which assumes the client role (tests/aws/test_client_profile.py).
        env = result.outputs["clientEnvironment"]
        assert "AWS_ROLE_ARN" not in env
        config = result.outputs["clientAwsConfig"]
        assert config.startswith(f"[profile {env['AWS_PROFILE']}]\n")
        assert f"role_arn = {result.outputs['clientRoleArn']}\n" in config
        assert "source_profile = default\n" in config
        assert f"region = {REGION}\n" in config


# ---------------------------------------------------------------------------- tags, parents

UNTAGGABLE = {
    "random:index/randomId:RandomId",
    "aws:ec2/route:Route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:secretsmanager/secretVersion:SecretVersion",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/accessKey:AccessKey",
    "aws:ecr/lifecyclePolicy:LifecyclePolicy",
    "aws:appautoscaling/policy:Policy",
    "aws:acm/certificateValidation:CertificateValidation",
    "docker-build:index:Image",
    "random:index/randomPassword:RandomPassword",
}


def test_config_tags_on_every_taggable_resource_and_every_child_parented() -> None:
    tags = {"team": "ml", "cost-center": "42"}
    result = run(
        scenario="direct",
        clientAccessKey="true",
        domain="mlflow.example.com",
        tags=json.dumps(tags),
    )
    components = {r.urn: r for r in result.mocks.resources if r.type.startswith("mlflow-aws:")}
    for resource in result.mocks.resources:
        if resource.type.startswith("mlflow-aws:"):
            parent = {
                "mlflow-aws:index:MlflowServer": None,
                "mlflow-aws:index:AccessLogBucket": "mlflow-aws:index:Service",
            }.get(resource.type, "mlflow-aws:index:MlflowServer")
            if parent is not None:
                assert components[resource.parent or ""].type == parent
            continue
        assert resource.parent in components, resource.name
        assert resource.name.startswith("mlflow-"), resource.name
        if resource.type not in UNTAGGABLE:
            got = plain(resource.inputs).get("tags") or {}
            assert tags.items() <= got.items(), (resource.type, resource.name)


def test_aws_stack_never_imports_other_clouds() -> None:
    code = (
        "import sys, stacks.aws, mlflow_iac.aws; "
        "bad = [m for m in sys.modules if m.startswith(('pulumi_gcp', 'pulumi_azure'))]; "
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------- issue 12 review


def test_load_balancer_protected_and_logging_to_its_own_bucket() -> None:
    result = run(logRetentionDays="90")
    alb = inputs(result, "aws:lb/loadBalancer:LoadBalancer")
    assert alb["enableDeletionProtection"] is True
    log_bucket = named(result, "aws:s3/bucket:Bucket", ACCESS_LOG_BUCKET)
    name = physical("mlflow-server-access-logs-bucket")
    assert alb["accessLogs"] == {"bucket": name, "enabled": True}
    assert log_bucket["forceDestroy"] is False
    block = named(
        result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", ACCESS_LOG_BUCKET
    )
    assert all(block[flag] is True for flag in ("blockPublicAcls", "blockPublicPolicy"))
    assert all(block[flag] is True for flag in ("ignorePublicAcls", "restrictPublicBuckets"))
    sse = named(result, SSE, ACCESS_LOG_BUCKET)
    assert sse["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    (rule,) = named(result, LIFECYCLE, ACCESS_LOG_BUCKET)["rules"]
    assert rule["expiration"] == {"days": 90.0}
    policy = json.loads(
        named(result, "aws:s3/bucketPolicy:BucketPolicy", ACCESS_LOG_BUCKET)["policy"]
    )
    arn = f"arn:aws:s3:::{name}"
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert [s["Principal"] for s in allows] == [
        {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        {"AWS": "arn:aws:iam::156460612806:root"},  # eu-west-1's log-delivery account
    ]
    assert {s["Resource"] for s in allows} == {f"{arn}/AWSLogs/{ACCOUNT}/*"}
    assert {s["Action"] for s in allows} == {"s3:PutObject"}
    (deny,) = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # ELB writes a test object when logging is enabled: the policy comes first.
    (alb_resource,) = result.mocks.of_type("aws:lb/loadBalancer:LoadBalancer")
    policy_urn = next(
        r.urn
        for r in result.mocks.of_type("aws:s3/bucketPolicy:BucketPolicy")
        if r.name.startswith(ACCESS_LOG_BUCKET)
    )
    assert policy_urn in alb_resource.options["dependencies"]


def test_unprotected_stack_lets_destroy_remove_the_load_balancer_and_its_logs() -> None:
    result = run(deletionProtection="false", artifactForceDestroy="true")
    assert inputs(result, "aws:lb/loadBalancer:LoadBalancer")["enableDeletionProtection"] is False
    assert named(result, "aws:s3/bucket:Bucket", ACCESS_LOG_BUCKET)["forceDestroy"] is True


def test_access_logs_can_be_turned_off() -> None:
    result = run(loadBalancerAccessLogs="false")
    assert "accessLogs" not in inputs(result, "aws:lb/loadBalancer:LoadBalancer")


def test_ecr_tags_mutable_deployments_by_digest() -> None:
    result = run()
    repository = inputs(result, "aws:ecr/repository:Repository")
    # IMMUTABLE refuses docker-build's re-push of an existing tag after a mode-only change.
    assert repository["imageTagMutability"] == "MUTABLE"
    assert "@sha256:" in container(result)["image"]
    assert ":" not in container(result)["image"].split("@")[0].split("/")[-1]


def _egress(result: harness.ProgramResult, group: str) -> set[tuple[Any, ...]]:
    return {
        (
            r.get("cidrIpv4"),
            r.get("prefixListId"),
            r.get("referencedSecurityGroupId"),
            r["fromPort"],
        )
        for r in _rules(result, "Egress")
        if r["securityGroupId"] == group
    }


def test_private_endpoints_replace_the_nat_and_narrow_the_service_egress() -> None:
    result = run(privateEndpoints="true")
    assert not result.mocks.of_type("aws:ec2/natGateway:NatGateway")
    routes = all_inputs(result, "aws:ec2/route:Route")
    assert [r.get("gatewayId") is not None for r in routes] == [True]  # public default only
    endpoints = {e["serviceName"]: e for e in all_inputs(result, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    service, db, endpoint_sg = (
        sg_id(result, "service-sg"),
        sg_id(result, "db-sg"),
        sg_id(result, "endpoints-sg"),
    )
    private = sorted(
        f"subnet-{_hex(r.name)}"
        for r in result.mocks.of_type("aws:ec2/subnet:Subnet")
        if "-private-" in r.name
    )
    for api in ("ecr.api", "ecr.dkr", "secretsmanager", "logs"):
        endpoint = endpoints[f"com.amazonaws.eu-west-1.{api}"]
        assert endpoint["vpcEndpointType"] == "Interface"
        assert endpoint["privateDnsEnabled"] is True
        assert sorted(endpoint["subnetIds"]) == private
        assert endpoint["securityGroupIds"] == [endpoint_sg]
    assert endpoints["com.amazonaws.eu-west-1.s3"]["vpcEndpointType"] == "Gateway"
    assert _egress(result, service) == {
        (None, "pl-6da54004", None, 443.0),  # S3 through the gateway endpoint
        (None, None, endpoint_sg, 443.0),
        (None, None, db, 5432.0),
    }
    (admit,) = [r for r in _rules(result, "Ingress") if r["securityGroupId"] == endpoint_sg]
    assert (admit["referencedSecurityGroupId"], admit["fromPort"]) == (service, 443.0)
    assert "cidrIpv4" not in admit
    # The tasks start only once every endpoint exists (no other way out).
    (ecs,) = result.mocks.of_type("aws:ecs/service:Service")
    endpoint_urns = {r.urn for r in result.mocks.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert endpoint_urns <= set(ecs.options["dependencies"])


def test_without_private_endpoints_the_service_sends_https_anywhere() -> None:
    result = run()
    service, db = sg_id(result, "service-sg"), sg_id(result, "db-sg")
    assert _egress(result, service) == {
        ("0.0.0.0/0", None, None, 443.0),
        (None, None, db, 5432.0),
    }
