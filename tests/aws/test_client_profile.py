"""Scenario direct: what the stack hands clients must make boto3 assume the client role.

botocore follows `AWS_ROLE_ARN` only with `AWS_WEB_IDENTITY_TOKEN_FILE`; the stack used to
export AWS_ROLE_ARN alone, so clients kept their own credentials and got 403. It now
exports `clientAwsConfig` (an ~/.aws/config profile) and `AWS_PROFILE` in
`clientEnvironment`. Proven here with botocore against moto in server mode with IAM checks
on: the source user may only call sts:AssumeRole, the role has the stack's bucket policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from mlflow_iac.aws.client import SOURCE_PROFILE, client_aws_config, client_profile_name
from mlflow_iac.aws.iam import bucket_access_policy, client_assume_role_policy
from tests import harness, services

ACCOUNT = "123456789012"  # moto's default account
REGION = "eu-west-1"
BUCKET = "mlflow-artifacts"
USER = "scientist"
SETUP_CALLS = 7
"""The unchecked calls of `_setup` (as the deploying admin); moto checks IAM after them."""


# ---------------------------------------------------------------------------- pure


def test_profile_section_assumes_the_role_from_the_default_profile() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/mlflow-client-1a2b3c"
    assert client_aws_config("mlflow-prod", role, REGION) == (
        "[profile mlflow-prod]\n"
        f"role_arn = {role}\n"
        f"source_profile = {SOURCE_PROFILE}\n"
        f"region = {REGION}\n"
    )


def test_profile_name_is_project_and_stack() -> None:
    assert client_profile_name("mlflow", "prod") == "mlflow-prod"
    assert client_profile_name("my proj", "org/team/dev") == "my-proj-org-team-dev"


@pytest.mark.parametrize(
    ("profile", "role", "region", "message"),
    [
        ("a b", f"arn:aws:iam::{ACCOUNT}:role/r", REGION, "profile: 'a b'"),
        ("p", f"arn:aws:iam::{ACCOUNT}:user/u", REGION, "role_arn: "),
        ("p", f"arn:aws:iam::{ACCOUNT}:role/r\n[default]", REGION, "role_arn: "),
        ("p", f"arn:aws:iam::{ACCOUNT}:role/r", "eu-west-1\nx", "region: "),
    ],
)
def test_profile_section_refuses_what_would_break_the_file(
    profile: str, role: str, region: str, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{message}"):
        client_aws_config(profile, role, region)


# ---------------------------------------------------------------------------- botocore vs moto


@pytest.fixture(scope="module")
def iam_checking_moto() -> Iterator[services.Emulator]:
    with services.moto_s3({"INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)}) as emulator:
        yield emulator


def _setup(endpoint: str) -> tuple[dict[str, str], str]:
    """As the admin (moto's unchecked first calls): a user whose only right is
    sts:AssumeRole, the client role with the stack's policy documents, the bucket.
    Returns the user's access key and the role ARN."""
    admin = boto3.Session(
        aws_access_key_id="admin", aws_secret_access_key="admin", region_name=REGION
    )
    iam = admin.client("iam", endpoint_url=endpoint)
    iam.create_user(UserName=USER)
    key = iam.create_access_key(UserName=USER)["AccessKey"]
    # The stack's trust policy, in its clientPrincipalArns form: moto checks the principal
    # by exact ARN and does not read the account root as "this account's principals".
    trust = client_assume_role_policy(ACCOUNT, [f"arn:aws:iam::{ACCOUNT}:user/{USER}"])
    role = iam.create_role(RoleName="mlflow-client", AssumeRolePolicyDocument=json.dumps(trust))
    # moto checks STS actions against the resource "*", so the grant names no role.
    assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    iam.put_user_policy(UserName=USER, PolicyName="assume", PolicyDocument=json.dumps(assume))
    policy = iam.create_policy(
        PolicyName="mlflow-client",
        PolicyDocument=json.dumps(bucket_access_policy(f"arn:aws:s3:::{BUCKET}")),
    )
    iam.attach_role_policy(RoleName="mlflow-client", PolicyArn=policy["Policy"]["Arn"])
    admin.client("s3", endpoint_url=endpoint).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return {"id": key["AccessKeyId"], "secret": key["SecretAccessKey"]}, role["Role"]["Arn"]


def _client_process_env(
    monkeypatch: pytest.MonkeyPatch, endpoint: str, variables: dict[str, str], files: Path
) -> None:
    """The environment of a fresh client process: only the user's own files and `variables`
    (AWS_ENDPOINT_URL points every AWS service, STS included, at moto)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(files / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(files / "config"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


@pytest.mark.e2e
def test_generated_profile_makes_boto3_assume_the_client_role(
    iam_checking_moto: services.Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = iam_checking_moto.endpoint
    key, role_arn = _setup(endpoint)
    # The user's own credentials, as `aws configure` writes them.
    (tmp_path / "credentials").write_text(
        f"[{SOURCE_PROFILE}]\naws_access_key_id = {key['id']}\n"
        f"aws_secret_access_key = {key['secret']}\n"
    )

    # Before: clientEnvironment carried AWS_ROLE_ARN (and the user's config had no profile).
    (tmp_path / "config").write_text(f"[default]\nregion = {REGION}\n")
    _client_process_env(monkeypatch, endpoint, {"AWS_ROLE_ARN": role_arn}, tmp_path)
    before = boto3.Session()
    assert before.get_credentials().access_key == key["id"]  # no role assumed
    identity = before.client("sts").get_caller_identity()["Arn"]
    assert identity == f"arn:aws:iam::{ACCOUNT}:user/{USER}"
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        before.client("s3").put_object(Bucket=BUCKET, Key="runs/before.txt", Body=b"x")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403

    # After: clientAwsConfig appended to the user's config, AWS_PROFILE exported.
    profile = client_profile_name("mlflow", "prod")
    with (tmp_path / "config").open("a") as config:
        config.write("\n" + client_aws_config(profile, role_arn, REGION))
    _client_process_env(monkeypatch, endpoint, {"AWS_PROFILE": profile}, tmp_path)
    after = boto3.Session()
    assert after.region_name == REGION
    credentials = after.get_credentials()
    assert credentials.method == "assume-role"
    assert credentials.access_key != key["id"]
    assert credentials.token  # a role session's temporary credentials
    identity = after.client("sts").get_caller_identity()["Arn"]
    # moto answers with the assumed role's session: it saw and granted the AssumeRole call.
    assert identity.startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/mlflow-client/")
    s3 = after.client("s3")
    s3.put_object(Bucket=BUCKET, Key="runs/after.txt", Body=b"logged")
    assert s3.get_object(Bucket=BUCKET, Key="runs/after.txt")["Body"].read() == b"logged"
    # The role reaches this bucket only (moto applies its policy, it does not allow all).
    with pytest.raises(botocore.exceptions.ClientError) as other:
        s3.list_objects_v2(Bucket="another-bucket")
    assert other.value.response["Error"]["Code"] == "AccessDenied"


def test_stack_outputs_are_that_profile() -> None:
    """The direct stack's clientEnvironment names the profile clientAwsConfig defines."""
    result = harness.run_program(config={"cloud": "aws", "scenario": "direct"})
    env = result.outputs["clientEnvironment"]
    config = result.outputs["clientAwsConfig"]
    assert "AWS_ROLE_ARN" not in env
    profile = env["AWS_PROFILE"]
    assert config == client_aws_config(profile, result.outputs["clientRoleArn"], REGION)
    assert "clientAwsConfig" not in result.secret_outputs
