"""The full recorded AWS graph, held to a committed snapshot: refactors are behaviour-free.

Every AWS scenario and every option that changes the graph runs the real `__main__.py`
under the AWS mocks; each resource is recorded as type, name, URN, parent URN, provider,
inputs (secrets unwrapped, and which inputs were secret) and the stack's exports (values
and which are secret), and compared with `graph_snapshot.json`.

The mocks are deterministic (every computed value is a hash of the resource's name). The
values that depend on the working tree are the checkout's path and the image tag, a digest of the docker/
build context (and the mocked image digest derived from it): both are replaced by
placeholders, so a change to the image does not read as a change to the graph.

Regenerate (only when a graph change is intended, and say why in the commit):
    python -m tests.aws.test_graph_unchanged --write
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import graph_snapshot, harness
from tests.aws.conftest import AWS_INVOKES, AWS_OUTPUTS, REGION

SNAPSHOT = Path(__file__).with_name("graph_snapshot.json")

CASES: dict[str, dict[str, Any]] = {
    "proxied": {"scenario": "proxied"},
    "direct": {"scenario": "direct"},
    "artifacts-only": {"scenario": "artifacts-only"},
    "direct-access-key-domain-tags": {
        "scenario": "direct",
        "clientAccessKey": "true",
        "domain": "mlflow.example.com",
        "allowedHosts": ["mlflow.internal"],
        "tags": {"team": "ml", "cost-center": "42"},
    },
    "proxied-no-auth-mysql-ha": {
        "dbEngine": "mysql",
        "authEnabled": "false",
        "dbHighAvailability": "true",
        "dbSize": "medium",
    },
    "proxied-given-password": {"adminPassword": "correct-horse-battery"},
    "proxied-options": {
        "artifactVersioning": "false",
        "allowedCidrs": ["10.0.0.0/8", "192.168.0.0/16"],
        "allowHttp": "true",
        "deletionProtection": "false",
        "artifactForceDestroy": "true",
        "vpcCidr": "10.20.0.0/16",
        "dbStorageGb": "50",
        "dbBackupRetentionDays": "14",
        "logRetentionDays": "90",
        "artifactNoncurrentDays": "45",
    },
    "proxied-sizes": {
        "dbSize": "large",
        "serverCpu": "2",
        "serverMemoryMb": "8192",
        "replicas": "3",
        "minReplicas": "2",
        "maxReplicas": "6",
    },
    "direct-kms-existing-vpc": {
        "scenario": "direct",
        "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "vpcId": "vpc-0123456789abcdef0",
        "publicSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        "privateSubnetIds": ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
    },
    "artifacts-only-domain": {"scenario": "artifacts-only", "domain": "mlflow.example.com"},
    "proxied-private-endpoints-kms": {
        "privateEndpoints": "true",
        "kmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    },
    "proxied-no-access-logs": {"loadBalancerAccessLogs": "false"},
}


def record(case: str) -> dict[str, Any]:
    """The graph and exports of one case, as plain JSON-able data."""
    config = CASES[case]
    secret = ("adminPassword",) if "adminPassword" in config else ()
    return graph_snapshot.record("aws", config, secret)


@pytest.mark.parametrize("case", sorted(CASES))
def test_recorded_graph_equals_the_snapshot(case: str) -> None:
    expected = graph_snapshot.load(SNAPSHOT)
    assert case in expected, f"no snapshot for {case}: run this module with --write"
    graph_snapshot.assert_same_graph(record(case), expected[case])


def test_the_snapshot_covers_every_case_and_scenario() -> None:
    snapshot = graph_snapshot.load(SNAPSHOT)
    assert sorted(snapshot) == sorted(CASES)
    scenarios = {snapshot[c]["outputs"]["scenario"] for c in snapshot}
    assert scenarios == {"direct", "proxied", "artifacts-only"}


def test_recording_is_deterministic() -> None:
    assert record("direct-access-key-domain-tags") == record("direct-access-key-domain-tags")


if __name__ == "__main__" and "--write" in sys.argv:
    os.environ["AWS_REGION"] = REGION
    harness.OUTPUTS.update(AWS_OUTPUTS)
    harness.INVOKES.update(AWS_INVOKES)
    graph_snapshot.write(SNAPSHOT, {case: record(case) for case in sorted(CASES)})
