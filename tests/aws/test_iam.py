"""IAM and bucket policy documents, and the KMS key ARN check (`mlflow_iac/aws/iam.py`)."""

from __future__ import annotations

import re

import pytest

from mlflow_iac.aws import iam

BUCKET = "arn:aws:s3:::mlflow-artifacts-1a2b3c"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"


def test_bucket_access_policy_is_least_privilege() -> None:
    doc = iam.bucket_access_policy(BUCKET)
    assert doc["Version"] == "2012-10-17"
    listing, objects = doc["Statement"]
    assert listing["Resource"] == BUCKET
    assert set(listing["Action"]) == {
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:ListBucketMultipartUploads",
    }
    assert objects["Resource"] == f"{BUCKET}/*"
    assert set(objects["Action"]) == {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    }
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any("*" in a for a in statement["Action"])


def test_bucket_access_policy_with_a_kms_key_names_only_that_key() -> None:
    doc = iam.bucket_access_policy(BUCKET, KEY)
    kms = doc["Statement"][-1]
    assert kms["Resource"] == KEY
    assert kms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


@pytest.mark.parametrize("bad", ["*", "arn:aws:s3:::", "mlflow-bucket", "arn:aws:s3:::*"[:-1]])
def test_bucket_access_policy_refuses_a_non_bucket_arn(bad: str) -> None:
    with pytest.raises(ValueError, match="bucket_arn"):
        iam.bucket_access_policy(bad)


def test_tls_only_policy_denies_plain_http_on_bucket_and_objects() -> None:
    (deny,) = iam.tls_only_bucket_policy(BUCKET)["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_read_secrets_policy_names_exactly_the_secrets() -> None:
    other = SECRET.replace("db-", "admin-")
    (statement,) = iam.read_secrets_policy([other, SECRET, SECRET])["Statement"]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == sorted([SECRET, other])
    with pytest.raises(ValueError, match="secret_arns"):
        iam.read_secrets_policy([])
    with pytest.raises(ValueError, match="secret_arns"):
        iam.read_secrets_policy(["*"])


def test_service_trust_is_limited_to_the_account() -> None:
    (statement,) = iam.service_assume_role_policy("ecs-tasks.amazonaws.com", "123456789012")[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_client_trust_account_or_given_principals() -> None:
    (default,) = iam.client_assume_role_policy("123456789012")["Statement"]
    assert default["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert default["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
    ci = "arn:aws:iam::123456789012:role/ci"
    (given,) = iam.client_assume_role_policy("123456789012", [ci])["Statement"]
    assert given["Principal"] == {"AWS": [ci]}
    with pytest.raises(ValueError, match="account_id"):
        iam.client_assume_role_policy("12345")
    with pytest.raises(ValueError, match="principal_arns"):
        iam.client_assume_role_policy("123456789012", ["*"])


def test_check_kms_key_arn_takes_key_arns_only() -> None:
    iam.check_kms_key_arn("kms_key_arn", None)
    iam.check_kms_key_arn("kms_key_arn", KEY)
    iam.check_kms_key_arn("k", "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc-1")
    for bad in ("alias/mlflow", "arn:aws:kms:eu-west-1:123456789012:alias/mlflow", "key/abc"):
        with pytest.raises(ValueError, match=r"^kms_key_arn: .* is not a KMS key ARN"):
            iam.check_kms_key_arn("kms_key_arn", bad)


def test_read_secrets_policy_with_a_customer_key_decrypts_only_through_secrets_manager() -> None:
    _, decrypt = iam.read_secrets_policy([SECRET], KEY, "eu-west-1")["Statement"]
    assert decrypt == {
        "Sid": "DecryptContainerSecrets",
        "Effect": "Allow",
        "Action": ["kms:Decrypt"],
        "Resource": KEY,
        "Condition": {"StringEquals": {"kms:ViaService": "secretsmanager.eu-west-1.amazonaws.com"}},
    }
    with pytest.raises(ValueError, match=r"^region: "):
        iam.read_secrets_policy([SECRET], KEY)
    with pytest.raises(ValueError, match=r"^kms_key_arn: "):
        iam.read_secrets_policy([SECRET], "alias/mine", "eu-west-1")


@pytest.mark.parametrize(
    ("region", "legacy"),
    [
        ("eu-west-1", "arn:aws:iam::156460612806:root"),
        ("us-east-1", "arn:aws:iam::127311923021:root"),
        ("ap-southeast-4", None),  # opened after August 2022: the service principal only
    ],
)
def test_load_balancer_log_bucket_policy(region: str, legacy: str | None) -> None:
    doc = iam.load_balancer_log_bucket_policy(BUCKET, "123456789012", region)
    deny, *allows = doc["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {
        "Bool": {"aws:SecureTransport": "false"}
    }
    expected = [{"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}]
    if legacy:
        expected.append({"AWS": legacy})
    assert [s["Principal"] for s in allows] == expected
    for statement in allows:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == "s3:PutObject"
        assert statement["Resource"] == f"{BUCKET}/AWSLogs/123456789012/*"
    with pytest.raises(ValueError, match=r"^account_id: "):
        iam.load_balancer_log_bucket_policy(BUCKET, "me", region)


def test_log_delivery_accounts_are_twelve_digits_per_region_name() -> None:

    assert len(iam.ELB_LOG_ACCOUNTS) == 26
    for region, account in iam.ELB_LOG_ACCOUNTS.items():
        assert re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region), region
        assert re.fullmatch(r"\d{12}", account), region
