"""The full recorded graph of the local stack, held to a committed snapshot.

For every local scenario and every config option that changes the local graph, the real
`__main__.py` runs under the mocks and each registered resource is recorded: type, name,
parent URN, inputs as the engine receives them (secrets unwrapped, with the names of the
secret inputs), resource options (protect, deleteBeforeReplace, dependencies, ...), and
the stack's exported outputs with their secretness. A refactor of `mlflow_iac/local/`
must leave this byte for byte identical; a deliberate change of the graph rewrites the
snapshot in the same commit:

    .venv/bin/python -m tests.local.test_graph_unchanged --write

and the diff of `tests/local/graph_snapshot.json` is then the reviewable change.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests import graph_snapshot
from tests.local import mocks  # noqa: F401  # registers the Docker / random mock outputs

SNAPSHOT = Path(__file__).with_name("graph_snapshot.json")

CASES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    # Every scenario on its defaults, and with basic-auth where it exists.
    "local-server": ({"scenario": "local-server"}, ()),
    "local-server-auth": ({"scenario": "local-server", "authEnabled": "true"}, ()),
    "direct": ({"scenario": "direct"}, ()),
    "direct-auth": ({"scenario": "direct", "authEnabled": "true"}, ()),
    "proxied": ({"scenario": "proxied"}, ()),
    "proxied-auth": ({"scenario": "proxied", "authEnabled": "true"}, ()),
    "artifacts-only": ({"scenario": "artifacts-only"}, ()),
    # The database engine.
    "direct-mysql": ({"scenario": "direct", "dbEngine": "mysql"}, ()),
    "proxied-mysql": ({"scenario": "proxied", "dbEngine": "mysql"}, ()),
    # A configured admin (no generated password), permission.
    "proxied-auth-configured": (
        {
            "scenario": "proxied",
            "authEnabled": "true",
            "adminUsername": "root.admin@example",
            "adminPassword": "a configured p@ss'word",
            "authDefaultPermission": "READ",
        },
        ("adminPassword",),
    ),
    # Sizes and ports.
    "proxied-sized": (
        {"scenario": "proxied", "serverCpu": "2", "serverMemoryMb": "4096", "localPort": "8080"},
        (),
    ),
    "direct-port": ({"scenario": "direct", "localPort": "8080"}, ()),
    "local-server-small": (
        {"scenario": "local-server", "serverCpu": "0.25", "serverMemoryMb": "512"},
        (),
    ),
    # Host names MLflow accepts.
    "proxied-hosts": (
        {"scenario": "proxied", "domain": "mlflow.example.com", "allowedHosts": '["mlflow.int"]'},
        (),
    ),
    # Labels on every container, volume and network.
    "proxied-tags": ({"scenario": "proxied", "tags": '{"team": "ml", "env": "dev"}'}, ()),
    "local-server-tags": ({"scenario": "local-server", "tags": '{"team": "ml"}'}, ()),
    "artifacts-only-tags": ({"scenario": "artifacts-only", "tags": '{"team": "ml"}'}, ()),
    # Protected data volumes.
    "proxied-protected": ({"scenario": "proxied", "deletionProtection": "true"}, ()),
    "direct-mysql-protected": (
        {"scenario": "direct", "dbEngine": "mysql", "deletionProtection": "true"},
        (),
    ),
    "artifacts-only-protected": (
        {"scenario": "artifacts-only", "deletionProtection": "true"},
        (),
    ),
    "local-server-protected": ({"scenario": "local-server", "deletionProtection": "true"}, ()),
}


def record(case: str) -> dict[str, Any]:
    """The graph and exports of one case, as plain JSON-able data."""
    config, secret_keys = CASES[case]
    return graph_snapshot.record("local", config, secret_keys)


@pytest.mark.parametrize("case", sorted(CASES))
def test_recorded_graph_equals_the_snapshot(case: str) -> None:
    expected = graph_snapshot.load(SNAPSHOT)
    assert case in expected, f"no snapshot for {case}: run this module with --write"
    graph_snapshot.assert_same_graph(record(case), expected[case])


def test_the_snapshot_covers_every_case_and_scenario() -> None:
    snapshot = graph_snapshot.load(SNAPSHOT)
    assert sorted(snapshot) == sorted(CASES)
    scenarios = {snapshot[c]["outputs"]["scenario"] for c in snapshot}
    assert scenarios == {"local-server", "direct", "proxied", "artifacts-only"}


def test_recording_is_deterministic() -> None:
    assert record("proxied-auth") == record("proxied-auth")


if __name__ == "__main__" and "--write" in sys.argv:
    graph_snapshot.write(SNAPSHOT, {case: record(case) for case in sorted(CASES)})
