"""Container Apps' termination grace period and the spool (issue 16): the grace period is
set above the server's shutdown bound, and the spool is an EmptyDir on the replica's
ephemeral storage (1, 2, 4 or 8 GiB by vCPU), guarded by `artifactMaxUploadMb`."""

from __future__ import annotations

import pulumi
import pytest

from mlflow_iac.limits import CONTAINER_APPS_GRACE_MAX, STOP_MARGIN_SECONDS
from tests.azure.test_stack import container, container_app, environment, run


@pytest.mark.parametrize("scenario", ["proxied", "direct", "artifacts-only"])
def test_termination_grace_is_above_the_servers_shutdown_bound(scenario: str) -> None:
    result = run(scenario=scenario)
    shutdown = int(environment(result)["SERVER_SHUTDOWN_SECONDS"])
    grace = container_app(result)["template"]["terminationGracePeriodSeconds"]
    assert shutdown < grace <= CONTAINER_APPS_GRACE_MAX
    assert grace == shutdown + STOP_MARGIN_SECONDS


@pytest.mark.parametrize(
    ("config", "max_upload"),
    [
        ({}, "1024"),
        ({"serverCpu": 0.25, "serverMemoryMb": 512}, "512"),
        ({"serverCpu": 2, "serverMemoryMb": 4096, "artifactMaxUploadMb": 7680}, "7680"),
    ],
)
def test_spool_is_an_empty_dir_and_the_upload_limit_fits_it(config: dict, max_upload: str):
    result = run(**config)
    template = container_app(result)["template"]
    assert template["volumes"] == [{"name": "spool", "storageType": "EmptyDir"}]
    assert container(result)["volumeMounts"] == [{"volumeName": "spool", "mountPath": "/spool"}]
    env = environment(result)
    assert env["SPOOL_DIR"] == "/spool" and env["ARTIFACT_MAX_UPLOAD_MB"] == max_upload


def test_direct_has_no_spool() -> None:
    result = run(scenario="direct")
    assert not container_app(result)["template"].get("volumes")
    assert "SPOOL_DIR" not in environment(result)


def test_an_upload_limit_over_the_ephemeral_storage_is_refused() -> None:
    with pytest.raises(pulumi.RunError) as raised:
        run(artifactMaxUploadMb=4000)
    assert (
        "mlflow:artifactMaxUploadMb: invalid value '4000'; allowed: at most 3584 (the spool's "
        "size, MB) on Container Apps with mlflow:serverCpu 1"
    ) in str(raised.value)
