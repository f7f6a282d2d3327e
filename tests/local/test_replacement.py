"""A second `pulumi up` on the local stack: what Pulumi replaces, and in which order.

pulumi-docker replaces a container create-first unless told otherwise
(pulumi/pulumi-docker#1356): the new container would ask for a host port the old one
still holds, or open a data volume the old database still uses. So every stateful or
port-publishing container is replaced delete-first; the volumes it mounts are separate
resources and survive. The options are read from what the engine receives
(`tests.harness.RecordingMonitor`), for the real program of every local scenario.
"""

from __future__ import annotations

import pytest

from tests import harness
from tests.local import mocks  # noqa: F401  # registers the Docker / random mock outputs

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"

CONTAINERS = {
    "local-server": {"mlflow-service-container"},
    "direct": {"mlflow-service-container", "mlflow-database-container", "mlflow-bucket-minio"},
    "proxied": {"mlflow-service-container", "mlflow-database-container", "mlflow-bucket-minio"},
    "artifacts-only": {"mlflow-service-container", "mlflow-bucket-minio"},
}


def run(scenario: str, **extra: str) -> harness.RecordingMocks:
    return harness.run_program(config={"cloud": "local", "scenario": scenario, **extra}).mocks


CASES = [
    ("local-server", {}),
    ("direct", {"dbEngine": "postgresql"}),
    ("direct", {"dbEngine": "mysql"}),
    ("proxied", {"dbEngine": "postgresql"}),
    ("proxied", {"dbEngine": "mysql", "authEnabled": "false"}),
    ("proxied", {"authEnabled": "true"}),
    ("artifacts-only", {}),
]


@pytest.mark.parametrize(("scenario", "extra"), CASES)
def test_every_container_is_replaced_delete_first(scenario: str, extra: dict[str, str]) -> None:
    containers = run(scenario, **extra).of_type(CONTAINER)
    assert {c.name for c in containers} == CONTAINERS[scenario]
    for container in containers:
        assert container.options["deleteBeforeReplace"] is True, container.name


@pytest.mark.parametrize("protect", [False, True])
def test_data_volumes_are_their_own_resources_and_keep_deletion_protection(protect: bool) -> None:
    registered = run("proxied", deletionProtection=str(protect).lower())
    volumes = {v.name: v for v in registered.of_type(VOLUME) if v.name != SPOOL}
    assert set(volumes) == {"mlflow-database-data", "mlflow-bucket-data"}
    for volume in volumes.values():
        # Never replaced with a container; only `deletionProtection` guards it from destroy.
        assert volume.options["deleteBeforeReplace"] is False
        assert volume.options["protect"] is protect
        # Labels force a new Docker volume: a `tags` edit must not replace (empty) it.
        assert volume.options["ignoreChanges"] == ["labels"]
    # The containers mount the volumes by name: a new container finds the same data.
    by_name = {c.name: c for c in registered.of_type(CONTAINER)}
    db_mounts = by_name["mlflow-database-container"].inputs["volumes"]
    assert db_mounts[0]["volumeName"] == "mlflow-database-data-5d6e7f8"
    minio_mounts = by_name["mlflow-bucket-minio"].inputs["volumes"]
    assert minio_mounts[0]["volumeName"] == "mlflow-bucket-data-5d6e7f8"


@pytest.mark.parametrize("protect", [False, True])
def test_local_server_volume_holds_the_store_and_follows_deletion_protection(
    protect: bool,
) -> None:
    # Scenario local-server's SQLite file and artifacts live in the server's /data volume:
    # it is that scenario's database and bucket, so deletionProtection guards it too.
    volumes = run("local-server", deletionProtection=str(protect).lower()).of_type(VOLUME)
    (volume,) = [v for v in volumes if v.name != SPOOL]
    assert volume.name == "mlflow-service-data"
    assert volume.options["deleteBeforeReplace"] is False
    assert volume.options["protect"] is protect
    assert volume.options["ignoreChanges"] == ["labels"]


SPOOL = "mlflow-service-spool"
"""The proxied uploads' spool volume (SPOOL_DIR), on the host's disk."""


@pytest.mark.parametrize(("scenario", "extra"), CASES)
def test_spool_volume_and_stop_timeout_follow_the_environment(
    scenario: str, extra: dict[str, str]
) -> None:
    """The server's SPOOL_DIR is a named volume of its own (never protected: nothing in it
    outlives a request), and `docker stop` waits longer than SERVER_SHUTDOWN_SECONDS."""
    registered = run(scenario, **extra)
    (server,) = [c for c in registered.of_type(CONTAINER) if c.name == "mlflow-service-container"]
    env = dict(item.split("=", 1) for item in server.inputs["envs"])
    assert int(server.inputs["stopTimeout"]) > int(env["SERVER_SHUTDOWN_SECONDS"])
    assert server.inputs["stopTimeout"] == int(env["SERVER_SHUTDOWN_SECONDS"]) + 2
    spools = [v for v in registered.of_type(VOLUME) if v.name == SPOOL]
    if scenario == "direct":
        assert "SPOOL_DIR" not in env and "ARTIFACT_MAX_UPLOAD_MB" not in env and not spools
        return
    (spool,) = spools
    assert spool.options["protect"] is False
    assert env["SPOOL_DIR"] == "/spool" and env["ARTIFACT_MAX_UPLOAD_MB"] == "1024"
    mounts = {m["containerPath"]: m["volumeName"] for m in server.inputs["volumes"]}
    assert mounts["/spool"] == "mlflow-service-spool-5d6e7f8"
