"""The preloaded server under concurrent load on real PostgreSQL and MariaDB, tracking app and
basic-auth app: every request succeeds, every acknowledged write is in the database, the
arbiter holds no database connection (nothing crossed the fork), and the log shows no
connection-state error of the kind a pool shared across a fork produces."""

from __future__ import annotations

import http.client
import os
import secrets
import threading
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

from tests import services
from tests.image.conftest import NASTY_PASSWORD, unique

pytestmark = pytest.mark.e2e

CLIENTS = 8
RUNS_PER_CLIENT = 12
FORK_SYMPTOMS = (
    "SSL error",
    "SSL SYSCALL",
    "lost synchronization",
    "server closed the connection unexpectedly",
    "Packet sequence number wrong",
    "Lost connection to MySQL",
    "Command Out of Sync",
    "Traceback",
)


def db_sockets(pid: int, port: int) -> int:
    """How many TCP connections process `pid` holds to 127.0.0.1:`port`."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == port and fields[9] in inodes:
            count += 1
    return count


@pytest.mark.parametrize(
    "case",
    [("postgresql", False), ("postgresql", True), ("mysql", False), ("mysql", True)],
    ids=["postgresql-tracking", "postgresql-auth", "mariadb-tracking", "mariadb-auth"],
)
def test_concurrent_load_on_forked_workers(
    case: tuple[str, bool], pg, maria, server_factory, tmp_path
) -> None:
    """8 clients x 12 runs (create, log_batch, terminate, read back) on 2 forked workers."""
    engine, auth = case
    database = pg if engine == "postgresql" else maria
    db, user = unique("db"), unique("u")
    database.create_database(db, user, NASTY_PASSWORD)
    env = {
        "DB_ENGINE": engine,
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(database.port),
        "DB_NAME": db,
        "DB_USER": user,
        "DB_PASSWORD": NASTY_PASSWORD,
        "DATA_DIR": str(tmp_path),
        "SERVER_WORKERS": "2",
    }
    admin_password = "admin-" + secrets.token_hex(8)
    if auth:
        env.update(
            AUTH_ENABLED="true",
            AUTH_PASSWORD=admin_password,
            MLFLOW_FLASK_SERVER_SECRET_KEY=secrets.token_hex(16),
        )
    server = server_factory(env).start().wait_healthy(timeout=180)
    assert "no thread and no database connection crosses the fork" in server.log()
    assert db_sockets(server.server_pid(), database.port) == 0

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    if auth:
        os.environ["MLFLOW_TRACKING_USERNAME"] = "admin"
        os.environ["MLFLOW_TRACKING_PASSWORD"] = admin_password
    try:
        experiment_id = MlflowClient(server.url).create_experiment(unique("load"))
        acknowledged: list[tuple[str, float]] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(index: int) -> None:
            own = MlflowClient(server.url)
            for i in range(RUNS_PER_CLIENT):
                try:
                    run_id = own.create_run(experiment_id).info.run_id
                    value = float(index * 1000 + i)
                    own.log_batch(
                        run_id,
                        metrics=[Metric("m", value, 0, 0)],
                        params=[Param("p", str(i))],
                    )
                    own.set_terminated(run_id)
                    assert own.get_run(run_id).data.metrics["m"] == value
                except Exception as exc:  # every failure is reported, none hidden
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}"[:300])
                    return
                with lock:
                    acknowledged.append((run_id, value))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(240)
        assert not errors, errors
        assert len(acknowledged) == CLIENTS * RUNS_PER_CLIENT
        runs = MlflowClient(server.url).search_runs([experiment_id], max_results=1000)
        stored = {run.info.run_id: run.data.metrics["m"] for run in runs}
        assert all(stored[run_id] == value for run_id, value in acknowledged)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    log = server.log()
    assert not [s for s in FORK_SYMPTOMS if s in log], log
    assert db_sockets(server.server_pid(), database.port) == 0  # the arbiter still holds none
    assert services.http_status(f"{server.url}/health") == 200


def _health(conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/health")
    response = conn.getresponse()
    response.read()
    return response.status


def test_keep_alive_is_the_configured_one(server_factory, tmp_path) -> None:
    """SERVER_KEEP_ALIVE_SECONDS reaches the forked uvicorn workers: an idle connection
    outlives uvicorn's 5 s default, and is closed after a short configured value."""
    long_lived = server_factory({"DATA_DIR": str(tmp_path / "a")}).start().wait_healthy()
    conn = http.client.HTTPConnection("127.0.0.1", long_lived.port, timeout=10)
    assert _health(conn) == 200
    sock = conn.sock
    time.sleep(7)
    assert _health(conn) == 200
    assert conn.sock is sock  # the same connection, still open
    conn.close()
    short = {"DATA_DIR": str(tmp_path / "b"), "SERVER_KEEP_ALIVE_SECONDS": "1"}
    short_lived = server_factory(short).start().wait_healthy()
    conn = http.client.HTTPConnection("127.0.0.1", short_lived.port, timeout=10)
    assert _health(conn) == 200
    time.sleep(3)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        _health(conn)  # the server closed it
    conn.close()
