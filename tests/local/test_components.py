"""The local Docker components on their own: validation before registration, secret outputs,
container settings, and the secrets wrapper run for real by `sh`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from mlflow_iac.local import (
    Bucket,
    Credentials,
    Database,
    MlflowServer,
    Service,
)
from mlflow_iac.local.service import secrets_wrapper
from tests import harness
from tests.local import mocks as local_mocks

CONTAINER = "docker:index/container:Container"


def build(make: Callable[[], dict[str, Any]]) -> tuple[harness.ProgramResult, dict[str, Any]]:
    """Run `make` as a program; returns the result and what `make` returned (Outputs)."""
    made: dict[str, Any] = {}

    def program() -> None:
        made.update(make())

    return harness.run_program(program), made


def is_secret(output: Any) -> bool:
    return harness.run_async(pulumi.Output.from_input(output).is_secret())


def value(output: Any) -> Any:
    return harness.run_async(harness.resolve(output))


def env_of(resource: harness.Registered) -> dict[str, str]:
    return dict(item.split("=", 1) for item in resource.inputs.get("envs", []))


# Validation happens before anything is registered.

BAD_ARGS: list[tuple[Callable[[], object], str]] = [
    (lambda: Database("d", {"engine": "oracle", "network_name": "n"}), "engine: 'oracle'"),
    (lambda: Database("d", {}), "network_name: required"),  # type: ignore[typeddict-item]
    (lambda: Database("d", {"network_name": "n", "db_name": "My-DB"}), "db_name: 'My-DB'"),
    (lambda: Database("d", {"network_name": "n", "username": "root"}), "username: 'root'"),
    (lambda: Database("d", {"network_name": "n", "image": ""}), "image: must be"),
    (lambda: Credentials("c", {"access_key_id": "x"}), "access_key_id: 'x'"),
    (
        lambda: Bucket("b", {"network_name": "n", "access_key_id": "a"}),  # type: ignore[typeddict-item]
        "secret_access_key: required",
    ),
    (
        lambda: Bucket(
            "b",
            {
                "network_name": "n",
                "access_key_id": "a",
                "secret_access_key": "s",
                "bucket_name": "A",
            },
        ),
        "bucket_name: 'A'",
    ),
    (
        lambda: Bucket(
            "b",
            {
                "network_name": "n",
                "access_key_id": "a",
                "secret_access_key": "s",
                "public_port": 80,
            },
        ),
        "public_port: 80",
    ),
    (
        lambda: Bucket(
            "b",
            {
                "network_name": "n",
                "access_key_id": "a",
                "secret_access_key": "s",
                "public_port": 9001,
            },
        ),
        "public_network_name: required",
    ),
    (lambda: Service("s", {"network_names": ["n"]}), "environment: required"),  # type: ignore[typeddict-item]
    (lambda: Service("s", {"environment": {}, "network_names": []}), "network_names: at least"),
    (
        lambda: Service("s", {"environment": {"db-host": "x"}, "network_names": ["n"]}),
        "environment: 'db-host'",
    ),
    (
        lambda: Service(
            "s",
            {"environment": {"A": "1"}, "secret_environment": {"A": "2"}, "network_names": ["n"]},
        ),
        "secret_environment: A also in environment",
    ),
    (
        lambda: Service("s", {"environment": {}, "network_names": ["n"], "local_port": 0}),
        "local_port: 0",
    ),
    (
        lambda: Service(
            "s", {"environment": {"PORT": "8000"}, "network_names": ["n"], "container_port": 5000}
        ),
        "container_port: 5000 differs",
    ),
    (
        lambda: Service("s", {"environment": {}, "network_names": ["n"], "memory_mb": 100}),
        "memory_mb: 100",
    ),
    (lambda: Service("s", {"environment": {}, "network_names": ["n"], "cpu": 3}), "cpu: 3"),
    (lambda: MlflowServer("m", {"scenario": "client-only"}), "scenario: 'client-only'"),
    (lambda: MlflowServer("m", {"db_engine": "sqlite"}), "db_engine: 'sqlite'"),
    (
        lambda: MlflowServer("m", {"scenario": "artifacts-only", "db_engine": "mysql"}),
        "db_engine: scenario 'artifacts-only' has no database",
    ),
    (
        lambda: MlflowServer("m", {"scenario": "artifacts-only", "auth_enabled": True}),
        "auth_enabled: basic-auth",
    ),
    (lambda: MlflowServer("m", {"admin_username": "-"}), "admin_username: '-'"),
    (
        lambda: MlflowServer("m", {"auth_enabled": True, "admin_password": "short"}),
        "admin_password: shorter than 12",
    ),
    (lambda: MlflowServer("m", {"default_permission": "ALL"}), "default_permission: 'ALL'"),
    (lambda: MlflowServer("m", {"local_port": 80}), "local_port: 80"),
    (
        lambda: MlflowServer("m", {"scenario": "direct", "local_port": 65535}),
        "s3_port: 65536",
    ),
    (
        lambda: MlflowServer("m", {"scenario": "direct", "s3_port": 5000}),
        "s3_port: 5000",
    ),
    (lambda: MlflowServer("m", {"scenario": "proxied", "s3_port": 9000}), "s3_port: only"),
    (lambda: MlflowServer("m", {"memory_mb": 256}), "memory_mb: 256"),
    (lambda: MlflowServer("m", {"cpu": 0.3}), "cpu: 0.3"),
    (lambda: MlflowServer("m", {"public_hostnames": ["https://x"]}), "public_hostnames"),
    (lambda: MlflowServer("m", {"bucket_name": "Bad_Bucket"}), "bucket_name: 'Bad_Bucket'"),
    (lambda: MlflowServer("m", {"image_tag": ""}), "image_tag: ''"),
]


@pytest.mark.parametrize(("make", "message"), BAD_ARGS, ids=[m for _, m in BAD_ARGS])
def test_bad_input_is_refused_before_anything_is_registered(
    mocks: harness.RecordingMocks, make: Callable[[], object], message: str
) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        make()
    assert mocks.resources == []


# Outputs and children.


def test_type_tokens() -> None:
    result, _ = build(lambda: {"s": MlflowServer("m", {"scenario": "direct"})})
    components = {r.type for r in result.mocks.resources if r.type.startswith("mlflow-local:")}
    assert components == {
        f"mlflow-local:index:{name}"
        for name in ("MlflowServer", "Database", "Credentials", "Bucket", "Service")
    }


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_database_outputs_and_container(engine: str) -> None:
    result, made = build(lambda: {"db": Database("db", {"engine": engine, "network_name": "net"})})
    db: Database = made["db"]
    port = 5432 if engine == "postgresql" else 3306
    assert value(db.host) == "database" and value(db.port) == port
    assert value(db.name) == "mlflow" and value(db.username) == "mlflow"
    assert is_secret(db.password) and not is_secret(db.host)
    assert value(db.password) == local_mocks.password_for(
        "db-password", result.mocks.of_type("random:index/randomPassword:RandomPassword")[0].inputs
    )
    container = result.mocks.one(CONTAINER)
    env = env_of(container)
    assert not any(k.endswith("PASSWORD") for k in env)  # only *_PASSWORD_FILE
    assert all(v.startswith("/run/secrets/") for k, v in env.items() if k.endswith("_FILE"))
    assert "uploads" in container.secret_inputs
    assert container.inputs["networksAdvanced"] == [{"name": "net", "aliases": ["database"]}]
    assert container.inputs.get("ports", []) == []
    assert container.inputs["wait"] is True
    check = container.inputs["healthcheck"]["tests"]
    assert check[1] == ("pg_isready" if engine == "postgresql" else "mysqladmin")
    data = "/var/lib/postgresql/data" if engine == "postgresql" else "/var/lib/mysql"
    assert container.inputs["volumes"][0]["containerPath"] == data
    image = result.mocks.one("docker:index/remoteImage:RemoteImage").inputs["name"]
    assert image == ("postgres:17.6-bookworm" if engine == "postgresql" else "mysql:8.4.6")


def test_credentials_and_bucket() -> None:
    def make() -> dict[str, Any]:
        creds = Credentials("creds")
        bucket = Bucket(
            "bucket",
            {
                "network_name": "private",
                "access_key_id": creds.access_key_id,
                "secret_access_key": creds.secret_access_key,
                "public_port": 9100,
                "public_network_name": "public",
            },
        )
        return {"creds": creds, "bucket": bucket}

    result, made = build(make)
    creds: Credentials = made["creds"]
    bucket: Bucket = made["bucket"]
    assert value(creds.access_key_id) == "mlflow" and not is_secret(creds.access_key_id)
    assert is_secret(creds.secret_access_key) and len(value(creds.secret_access_key)) == 40
    assert value(bucket.name) == "mlflow" and value(bucket.uri) == "s3://mlflow"
    assert value(bucket.endpoint) == "http://object-store:9000"
    assert bucket.public_endpoint is not None
    assert value(bucket.public_endpoint) == "http://127.0.0.1:9100"
    minio = result.mocks.one(CONTAINER)
    assert env_of(minio) == {
        "MINIO_BROWSER": "off",
        "MINIO_ROOT_PASSWORD_FILE": "minio-root-password",
        "MINIO_ROOT_USER_FILE": "minio-root-user",
    }
    assert minio.inputs["ports"] == [{"internal": 9000, "external": 9100, "ip": "127.0.0.1"}]
    assert [n["name"] for n in minio.inputs["networksAdvanced"]] == ["private", "public"]
    assert minio.inputs["healthcheck"]["tests"] == ["CMD", "mc", "ready", "local"]
    assert "uploads" in minio.secret_inputs


def test_service_outputs_and_container() -> None:
    def make() -> dict[str, Any]:
        service = Service(
            "svc",
            {
                "environment": {"PORT": "5000", "ARTIFACT_URL": "s3://b"},
                "secret_environment": {"DB_PASSWORD": "p'w\"d $x"},
                "network_names": ["front", "back"],
                "local_port": 5055,
                "data_volume": True,
            },
        )
        return {"service": service}

    result, made = build(make)
    service: Service = made["service"]
    assert value(service.url) == "http://127.0.0.1:5055"
    image = result.mocks.one("docker-build:index:Image").inputs
    assert image["push"] is False and image["load"] is True
    assert image["context"]["location"].endswith("/docker")
    assert Path(image["context"]["location"], "Dockerfile").is_file()
    container = result.mocks.one(CONTAINER)
    assert env_of(container) == {"PORT": "5000", "ARTIFACT_URL": "s3://b"}
    assert container.inputs["uploads"] == [
        {
            "file": "/run/secrets/DB_PASSWORD",
            "content": "p'w\"d $x",
            "owner": "10001",
            "group": "10001",
            "permissions": "0440",
        }
    ]
    assert container.inputs["volumes"][0]["containerPath"] == "/data"
    assert container.inputs["ports"] == [{"internal": 5000, "external": 5055, "ip": "127.0.0.1"}]


def test_mlflow_server_component_outputs() -> None:
    result, made = build(
        lambda: {"m": MlflowServer("m", {"scenario": "direct", "auth_enabled": True})}
    )
    server: MlflowServer = made["m"]
    assert value(server.url) == "http://127.0.0.1:5000"
    assert value(server.artifact_location) == "s3://mlflow"
    assert server.s3_endpoint is not None and value(server.s3_endpoint) == "http://127.0.0.1:5001"
    assert server.admin_password is not None and is_secret(server.admin_password)
    assert server.secret_access_key is not None and is_secret(server.secret_access_key)
    for secret in server.environment.secrets.values():
        assert is_secret(secret)
    assert server.database is not None and is_secret(server.database.password)
    assert len(result.mocks.of_type(CONTAINER)) == 3


# The secrets wrapper is run by a real shell in tests/local/test_secrets.py.


def test_wrapper_command_carries_no_secret() -> None:
    result, _ = build(
        lambda: {
            "s": Service(
                "svc",
                {
                    "environment": {"PORT": "5000"},
                    "secret_environment": {"DB_PASSWORD": "s3cr3t-value"},
                    "network_names": ["n"],
                },
            )
        }
    )
    entrypoints = result.mocks.one(CONTAINER).inputs["entrypoints"]
    assert entrypoints == ["/bin/sh", "-c", secrets_wrapper(["DB_PASSWORD"]), "mlflow-server"]
    assert "s3cr3t-value" not in " ".join(entrypoints)
    assert entrypoints[2].endswith('load DB_PASSWORD; exec python -m mlflow_image "$@"')
