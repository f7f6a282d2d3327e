"""The servers' database connection budget, one rule for every cloud (pure; no Pulumi).

How many connections an MLflow server (the mlflow-server image, MLflow 3.17.2) can open:
each uvicorn worker process holds one SQLAlchemy engine per store, and every engine has
its own pool of `MLFLOW_SQLALCHEMYSTORE_POOL_SIZE` + `_MAX_OVERFLOW` connections (MLflow
reads the same two variables for every engine; the image cannot size them per store).
Read from MLflow's source:

- the tracking store (`SqlAlchemyStore._engine_map`) and the model registry store
  (`model_registry.SqlAlchemyStore._engine_map`) cache their engines in separate class
  maps, so the same URI gets two engines; the image creates both in every worker at start;
- the jobs store (`SqlAlchemyJobStore._engine_map`, a third map) opens its engine on the
  first prompt-optimization job request (`/mlflow/prompt-optimization/jobs/...`), job
  execution or not;
- with basic-auth, the auth store (`mlflow.server.auth`) has its own engine, on the backend
  database unless AUTH_DATABASE_URL names another one (artifacts-only).

The image's arbiter holds no connection after it forks the workers (docker/mlflow_image/
server.py), and workspaces and read replicas are off, so nothing else counts. Each cloud
computes its database's budget (max_connections less a reserve) and phrases its own error;
the division is here.
"""

from __future__ import annotations

BACKEND_STORE_ENGINES = ("tracking", "model registry", "jobs")
"""The engines of MLflow's stores on the backend database, per worker process."""
POOL_PER_ENGINE_MAX = 30
"""The image's default pool + overflow (10 + 20) per engine: never more than the image's."""
POOL_MINIMUM = (2, 3)
"""The smallest pool worth running per engine: 2 kept open, 3 more under load."""


def server_engines(backend_store: bool, auth_tables: bool) -> int:
    """SQLAlchemy engines one worker process opens on a database: the backend stores' three
    (`backend_store`), plus the auth store's when the auth tables live there."""
    engines = (len(BACKEND_STORE_ENGINES) if backend_store else 0) + (1 if auth_tables else 0)
    if engines == 0:
        raise ValueError("engines: the database holds neither the backend store nor auth tables")
    return engines


def pool_per_engine(
    budget: int, servers: int, workers: int, engines: int
) -> tuple[int, int] | None:
    """(pool_size, max_overflow) per engine so that `servers` tasks/instances of `workers`
    worker processes with `engines` engines each stay within `budget` connections:
    servers x workers x engines x (pool_size + max_overflow) <= budget. About a third kept
    open, the rest overflow, at most the image's 10 + 20. None when even the minimum pool
    (2 + 3) does not fit."""
    for name, value in (("servers", servers), ("workers", workers), ("engines", engines)):
        if value < 1:
            raise ValueError(f"{name}: {value} must be at least 1")
    per_engine = min(POOL_PER_ENGINE_MAX, budget // (servers * workers * engines))
    if per_engine < sum(POOL_MINIMUM):
        return None
    pool_size = max(POOL_MINIMUM[0], per_engine // 3)
    return pool_size, per_engine - pool_size


def servers_that_fit(budget: int, workers: int, engines: int) -> int:
    """The most tasks/instances whose minimum pools (2 + 3 per engine) fit `budget`."""
    return budget // (sum(POOL_MINIMUM) * workers * engines)


def connections_at_most(servers: int, workers: int, engines: int, pool: tuple[int, int]) -> int:
    """The connections `servers` servers can hold at full load with `pool` per engine."""
    return servers * workers * engines * sum(pool)
