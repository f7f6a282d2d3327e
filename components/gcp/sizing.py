"""Sizes on Google Cloud: Cloud SQL versions, tiers and connection limits, Cloud Run CPU and
memory, and the servers' database pools (pure; tested without mocks)."""

from __future__ import annotations

from components.vocabulary import DB_SIZES, ENGINES

DATABASE_VERSIONS = {"postgresql": "POSTGRES_16", "mysql": "MYSQL_8_4"}
"""Cloud SQL major versions per engine (the same majors as the AWS stack)."""
DB_PORTS = {"postgresql": 5432, "mysql": 3306}
EDITION = "ENTERPRISE"
"""Cloud SQL edition. Set explicitly: new PostgreSQL 16+ instances default to Enterprise
Plus, which refuses the db-custom tiers below (it has only db-perf-optimized ones)."""
DB_TIERS = {
    "small": "db-custom-1-3840",
    "medium": "db-custom-2-7680",
    "large": "db-custom-4-15360",
}
"""Dedicated-core Enterprise tiers per size (1, 2, 4 vCPU with 3.75 GB each). Shared-core
tiers (db-f1-micro, db-g1-small) have no SLA and are not offered."""
DB_MAX_CONNECTIONS = {"small": 200, "medium": 400, "large": 800}
"""The `max_connections` flag set on the instance per size (about 1 per 19 MB of memory):
stated, not left to Cloud SQL's memory-derived default, so the pool budget is exact."""
DB_RESERVE_FRACTION = 0.10
"""Connections kept free for administration, backups and the model registry's engine."""
POOL_PER_WORKER_MAX = 30
"""The image's default pool (10 + 20 overflow) per worker: never more."""
POOL_SIZE_MIN = 2
MAX_OVERFLOW_MIN = 3
TRANSACTION_LOG_DAYS_MAX = 7
"""Enterprise edition keeps point-in-time-recovery logs at most 7 days."""

CLOUD_RUN_CPUS = (1.0, 2.0, 4.0, 8.0)
"""Whole vCPUs. Fractional CPU on Cloud Run forces one request at a time per instance,
which an MLflow server (UI, polling clients, uploads) cannot live with."""
CLOUD_RUN_MEMORY_PER_CPU_MAX = 4096
"""Cloud Run's ceiling: 4 GiB per vCPU (1 -> 4 GiB, 2 -> 8, 4 -> 16, 8 -> 32)."""
CLOUD_RUN_MEMORY_PER_CPU_MIN = 512
"""Cloud Run's floor for 4 and 8 vCPU is 2 and 4 GiB: 512 MB per vCPU covers it."""
CLOUD_RUN_MAX_INSTANCES = 100


def database_version(engine: str) -> str:
    """The Cloud SQL database_version of `engine`."""
    if engine not in ENGINES:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(ENGINES)}")
    return DATABASE_VERSIONS[engine]


def db_tier(size: str) -> str:
    """The Cloud SQL tier of `size`."""
    if size not in DB_SIZES:
        raise ValueError(f"size: {size!r} is not one of {', '.join(DB_SIZES)}")
    return DB_TIERS[size]


def db_flags(engine: str, size: str) -> dict[str, str]:
    """Database flags of the instance: the connection limit the pools are budgeted against."""
    database_version(engine)
    db_tier(size)
    return {"max_connections": str(DB_MAX_CONNECTIONS[size])}


def server_workers(cpu: float, memory_mb: int) -> int:
    """uvicorn workers per instance: 2 per vCPU, about 512 MB each, at least one."""
    return max(1, min(round(cpu * 2), memory_mb // 512))


def cloud_run_memory_range(cpu: float) -> tuple[int, int]:
    """(lowest, highest) memory in MB Cloud Run accepts for `cpu` whole vCPUs."""
    if cpu not in CLOUD_RUN_CPUS:
        raise ValueError(
            f"cpu: {cpu:g} is not one of {', '.join(f'{c:g}' for c in CLOUD_RUN_CPUS)} "
            "(whole vCPUs on Cloud Run)"
        )
    return int(cpu * CLOUD_RUN_MEMORY_PER_CPU_MIN), int(cpu * CLOUD_RUN_MEMORY_PER_CPU_MAX)


def db_connection_budget(size: str) -> int:
    """Connections the MLflow servers may use: max_connections minus the reserve."""
    db_tier(size)
    total = DB_MAX_CONNECTIONS[size]
    return total - int(total * DB_RESERVE_FRACTION)


def max_instances_that_fit(size: str, workers: int) -> int:
    """The most instances of `workers` workers whose minimum pools (2 + 3 each) fit."""
    return db_connection_budget(size) // ((POOL_SIZE_MIN + MAX_OVERFLOW_MIN) * workers)


def db_pool_settings(size: str, max_instances: int, workers: int) -> tuple[int, int]:
    """(pool_size, max_overflow) per worker so that `max_instances` instances of `workers`
    uvicorn workers, each with its own SQLAlchemy pool, stay within the instance's
    `max_connections` less the reserve. ValueError naming max_instances when even the
    minimum pool (2 + 3) does not fit, with the largest count that does."""
    if max_instances < 1 or workers < 1:
        raise ValueError(f"max_instances ({max_instances}) and workers ({workers}) must be >= 1")
    budget = db_connection_budget(size)
    per_worker = min(POOL_PER_WORKER_MAX, budget // (max_instances * workers))
    if per_worker < POOL_SIZE_MIN + MAX_OVERFLOW_MIN:
        raise ValueError(
            f"max_instances: {max_instances} instances x {workers} workers need at least "
            f"{max_instances * workers * (POOL_SIZE_MIN + MAX_OVERFLOW_MIN)} database "
            f"connections, but size {size!r} ({DB_TIERS[size]}, max_connections "
            f"{DB_MAX_CONNECTIONS[size]}) allows {budget} after the reserve; allowed: "
            f"{max_instances_that_fit(size, workers)} or fewer"
        )
    pool_size = max(POOL_SIZE_MIN, per_worker // 3)
    return pool_size, per_worker - pool_size


def transaction_log_days(backup_retention_days: int) -> int:
    """Point-in-time-recovery log retention: the backup retention, at most 7 days."""
    if not 1 <= backup_retention_days <= 365:
        raise ValueError(f"backup_retention_days: {backup_retention_days} is not from 1 to 365")
    return min(backup_retention_days, TRANSACTION_LOG_DAYS_MAX)
