"""What a real `pulumi up` on AWS would trip on, refused by the config before any resource:
the region, subnets, tags, the admin password's characters, the KMS key's region."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from stacks.aws import client_variables
from stacks.config import aws_region_of
from tests import harness

KEY = "arn:aws:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VPC = {
    "vpcId": "vpc-0123456789abcdef0",
    "publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    "privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
}


def refused(config: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> str:
    """The one-line error of the real program for `config` (cloud aws); nothing registered."""
    mocks = harness.new_mocks()
    with pytest.raises(pulumi.RunError) as error:
        harness.run_program(config={"cloud": "aws", **config}, secret_keys=secret_keys, mocks=mocks)
    assert mocks.resources == []
    message = str(error.value)
    assert "\n" not in message and "allowed" in message, message
    return message


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No region anywhere the AWS provider would look."""
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing"))


@pytest.mark.usefixtures("no_region")
def test_a_missing_region_is_refused_by_name() -> None:
    assert refused({}).startswith("aws:region: invalid value (unset); allowed: an AWS region")


@pytest.mark.usefixtures("no_region")
@pytest.mark.parametrize("region", ["mars-1", "eu-west", "EU-WEST-1", "eu-west-1a"])
def test_an_unknown_region_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("AWS_REGION", region)
    assert refused({}).startswith(f"aws:region: invalid value {region!r}; allowed")


@pytest.mark.usefixtures("no_region")
def test_aws_default_region_is_accepted_as_the_provider_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    result = harness.run_program(config={"cloud": "aws", "scenario": "artifacts-only"})
    assert result.outputs["scenario"] == "artifacts-only"


def test_where_the_region_comes_from(tmp_path: Path) -> None:
    shared = tmp_path / "config"
    shared.write_text("[default]\nregion = eu-north-1\n[profile ml]\nregion = ap-southeast-5\n")
    files = {"AWS_CONFIG_FILE": str(shared)}
    assert aws_region_of({"aws:region": "us-east-2"}, {"AWS_REGION": "eu-west-1"}) == "us-east-2"
    assert aws_region_of({}, {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "x"}) == "eu-west-1"
    assert aws_region_of({}, {"AWS_DEFAULT_REGION": "eu-west-3"}) == "eu-west-3"
    assert aws_region_of({}, files) == "eu-north-1"
    assert aws_region_of({}, {**files, "AWS_PROFILE": "ml"}) == "ap-southeast-5"
    assert aws_region_of({"aws:profile": "ml"}, files) == "ap-southeast-5"
    assert aws_region_of({}, {"AWS_CONFIG_FILE": str(tmp_path / "none")}) is None


@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "ap-southeast-5", "il-central-1"])
def test_real_region_names_are_accepted(monkeypatch: pytest.MonkeyPatch, region: str) -> None:
    monkeypatch.setenv("AWS_REGION", region)
    # A KMS key in another region is the next refusal: the region itself passed.
    assert refused({"kmsKeyArn": KEY.format(region="eu-west-1")}).startswith(
        f"mlflow:kmsKeyArn: invalid value {KEY.format(region='eu-west-1')!r}; allowed: a KMS key "
        f"in the stack's region {region}"
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (
            {"publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa1"]},
            "publicSubnetIds",
        ),
        (
            {"privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb1"]},
            "privateSubnetIds",
        ),
        ({"privateSubnetIds": VPC["publicSubnetIds"]}, "privateSubnetIds"),
    ],
)
def test_the_same_subnet_twice_is_refused(change: dict[str, Any], key: str) -> None:
    config = {k: json.dumps(v) if isinstance(v, list) else v for k, v in {**VPC, **change}.items()}
    assert refused(config).startswith(f"mlflow:{key}: invalid value ")
    assert "distinct subnet ids" in refused(config)


@pytest.mark.parametrize(
    ("tags", "allowed"),
    [
        ({"aws:createdBy": "me"}, "not aws:"),
        ({"AWS:team": "ml"}, "not aws:"),
        ({"team": "x" * 257}, "at most 256 characters"),
    ],
)
def test_tags_aws_would_refuse_are_refused(tags: dict[str, str], allowed: str) -> None:
    message = refused({"tags": json.dumps(tags)})
    assert message.startswith("mlflow:tags: invalid value ") and allowed in message


def test_a_tag_value_of_256_characters_is_fine() -> None:
    harness.run_program(
        config={"cloud": "aws", "scenario": "artifacts-only", "tags": json.dumps({"t": "x" * 256})}
    )


def test_a_non_ascii_admin_password_is_refused_without_showing_it() -> None:
    message = refused({"adminPassword": "pässwörd-long-enough"}, ("adminPassword",))
    assert message.startswith("mlflow:adminPassword: a secret with non-ASCII characters")
    assert "pässwörd" not in message


def test_client_environment_never_turns_a_missing_value_into_none() -> None:
    assert client_variables({"MLFLOW_TRACKING_URI": "https://x", "N": 1}) == {
        "MLFLOW_TRACKING_URI": "https://x",
        "N": "1",
    }
    with pytest.raises(ValueError, match=r"^clientEnvironment: no value for AWS_ROLE_ARN$"):
        client_variables({"MLFLOW_TRACKING_URI": "https://x", "AWS_ROLE_ARN": None})


@pytest.mark.parametrize(
    ("config", "start"),
    [
        (
            {"privateEndpoints": "true", **VPC},
            "mlflow:privateEndpoints: invalid value 'true'; allowed: false when mlflow:vpcId",
        ),
        ({"privateEndpoints": "maybe"}, "mlflow:privateEndpoints: invalid value 'maybe'"),
        ({"loadBalancerAccessLogs": "no"}, "mlflow:loadBalancerAccessLogs: invalid value 'no'"),
    ],
)
def test_network_and_log_options_refused_by_name(config: dict[str, Any], start: str) -> None:
    assert refused(config).startswith(start)
