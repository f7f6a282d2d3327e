"""The cloud-agnostic container environment builder, held to the image's contract."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from mlflow_image import contract

from mlflow_iac.environment import DatabaseEndpoint, server_environment
from tests import harness

DB = DatabaseEndpoint("postgresql", "db.internal", 5432, "mlflow", "mlflow", "p@ss:/%#?& wörd")


def resolved(env: dict[str, Any]) -> dict[str, Any]:
    return {k: harness.run_async(harness.resolve(v)) for k, v in env.items()}


@pytest.mark.parametrize("scenario", ["local-server", "direct", "proxied", "artifacts-only"])
def test_every_name_is_in_the_contract_and_no_secret_is_plain(mocks, scenario: str) -> None:
    env = server_environment(
        scenario=scenario,
        artifact_url=None if scenario == "local-server" else "s3://bucket",
        database=DB if scenario in ("direct", "proxied") else None,
        auth_enabled=scenario != "artifacts-only",
        admin_password="a-long-admin-password",
        flask_secret_key="k" * 32,
        public_hostnames=["lb.example.com", "mlflow.example.com", "lb.example.com"],
    )
    assert all(contract.is_contract_variable(n) for n in env.names)
    assert not set(env.plain) & contract.SECRET_NAMES
    for value in env.secrets.values():
        assert harness.run_async(pulumi.Output.from_input(value).is_secret())
    plain = resolved(env.plain)
    assert plain["PUBLIC_HOSTNAMES"] == "lb.example.com,mlflow.example.com"
    assert plain["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    if scenario == "local-server":
        assert "ARTIFACT_URL" not in plain and "DB_HOST" not in plain
    else:
        assert plain["ARTIFACT_MODE"] == scenario
        assert plain["ARTIFACT_URL"] == "s3://bucket"


def test_database_parts_and_password_travel_separately(mocks) -> None:
    env = server_environment(scenario="proxied", artifact_url="gs://b", database=DB)
    plain = resolved(env.plain)
    assert {k: plain[k] for k in ("DB_ENGINE", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER")} == {
        "DB_ENGINE": "postgresql",
        "DB_HOST": "db.internal",
        "DB_PORT": "5432",
        "DB_NAME": "mlflow",
        "DB_USER": "mlflow",
    }
    assert resolved(env.secrets) == {"DB_PASSWORD": "p@ss:/%#?& wörd"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scenario": "nope"}, "scenario: 'nope'"),
        ({"scenario": "proxied"}, "artifact_url: required"),
        ({"scenario": "local-server", "artifact_url": "s3://b"}, "artifact_url: must be None"),
        (
            {"scenario": "artifacts-only", "artifact_url": "s3://b", "database": DB},
            "database: must be None",
        ),
        ({"scenario": "direct", "artifact_url": "s3://b"}, "database: required"),
        (
            {
                "scenario": "proxied",
                "artifact_url": "s3://b",
                "database": DatabaseEndpoint("oracle", "h", 1, "n", "u", "p"),
            },
            "database.engine: 'oracle'",
        ),
        (
            {
                "scenario": "proxied",
                "artifact_url": "s3://b",
                "database": DatabaseEndpoint("mysql", "h", 1, "n", "u", "p", "on"),
            },
            "database.sslmode: 'on'",
        ),
        (
            {"scenario": "local-server", "auth_enabled": True, "flask_secret_key": "k"},
            "admin_password: required",
        ),
        (
            {"scenario": "local-server", "auth_enabled": True, "admin_password": "x" * 12},
            "flask_secret_key: required",
        ),
        (
            {"scenario": "artifacts-only", "artifact_url": "s3://b", "auth_enabled": True},
            "auth_enabled",
        ),
        ({"scenario": "local-server", "default_permission": "ALL"}, "default_permission: 'ALL'"),
        ({"scenario": "local-server", "port": 0}, "port: 0"),
        ({"scenario": "local-server", "workers": 0}, "workers: 0"),
        ({"scenario": "local-server", "extra_plain": {"PORT": "1"}}, "'PORT' is already set"),
    ],
)
def test_contradictions_are_refused_by_name(mocks, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        server_environment(**kwargs)


def test_extra_secrets_are_secret(mocks) -> None:
    env = server_environment(scenario="local-server", extra_secrets={"AWS_SECRET_ACCESS_KEY": "s"})
    assert harness.run_async(
        pulumi.Output.from_input(env.secrets["AWS_SECRET_ACCESS_KEY"]).is_secret()
    )
