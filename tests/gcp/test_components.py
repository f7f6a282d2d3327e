"""GCP components alone: bad inputs fail before anything is registered, with the input named."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mlflow_iac.environment import DatabaseEndpoint
from mlflow_iac.gcp import ArtifactBucket, Database, Identity, MlflowServer, Network, Service
from tests import harness

CASES: list[tuple[Callable[[], Any], str]] = [
    (lambda: MlflowServer("m", {"scenario": "local-server", "image": "i"}), "scenario"),
    (
        lambda: MlflowServer(
            "m", {"scenario": "artifacts-only", "auth_enabled": True, "image": "i"}
        ),
        "auth_enabled",
    ),
    (
        lambda: MlflowServer("m", {"scenario": "proxied", "client_key": True, "image": "i"}),
        "client_key",
    ),
    (
        lambda: MlflowServer("m", {"scenario": "artifacts-only", "db_private": True, "image": "i"}),
        "db_private",
    ),
    (lambda: MlflowServer("m", {"tags": {"Team": "x"}, "image": "i"}), "tags"),
    (lambda: Database("d", {"engine": "oracle"}), "engine"),
    (lambda: Database("d", {"size": "huge"}), "size"),
    (lambda: Database("d", {"storage_gb": 10}), "storage_gb"),
    (lambda: Database("d", {"backup_retention_days": 36}), "backup_retention_days"),
    (lambda: ArtifactBucket("b", {"noncurrent_version_days": 0}), "noncurrent_version_days"),
    (lambda: ArtifactBucket("b", {"kms_key_name": "alias/x"}), "kms_key_name"),
    (lambda: Network("n", {"subnet_cidr": "10.0.0.0/30"}), "subnet_cidr"),
    (lambda: Identity("i", {"bucket_name": "b", "client_key": True}), "client_key"),
    (
        lambda: Identity(
            "i", {"bucket_name": "b", "client_access": True, "client_members": ["allUsers"]}
        ),
        "client_members",
    ),
    (
        lambda: Service(
            "s",
            {
                "scenario": "proxied",
                "artifact_url": "gs://b",
                "service_account_email": "a@p.iam.gserviceaccount.com",
                "secrets": {},
                "image": "i",
                "cpu": 0.5,
            },
        ),
        "cpu",
    ),
    (
        lambda: Service(
            "s",
            {
                "scenario": "proxied",
                "artifact_url": "gs://b",
                "service_account_email": "a@p.iam.gserviceaccount.com",
                "secrets": {},
                "image": "i",
                "memory_mb": 8192,
            },
        ),
        "memory_mb",
    ),
    (
        lambda: Service(
            "s",
            {
                "scenario": "proxied",
                "artifact_url": "gs://b",
                "service_account_email": "a@p.iam.gserviceaccount.com",
                "secrets": {},
                "image": "i",
                "image_context": "docker",
            },
        ),
        "image, image_context",
    ),
]


@pytest.mark.parametrize(("build", "name"), CASES)
def test_bad_input_names_itself_and_registers_nothing(build: Callable[[], Any], name: str) -> None:
    mocks = harness.new_mocks()
    with pytest.raises(ValueError, match=f"^{name}"):
        harness.run_program(build, mocks=mocks)
    assert not mocks.resources


def test_service_refuses_a_secret_without_a_secret_manager_secret() -> None:
    """A secret variable with no Secret Manager secret would have no way in but a plain
    value: refused, naming the variables."""

    def program() -> None:
        Service(
            "s",
            {
                "scenario": "proxied",
                "artifact_url": "gs://b",
                "service_account_email": "a@p.iam.gserviceaccount.com",
                "secrets": {},
                "image": "i",
                "auth_enabled": True,
                "admin_password": "x" * 16,
                "flask_secret_key": "y" * 48,
                "database": DatabaseEndpoint("postgresql", "/cloudsql/p:r:i", 5432, "m", "u", "pw"),
            },
        )

    mocks = harness.new_mocks()
    with pytest.raises(
        ValueError,
        match="secrets: no Secret Manager secret for AUTH_PASSWORD, DB_PASSWORD, "
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    ):
        harness.run_program(program, mocks=mocks)
    assert not mocks.resources
