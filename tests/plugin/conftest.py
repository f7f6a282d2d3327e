"""Each cloud's computed outputs and invokes (the tables its own tests register), for the fake
engine of the component package's tests and for the in-process reference runs they compare
with. A test calls `cloud_mocks(cloud)` for the cloud it constructs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests import harness
from tests.aws import conftest as aws
from tests.azure import conftest as azure
from tests.gcp import conftest as gcp
from tests.local import mocks as local

TABLES: dict[str, tuple[dict[str, harness.OutputsFn], dict[str, harness.InvokeFn]]] = {
    "aws": (aws.AWS_OUTPUTS, aws.AWS_INVOKES),
    "gcp": (gcp.GCP_OUTPUTS, gcp.GCP_INVOKES),
    "azure": (azure.AZURE_OUTPUTS, azure.AZURE_INVOKES),
    "local": (local.LOCAL_OUTPUTS, {}),
}
ENVIRONMENT: dict[str, dict[str, str]] = {
    "aws": {"AWS_REGION": aws.REGION},
    "gcp": {"GOOGLE_PROJECT": gcp.PROJECT, "GOOGLE_REGION": gcp.REGION},
    "azure": {},
    "local": {},
}
"""The providers' settings as `pulumi config set` would give them (the host inherits them)."""
FOREIGN = ("GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "CLOUDSDK_CORE_PROJECT", "GCLOUD_REGION")


@pytest.fixture
def cloud_mocks(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Register one cloud's tables and settings for this test; monkeypatch removes them."""

    def use(cloud: str) -> None:
        outputs, invokes = TABLES[cloud]
        for token, make in outputs.items():
            monkeypatch.setitem(harness.OUTPUTS, token, make)
        for token, invoke in invokes.items():
            monkeypatch.setitem(harness.INVOKES, token, invoke)
        for variable in FOREIGN:
            monkeypatch.delenv(variable, raising=False)
        for variable, value in ENVIRONMENT[cloud].items():
            monkeypatch.setenv(variable, value)

    return use
