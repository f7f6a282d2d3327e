"""`mlflow_iac.local.docker_args`: Docker argument shapes, sorted for stable diffs."""

from __future__ import annotations

import pulumi

from mlflow_iac.local.docker_args import (
    container_labels,
    network_labels,
    secret_file,
    volume_labels,
)
from tests import harness


def test_labels_are_sorted_by_key() -> None:
    labels = {"team": "ml", "env": "dev"}
    for build in (container_labels, volume_labels, network_labels):
        made = build(labels)
        assert [(a.label, a.value) for a in made] == [("env", "dev"), ("team", "ml")]


def test_secret_file_lands_under_run_secrets_as_a_secret(mocks: harness.RecordingMocks) -> None:
    # Under fresh mocks: an Output made outside them would leave the next test's engine waiting.
    upload = secret_file("DB_PASSWORD", "value", owner="10001")
    assert upload.file == "/run/secrets/DB_PASSWORD"
    assert upload.owner == "10001" and upload.permissions == "0400"
    assert isinstance(upload.content, pulumi.Output)
    assert harness.run_async(upload.content.is_secret())
    assert harness.run_async(harness.resolve(upload.content)) == "value"
