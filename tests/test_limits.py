"""`mlflow_iac.limits`: the stop-timeout rule and the spool sizes per platform (pure)."""

from __future__ import annotations

import pytest
from mlflow_image import contract, entrypoint

from mlflow_iac import limits


def test_stacks_pass_the_images_own_shutdown_default() -> None:
    (var,) = [v for v in contract.CONTRACT if v.name == "SERVER_SHUTDOWN_SECONDS"]
    assert (
        int(var.default) == limits.DEFAULT_SHUTDOWN_SECONDS == entrypoint.DEFAULT_SHUTDOWN_SECONDS
    )
    assert limits.shutdown_seconds_within(limits.CLOUD_RUN_GRACE_SECONDS) == 8


def test_stop_timeout_is_the_bound_plus_the_margin_within_the_platform() -> None:
    assert limits.stop_timeout_seconds(8) == 10
    assert limits.stop_timeout_seconds(118, limits.FARGATE_STOP_TIMEOUT_MAX) == 120
    with pytest.raises(ValueError, match=r"shutdown_seconds: 119 .* at most 118"):
        limits.stop_timeout_seconds(119, limits.FARGATE_STOP_TIMEOUT_MAX)
    with pytest.raises(ValueError, match="grace_seconds"):
        limits.shutdown_seconds_within(3)


@pytest.mark.parametrize(
    ("cpu", "spool"), [(0.25, 512), (0.5, 1536), (1.0, 3584), (2.0, 7680), (4.0, 7680)]
)
def test_container_apps_spool_by_cpu(cpu: float, spool: int) -> None:
    assert limits.container_apps_spool_mb(cpu) == spool


def test_fargate_and_cloud_run_spools() -> None:
    assert limits.fargate_spool_mb(None) == 18 * 1024
    assert limits.fargate_spool_mb(200) == 198 * 1024
    with pytest.raises(ValueError, match="storage_gib: 20 is not from 21 to 200"):
        limits.fargate_spool_mb(20)
    assert limits.cloud_run_spool_mb(2048, 2) == 1024
    assert limits.cloud_run_spool_mb(1024, 2) == 0
    assert limits.cloud_run_memory_needed(2, 32) == 1056
    assert limits.upload_limit_problem(32, 1024, 32) is None
    assert "request size limit" in (limits.upload_limit_problem(33, 1024, 32) or "")
    assert "spool's size" in (limits.upload_limit_problem(2000, 1024) or "")
