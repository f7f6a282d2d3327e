"""Every policy against the resources every stack and scenario registers under mocks (no
violation), and against deliberately bad resources built with the providers' own SDK
classes (each caught, with its message; the fixed resource passes).

The stack table is one line per (cloud, config): a new cloud's recordings are added with
one `*cloud(...)` line naming its mock outputs and invokes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure
import pulumi_docker as docker
import pulumi_gcp as gcp
import pytest
from pulumi_policy.proxy import unknown_checking_proxy

from mlflow_iac import vocabulary
from policy import rules
from tests import harness
from tests.aws.conftest import AWS_INVOKES, AWS_OUTPUTS
from tests.aws.conftest import REGION as AWS_REGION
from tests.azure.conftest import AZURE_INVOKES, AZURE_OUTPUTS, LOCATION
from tests.gcp.conftest import GCP_INVOKES, GCP_OUTPUTS, PROJECT, REGION
from tests.local.mocks import LOCAL_OUTPUTS

PRODUCTION = "production"
"""A stack name that is not throw-away: deletion protection is required."""


@dataclass(frozen=True)
class Recording:
    """One stack run under mocks: its cloud, config and the mocks that cloud needs."""

    cloud: str
    config: Mapping[str, Any]
    outputs: Mapping[str, harness.OutputsFn]
    invokes: Mapping[str, harness.InvokeFn]
    env: Mapping[str, str]
    """Environment variables the cloud's provider reads (e.g. GOOGLE_PROJECT)."""

    @property
    def id(self) -> str:
        return "-".join([self.cloud, *(f"{k}={v}" for k, v in self.config.items())])


def cloud(
    name: str,
    outputs: Mapping[str, harness.OutputsFn],
    invokes: Mapping[str, harness.InvokeFn],
    *,
    scenarios: tuple[str, ...] = vocabulary.CLOUD_SCENARIOS,
    variants: tuple[Mapping[str, Any], ...] = (),
    env: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
) -> list[Recording]:
    """A cloud's recordings: every scenario, plus option variants that change the graph;
    `config` is added to each (e.g. the provider's `azure-native:location`)."""
    base = {**({} if name == "local" else {"cloud": name}), **(config or {})}
    configs = [{**base, "scenario": s, **guard(name, s)} for s in scenarios] + [
        {**base, **v} for v in variants
    ]
    return [Recording(name, c, outputs, invokes, env or {}) for c in configs]


def guard(cloud_name: str, scenario: str) -> dict[str, Any]:
    """What scenario artifacts-only must have in front on clouds without basic-auth there
    (stacks.config refuses it otherwise): IAP on GCP, named networks on Azure."""
    if scenario != "artifacts-only":
        return {}
    return {
        "gcp": {"iapMembers": ["group:ml@example.com"]},
        "azure": {"allowedCidrs": ["10.0.0.0/8"]},
    }.get(cloud_name, {})


RECORDINGS = [
    *cloud("local", LOCAL_OUTPUTS, {}, scenarios=tuple(vocabulary.SCENARIOS)),
    *cloud(
        "aws",
        AWS_OUTPUTS,
        AWS_INVOKES,
        variants=(
            {"scenario": "proxied", "domain": "mlflow.example.com"},
            {"scenario": "direct", "dbEngine": "mysql", "authEnabled": "false"},
            {
                "scenario": "direct",
                "clientAccessKey": "true",
                "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/"
                "1234abcd-12ab-34cd-56ef-1234567890ab",
            },
        ),
        env={"AWS_REGION": AWS_REGION},
    ),
    *cloud(
        "gcp",
        GCP_OUTPUTS,
        GCP_INVOKES,
        variants=({"domain": "mlflow.example.com"},),
        env={"GOOGLE_PROJECT": PROJECT, "GOOGLE_REGION": REGION},
    ),
    *cloud("azure", AZURE_OUTPUTS, AZURE_INVOKES, config={"azure-native:location": LOCATION}),
]

ALL_POLICIES = frozenset(rule.name for rule in rules.RULES)
EXAMINED = {"local": frozenset({"no-plain-credentials"})}
"""The policies that must find resources of their types in a cloud's recordings, so that
"no violation" is not "nothing looked at": every policy (`ALL_POLICIES`) unless listed here.
The local stack runs only containers (its database and bucket are containers too)."""


def protected(registered: harness.Registered) -> bool:
    """The `protect` option the program gave the resource (recorded by the harness)."""
    return bool(registered.options.get("protect"))


def record(recording: Recording, **extra: Any) -> list[rules.Resource]:
    """The resources `recording` registers, as a production stack's policies see them."""
    with pytest.MonkeyPatch.context() as patch:
        for token, outputs in recording.outputs.items():
            patch.setitem(harness.OUTPUTS, token, outputs)
        for token, invoke in recording.invokes.items():
            patch.setitem(harness.INVOKES, token, invoke)
        for variable, value in recording.env.items():
            patch.setenv(variable, value)
        result = harness.run_program(config={**recording.config, **extra})
    return [
        rules.Resource(r.type, r.name, r.inputs, stack=PRODUCTION, protect=protected(r))
        for r in result.mocks.resources
    ]


@pytest.fixture(scope="module")
def recorded() -> dict[str, list[rules.Resource]]:
    """Every recording, run once for the tests of this module."""
    return {recording.id: record(recording) for recording in RECORDINGS}


@pytest.mark.parametrize("recording", RECORDINGS, ids=lambda r: r.id)
def test_every_stack_and_scenario_passes_every_policy(
    recorded: dict[str, list[rules.Resource]], recording: Recording
) -> None:
    assert rules.violations(recorded[recording.id]) == []


def test_each_cloud_recordings_reach_the_policies_expected(
    recorded: dict[str, list[rules.Resource]],
) -> None:
    """Each policy finds resources of its types in each cloud's recordings."""
    examined: dict[str, set[str]] = {}
    for recording in RECORDINGS:
        examined.setdefault(recording.cloud, set()).update(
            rule.name
            for rule in rules.RULES
            for r in recorded[recording.id]
            if r.type in rule.types
        )
    assert examined == {c: EXAMINED.get(c, ALL_POLICIES) for c in examined}
    assert {"local", "aws"} <= set(examined)


def test_the_aws_recording_is_judged_on_what_it_registers() -> None:
    """Deletion protection turned off in config: caught in a production stack (the RDS flag
    and the protect of both buckets: artifacts and load balancer access logs), allowed in a
    throw-away stack."""
    (recording,) = [r for r in RECORDINGS if r.id == "aws-cloud=aws-scenario=proxied"]
    resources = record(recording, deletionProtection="false")
    found = rules.violations(resources)
    assert sorted(name for name, _ in found) == ["deletion-protection"] * 3
    messages = " | ".join(m for _, m in found)
    assert "(aws:rds/instance:Instance): deletionProtection is not true in stack 'production'" in (
        messages
    )
    assert messages.count("(aws:s3/bucket:Bucket): not protected from deletion in stack") == 2
    throwaway = [
        rules.Resource(r.type, r.name, r.props, stack="pr-42", protect=r.protect) for r in resources
    ]
    assert rules.violations(throwaway) == []


# ---------------------------------------------------------------------------- bad resources


@dataclass(frozen=True)
class Case:
    """A resource built with the provider SDK, once bad and once fixed."""

    id: str
    build: Callable[[bool], pulumi.Resource]
    """Registers the resource: bad when called with True, fixed with False."""
    policy: str
    message: str
    """A fragment of the expected message."""


def _rds(bad: bool) -> pulumi.Resource:
    return aws.rds.Instance(
        "db",
        engine="postgres",
        instance_class="db.t4g.small",
        allocated_storage=20,
        publicly_accessible=bad,
        storage_encrypted=True,
        deletion_protection=True,
    )


def _s3_public_block(bad: bool) -> pulumi.Resource:
    return aws.s3.BucketPublicAccessBlock(
        "pab",
        bucket="b",
        block_public_acls=True,
        block_public_policy=not bad,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )


def _iam(bad: bool) -> pulumi.Resource:
    resource = "*" if bad else ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    return aws.iam.RolePolicy(
        "rp",
        role="r",
        policy=pulumi.Output.json_dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "Rw",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject"],
                        "Resource": resource,
                    }
                ],
            }
        ),
    )


def _ecs(bad: bool) -> pulumi.Resource:
    env = [{"name": "DB_PASSWORD", "value": "hunter2hunter2"}] if bad else []
    secrets = [] if bad else [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:x"}]
    return aws.ecs.TaskDefinition(
        "task",
        family="f",
        container_definitions=pulumi.Output.json_dumps(
            [{"name": "mlflow", "image": "i", "environment": env, "secrets": secrets}]
        ),
    )


def _listener(bad: bool) -> pulumi.Resource:
    return aws.lb.Listener(
        "https",
        load_balancer_arn="arn:lb",
        port=443,
        protocol="HTTPS",
        certificate_arn="arn:cert",
        ssl_policy="ELBSecurityPolicy-2016-08" if bad else "ELBSecurityPolicy-TLS13-1-2-2021-06",
        default_actions=[{"type": "forward", "target_group_arn": "arn:tg"}],
    )


def _s3_bucket(bad: bool) -> pulumi.Resource:
    return aws.s3.Bucket("bucket", opts=pulumi.ResourceOptions(protect=not bad))


def _cloud_sql(bad: bool) -> pulumi.Resource:
    return gcp.sql.DatabaseInstance(
        "sql",
        database_version="POSTGRES_16",
        settings={
            "tier": "db-custom-1-3840",
            "ip_configuration": {
                "ipv4_enabled": True,
                "ssl_mode": "ENCRYPTED_ONLY",
                "authorized_networks": [{"value": "0.0.0.0/0"}] if bad else [],
            },
        },
    )


def _cloud_sql_tls(bad: bool) -> pulumi.Resource:
    return gcp.sql.DatabaseInstance(
        "sql-tls",
        database_version="POSTGRES_16",
        settings={
            "tier": "db-custom-1-3840",
            "ip_configuration": {
                "ipv4_enabled": False,
                "private_network": "projects/p/global/networks/n",
                "ssl_mode": "ALLOW_UNENCRYPTED_AND_ENCRYPTED" if bad else "ENCRYPTED_ONLY",
            },
        },
    )


def _cloud_sql_deletion(bad: bool) -> pulumi.Resource:
    return gcp.sql.DatabaseInstance(
        "sql-del",
        database_version="POSTGRES_16",
        deletion_protection=not bad,
        settings={"tier": "db-custom-1-3840", "ip_configuration": {"ssl_mode": "ENCRYPTED_ONLY"}},
    )


def _gcs(bad: bool) -> pulumi.Resource:
    return gcp.storage.Bucket(
        "gcs",
        location="EU",
        public_access_prevention="inherited" if bad else "enforced",
        uniform_bucket_level_access=True,
        opts=pulumi.ResourceOptions(protect=True),
    )


def _gcs_member(bad: bool) -> pulumi.Resource:
    return gcp.storage.BucketIAMMember(
        "gcs-member",
        bucket="b",
        role="roles/storage.objectViewer",
        member="allUsers" if bad else "serviceAccount:mlflow@p.iam.gserviceaccount.com",
    )


def _gcp_project_role(bad: bool) -> pulumi.Resource:
    return gcp.projects.IAMMember(
        "project-role",
        project="p",
        role="roles/storage.objectAdmin" if bad else "roles/cloudsql.client",
        member="serviceAccount:mlflow@p.iam.gserviceaccount.com",
    )


def _cloud_run(bad: bool) -> pulumi.Resource:
    secret: gcp.cloudrunv2.ServiceTemplateContainerEnvArgsDict = {
        "name": "AUTH_PASSWORD",
        "value_source": {"secret_key_ref": {"secret": "s"}},
    }
    plain: gcp.cloudrunv2.ServiceTemplateContainerEnvArgsDict = {
        "name": "DATABASE_URI",
        "value": "postgresql://mlflow:s3cr3t@10.0.0.3/mlflow",
    }
    return gcp.cloudrunv2.Service(
        "run",
        location="europe-west1",
        template={"containers": [{"image": "i", "envs": [plain if bad else secret]}]},
    )


def _cloud_run_args(bad: bool) -> pulumi.Resource:
    args = ["--admin-password", "hunter2hunter2"] if bad else ["--workers", "2"]
    return gcp.cloudrunv2.Service(
        "run-args",
        location="europe-west1",
        template={"containers": [{"image": "i", "args": args}]},
    )


def _azure_db(bad: bool) -> pulumi.Resource:
    return azure.dbforpostgresql.Server(
        "pg",
        resource_group_name="rg",
        network={"public_network_access": "Enabled" if bad else "Disabled"},
        opts=pulumi.ResourceOptions(protect=True),
    )


def _azure_db_in_vnet(bad: bool) -> pulumi.Resource:
    subnet = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/db"
    return azure.dbforpostgresql.Server(
        "pg-vnet",
        resource_group_name="rg",
        network={} if bad else {"delegated_subnet_resource_id": subnet},
        opts=pulumi.ResourceOptions(protect=True),
    )


def _azure_firewall(bad: bool) -> pulumi.Resource:
    return azure.dbforpostgresql.FirewallRule(
        "fw",
        resource_group_name="rg",
        server_name="pg",
        start_ip_address="0.0.0.0" if bad else "203.0.113.10",
        end_ip_address="255.255.255.255" if bad else "203.0.113.10",
    )


def _azure_secure_transport(bad: bool) -> pulumi.Resource:
    return azure.dbforpostgresql.Configuration(
        "tls",
        resource_group_name="rg",
        server_name="pg",
        configuration_name="require_secure_transport",
        value="off" if bad else "on",
        source="user-override",
    )


def _azure_storage(bad: bool) -> pulumi.Resource:
    return azure.storage.StorageAccount(
        "sa",
        resource_group_name="rg",
        kind="StorageV2",
        sku={"name": "Standard_LRS"},
        allow_blob_public_access=bad,
        minimum_tls_version="TLS1_2",
        opts=pulumi.ResourceOptions(protect=True),
    )


def _azure_storage_tls(bad: bool) -> pulumi.Resource:
    return azure.storage.StorageAccount(
        "sa-tls",
        resource_group_name="rg",
        kind="StorageV2",
        sku={"name": "Standard_LRS"},
        allow_blob_public_access=False,
        minimum_tls_version="TLS1_0" if bad else "TLS1_2",
        opts=pulumi.ResourceOptions(protect=True),
    )


def _azure_storage_protect(bad: bool) -> pulumi.Resource:
    return azure.storage.StorageAccount(
        "sa-protect",
        resource_group_name="rg",
        kind="StorageV2",
        sku={"name": "Standard_LRS"},
        allow_blob_public_access=False,
        opts=pulumi.ResourceOptions(protect=not bad),
    )


def _azure_container(bad: bool) -> pulumi.Resource:
    return azure.storage.BlobContainer(
        "blobs",
        resource_group_name="rg",
        account_name="sa",
        public_access=azure.storage.PublicAccess.BLOB if bad else azure.storage.PublicAccess.NONE,
    )


def _azure_role(bad: bool) -> pulumi.Resource:
    scope = "/subscriptions/s/resourceGroups/rg"
    account = f"{scope}/providers/Microsoft.Storage/storageAccounts/sa"
    return azure.authorization.RoleAssignment(
        "role",
        principal_id="00000000-0000-0000-0000-000000000001",
        role_definition_id="/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/"
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        scope=scope if bad else account,
    )


def _container_app(bad: bool) -> pulumi.Resource:
    env: azure.app.EnvironmentVarArgsDict = (
        {"name": "AUTH_PASSWORD", "value": "correct-horse-battery"}
        if bad
        else {"name": "AUTH_PASSWORD", "secret_ref": "auth-password"}
    )
    return azure.app.ContainerApp(
        "app",
        resource_group_name="rg",
        configuration={"ingress": {"external": True, "target_port": 5000}},
        template={"containers": [{"name": "mlflow", "image": "i", "env": [env]}]},
    )


def _container_app_ingress(bad: bool | str) -> pulumi.Resource:
    return azure.app.ContainerApp(
        "app-ingress",
        resource_group_name="rg",
        configuration={
            "ingress": {
                "external": True,
                "target_port": 5000,
                "allow_insecure": bad == "http",
                "custom_domains": [
                    {
                        "name": "mlflow.example.com",
                        "binding_type": "Disabled" if bad == "domain" else "SniEnabled",
                        "certificate_id": "/subscriptions/s/certificates/c",
                    }
                ],
            }
        },
        template={"containers": [{"name": "mlflow", "image": "i"}]},
    )


def _docker(bad: bool) -> pulumi.Resource:
    return docker.Container(
        "container",
        image="i",
        envs=["MINIO_ROOT_PASSWORD=minio-secret"] if bad else ["MINIO_ROOT_PASSWORD_FILE=x"],
    )


CASES = [
    Case("rds-public", _rds, "no-public-database", "publiclyAccessible is true"),
    Case("cloud-sql-public", _cloud_sql, "no-public-database", "authorized networks ['0.0.0.0/0']"),
    Case("azure-db-public", _azure_db, "no-public-database", "publicNetworkAccess is Enabled"),
    Case("azure-db-unset", _azure_db_in_vnet, "no-public-database", "publicNetworkAccess is unset (Enabled)"),
    Case("azure-firewall-open", _azure_firewall, "no-public-database", "0.0.0.0-255.255.255.255"),
    Case("cloud-sql-tls", _cloud_sql_tls, "storage-and-database-encryption", "sslMode is ALLOW_"),
    Case(
        "azure-db-tls", _azure_secure_transport, "storage-and-database-encryption", "is off"
    ),
    Case(
        "azure-storage-tls",
        _azure_storage_tls,
        "storage-and-database-encryption",
        "minimumTlsVersion is TLS1_0",
    ),
    Case(
        "s3-public-block",
        _s3_public_block,
        "bucket-public-access-blocked",
        "blockPublicPolicy not true",
    ),
    Case("gcs-prevention", _gcs, "bucket-public-access-blocked", "publicAccessPrevention is inherited"),
    Case("gcs-all-users", _gcs_member, "bucket-public-access-blocked", "grants the bucket to ['allUsers']"),
    Case("azure-blob-public", _azure_storage, "bucket-public-access-blocked", "allowBlobPublicAccess is True"),
    Case("azure-container-public", _azure_container, "bucket-public-access-blocked", "publicAccess is Blob"),
    Case("iam-wildcard", _iam, "storage-iam-scoped", "statement Rw allows ['s3:GetObject'] on ['*']"),
    Case("gcp-project-storage-role", _gcp_project_role, "storage-iam-scoped", "roles/storage.objectAdmin on the whole project"),
    Case("azure-rg-storage-role", _azure_role, "storage-iam-scoped", "Storage Blob Data Contributor at scope"),
    Case("ecs-env", _ecs, "no-plain-credentials", "container 'mlflow': DB_PASSWORD is a secret of the image's contract"),
    Case("cloud-run-env", _cloud_run, "no-plain-credentials", "DATABASE_URI is a secret"),
    Case("cloud-run-args", _cloud_run_args, "no-plain-credentials", "--admin-password is given on the command line"),
    Case("container-app-env", _container_app, "no-plain-credentials", "AUTH_PASSWORD is a secret"),
    Case("docker-env", _docker, "no-plain-credentials", "MINIO_ROOT_PASSWORD is named like a credential"),
    Case("alb-old-tls", _listener, "https-where-domain-set", "allows TLS below 1.2"),
    Case("container-app-http", lambda bad: _container_app_ingress(bad and "http"), "https-where-domain-set", "allowInsecure is true"),
    Case("container-app-domain", lambda bad: _container_app_ingress(bad and "domain"), "https-where-domain-set", "mlflow.example.com has no SNI certificate binding"),
    Case("s3-unprotected", _s3_bucket, "deletion-protection", "not protected from deletion in stack 'production'"),
    Case("cloud-sql-unprotected", _cloud_sql_deletion, "deletion-protection", "deletionProtection is false"),
    Case("azure-storage-unprotected", _azure_storage_protect, "deletion-protection", "not protected from deletion"),
]  # fmt: skip


def build(case: Case, bad: bool) -> list[rules.Resource]:

    def program() -> None:
        case.build(bad)

    result = harness.run_program(program)
    return [
        rules.Resource(r.type, r.name, r.inputs, stack=PRODUCTION, protect=protected(r))
        for r in result.mocks.resources
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_bad_resource_is_caught_and_the_fixed_one_passes(case: Case) -> None:
    bad = rules.violations(build(case, True))
    assert [name for name, _ in bad] == [case.policy], bad
    ((_, message),) = bad
    assert case.message in message
    (resource,) = build(case, True)
    assert message.startswith(f"{resource.label()}: ") and ". Fix: " in message
    assert rules.violations(build(case, False)) == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_the_rules_read_the_policy_sdks_proxies_alike(case: Case) -> None:
    """The engine hands the rules read-only Mapping/Sequence proxies, not dicts and lists."""
    for bad in (True, False):
        plain = build(case, bad)
        proxied = [replace(r, props=unknown_checking_proxy(dict(r.props))) for r in plain]
        assert rules.violations(proxied) == rules.violations(plain)


def test_every_policy_has_a_bad_case() -> None:
    assert {c.policy for c in CASES} == {r.name for r in rules.RULES}
