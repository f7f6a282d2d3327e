"""The connection budget counts every engine a server opens: measured on real PostgreSQL.

The entrypoint runs with basic-auth and 2 workers, its pools set to the minimum budget
(2 + 3 per engine, what the clouds' sizing hands a crowded database). Concurrent requests
that reach the tracking, model registry, jobs and auth stores (every request authenticates)
load it while pg_stat_activity is sampled: the server's backends exceed what one engine per
worker may hold (the old budget's count), and stay within workers x
`db_pool.server_engines(...)` x (pool + overflow), the budget the clouds now use.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from mlflow_iac.db_pool import connections_at_most, server_engines
from tests.image.conftest import pg_env, unique

pytestmark = pytest.mark.e2e

WORKERS = 2
POOL = (2, 3)
CLIENTS = 48
LOAD_SECONDS = 12


def _backends(pg, database: str, user: str) -> int:
    """The server's connections to `database` right now (not this sampling connection)."""
    with contextlib.closing(pg.admin_connect(database)) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND usename = %s AND pid <> pg_backend_pid()",
            (database, user),
        )
        return int(cur.fetchone()[0])


def test_backends_under_load_fit_the_budget_of_every_engine(pg, server_factory, tmp_path) -> None:
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, "pool-engines-pw")
    password = secrets.token_urlsafe(16)
    env = {
        **pg_env(pg, db, user),
        "DB_PASSWORD": "pool-engines-pw",
        "DATA_DIR": str(tmp_path),
        "SERVER_WORKERS": str(WORKERS),
        "AUTH_ENABLED": "true",
        "AUTH_USERNAME": "admin",
        "AUTH_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": str(POOL[0]),
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": str(POOL[1]),
    }
    server = server_factory(env).start().wait_healthy(timeout=180)
    auth = "Basic " + base64.b64encode(f"admin:{password}".encode()).decode()
    paths = [
        "/api/2.0/mlflow/experiments/search?max_results=50",  # tracking store
        "/api/2.0/mlflow/experiments/get?experiment_id=0",  # tracking store
        "/api/2.0/mlflow/registered-models/search?max_results=50",  # model registry store
        "/api/3.0/mlflow/prompt-optimization/jobs/search?experiment_id=0",  # jobs store
        "/api/2.0/mlflow/users/get?username=admin",  # auth store
    ]
    statuses: dict[str, set[int]] = {path: set() for path in paths}
    deadline = time.monotonic() + LOAD_SECONDS
    stop = threading.Event()

    def client(index: int) -> None:
        path = paths[index % len(paths)]
        while time.monotonic() < deadline and not stop.is_set():
            request = urllib.request.Request(server.url + path, headers={"Authorization": auth})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    statuses[path].add(response.status)
            except urllib.error.HTTPError as error:
                statuses[path].add(error.code)

    peak = 0
    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(client, i) for i in range(CLIENTS)]
        try:
            while time.monotonic() < deadline:
                peak = max(peak, _backends(pg, db, user))
                time.sleep(0.1)
        finally:
            stop.set()
            for future in futures:
                future.result(timeout=120)

    # Every store was really used, with the admin's login.
    assert all(codes == {200} for codes in statuses.values()), statuses
    budget = connections_at_most(1, WORKERS, server_engines(True, True), POOL)  # 40
    one_engine = connections_at_most(1, WORKERS, 1, POOL)  # 10: what the old budget counted
    print(f"\npeak backends {peak}; budget {budget}; one-engine count {one_engine}")
    assert one_engine < peak <= budget, (peak, budget)
