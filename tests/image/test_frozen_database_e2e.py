"""A database that freezes under a warm server (issue 16): MariaDB's process group is
SIGSTOPped (the kernel still accepts TCP and acknowledges every byte, so TCP keepalives
never fire) while the server holds pooled connections. A request then fails within
PyMySQL's read timeout the image sets (30 s, twice: MLflow's pre-ping, then the fresh
connection's greeting) with one log line, and the server recovers after SIGCONT.
Loopback only; SIGCONT always runs."""

from __future__ import annotations

import os
import signal
import time

import pytest
import requests

from tests.image.conftest import NASTY_PASSWORD, unique

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 30
"""MYSQL_CONNECTION_DEFAULTS' read_timeout."""


def test_frozen_mariadb_fails_a_request_within_the_read_timeout_then_recovers(
    maria, server_factory, tmp_path
) -> None:
    assert maria.process_group is not None
    db, user = unique("db"), unique("u")
    maria.create_database(db, user, NASTY_PASSWORD)
    env = {
        "DB_ENGINE": "mysql",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(maria.port),
        "DB_NAME": db,
        "DB_USER": user,
        "DB_PASSWORD": NASTY_PASSWORD,
        "DATA_DIR": str(tmp_path),
        "SERVER_WORKERS": "1",  # one pool: the warm-up below fills exactly it
    }
    server = server_factory(env).start().wait_healthy()
    search = f"{server.url}/api/2.0/mlflow/experiments/search"
    for _ in range(5):  # the pool is warm: connections open and returned
        assert requests.post(search, json={"max_results": 10}, timeout=30).status_code == 200
    log_before = len(server.log())
    os.killpg(maria.process_group, signal.SIGSTOP)
    try:
        started = time.monotonic()
        try:
            response = requests.post(search, json={"max_results": 10}, timeout=4 * READ_TIMEOUT)
            status = response.status_code
        except requests.RequestException as exc:  # the server must answer, not hang
            pytest.fail(f"no answer while the database is frozen: {exc}")
        elapsed = time.monotonic() - started
    finally:
        os.killpg(maria.process_group, signal.SIGCONT)
    assert status >= 500, status
    assert READ_TIMEOUT - 2 < elapsed < 3 * READ_TIMEOUT, elapsed
    new_log = server.log()[log_before:]
    lost = [line for line in new_log.splitlines() if "Lost connection" in line]
    assert lost, new_log[-3000:]
    assert NASTY_PASSWORD not in new_log
    # Recovery: the same server serves again once the database answers.
    deadline = time.monotonic() + 60
    for _ in range(60):
        try:
            if requests.post(search, json={"max_results": 10}, timeout=30).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "no recovery within 60 s after SIGCONT"
        time.sleep(1)
    else:
        pytest.fail("no recovery after SIGCONT")
