"""Stack config: invalid values stop the real program before any resource exists, with one
line naming the key, the value and what is allowed; `parse_config` unit tests without mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from stacks.config import (
    KNOWN_KEYS,
    ConfigError,
    Secret,
    StackConfig,
    parse_config,
)
from tests import harness
from tests.local import mocks as _local_mocks  # noqa: F401  # the program's resources, if any

# (config, secret keys, key named in the error, text the error must show: value or allowed)
INVALID: list[tuple[dict[str, Any], tuple[str, ...], str, str]] = [
    ({"cloud": "mars"}, (), "cloud", "'mars'"),
    ({"scenario": "bogus"}, (), "scenario", "'bogus'"),
    ({"cloud": "aws", "scenario": "local-server"}, (), "scenario", "'local-server'"),
    ({"dbEngine": "oracle"}, (), "dbEngine", "'oracle'"),
    ({"scenario": "local-server", "dbEngine": "mysql"}, (), "dbEngine", "no database"),
    (
        {"cloud": "aws", "scenario": "artifacts-only", "dbSize": "small"},
        (),
        "dbSize",
        "no database",
    ),
    ({"cloud": "aws", "dbSize": "huge"}, (), "dbSize", "'huge'"),
    ({"cloud": "aws", "dbStorageGb": "10"}, (), "dbStorageGb", "20 to 16384"),
    ({"cloud": "aws", "dbStorageGb": "lots"}, (), "dbStorageGb", "'lots'"),
    ({"cloud": "aws", "dbHighAvailability": "maybe"}, (), "dbHighAvailability", "true or false"),
    ({"cloud": "aws", "dbBackupRetentionDays": "40"}, (), "dbBackupRetentionDays", "1 to 35"),
    ({"authEnabled": "yes"}, (), "authEnabled", "'yes'"),
    ({"scenario": "artifacts-only", "authEnabled": "true"}, (), "authEnabled", "artifacts-only"),
    ({"authEnabled": "true", "adminUsername": "1admin"}, (), "adminUsername", "'1admin'"),
    ({"authEnabled": "true", "adminPassword": "in plain text!"}, (), "adminPassword", "--secret"),
    (
        {"authEnabled": "true", "adminPassword": "short"},
        ("adminPassword",),
        "adminPassword",
        "at least 12",
    ),
    (
        {"adminPassword": "long enough secret"},
        ("adminPassword",),
        "adminPassword",
        "authEnabled is false",
    ),
    ({"authEnabled": "true", "authDefaultPermission": "ALL"}, (), "authDefaultPermission", "'ALL'"),
    (
        {"authEnabled": "false", "adminUsername": "root"},
        (),
        "adminUsername",
        "authEnabled is false",
    ),
    (
        {"authEnabled": "true", "adminPassword": "long enough s\u00e9cret"},
        ("adminPassword",),
        "adminPassword",
        "non-ASCII",
    ),
    ({"replicas": "2"}, (), "replicas", "1 on cloud 'local'"),
    ({"cloud": "aws", "maxReplicas": "0"}, (), "maxReplicas", "1 to 100"),
    ({"cloud": "aws", "minReplicas": "many"}, (), "minReplicas", "'many'"),
    ({"serverCpu": "3"}, (), "serverCpu", "0.25, 0.5, 1.0, 2.0, 4.0"),
    ({"serverMemoryMb": "100"}, (), "serverMemoryMb", "512 to 32768"),
    ({"serverMemoryMb": "16384"}, (), "serverMemoryMb", "512 to 8192 MB for serverCpu 1"),
    ({"domain": "not a domain"}, (), "domain", "'not a domain'"),
    ({"allowedHosts": "mlflow.internal"}, (), "allowedHosts", "a list of strings"),
    ({"allowedHosts": '["bad host!"]'}, (), "allowedHosts", "host names"),
    ({"cloud": "aws", "allowedCidrs": '["10.0.0.1/8"]'}, (), "allowedCidrs", "host bits zero"),
    ({"cloud": "aws", "allowedCidrs": "[]"}, (), "allowedCidrs", "at least one"),
    ({"cloud": "aws", "logRetentionDays": "2"}, (), "logRetentionDays", "'2'"),
    ({"localPort": "80"}, (), "localPort", "1024 to 65535"),
    ({"scenario": "direct", "localPort": "65535"}, (), "localPort", "localPort + 1"),
    ({"cloud": "aws", "artifactVersioning": "on"}, (), "artifactVersioning", "'on'"),
    ({"dbSize": "small"}, (), "dbSize", "nothing with cloud 'local'"),
    (
        {"scenario": "local-server", "artifactNoncurrentDays": "7"},
        (),
        "artifactNoncurrentDays",
        "cloud 'local'",
    ),
    ({"cloud": "aws", "localPort": "8080"}, (), "localPort", "nothing with cloud 'aws'"),
    ({"cloud": "aws", "artifactNoncurrentDays": "0"}, (), "artifactNoncurrentDays", "1 to 3650"),
    ({"artifactForceDestroy": "nope"}, (), "artifactForceDestroy", "true or false"),
    (
        {"scenario": "direct", "clientAccessKey": "true"},
        (),
        "clientAccessKey",
        "'aws', 'gcp', 'azure'",
    ),
    (
        {"cloud": "aws", "scenario": "proxied", "clientAccessKey": "true"},
        (),
        "clientAccessKey",
        "scenario 'direct'",
    ),
    ({"vpcCidr": "10.0.0.0/16"}, (), "vpcCidr", "it applies to cloud 'aws'"),
    ({"vpcId": "vpc-0123456789abcdef0"}, (), "vpcId", "it applies to cloud 'aws'"),
    ({"publicSubnetIds": '["subnet-0123456789abcdef0"]'}, (), "publicSubnetIds", "cloud 'aws'"),
    ({"privateSubnetIds": '["subnet-0123456789abcdef0"]'}, (), "privateSubnetIds", "cloud 'aws'"),
    ({"cloud": "aws", "vpcId": "vpc-0123456789abcdef0"}, (), "publicSubnetIds", "(unset)"),
    ({"deletionProtection": "1"}, (), "deletionProtection", "'1'"),
    (
        {"kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/abcd"},
        (),
        "kmsKeyArn",
        "nothing with cloud 'local'",
    ),
    ({"cloud": "aws", "kmsKeyArn": "alias/mlflow"}, (), "kmsKeyArn", "a KMS key ARN"),
    ({"tags": '{"team": 1}'}, (), "tags", "string values"),
    ({"tags": '{"bad key!": "x"}'}, (), "tags", "tag keys"),
    ({"tags": "team=ml"}, (), "tags", "'team=ml'"),
    ({"region": "eu-west-1"}, (), "region", "unknown config key"),
]


@pytest.mark.parametrize(
    ("config", "secret_keys", "key", "shown"),
    INVALID,
    ids=[f"{case[2]}-{i}" for i, case in enumerate(INVALID)],
)
def test_invalid_config_stops_the_real_program_before_any_resource(
    config: dict[str, Any], secret_keys: tuple[str, ...], key: str, shown: str
) -> None:
    mocks = harness.new_mocks()
    with pytest.raises(pulumi.RunError) as error:
        harness.run_program(config=config, secret_keys=secret_keys, mocks=mocks)
    message = str(error.value)
    assert message.startswith(f"mlflow:{key}: "), message
    assert shown in message, message
    assert "allowed" in message, message
    assert "\n" not in message
    assert mocks.resources == []


def test_at_least_25_distinct_invalid_configurations() -> None:
    distinct = {tuple(sorted(case[0].items())) for case in INVALID}
    assert len(distinct) == len(INVALID) >= 25


def test_a_secret_value_is_never_echoed() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"authEnabled": "true", "adminPassword": "tiny"}, frozenset({"adminPassword"}))
    assert "tiny" not in str(error.value)
    with pytest.raises(ConfigError) as error:
        parse_config({"adminPassword": "not shown at all"}, frozenset({"adminPassword"}))
    assert "not shown at all" not in str(error.value)


# One invalid value per key, each in a config where that key is otherwise allowed: proves
# every documented key is actually read (a dead key would be accepted silently).
_EXISTING_VPC = {
    "cloud": "aws",
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": '["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]',
    "privateSubnetIds": '["subnet-0123456789abcdef2", "subnet-0123456789abcdef3"]',
}
_AZURE_SUBNET = (
    "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/net/providers/"
    "Microsoft.Network/virtualNetworks/hub/subnets/"
)
_EXISTING_AZURE_SUBNETS = {
    "cloud": "azure",
    "appsSubnetId": _AZURE_SUBNET + "apps",
    "dbSubnetId": _AZURE_SUBNET + "db",
}
PROVIDER = {"azure-native:location": "westeurope"}
"""Provider settings every case gets (read by cloud azure only)."""
INVALID_BY_KEY: dict[str, tuple[dict[str, str], str]] = {
    "cloud": ({}, "mars"),
    "scenario": ({}, "bogus"),
    "dbEngine": ({}, "oracle"),
    "dbSize": ({}, "huge"),
    "dbStorageGb": ({}, "1"),
    "dbHighAvailability": ({}, "maybe"),
    "dbBackupRetentionDays": ({}, "0"),
    "authEnabled": ({}, "yes"),
    "adminUsername": ({}, "-x"),
    "adminPassword": ({"authEnabled": "true"}, "short"),
    "authDefaultPermission": ({"authEnabled": "true"}, "ALL"),
    "replicas": ({"cloud": "aws"}, "0"),
    "minReplicas": ({"cloud": "aws"}, "0"),
    "maxReplicas": ({"cloud": "aws"}, "0"),
    "serverCpu": ({}, "3"),
    "serverMemoryMb": ({}, "1"),
    "domain": ({}, "x"),
    "allowedHosts": ({}, "x"),
    "allowedCidrs": ({}, "x"),
    "logRetentionDays": ({}, "2"),
    "localPort": ({}, "1"),
    "artifactVersioning": ({}, "x"),
    "artifactNoncurrentDays": ({}, "0"),
    "artifactForceDestroy": ({}, "x"),
    "clientAccessKey": ({"cloud": "aws", "scenario": "direct"}, "x"),
    "allowHttp": ({"cloud": "aws"}, "maybe"),
    "privateEndpoints": ({"cloud": "aws"}, "maybe"),
    "loadBalancerAccessLogs": ({"cloud": "aws"}, "no"),
    "ephemeralStorageGb": ({"cloud": "aws"}, "20"),
    "artifactMaxUploadMb": ({"cloud": "aws"}, "0"),
    "kmsKeyArn": ({"cloud": "aws"}, "arn:aws:kms:eu-west-1:123456789012:alias/mlflow"),
    "vpcCidr": ({"cloud": "aws"}, "10.0.0.0/8"),
    "vpcId": ({"cloud": "aws"}, "vpc-x"),
    "publicSubnetIds": (_EXISTING_VPC, '["subnet-0123456789abcdef0"]'),
    "privateSubnetIds": (_EXISTING_VPC, '["x"]'),
    "deletionProtection": ({}, "x"),
    "tags": ({}, "[]"),
    "dbPrivateIp": ({"cloud": "gcp"}, "x"),
    "dbTier": ({"cloud": "gcp"}, "n1-standard-1"),
    "clientMembers": ({"cloud": "gcp", "scenario": "direct"}, '["ana@example.com"]'),
    "kmsKeyName": ({"cloud": "gcp"}, "alias/x"),
    "iapMembers": ({"cloud": "gcp"}, '["allUsers"]'),
    "resourceGroupName": ({"cloud": "azure"}, "bad/name"),
    "vnetCidr": ({"cloud": "azure"}, "10.0.0.0/24"),
    "appsSubnetId": (
        {"cloud": "azure", "scenario": "artifacts-only", "allowedCidrs": '["10.0.0.0/8"]'},
        "subnet-1",
    ),
    "dbSubnetId": (_EXISTING_AZURE_SUBNETS, "/subscriptions/x"),
    "clientPrincipalIds": ({"cloud": "azure", "scenario": "direct"}, '["alice"]'),
}
GCP_PROVIDER = {"gcp:project": "ml-platform-prod", "gcp:region": "europe-west1"}
"""The GCP provider's project and region (ignored by the other clouds)."""
ALL_PROVIDERS = {**PROVIDER, **GCP_PROVIDER, "aws:region": "eu-west-1"}
"""Every cloud's provider settings, so any cloud's base config is valid."""


def test_every_known_key_has_an_invalid_case() -> None:
    assert set(INVALID_BY_KEY) == set(KNOWN_KEYS)


@pytest.mark.parametrize("key", list(INVALID_BY_KEY))
def test_every_known_key_is_read(key: str) -> None:
    base, bad = INVALID_BY_KEY[key]
    parse_config(base, frozenset({"adminPassword"}), ALL_PROVIDERS)  # the base alone is valid
    with pytest.raises(ConfigError, match=f"^mlflow:{key}: "):
        parse_config({**base, key: bad}, frozenset({"adminPassword"}), ALL_PROVIDERS)


# parse_config without mocks.


def test_local_defaults() -> None:
    config = parse_config({})
    assert config.cloud == "local" and config.scenario == "proxied"
    assert config.scenario_number == 5
    assert config.database is not None and config.database.engine == "postgresql"
    assert config.auth.enabled is False
    assert config.service.replicas == 1 and config.service.local_port == 5000
    assert config.service.cpu == 1.0 and config.service.memory_mb == 2048
    assert config.deletion_protection is False
    assert config.artifacts.force_destroy is True
    assert config.needs_database and config.needs_bucket


def test_aws_defaults_are_secure() -> None:
    config = parse_config({"cloud": "aws"}, provider={"aws:region": "eu-west-1"})
    assert config.auth.enabled is True
    assert config.deletion_protection is True
    assert config.artifacts.force_destroy is False
    assert config.service.replicas == 2 and config.service.max_replicas == 4
    assert config.service.allowed_cidrs == ("0.0.0.0/0",)


@pytest.mark.parametrize(
    ("scenario", "number", "database", "bucket"),
    [
        ("local-server", 3, False, False),
        ("direct", 4, True, True),
        ("proxied", 5, True, True),
        ("artifacts-only", 6, False, True),
    ],
)
def test_scenarios(scenario: str, number: int, database: bool, bucket: bool) -> None:
    config = parse_config({"scenario": scenario})
    assert config.scenario_number == number
    assert config.needs_database is database and config.needs_bucket is bucket
    assert config.auth.enabled is False


def test_values_are_parsed_and_normalised() -> None:
    config = parse_config(
        {
            "scenario": "direct",
            "dbEngine": "postgresql",
            "authEnabled": "TRUE",
            "adminUsername": "ml.admin@example",
            "adminPassword": "a long enough secret",
            "authDefaultPermission": "READ",
            "serverCpu": "0.5",
            "serverMemoryMb": "1024",
            "domain": "MLflow.Example.com.",
            "allowedHosts": '["Alias.internal:8080"]',
            "localPort": "8080",
            "tags": '{"team": "ml", "cost-center": "42"}',
        },
        frozenset({"adminPassword"}),
    )
    assert config.database is not None and config.database.engine == "postgresql"
    assert config.auth.enabled and config.auth.admin_username == "ml.admin@example"
    assert config.auth.admin_password == Secret("a long enough secret")
    assert config.auth.default_permission == "READ"
    assert config.service.cpu == 0.5 and config.service.memory_mb == 1024
    assert config.service.domain == "mlflow.example.com"
    assert config.service.allowed_hosts == ("alias.internal:8080",)
    assert config.service.local_port == 8080
    assert dict(config.tags) == {"team": "ml", "cost-center": "42"}


def test_secret_repr_hides_the_value() -> None:
    config = parse_config(
        {"authEnabled": "true", "adminPassword": "hide me please"}, frozenset({"adminPassword"})
    )
    assert "hide me please" not in repr(config)
    assert str(config.auth.admin_password) == "[secret]"


def test_config_is_frozen() -> None:
    config = parse_config({})
    with pytest.raises(AttributeError):
        config.cloud = "aws"  # type: ignore[misc]  # frozen dataclass: the point of the test
    assert isinstance(config, StackConfig)


def test_local_port_65534_is_fine_for_direct() -> None:
    assert parse_config({"scenario": "direct", "localPort": "65534"}).service.local_port == 65534


def test_mysql_with_auth_is_accepted() -> None:
    """The image runs basic-auth on MySQL/MariaDB (it creates MLflow's initial auth tables
    with unique constraint names, mlflow/mlflow#10964), so the pair is no longer refused."""
    config = parse_config({"dbEngine": "mysql", "authEnabled": "true"}, frozenset())
    assert config.auth.enabled
    assert config.database is not None and config.database.engine == "mysql"


@pytest.mark.parametrize(
    ("cloud", "provider", "guard", "value"),
    [
        ("gcp", GCP_PROVIDER, "iapMembers", '["group:ml@example.com"]'),
        ("azure", PROVIDER, "allowedCidrs", '["10.0.0.0/8"]'),
    ],
)
def test_artifacts_only_without_auth_needs_a_guard_on_gcp_and_azure(
    cloud: str, provider: dict[str, str], guard: str, value: str
) -> None:
    """No default in which an anonymous internet client can write: these clouds have no
    database for the auth tables in scenario artifacts-only, so the unguarded default is
    refused by name, and accepted once the guard is spelled out in config."""
    base = {"cloud": cloud, "scenario": "artifacts-only"}
    with pytest.raises(ConfigError) as caught:
        parse_config(base, frozenset(), provider)
    message = str(caught.value)
    assert message.startswith("mlflow:scenario: invalid value 'artifacts-only'"), message
    assert f"mlflow:{guard}" in message and "anyone" in message, message
    config = parse_config({**base, guard: value}, frozenset(), provider)
    assert config.scenario == "artifacts-only" and not config.auth.enabled
