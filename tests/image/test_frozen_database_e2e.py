"""A database that freezes under a warm server (issue 16): the database's processes are
SIGSTOPped (PostgreSQL's postmaster and every backend; MariaDB's process group) while the
server holds pooled connections. The kernel still accepts TCP and acknowledges every byte
and keepalive probe, so only a read timeout can notice: DB_READ_TIMEOUT_SECONDS (30 s by
default; 8 s here, which also shows the variable is honoured), as PyMySQL's `read_timeout`
in every MySQL URL the image assembles and as the image's psycopg2 wait callback
(`mlflow_image.pg_timeout`; libpq has none). A request then fails within about twice that
(MLflow's pre-ping on the pooled connection, then the new connection's greeting or
connect_timeout) with one clear log line, and the server recovers after SIGCONT.
Loopback only; SIGCONT always runs."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from tests.image.conftest import NASTY_PASSWORD, pg_env, unique

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 8
"""DB_READ_TIMEOUT_SECONDS given to the server, for both drivers."""
CONNECT_TIMEOUT = 10
"""The image's connect timeout on every database URL (a new connection after the drop)."""
LOG_LINE = {
    "postgresql": f"database did not answer for {READ_TIMEOUT}s in a query (read timeout)",
    "mysql": "Lost connection to MySQL server during query (timed out)",
}


@contextlib.contextmanager
def frozen(stop: Callable[[], None], cont: Callable[[], None]) -> Iterator[None]:
    """The database stopped inside the block; continued afterwards, always."""
    try:
        stop()
        yield
    finally:
        cont()


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_frozen_database_fails_a_request_within_the_read_timeout_then_recovers(
    engine: str, pg, maria, server_factory, tmp_path
) -> None:
    db, user = unique("db"), unique("u")
    if engine == "postgresql":
        pg.create_database(db, user, NASTY_PASSWORD)
        env = pg_env(pg, db, user)
        stopped: list[int] = []

        def stop_postgres() -> None:
            # Read when freezing (the server's backends exist by then); postmaster first:
            # once stopped it forks no new backend.
            stopped.extend(pg.server_pids())
            _signal_all(stopped, signal.SIGSTOP)

        freeze = frozen(stop_postgres, lambda: _signal_all(stopped[::-1], signal.SIGCONT))
    else:
        maria.create_database(db, user, NASTY_PASSWORD)
        env = {
            "DB_ENGINE": "mysql",
            "DB_HOST": "127.0.0.1",
            "DB_PORT": str(maria.port),
            "DB_NAME": db,
            "DB_USER": user,
            "DB_PASSWORD": NASTY_PASSWORD,
        }
        group = maria.process_group
        assert group is not None
        freeze = frozen(
            lambda: os.killpg(group, signal.SIGSTOP), lambda: os.killpg(group, signal.SIGCONT)
        )
    # One worker: the warm-up below fills exactly its pool.
    env = {
        **env,
        "DATA_DIR": str(tmp_path),
        "SERVER_WORKERS": "1",
        "DB_READ_TIMEOUT_SECONDS": str(READ_TIMEOUT),
    }
    server = server_factory(env).start().wait_healthy()
    search = f"{server.url}/api/2.0/mlflow/experiments/search"
    for _ in range(5):  # the pool is warm: connections opened and returned
        assert requests.post(search, json={"max_results": 10}, timeout=30).status_code == 200
    log_before = len(server.log_path.read_text(errors="replace"))
    with freeze:
        started = time.monotonic()
        try:
            status = requests.post(search, json={"max_results": 10}, timeout=60).status_code
        except requests.RequestException as exc:  # the server must answer, not hang
            pytest.fail(f"no answer while the database is frozen: {exc}")
        elapsed = time.monotonic() - started
    print(f"\n{engine} frozen: HTTP {status} after {elapsed:.1f}s")
    assert status >= 500, status
    # The pre-ping's read timeout, then the new connection's greeting (MySQL: another read
    # timeout) or connect timeout (PostgreSQL), plus slack for a loaded machine.
    assert READ_TIMEOUT - 2 < elapsed < 2 * READ_TIMEOUT + CONNECT_TIMEOUT + 10, elapsed
    new_log = server.log_path.read_text(errors="replace")[log_before:]
    assert LOG_LINE[engine] in new_log, new_log[-3000:]
    assert NASTY_PASSWORD not in new_log
    # Recovery: the same server serves again once the database answers.
    deadline = time.monotonic() + 60
    for _ in range(60):
        with contextlib.suppress(requests.RequestException):
            if requests.post(search, json={"max_results": 10}, timeout=30).status_code == 200:
                break
        assert time.monotonic() < deadline, "no recovery within 60 s after SIGCONT"
        time.sleep(1)
    else:
        pytest.fail("no recovery after SIGCONT")
