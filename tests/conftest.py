"""Shared pytest set-up: fresh mocks and event loop per test; one PostgreSQL and one MariaDB
per session (each test uses its own database and user names), started on first use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import harness, services


@pytest.fixture
def mocks() -> harness.RecordingMocks:
    """Fresh recording Pulumi mocks (and event loop) for one test."""
    return harness.new_mocks()


@pytest.fixture(scope="session")
def pg() -> Iterator[services.Postgres]:
    """The session's PostgreSQL server."""
    with services.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def maria() -> Iterator[services.MariaDB]:
    """The session's MariaDB server."""
    with services.mariadb() as server:
        yield server


@pytest.fixture
def every_special_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mocked RandomPasswords that use every special character the components allow, so the
    env e2e tests prove each cloud's passwords survive the image's URL assembly."""

    def password(args: Any) -> dict[str, Any]:
        specials = args.inputs.get("overrideSpecial") or ""
        length = int(args.inputs.get("length", 16))
        return {"result": ("Aa1" + specials + "x" * length)[:length]}

    monkeypatch.setitem(harness.OUTPUTS, "random:index/randomPassword:RandomPassword", password)
