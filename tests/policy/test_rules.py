"""The pure rules on plain dicts: the credential heuristics, IAM statements, the stack-wide
HTTPS redirect check, throw-away stacks, and every type token a rule names."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UnknownValueError, unknown_checking_proxy

from policy import rules

SITE = Path(importlib.import_module("pulumi").__file__ or "").parent.parent


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("AUTH_PASSWORD", "x" * 12, "secret of the image's contract"),
        ("MLFLOW_FLASK_SERVER_SECRET_KEY", "k", "secret of the image's contract"),
        ("GITHUB_TOKEN", "t", "named like a credential"),
        ("AZURE_STORAGE_ACCESS_KEY", "k", "named like a credential"),
        ("SIGNING_KEY", "k", "named like a credential"),
        ("BACKEND", "mysql+pymysql://mlflow:pw@db:3306/mlflow", "looks like a credential"),
        ("BLOB", "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc==", "looks like"),
        ("KEYFILE", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", "looks like a credential"),
        ("X", "ghp_" + "a" * 36, "looks like a credential"),
        ("MLFLOW_TRACKING_TOKEN", "abc", "named like a credential"),
        ("AUTH_DATABASE_URL", "postgresql://h/db", "secret of the image's contract"),
        ("TOKEN_URL", "https://u:p@idp.example.com/token", "looks like a credential"),
    ],
)
def test_a_credential_variable_is_recognised(name: str, value: str, why: str) -> None:
    assert why in (rules.credential_variable(name, value) or "")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("AWS_ACCESS_KEY_ID", "mlflow"),  # an identifier, not the secret
        ("POSTGRES_PASSWORD_FILE", "/run/secrets/db-password"),  # points at the secret
        ("MLFLOW_KMS_KEY_ARN", "arn:aws:kms:eu-west-1:1:key/k"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/var/run/gcp/key.json"),
        ("AUTH_PASSWORD", ""),  # empty: nothing leaks
        ("ARTIFACT_URL", "s3://bucket/path"),
        ("DB_HOST", "db.internal"),
        ("MLFLOW_S3_ENDPOINT_URL", "http://object-store:9000"),
        ("PUBLIC_HOSTNAMES", "mlflow.example.com"),
        ("OAUTH_TOKEN_URL", "https://idp.example.com/token"),
        ("SECRETS_ENDPOINT", "https://vault.example.com"),
    ],
)
def test_a_plain_variable_is_left_alone(name: str, value: str) -> None:
    assert rules.credential_variable(name, value) is None


@pytest.mark.parametrize(
    ("arguments", "found"),
    [
        (["mlflow", "server", "--password", "hunter2"], ["--password is given"]),
        (["--api-key=abc"], ["--api-key is given"]),
        (
            ["sh", "-c", "mlflow server --backend-store-uri postgresql://u:pw@h/db"],
            ["word 5 of the command line"],
        ),
        (["--password-file", "/run/secrets/p"], []),
        (["--password", "$AUTH_PASSWORD"], []),  # the shell reads it from the environment
        (["--workers", "2", "--host", "0.0.0.0"], []),
        (["sh", "-c", 'export "${f##*/}=$(cat "$f")"'], []),
    ],
)
def test_credentials_on_the_command_line(arguments: list[str], found: list[str]) -> None:
    reasons = rules.credential_arguments(arguments)
    assert len(reasons) == len(found)
    for reason, fragment in zip(reasons, found, strict=True):
        assert fragment in reason


@pytest.mark.parametrize(
    ("statement", "wide"),
    [
        ({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "*", "Resource": "*"}, True),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}, True),
        ({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/*"}, True),
        ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}, False),
        ({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}, False),
        ({"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}, False),
    ],
)
def test_wide_storage_statements(statement: dict, wide: bool) -> None:
    found = rules.wide_storage_statements({"Statement": [statement]})
    assert bool(found) is wide


def _listener(name: str, protocol: str, actions: list[dict], lb: str = "arn:lb") -> rules.Resource:
    props = {"protocol": protocol, "loadBalancerArn": lb, "defaultActions": actions}
    return rules.Resource("aws:lb/listener:Listener", name, props)


FORWARD = [{"type": "forward", "targetGroupArn": "arn:tg"}]
REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443"}}]


def test_http_beside_https_must_redirect() -> None:
    https = _listener("https", "HTTPS", FORWARD)
    assert rules.https_redirects([https, _listener("http", "HTTP", REDIRECT)]) == []
    # No domain, no HTTPS listener: the load balancer's own name over HTTP is allowed.
    assert rules.https_redirects([_listener("http", "HTTP", FORWARD)]) == []
    # Another load balancer's HTTPS listener does not count.
    assert rules.https_redirects([https, _listener("other", "HTTP", FORWARD, "arn:lb2")]) == []
    ((offender, message),) = rules.https_redirects([https, _listener("http", "HTTP", FORWARD)])
    assert offender.name == "http"
    assert message == (
        "'http' (aws:lb/listener:Listener): plain HTTP is served beside HTTPS on the same load "
        "balancer. Fix: make the HTTP listener's only default action a redirect to HTTPS."
    )


def test_the_stack_comes_from_the_urn() -> None:
    assert rules.stack_of("urn:pulumi:pr-12::mlflow::aws:s3/bucket:Bucket::b") == "pr-12"
    assert rules.stack_of("not-a-urn") == ""


def test_a_rule_ignores_types_it_does_not_know() -> None:
    bucket = rules.Resource("aws:s3/bucket:Bucket", "b", {}, stack="production")
    (rule,) = [r for r in rules.RULES if r.name == "no-public-database"]
    assert rule(bucket) == []


def test_every_type_token_a_rule_names_exists_in_its_provider_sdk() -> None:
    """A misspelt token would make a rule silently look at nothing."""
    packages = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}
    tokens = {t for rule in rules.RULES for t in rule.types if not t.startswith("docker:")}
    missing = []
    for token in sorted(tokens):
        package, module = packages[token.split(":")[0]], token.split(":")[1].split("/")[0]
        folder = SITE / package / ("" if module == "index" else module)
        if not any(f"'{token}'" in p.read_text() for p in folder.glob("*.py")):
            missing.append(token)
    assert missing == []


def test_a_value_unknown_during_preview_is_left_to_the_sdk() -> None:
    """Reading it raises the SDK's UnknownValueError, which the SDK reports as "can't be known
    during preview" (advisory); the rules never swallow it into a pass."""
    props = unknown_checking_proxy({"publiclyAccessible": UNKNOWN_BOOLEAN_VALUE})
    database = rules.Resource("aws:rds/instance:Instance", "db", props, stack="production")
    with pytest.raises(UnknownValueError):
        rules.violations([database])
