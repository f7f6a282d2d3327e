"""AWS sizing: the vocabulary's engines and sizes mapped onto RDS, the database connection
budget of the servers' pools, and the Fargate task sizes.

Mappings are keyed by the names in `mlflow_iac/vocabulary.py` (ENGINES, DB_SIZES), held
equal to them by `tests/test_vocabulary.py`; nothing here declares a vocabulary of its own.
"""

from __future__ import annotations

import math

from mlflow_iac.db_pool import POOL_MINIMUM, pool_per_engine, servers_that_fit

FARGATE_CPU = {0.25: 256, 0.5: 512, 1.0: 1024, 2.0: 2048, 4.0: 4096}
"""vCPU -> Fargate cpu units."""

DB_INSTANCE_CLASSES = {
    "small": "db.t4g.small",
    "medium": "db.t4g.large",
    "large": "db.m7g.xlarge",
}
"""dbSize -> RDS instance class (Graviton: cheaper per vCPU, supported by PostgreSQL and MySQL)."""

DB_INSTANCE_MEMORY_GIB = {"db.t4g.small": 2, "db.t4g.large": 8, "db.m7g.xlarge": 16}
"""Memory of each instance class of DB_INSTANCE_CLASSES, in GiB."""

DB_BYTES_PER_CONNECTION = {"postgresql": 9531392, "mysql": 12582880}
"""Divisor of DBInstanceClassMemory in the max_connections of RDS's default parameter groups."""
DB_CONNECTIONS_CAP = {"postgresql": 5000}
"""Upper bound in that formula (PostgreSQL: LEAST(..., 5000); MySQL has none)."""
DB_ENGINE_MEMORY_FRACTION = 0.9
"""DBInstanceClassMemory: the instance memory minus what the OS and RDS's own processes use,
about 10% (an approximation: AWS does not publish the exact figure per class)."""
DB_RESERVE_FRACTION = 0.10
DB_RESERVE_MIN = 10
"""Connections left free for admins, migrations at task start, monitoring, and the
superuser-reserved slots: 10% of max_connections, at least 10."""
DB_ENGINES: dict[str, tuple[str, str, str, int, tuple[str, str]]] = {
    # vocabulary engine -> (RDS engine, pinned major version, parameter group family, port, TLS parameter)
    "postgresql": ("postgres", "16", "postgres16", 5432, ("rds.force_ssl", "1")),
    "mysql": ("mysql", "8.4", "mysql8.4", 3306, ("require_secure_transport", "ON")),
}
"""Engine settings: the major version is pinned; RDS applies minor upgrades in the window."""

DbSettings = tuple[str, str, str, int, str, tuple[str, str]]
"""`db_settings`: RDS engine, version, parameter group family, port, instance class, TLS."""


def db_settings(engine: str, size: str) -> DbSettings:
    """(RDS engine, engine version, parameter group family, port, instance class, TLS parameter)."""
    if engine not in DB_ENGINES:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(DB_ENGINES)}")
    if size not in DB_INSTANCE_CLASSES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(DB_INSTANCE_CLASSES)}")
    rds_engine, version, family, port, tls = DB_ENGINES[engine]
    return rds_engine, version, family, port, DB_INSTANCE_CLASSES[size], tls


def db_max_connections(engine: str, size: str) -> int:
    """Estimated max_connections of the RDS instance of `size` with the default parameter group.

    RDS derives it from DBInstanceClassMemory: PostgreSQL LEAST(DBInstanceClassMemory/9531392,
    5000), MySQL DBInstanceClassMemory/12582880. DBInstanceClassMemory is taken as the class's
    memory minus 10% (the OS and RDS's processes); the real value is close but not exact, so
    the budget keeps a reserve (see `db_pool_settings`).
    """
    instance_class = db_settings(engine, size)[4]
    memory = DB_INSTANCE_MEMORY_GIB[instance_class] * 2**30 * DB_ENGINE_MEMORY_FRACTION
    connections = int(memory // DB_BYTES_PER_CONNECTION[engine])
    cap = DB_CONNECTIONS_CAP.get(engine)
    return min(connections, cap) if cap else connections


def db_connection_budget(engine: str, size: str) -> int:
    """Connections the MLflow servers may use: max_connections minus the reserve."""
    total = db_max_connections(engine, size)
    return total - max(DB_RESERVE_MIN, math.ceil(total * DB_RESERVE_FRACTION))


def db_pool_settings(
    engine: str, size: str, max_replicas: int, workers: int, engines: int
) -> tuple[int, int]:
    """(pool_size, max_overflow) per engine so that the fully scaled-out service stays
    within the database's connection limit.

    Every worker of every task holds `engines` SQLAlchemy engines on this database, each with
    its own pool (`db_pool.server_engines`: tracking, model registry, jobs, and auth when its
    tables live here), so at `max_replicas` tasks the service may open max_replicas x
    workers x engines x (pool_size + max_overflow) connections. The budget is
    `db_connection_budget` (the estimated max_connections minus 10%, at least 10, kept free);
    the split is `db_pool.pool_per_engine`.

    Raises ValueError naming max_replicas and size when even the minimum pool (2 + 3) does
    not fit, with the largest max_replicas that does.
    """
    if max_replicas < 1:
        raise ValueError(f"max_replicas: {max_replicas} must be at least 1")
    if workers < 1:
        raise ValueError(f"workers: {workers} must be at least 1")
    budget = db_connection_budget(engine, size)
    pool = pool_per_engine(budget, max_replicas, workers, engines)
    if pool is None:
        minimum = sum(POOL_MINIMUM)
        fits = max_replicas_that_fit(engine, size, workers, engines)
        larger = [s for s in DB_INSTANCE_CLASSES if db_connection_budget(engine, s) > budget]
        raise ValueError(
            f"max_replicas: {max_replicas} tasks x {workers} workers x {engines} database "
            f"engines need at least {max_replicas * workers * engines * minimum} database "
            f"connections (pool {POOL_MINIMUM[0]} + overflow {POOL_MINIMUM[1]} per engine), but "
            f"size {size!r} ({DB_INSTANCE_CLASSES[size]}, {engine}) allows about {budget} after "
            f"the reserve; allowed: max_replicas <= {fits} for size {size!r}"
            + (f", or a larger size ({', '.join(larger)})" if larger else "")
        )
    return pool


def max_replicas_that_fit(engine: str, size: str, workers: int, engines: int) -> int:
    """The most tasks of `workers` workers x `engines` engines whose minimum pools fit."""
    return servers_that_fit(db_connection_budget(engine, size), workers, engines)


# --------------------------------------------------------------------------- Fargate


def server_workers(cpu: float, memory_mb: int) -> int:
    """uvicorn workers per task: 2 per vCPU (the contract's guidance), about 512 MB each, at
    least one."""
    return max(1, min(round(cpu * 2), memory_mb // 512))


def fargate_memory_sizes(cpu: float) -> list[int]:
    """Memory sizes (MB) Fargate accepts for `cpu` vCPU (0.25, 0.5, 1, 2 or 4); [] otherwise."""
    if cpu == 0.25:
        return [512, 1024, 2048]
    if cpu in (0.5, 1.0, 2.0, 4.0):
        low = int(cpu * 2048) if cpu >= 1 else 1024
        high = 30720 if cpu == 4.0 else int(cpu * 8192)
        return list(range(low, high + 1, 1024))
    return []
