"""The Fargate task's stop timeout, read-only root filesystem and spool (issue 16): ECS
waits longer than the server's own shutdown bound, the container writes only to its task
volumes, and the spool is sized by `ephemeralStorageGb` and guarded by
`artifactMaxUploadMb`."""

from __future__ import annotations

import pulumi
import pytest

from mlflow_iac.limits import FARGATE_STOP_TIMEOUT_MAX, STOP_MARGIN_SECONDS
from tests.aws.test_stack import container, environment, inputs, run

TASK = "aws:ecs/taskDefinition:TaskDefinition"


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_stop_timeout_is_above_the_servers_shutdown_bound(scenario: str) -> None:
    result = run(scenario=scenario)
    shutdown = int(environment(result)["SERVER_SHUTDOWN_SECONDS"])
    stop = container(result)["stopTimeout"]
    assert shutdown < stop <= FARGATE_STOP_TIMEOUT_MAX
    assert stop == shutdown + STOP_MARGIN_SECONDS


@pytest.mark.parametrize("scenario", ["proxied", "artifacts-only"])
def test_read_only_root_with_tmp_and_spool_volumes(scenario: str) -> None:
    result = run(scenario=scenario)
    definition, env = container(result), environment(result)
    assert definition["readonlyRootFilesystem"] is True
    assert definition["user"] == "10001:10001"
    mounts = {m["containerPath"]: m["sourceVolume"] for m in definition["mountPoints"]}
    assert mounts == {"/tmp": "tmp", "/spool": "spool"}
    assert env["SPOOL_DIR"] == "/spool"
    assert env["ARTIFACT_MAX_UPLOAD_MB"] == "4096"
    task = inputs(result, TASK)
    # Bind mounts without a host path: Fargate's ephemeral storage, default size.
    assert task["volumes"] == [{"name": "tmp"}, {"name": "spool"}]
    assert "ephemeralStorage" not in task


def test_direct_spools_nothing_but_keeps_tmp_writable() -> None:
    result = run(scenario="direct")
    definition, env = container(result), environment(result)
    assert definition["readonlyRootFilesystem"] is True
    assert [m["containerPath"] for m in definition["mountPoints"]] == ["/tmp"]
    assert "SPOOL_DIR" not in env and "ARTIFACT_MAX_UPLOAD_MB" not in env


def test_ephemeral_storage_sizes_the_spool() -> None:
    result = run(ephemeralStorageGb=60, artifactMaxUploadMb=40000)
    assert inputs(result, TASK)["ephemeralStorage"] == {"sizeInGib": 60}
    assert environment(result)["ARTIFACT_MAX_UPLOAD_MB"] == "40000"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"artifactMaxUploadMb": 20000},
            "mlflow:artifactMaxUploadMb: invalid value '20000'; allowed: at most 18432 "
            "(the spool's size, MB) on Fargate with 20 GiB of ephemeral storage "
            "(mlflow:ephemeralStorageGb)",
        ),
        (
            {"ephemeralStorageGb": 30, "artifactMaxUploadMb": 30000},
            "at most 28672 (the spool's size, MB) on Fargate with 30 GiB",
        ),
        ({"ephemeralStorageGb": 20}, "mlflow:ephemeralStorageGb: invalid value '20'; allowed: "),
        ({"ephemeralStorageGb": 201}, "a whole number from 21 to 200"),
        ({"scenario": "direct", "artifactMaxUploadMb": 10}, "nothing with scenario 'direct'"),
    ],
)
def test_spool_refusals_name_the_key_value_and_limit(config: dict, message: str) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        run(**config)
    assert message in str(raised.value)
