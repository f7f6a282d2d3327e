"""Fixtures of the image tests: one of each real service per session, client settings.

Each test uses its own database, user and bucket names (`unique`), so one PostgreSQL,
one MariaDB, one moto, one Azurite and one GCS emulator serve the whole session.
Server start times are recorded and printed in the terminal summary.
"""

from __future__ import annotations

import os
import statistics
import uuid
from collections.abc import Iterator

import pytest

from tests import services

NASTY_PASSWORD = "p@ss:w/rd%25%#?& x é€ü"
"""A database password with every URL-special character, `%` (ConfigParser and URL
escapes), a space and non-ASCII (including a non-Latin-1 character)."""

START_TIMES: list[float] = []
"""Seconds from entrypoint start to a healthy /health, for every server the tests start."""


def pg_env(pg: services.Postgres, db: str, user: str, socket: bool = False) -> dict[str, str]:
    """DB_* variables for a database on the session's PostgreSQL (TCP, or the unix-socket
    directory), with NASTY_PASSWORD."""
    return {
        "DB_ENGINE": "postgresql",
        "DB_HOST": pg.socket_dir if socket else "127.0.0.1",
        "DB_PORT": str(pg.port),
        "DB_NAME": db,
        "DB_USER": user,
        "DB_PASSWORD": NASTY_PASSWORD,
    }


def unique(prefix: str) -> str:
    """A short unique lowercase name (database, user, bucket) for one test."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session", autouse=True)
def client_environment() -> Iterator[None]:
    """Settings of the MLflow client in this process: few retries, short timeouts."""
    saved = dict(os.environ)
    os.environ.update(
        {
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
            "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
        }
    )
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        os.environ.pop(name, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def s3() -> Iterator[services.Emulator]:
    """The session's moto S3 server; the client side of direct mode gets its settings."""
    with services.moto_s3() as emulator:
        saved = {k: os.environ.get(k) for k in emulator.env}
        os.environ.update(emulator.env)  # scenario 4: clients write to the bucket themselves
        yield emulator
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def azure() -> Iterator[services.Emulator]:
    """The session's Azurite blob service."""
    with services.azurite() as emulator:
        yield emulator


@pytest.fixture(scope="session")
def gcs() -> Iterator[services.Emulator]:
    """The session's GCS emulator."""
    with services.gcs_emulator() as emulator:
        yield emulator


@pytest.fixture
def server_factory(tmp_path) -> Iterator:
    """Build EntrypointServers that are stopped after the test; start times are recorded."""
    started: list[services.EntrypointServer] = []

    def make(env: dict[str, str], *args: str, port: int | None = None) -> services.EntrypointServer:
        server = services.EntrypointServer(env, tuple(args), port=port, log_dir=str(tmp_path))
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()
        if server.healthy_after:
            START_TIMES.append(server.healthy_after)


def pytest_terminal_summary(terminalreporter) -> None:
    """Print the measured server start times."""
    if not START_TIMES:
        return
    warm = START_TIMES[1:] or START_TIMES
    terminalreporter.write_line(
        f"mlflow_image: {len(START_TIMES)} server starts; start->healthy median "
        f"{statistics.median(warm):.1f}s (warm), min {min(START_TIMES):.1f}s, "
        f"max {max(START_TIMES):.1f}s"
    )
