"""The database pool defaults reach the real server's worker processes on PostgreSQL.

The entrypoint becomes the preloaded server (same pid): gunicorn's arbiter forks the
workers, and each creates its SQLAlchemy engines at start from the MLFLOW_SQLALCHEMYSTORE_*
variables it inherited; MLflow logs the pool options it used. /proc/<pid>/environ of every
process shows that no spent secret is left in the environment the processes started with.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests import services
from tests.image.conftest import NASTY_PASSWORD, pg_env, unique

pytestmark = pytest.mark.e2e


def read_environ(pid: int) -> dict[str, str]:
    """The environment `pid` was started with ({} once it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def cmdline(pid: int) -> str:
    """The command line of `pid` ('' once it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_pool_defaults_reach_every_server_process(pg, server_factory, tmp_path) -> None:
    """PostgreSQL backend, 2 workers, nothing set: every process has pool 10 + 20, recycle 1800;
    MLflow's engine really was created with them; a user's value wins over the default."""
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, NASTY_PASSWORD)
    env = {
        **pg_env(pg, db, user),
        "DATA_DIR": str(tmp_path),
        "SERVER_WORKERS": "2",
        "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE": "900",  # set by the user: kept
    }
    server = server_factory(env).start().wait_healthy(timeout=180)

    # The workers: forked by the arbiter. The second one may still be starting when the
    # first answers /health: wait for both, bounded.
    tree: list[int] = []
    workers: list[int] = []
    for _ in range(120):
        tree = services.process_tree(server.server_pid())
        workers = [p for p in tree if p != server.server_pid()]
        if len(workers) >= 2:
            break
        time.sleep(0.25)
    assert len(workers) == 2, [cmdline(p) for p in tree]
    for pid in tree:
        environ = read_environ(pid)
        if not environ:
            continue  # a short-lived helper that already exited
        for secret in ("DB_PASSWORD", "DATABASE_URI", NASTY_PASSWORD):
            assert not any(secret in k or secret in v for k, v in environ.items()), pid

    # MLflow read them: each worker created its stores at start, with these pool options.
    line = "Create SQLAlchemy engine with pool options"
    for _ in range(40):
        if server.log().count(line) >= 2:
            break
        time.sleep(0.25)
    logged = [entry for entry in server.log().splitlines() if line in entry]
    assert len(logged) >= 2, server.log()
    for entry in logged:
        assert "'pool_size': 10, 'max_overflow': 20, 'pool_recycle': 900" in entry
    MlflowClient(server.url).search_experiments()
    assert services.http_status(f"{server.url}/health", timeout=5) == 200
