"""The full recorded GCP graph, held to a committed snapshot: refactors are behaviour-free.

Every GCP scenario and every option that changes the graph runs the real `__main__.py`
under the GCP mocks; each resource is recorded as type, name, URN, parent URN, provider,
inputs (secrets unwrapped, and which inputs were secret) and the stack's exports (values
and which are secret), and compared with `graph_snapshot.json`.

The mocks are deterministic (every computed value is a hash of the resource's name). The
one value that depends on the working tree is the image tag, a digest of the docker/
build context (and the mocked image digest derived from it), and the checkout's path: all
are replaced by placeholders, so a change to the image does not read as a change to the graph.

Regenerate (only when a graph change is intended, and say why in the commit):
    python -m tests.gcp.test_graph_unchanged --write
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests import graph_snapshot, harness
from tests.gcp.conftest import GCP_INVOKES, GCP_OUTPUTS, PROJECT, REGION

SNAPSHOT = Path(__file__).with_name("graph_snapshot.json")

CASES: dict[str, dict[str, Any]] = {
    "proxied": {"scenario": "proxied"},
    "direct": {"scenario": "direct"},
    # IAP: the guard scenario artifacts-only needs on GCP (no basic-auth there yet).
    "artifacts-only": {"scenario": "artifacts-only", "iapMembers": ["group:ml@example.com"]},
    "direct-key-members-domain-tags": {
        "scenario": "direct",
        "clientAccessKey": "true",
        "clientMembers": ["group:ml@example.com"],
        "domain": "mlflow.example.com",
        "allowedHosts": ["mlflow.internal"],
        "tags": {"team": "ml", "cost-center": "42"},
    },
    "proxied-no-auth-mysql-ha-tier": {
        "dbEngine": "mysql",
        "authEnabled": "false",
        "dbHighAvailability": "true",
        "dbTier": "db-n1-highmem-2",
    },
    "proxied-given-password-iap": {
        "adminPassword": "correct-horse-battery",
        "iapMembers": ["domain:example.com"],
    },
    "proxied-private-options": {
        "dbPrivateIp": "true",
        "artifactVersioning": "false",
        "deletionProtection": "false",
        "artifactForceDestroy": "true",
        "dbStorageGb": "50",
        "dbBackupRetentionDays": "14",
        "artifactNoncurrentDays": "45",
        "kmsKeyName": "projects/kms-p/locations/europe-west1/keyRings/r/cryptoKeys/k",
    },
    "proxied-sizes": {
        "dbSize": "large",
        "serverCpu": "2",
        "serverMemoryMb": "8192",
        "minReplicas": "1",
        "maxReplicas": "6",
    },
}


def record(case: str) -> dict[str, Any]:
    """The graph and exports of one case, as plain JSON-able data."""
    config = CASES[case]
    secret = ("adminPassword",) if "adminPassword" in config else ()
    return graph_snapshot.record("gcp", config, secret)


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
    assert record("direct-key-members-domain-tags") == record("direct-key-members-domain-tags")


if __name__ == "__main__" and "--write" in sys.argv:
    harness.OUTPUTS.update(GCP_OUTPUTS)
    harness.INVOKES.update(GCP_INVOKES)
    os.environ.update(GOOGLE_PROJECT=PROJECT, GOOGLE_REGION=REGION)
    graph_snapshot.write(SNAPSHOT, {case: record(case) for case in sorted(CASES)})
