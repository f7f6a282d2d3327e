"""Cloud Run's fixed stop grace and the in-memory spool (issue 16): the server's shutdown
bound fits inside Cloud Run's 10 s, the spool is a size-limited in-memory volume counted in
`serverMemoryMb`, and `artifactMaxUploadMb` is refused beyond Cloud Run's request limit or
what memory can hold."""

from __future__ import annotations

import inspect

import pulumi
import pytest
from pulumi_gcp import cloudrunv2

from mlflow_iac.limits import CLOUD_RUN_GRACE_SECONDS, STOP_MARGIN_SECONDS
from tests.gcp.test_stack import container, environment, inputs, run

SERVICE = "gcp:cloudrunv2/service:Service"


def test_cloud_run_has_no_grace_setting_so_the_shutdown_bound_fits_its_10_seconds() -> None:
    """Nothing in the v2 service template sets the grace period: the bound must fit."""
    template = inspect.signature(cloudrunv2.ServiceTemplateArgs.__init__).parameters
    assert not [p for p in template if "grace" in p or "termination" in p]
    for scenario in ("proxied", "direct", "artifacts-only"):
        shutdown = int(environment(run(scenario=scenario))["SERVER_SHUTDOWN_SECONDS"])
        assert shutdown + STOP_MARGIN_SECONDS <= CLOUD_RUN_GRACE_SECONDS
        assert shutdown < CLOUD_RUN_GRACE_SECONDS


@pytest.mark.parametrize(
    ("config", "spool"),
    [
        ({}, "1024Mi"),
        ({"serverMemoryMb": 4096}, "3072Mi"),
        ({"serverCpu": 2, "serverMemoryMb": 4096, "maxReplicas": 3}, "2048Mi"),
    ],
)
def test_spool_is_an_in_memory_volume_sized_by_what_workers_leave(config: dict, spool: str) -> None:
    result = run(**config)
    template = inputs(result, SERVICE)["template"]
    volumes = {v["name"]: v for v in template["volumes"]}
    assert volumes["spool"]["emptyDir"] == {"medium": "MEMORY", "sizeLimit": spool}
    assert {"name": "spool", "mountPath": "/spool"} in container(result)["volumeMounts"]
    env = environment(result)
    assert env["SPOOL_DIR"] == "/spool" and env["ARTIFACT_MAX_UPLOAD_MB"] == "32"


def test_direct_has_no_spool() -> None:
    result = run(scenario="direct")
    names = [v["name"] for v in inputs(result, SERVICE)["template"].get("volumes") or []]
    assert "spool" not in names
    assert "SPOOL_DIR" not in environment(result)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"artifactMaxUploadMb": 64},
            "mlflow:artifactMaxUploadMb: invalid value '64'; allowed: at most 32 (the "
            "platform's request size limit, MiB) on Cloud Run",
        ),
        (
            {"serverMemoryMb": 1024},
            "mlflow:serverMemoryMb: invalid value 1024 on GCP; allowed: 1056 or more: 2 workers "
            "x 512 MB plus an in-memory spool for one 32 MB upload (mlflow:artifactMaxUploadMb",
        ),
    ],
)
def test_refusals_name_the_key_value_and_limit(config: dict, message: str) -> None:
    with pytest.raises(pulumi.RunError) as raised:
        run(**config)
    assert message in str(raised.value)


def test_a_smaller_upload_limit_lets_a_small_instance_run() -> None:
    env = environment(run(serverMemoryMb=1040, artifactMaxUploadMb=16))
    assert env["ARTIFACT_MAX_UPLOAD_MB"] == "16"
