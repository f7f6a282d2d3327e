"""The computed outputs and invokes of the AWS and local resources, for the fake engine of
the component package's tests and for the in-process reference runs they compare with."""

from __future__ import annotations

import pytest

from tests import harness
from tests.aws.conftest import AWS_INVOKES, AWS_OUTPUTS, REGION
from tests.local import mocks as local_mocks


@pytest.fixture(autouse=True)
def cloud_mocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """The AWS and local computed outputs and invokes, for both the fake engine and the
    in-process reference run (local's table is registered on import of its module)."""
    assert local_mocks.LOCAL_OUTPUTS.items() <= harness.OUTPUTS.items()
    monkeypatch.setenv("AWS_REGION", REGION)
    for token, outputs in AWS_OUTPUTS.items():
        monkeypatch.setitem(harness.OUTPUTS, token, outputs)
    for token, invoke in AWS_INVOKES.items():
        monkeypatch.setitem(harness.INVOKES, token, invoke)
