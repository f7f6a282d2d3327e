"""Pure builders of the AWS components: policy documents, CIDR maths, sizing, naming."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from components.aws import policies

BUCKET = "arn:aws:s3:::mlflow-artifacts-1a2b3c"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf"


def test_bucket_access_policy_is_least_privilege() -> None:
    doc = policies.bucket_access_policy(BUCKET)
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
    doc = policies.bucket_access_policy(BUCKET, KEY)
    kms = doc["Statement"][-1]
    assert kms["Resource"] == KEY
    assert kms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]


@pytest.mark.parametrize("bad", ["*", "arn:aws:s3:::", "mlflow-bucket", "arn:aws:s3:::*"[:-1]])
def test_bucket_access_policy_refuses_a_non_bucket_arn(bad: str) -> None:
    with pytest.raises(ValueError, match="bucket_arn"):
        policies.bucket_access_policy(bad)


def test_tls_only_policy_denies_plain_http_on_bucket_and_objects() -> None:
    (deny,) = policies.tls_only_bucket_policy(BUCKET)["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Resource"] == [BUCKET, f"{BUCKET}/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_read_secrets_policy_names_exactly_the_secrets() -> None:
    other = SECRET.replace("db-", "admin-")
    (statement,) = policies.read_secrets_policy([other, SECRET, SECRET])["Statement"]
    assert statement["Action"] == ["secretsmanager:GetSecretValue"]
    assert statement["Resource"] == sorted([SECRET, other])
    with pytest.raises(ValueError, match="secret_arns"):
        policies.read_secrets_policy([])
    with pytest.raises(ValueError, match="secret_arns"):
        policies.read_secrets_policy(["*"])


def test_service_trust_is_limited_to_the_account() -> None:
    (statement,) = policies.service_assume_role_policy("ecs-tasks.amazonaws.com", "123456789012")[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_client_trust_account_or_given_principals() -> None:
    (default,) = policies.client_assume_role_policy("123456789012")["Statement"]
    assert default["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert default["Condition"] == {"StringEquals": {"aws:PrincipalAccount": "123456789012"}}
    ci = "arn:aws:iam::123456789012:role/ci"
    (given,) = policies.client_assume_role_policy("123456789012", [ci])["Statement"]
    assert given["Principal"] == {"AWS": [ci]}
    with pytest.raises(ValueError, match="account_id"):
        policies.client_assume_role_policy("12345")
    with pytest.raises(ValueError, match="principal_arns"):
        policies.client_assume_role_policy("123456789012", ["*"])


@pytest.mark.parametrize("cidr", ["10.0.0.0/16", "172.16.0.0/20", "192.168.10.0/24"])
def test_subnets_fit_the_vpc_and_never_overlap(cidr: str) -> None:
    public, private = policies.subnet_cidrs(cidr)
    vpc = ipaddress.IPv4Network(cidr)
    nets = [ipaddress.IPv4Network(n) for n in public + private]
    assert len(public) == len(private) == 2
    assert all(n.subnet_of(vpc) for n in nets)
    for i, a in enumerate(nets):
        for b in nets[i + 1 :]:
            assert not a.overlaps(b)
    # the private subnets (tasks, database) get the most addresses
    assert nets[2].num_addresses > nets[0].num_addresses >= 32


def test_subnets_for_the_default_vpc() -> None:
    assert policies.subnet_cidrs("10.0.0.0/16") == (
        ["10.0.0.0/19", "10.0.32.0/19"],
        ["10.0.128.0/18", "10.0.192.0/18"],
    )
    with pytest.raises(ValueError, match="zones"):
        policies.subnet_cidrs("10.0.0.0/16", zones=5)


@pytest.mark.parametrize(
    ("engine", "size", "expected"),
    [
        ("postgresql", "small", ("postgres", "16", "postgres16", 5432, "db.t4g.small")),
        ("postgresql", "medium", ("postgres", "16", "postgres16", 5432, "db.t4g.large")),
        ("mysql", "large", ("mysql", "8.4", "mysql8.4", 3306, "db.m7g.xlarge")),
    ],
)
def test_db_settings(engine: str, size: str, expected: tuple) -> None:
    assert policies.db_settings(engine, size)[:5] == expected


def test_db_settings_refuse_unknown_values() -> None:
    with pytest.raises(ValueError, match="engine"):
        policies.db_settings("oracle", "small")
    with pytest.raises(ValueError, match="size"):
        policies.db_settings("mysql", "huge")


@pytest.mark.parametrize(
    ("engine", "size", "max_connections", "pool"),
    [
        # max_connections from RDS's default formulas on 90% of the memory; pool at the
        # default maxReplicas 4 with 2 workers (1 vCPU, 2 GB): 8 worker processes.
        ("postgresql", "small", 202, (7, 15)),
        ("postgresql", "medium", 811, (10, 20)),
        ("postgresql", "large", 1622, (10, 20)),
        ("mysql", "small", 153, (5, 12)),
        ("mysql", "medium", 614, (10, 20)),
        ("mysql", "large", 1228, (10, 20)),
    ],
)
def test_db_pool_settings_per_size_and_engine(
    engine: str, size: str, max_connections: int, pool: tuple[int, int]
) -> None:
    assert policies.db_max_connections(engine, size) == max_connections
    assert policies.db_pool_settings(engine, size, max_replicas=4, workers=2) == pool
    budget = policies.db_connection_budget(engine, size)
    assert max_connections - budget >= max(10, max_connections // 10)  # the reserve
    assert 4 * 2 * sum(pool) <= budget


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_db_pool_settings_shrink_with_scale_and_fit_every_time(engine: str) -> None:
    for workers in (1, 2, 4, 8):
        previous = {size: (10, 20) for size in policies.DB_INSTANCE_CLASSES}
        for max_replicas in range(1, 101):
            for size in policies.DB_INSTANCE_CLASSES:
                try:
                    pool, overflow = policies.db_pool_settings(engine, size, max_replicas, workers)
                except ValueError:
                    # Once it no longer fits, it never fits again for more replicas.
                    previous[size] = (0, 0)
                    continue
                assert previous[size] != (0, 0), (size, max_replicas, workers)
                assert pool <= previous[size][0] and overflow <= previous[size][1]
                assert 2 <= pool <= 10 and 3 <= overflow <= 20 and pool <= overflow
                budget = policies.db_connection_budget(engine, size)
                assert max_replicas * workers * (pool + overflow) <= budget
                previous[size] = (pool, overflow)
            # A larger instance never gets a smaller pool (0: does not fit).
            totals = [sum(previous[s]) for s in ("small", "medium", "large")]
            assert totals == sorted(totals), (max_replicas, workers, totals)


def test_db_pool_settings_refuse_too_many_replicas_for_the_size() -> None:
    # 19 tasks x 2 workers x (2 + 3) = 190 > 181 (202 minus a reserve of 21).
    assert policies.db_pool_settings("postgresql", "small", 18, 2) == (2, 3)
    with pytest.raises(
        ValueError,
        match=r"^max_replicas: 19 tasks x 2 workers need at least 190 database connections "
        r"\(pool 2 \+ overflow 3 per worker\), but size 'small' \(db\.t4g\.small, postgresql\) "
        r"allows about 181 after the reserve; allowed: max_replicas <= 18 for size 'small', "
        r"or a larger size \(medium, large\)$",
    ):
        policies.db_pool_settings("postgresql", "small", 19, 2)
    with pytest.raises(ValueError, match=r"max_replicas <= 27 for size 'large'$"):
        policies.db_pool_settings("mysql", "large", 100, 8)
    with pytest.raises(ValueError, match=r"^size: "):
        policies.db_pool_settings("mysql", "huge", 4, 2)
    with pytest.raises(ValueError, match=r"^max_replicas: 0 "):
        policies.db_pool_settings("mysql", "small", 0, 2)


def test_server_workers() -> None:
    assert policies.server_workers(1.0, 2048) == 2
    assert policies.server_workers(2.0, 6144) == 4
    assert policies.server_workers(0.25, 512) == 1  # at least one
    assert policies.server_workers(4.0, 1024) == 2  # memory-bound: about 512 MB each


def test_fargate_memory_sizes() -> None:
    assert policies.fargate_memory_sizes(0.25) == [512, 1024, 2048]
    assert policies.fargate_memory_sizes(1.0)[0] == 2048
    assert policies.fargate_memory_sizes(1.0)[-1] == 8192
    assert policies.fargate_memory_sizes(4.0)[-1] == 30720
    assert 1536 not in policies.fargate_memory_sizes(1.0)
    assert policies.fargate_memory_sizes(3.0) == []


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("mlflow", "dev", "mlflow-db", "final"), "mlflow-dev-mlflow-db-final"),
        (("my_proj", "prod.eu", "x"), "my-proj-prod-eu-x"),
        (("9lives", "--a--"), "m-9lives-a"),
    ],
)
def test_physical_name_is_a_valid_identifier(parts: tuple[str, ...], expected: str) -> None:
    assert policies.physical_name(*parts) == expected


def test_physical_name_is_shortened_with_a_stable_digest() -> None:
    long = policies.physical_name("p" * 40, "s" * 40, max_length=63)
    assert len(long) <= 63
    assert long == policies.physical_name("p" * 40, "s" * 40, max_length=63)
    assert "--" not in long and not long.endswith("-")


def test_context_digest_changes_with_content_only(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    first = policies.context_digest(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert policies.context_digest(tmp_path) == first
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert policies.context_digest(tmp_path) != first
    with pytest.raises(ValueError, match="image_context"):
        policies.context_digest(tmp_path / "missing")


def test_check_kms_key_arn_takes_key_arns_only() -> None:
    policies.check_kms_key_arn("kms_key_arn", None)
    policies.check_kms_key_arn("kms_key_arn", KEY)
    policies.check_kms_key_arn("k", "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/abc-1")
    for bad in ("alias/mlflow", "arn:aws:kms:eu-west-1:123456789012:alias/mlflow", "key/abc"):
        with pytest.raises(ValueError, match=r"^kms_key_arn: .* is not a KMS key ARN"):
            policies.check_kms_key_arn("kms_key_arn", bad)
