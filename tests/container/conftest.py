"""Fixtures of the container tests: the image built once per session, the real services
of the image tests (one PostgreSQL, one moto per session), the client settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.container import podman
from tests.image.conftest import client_environment, s3

__all__ = ["client_environment", "s3"]

BUILDS: list[podman.BuiltImage] = []


@pytest.fixture(scope="session")
def image() -> Iterator[str]:
    """docker/Dockerfile built with podman (cached layers between runs)."""
    built = podman.build_image()
    BUILDS.append(built)
    yield built.ref


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the image's size and build time."""
    for built in BUILDS:
        terminalreporter.write_line(
            f"mlflow-server image: {built.size_bytes / 1e6:.0f} MB, "
            f"built in {built.build_seconds:.0f} s ({built.ref})"
        )
