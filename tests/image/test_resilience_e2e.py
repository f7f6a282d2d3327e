"""Start-up and failure behaviour against real PostgreSQL: replicas racing on an empty
database, `migrate` mode, waiting for a database that is not there yet, and a kill -9
while clients write (every acknowledged write survives)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from mlflow import MlflowClient
from mlflow.server.auth.db.utils import _get_alembic_config as auth_alembic_config
from mlflow.store.db.utils import _get_latest_schema_revision

from tests import services
from tests.image.conftest import NASTY_PASSWORD, pg_env, unique

pytestmark = pytest.mark.e2e


def auth_head() -> str:
    """The auth schema's head revision in this MLflow."""
    return str(ScriptDirectory.from_config(auth_alembic_config("")).get_current_head())


def test_three_replicas_race_on_empty_database(pg, server_factory, tmp_path) -> None:
    """3 entrypoints at once on an empty database (auth on): all healthy, migrated once."""
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, NASTY_PASSWORD)
    env = {
        **pg_env(pg, db, user),
        "DATA_DIR": str(tmp_path),
        "AUTH_ENABLED": "true",
        "AUTH_PASSWORD": "race-admin-password",
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "k" * 32,
    }
    replicas = [server_factory(env) for _ in range(3)]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.wait_healthy(timeout=180)
    assert pg.query(db, "SELECT version_num FROM alembic_version") == [
        (_get_latest_schema_revision(),)
    ]
    assert pg.query(db, "SELECT version_num FROM alembic_version_auth") == [(auth_head(),)]
    logs = [r.log() for r in replicas]
    assert sum("created tracking schema" in log for log in logs) == 1, logs
    assert sum("tracking schema already at" in log for log in logs) == 2
    assert sum("created admin user" in log for log in logs) == 1
    assert pg.query(db, "SELECT count(*) FROM users") == [(1,)]


def test_migrate_mode(pg, tmp_path) -> None:
    """`migrate` creates the schema and exits 0; a second run finds it at head."""
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, NASTY_PASSWORD)
    env = {**pg_env(pg, db, user), "DATA_DIR": str(tmp_path)}
    first = services.run_entrypoint(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "created tracking schema" in first.stderr
    second = services.run_entrypoint(env, "migrate")
    assert second.returncode == 0, second.stderr
    assert "tracking schema already at" in second.stderr
    assert pg.query(db, "SELECT version_num FROM alembic_version") == [
        (_get_latest_schema_revision(),)
    ]
    assert "rd%25" not in first.stderr + second.stderr and NASTY_PASSWORD not in first.stderr


class LateForwarder:
    """A TCP port that starts forwarding to `target` only when `open()` is called: a
    database that is not there yet (connection refused), then is."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = services.free_port()
        self.listener: socket.socket | None = None
        self.frozen = False
        """True: accept connections but never answer (a database that hangs, SIGSTOP-like)."""
        self.held: list[socket.socket] = []

    def open(self) -> None:
        """Start listening and forwarding (daemon threads, loopback only)."""
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        assert self.listener is not None
        for _ in range(1000):
            try:
                client, _addr = self.listener.accept()
            except OSError:
                return
            if self.frozen:
                self.held.append(client)  # open, silent
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            upstream.settimeout(None)  # an idle pooled connection is not an error
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        """Stop accepting."""
        if self.listener is not None:
            # shutdown() first: close() alone leaves a thread blocked in accept() holding the
            # socket, which then keeps accepting.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
        for held in self.held:
            held.close()


def test_waits_for_database_then_proceeds(pg, tmp_path) -> None:
    """The database answers only 4 s after start: logged retries, then migrate succeeds."""
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, NASTY_PASSWORD)
    late = LateForwarder(pg.port)
    env = {
        **pg_env(pg, db, user),
        "DB_PORT": str(late.port),
        "DATA_DIR": str(tmp_path),
        "DB_WAIT_SECONDS": "60",
    }
    proc = subprocess.Popen(
        services.entrypoint_command("migrate"),
        env=services.entrypoint_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        time.sleep(4)
        assert proc.poll() is None, proc.communicate()[0]
        late.open()
        output, _ = proc.communicate(timeout=90)
    finally:
        late.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == 0, output
    assert "not reachable yet (attempt 1)" in output
    assert "created tracking schema" in output
    assert NASTY_PASSWORD not in output and "rd%25" not in output


def test_gives_up_on_absent_database_after_db_wait_seconds(tmp_path) -> None:
    """Nothing listens: exit 1 after about DB_WAIT_SECONDS with one masked error line."""
    env = {
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(services.free_port()),
        "DB_PASSWORD": NASTY_PASSWORD,
        "DB_WAIT_SECONDS": "3",
        "DATA_DIR": str(tmp_path),
    }
    started = time.monotonic()
    result = services.run_entrypoint(env, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert "not reachable after 3s (DB_WAIT_SECONDS)" in result.stderr
    assert "***" in result.stderr and NASTY_PASSWORD not in result.stderr
    assert "rd%25" not in result.stderr
    assert 2.5 < elapsed < 15, elapsed


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_wrong_password_stops_at_once(engine: str, pg, maria, tmp_path) -> None:
    """A refused login is not an outage: exit 1 in seconds, not after DB_WAIT_SECONDS."""
    db, user = unique("db"), unique("u")
    server = pg if engine == "postgresql" else maria
    server.create_database(db, user, NASTY_PASSWORD)
    env = {
        "DB_ENGINE": engine,
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(server.port),
        "DB_NAME": db,
        "DB_USER": user,
        "DB_PASSWORD": "wrong-password\n",
        "DB_WAIT_SECONDS": "120",
        "DATA_DIR": str(tmp_path),
    }
    started = time.monotonic()
    result = services.run_entrypoint(env, timeout=100)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.stderr
    assert "refused the login" in result.stderr and "not retried" in result.stderr
    assert "DB_PASSWORD ends with a newline" in result.stderr
    assert "wrong-password" not in result.stderr
    assert elapsed < 30, elapsed


def test_kill_9_keeps_every_acknowledged_write(pg, s3, server_factory, tmp_path) -> None:
    """Writers run; the server is SIGKILLed; after restart every acknowledged run is there."""
    db, user, bucket = unique("db"), unique("u"), unique("bkt")
    pg.create_database(db, user, NASTY_PASSWORD)
    services.create_s3_bucket(s3, bucket)
    env = {
        **pg_env(pg, db, user),
        **s3.env,
        "ARTIFACT_URL": f"s3://{bucket}/a",
        "SERVER_WORKERS": "2",
    }
    port = services.free_port()
    server = server_factory(env, port=port).start().wait_healthy()
    client = MlflowClient(server.url)
    experiment_id = client.create_experiment(unique("crash"))
    acknowledged: list[tuple[str, int]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer() -> None:
        """Create runs and log a metric until stopped or the server goes away."""
        own = MlflowClient(server.url)
        for i in range(10_000):
            if stop.is_set():
                return
            try:
                run_id = own.create_run(experiment_id).info.run_id
                own.log_metric(run_id, "step", float(i), step=i)
            except Exception:
                return
            with lock:
                acknowledged.append((run_id, i))

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    server.kill9()
    stop.set()
    for thread in threads:
        thread.join(60)
    assert len(acknowledged) >= 5, "writers made no progress before the crash"

    restarted = server_factory(env, port=port).start().wait_healthy()
    client = MlflowClient(restarted.url)
    for run_id, i in acknowledged:
        run = client.get_run(run_id)
        assert run.data.metrics["step"] == float(i), run_id
    assert len(client.search_runs([experiment_id], max_results=50000)) >= len(acknowledged)


def test_sigterm_reaches_server_and_workers(server_factory, tmp_path) -> None:
    """The entrypoint became the preloaded server (same pid): SIGTERM to its pid stops it
    and its forked uvicorn workers (nothing left in the process group), promptly."""
    server = server_factory({"DATA_DIR": str(tmp_path), "SERVER_WORKERS": "2"}).start()
    server.wait_healthy()
    assert server.proc is not None
    cmdline = Path(f"/proc/{server.server_pid()}/cmdline").read_bytes().split(b"\0")
    assert b"mlflow_image" in cmdline, cmdline
    assert len(services.process_tree(server.server_pid())) == 3  # arbiter + 2 workers
    started = time.monotonic()
    os.kill(server.server_pid(), signal.SIGTERM)
    server.proc.wait(30)
    services.wait_until(lambda: not services.port_open(server.port), 15, "port release")

    def group_gone() -> bool:
        """True when no process of the server's process group is left."""
        try:
            os.killpg(server.server_pid(), 0)
        except ProcessLookupError:
            return True
        return False

    services.wait_until(group_gone, 15, "server process group exit")
    assert time.monotonic() - started < 30


def test_sigterm_with_a_slow_upload_in_flight_exits_within_the_bound(server_factory, tmp_path):
    """SERVER_SHUTDOWN_SECONDS bounds shutdown: a proxied upload that never finishes (a
    client sending its body slowly) is cut, and the server exits cleanly, in time."""
    env = {"DATA_DIR": str(tmp_path), "SERVER_WORKERS": "2", "SERVER_SHUTDOWN_SECONDS": "3"}
    server = server_factory(env).start().wait_healthy()
    assert server.proc is not None
    slow = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        slow.sendall(
            b"PUT /api/2.0/mlflow-artifacts/artifacts/0/slow/big.bin HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 65536
        )
        time.sleep(1)
        started = time.monotonic()
        os.kill(server.server_pid(), signal.SIGTERM)
        code = server.proc.wait(30)
        elapsed = time.monotonic() - started
    finally:
        slow.close()
    print(
        f"\nSIGTERM with a slow upload in flight, SERVER_SHUTDOWN_SECONDS=3: exit {code} "
        f"after {elapsed:.1f}s"
    )
    assert code == 0, server.log()
    # The bound plus the processes' own exit (seconds on a loaded 2-core machine).
    assert elapsed < 3 + 5, (elapsed, server.log())


@pytest.mark.parametrize("fault", ["refused", "frozen"])
def test_worker_start_without_database_stops_the_server(
    fault: str, pg, server_factory, tmp_path
) -> None:
    """A worker (re)started while the database is gone (connections refused) or hangs
    (accepted, never answered) fails within the connect timeout and visibly: one log line,
    and the server exits for the platform to restart it, instead of MLflow's ~100 s engine
    retry on the first request."""
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, NASTY_PASSWORD)
    late = LateForwarder(pg.port)
    late.open()
    env = {**pg_env(pg, db, user), "DB_PORT": str(late.port), "DATA_DIR": str(tmp_path)}
    env["SERVER_WORKERS"] = "2"
    server = server_factory(env).start().wait_healthy()
    assert server.proc is not None
    workers = [p for p in services.process_tree(server.server_pid()) if p != server.server_pid()]
    assert len(workers) == 2
    if fault == "refused":
        late.close()  # new connections are refused from now on
    else:
        late.frozen = True  # new connections hang
    started = time.monotonic()
    os.kill(workers[0], signal.SIGKILL)
    try:
        code = server.proc.wait(60)
    finally:
        late.close()
    elapsed = time.monotonic() - started
    assert code != 0
    assert "unreachable at worker start" in server.log(), server.log()
    assert NASTY_PASSWORD not in server.log()
    assert elapsed < 30, elapsed
