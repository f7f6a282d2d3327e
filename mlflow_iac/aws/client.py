"""What a scenario-4 (direct) client pastes to reach the artifact bucket through the client
role: an `~/.aws/config` profile that boto3, botocore and the AWS CLI follow (pure; tested
without mocks and, for real, by botocore against moto's STS and S3).

Why a profile and not `AWS_ROLE_ARN`: botocore assumes a role named by the environment only
together with `AWS_WEB_IDENTITY_TOKEN_FILE` (web identity federation); `AWS_ROLE_ARN` alone
is ignored, so a client keeps its own credentials and gets 403 on the bucket. A profile with
`role_arn` and `source_profile` makes every boto3 client of the process call
`sts:AssumeRole` with the source profile's credentials and refresh the role's session before
it expires.
"""

from __future__ import annotations

import re

SOURCE_PROFILE = "default"
"""The profile whose credentials assume the role: the one `aws configure` / `aws configure
sso` writes first. Users with another profile, or on EC2 / ECS (no profile), change this
line (`source_profile = NAME`, or `credential_source = Ec2InstanceMetadata` /
`EcsContainer`)."""

_PROFILE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_REGION = re.compile(r"^[a-z0-9-]{1,32}$")
"""Shape check only (the stack refuses unknown regions earlier): no space or newline can
reach the file."""


def client_profile_name(project: str, stack: str) -> str:
    """The profile name of this stack's client role: `<project>-<stack>`, so two stacks'
    profiles sit side by side in one config file."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", f"{project}-{stack}")[:64]
    if not _PROFILE_NAME.match(name):
        raise ValueError(f"profile: {name!r} is not a usable AWS profile name")
    return name


def client_aws_config(profile: str, role_arn: str, region: str) -> str:
    """The `~/.aws/config` section of `profile`: assume `role_arn` with the credentials of
    SOURCE_PROFILE, in `region` (the bucket's). Append it to `~/.aws/config` and export
    `AWS_PROFILE=<profile>`."""
    if not _PROFILE_NAME.match(profile):
        raise ValueError(f"profile: {profile!r} is not a usable AWS profile name")
    if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role_arn):
        raise ValueError(f"role_arn: {role_arn!r} is not an IAM role ARN")
    if not _REGION.match(region):
        raise ValueError(f"region: {region!r} is not an AWS region")
    return (
        f"[profile {profile}]\n"
        f"role_arn = {role_arn}\n"
        f"source_profile = {SOURCE_PROFILE}\n"
        f"region = {region}\n"
    )
