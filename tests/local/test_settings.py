"""`mlflow_iac.local.settings`: the local components' inputs checked without mocks."""

from __future__ import annotations

from typing import Any

import pytest

from mlflow_iac.local.settings import (
    CPU_CHOICES,
    SERVER_DATABASE_SCENARIOS,
    bucket_settings,
    database_settings,
    require_access_key_id,
    require_cpu,
    require_host_port,
    server_settings,
    service_settings,
)
from mlflow_iac.vocabulary import SCENARIOS


def test_server_defaults() -> None:
    s = server_settings({})
    assert (s.scenario, s.db_engine, s.auth_enabled, s.admin_username) == (
        "proxied",
        "postgresql",
        False,
        "admin",
    )
    assert (s.local_port, s.s3_port, s.memory_mb, s.cpu) == (5000, 5001, 2048, 1.0)
    assert (s.bucket_name, s.image_tag, s.default_permission) == (
        "mlflow",
        "mlflow-server:local",
        "NO_PERMISSIONS",
    )


@pytest.mark.parametrize(
    ("scenario", "database", "bucket", "publishes"),
    [
        ("local-server", False, False, False),
        ("direct", True, True, True),
        ("proxied", True, True, False),
        ("artifacts-only", False, True, False),
    ],
)
def test_what_each_scenario_runs(
    scenario: str, database: bool, bucket: bool, publishes: bool
) -> None:
    s = server_settings({"scenario": scenario})
    assert (s.has_database, s.has_bucket, s.publishes_s3) == (database, bucket, publishes)


def test_every_scenario_of_the_vocabulary_is_known() -> None:
    assert {server_settings({"scenario": s}).scenario for s in SCENARIOS} == set(SCENARIOS)
    assert set(SERVER_DATABASE_SCENARIOS) == {"direct", "proxied"}


@pytest.mark.parametrize(("cpu", "workers"), [(0.25, 1), (0.5, 1), (1.0, 2), (2.0, 4), (4.0, 8)])
def test_workers_follow_the_cpu(cpu: float, workers: int) -> None:
    assert server_settings({"cpu": cpu}).workers == workers


def test_allowed_hosts_keep_the_host_port_once_a_list_is_given() -> None:
    assert server_settings({}).allowed_hosts == []
    hosts = server_settings({"public_hostnames": ["ml.example.com"], "local_port": 8080})
    assert hosts.allowed_hosts == ["ml.example.com", "localhost:8080", "127.0.0.1:8080"]


BAD_SERVER: list[tuple[dict[str, Any], str]] = [
    ({"scenario": "client-only"}, "scenario: 'client-only' is not one of local-server, direct"),
    ({"db_engine": "sqlite"}, "db_engine: 'sqlite' is not one of postgresql, mysql"),
    ({"scenario": "local-server", "db_engine": "mysql"}, "db_engine: scenario 'local-server'"),
    ({"auth_enabled": "yes"}, "auth_enabled: 'yes' is not true or false"),
    ({"default_permission": "ALL"}, "default_permission: 'ALL' is not one of READ"),
    ({"local_port": True}, "local_port: True is not a port number"),
    ({"local_port": 1023}, "local_port: 1023 is not from 1024"),
    ({"scenario": "direct", "s3_port": "9000"}, "s3_port: '9000' is not a port number"),
    ({"scenario": "direct", "local_port": 6000, "s3_port": 6000}, "s3_port: 6000 is not"),
    ({"scenario": "artifacts-only", "s3_port": 9000}, "s3_port: only scenario 'direct'"),
    ({"memory_mb": 511}, "memory_mb: 511"),
    ({"memory_mb": 1024.0}, "memory_mb: 1024.0"),
    ({"cpu": 3}, "cpu: 3 is not one of 0.25, 0.5, 1, 2, 4"),
    ({"public_hostnames": ["a b"]}, "public_hostnames: 'a b'"),
    ({"bucket_name": "ab"}, "bucket_name: 'ab'"),
    ({"image_tag": 3}, "image_tag: 3"),
]


@pytest.mark.parametrize(("args", "message"), BAD_SERVER, ids=[m for _, m in BAD_SERVER])
def test_bad_server_input_names_the_input(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        server_settings(args)
    assert str(raised.value).startswith(message)


def test_single_checks() -> None:
    assert require_host_port(1024, "p") == 1024 and require_host_port(65535, "p") == 65535
    with pytest.raises(ValueError, match=r"^p: 65536 is not from 1024 to 65535$"):
        require_host_port(65536, "p")
    assert [require_cpu(c) for c in CPU_CHOICES] == list(CPU_CHOICES)
    assert require_cpu(2) == 2.0 and isinstance(require_cpu(2), float)
    assert require_access_key_id("mlflow_key-1") == "mlflow_key-1"
    with pytest.raises(ValueError, match=r"^access_key_id: 'a/b'"):
        require_access_key_id("a/b")


def test_database_settings() -> None:
    s = database_settings({"network_name": "n", "engine": "mysql"})
    assert (s.engine, s.db_name, s.username, s.image) == (
        "mysql",
        "mlflow",
        "mlflow",
        "mysql:8.4.6",
    )
    assert (
        database_settings({"network_name": "n", "image": "postgres:17.7"}).image == "postgres:17.7"
    )
    for args, message in (
        ({"network_name": "n", "db_name": "1db"}, "db_name: '1db'"),
        ({"network_name": "n", "username": "x" * 33}, "username: 'xxx"),
        ({"engine": "postgresql"}, "network_name: required"),
    ):
        with pytest.raises(ValueError) as raised:
            database_settings(args)
        assert str(raised.value).startswith(message)


def test_bucket_settings() -> None:
    base = {"network_name": "n", "access_key_id": "a", "secret_access_key": "s"}
    s = bucket_settings(base, default_image="minio:x")
    assert (s.bucket_name, s.public_port, s.image) == ("mlflow", None, "minio:x")
    with pytest.raises(ValueError, match=r"^public_network_name: required with public_port$"):
        bucket_settings({**base, "public_port": 9000}, default_image="minio:x")
    with pytest.raises(ValueError, match=r"^network_name: required$"):
        bucket_settings({"access_key_id": "a"}, default_image="minio:x")


def test_service_settings() -> None:
    s = service_settings(
        {"environment": {"PORT": "8000"}, "network_names": ["n"], "container_port": 8000},
        default_context="/ctx",
    )
    assert (s.container_port, s.local_port, s.context, s.data_volume) == (8000, 5000, "/ctx", False)
    for args, message in (
        ({"environment": {}, "network_names": ["n"], "container_port": 0}, "container_port: 0"),
        (
            {"environment": {}, "secret_environment": {"a": "1"}, "network_names": ["n"]},
            "secret_environment: 'a'",
        ),
        ({"environment": {}, "network_names": ["n"], "context": ""}, "context: must be"),
    ):
        with pytest.raises(ValueError) as raised:
            service_settings(args, default_context="/ctx")
        assert str(raised.value).startswith(message)
