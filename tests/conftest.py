"""Shared pytest set-up: every test gets fresh mocks and a fresh event loop."""

from __future__ import annotations

import pytest

from tests import harness


@pytest.fixture
def mocks() -> harness.RecordingMocks:
    """Fresh recording Pulumi mocks (and event loop) for one test."""
    return harness.new_mocks()
