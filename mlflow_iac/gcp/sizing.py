"""Sizes on Google Cloud: Cloud SQL versions, tiers and connection limits, Cloud Run CPU and
memory, and the servers' database pools (pure; tested without mocks)."""

from __future__ import annotations

import re

from mlflow_iac.db_pool import POOL_MINIMUM, pool_per_engine, servers_that_fit
from mlflow_iac.vocabulary import DB_SIZES, ENGINES

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
CONNECTIONS_PER_96_MB = 5
"""The `max_connections` flag set on the instance: 5 per 96 MB (one per 19.2 MB) of the tier's memory
(200 on small, 400 on medium, 800 on large), stated rather than left to Cloud SQL's
memory-derived default, so the servers' pool budget is exact."""
MAX_CONNECTIONS_CAP = 4000
SHARED_CORE_TIERS = ("db-f1-micro", "db-g1-small")
_CUSTOM = re.compile(r"^db-custom-(\d+)-(\d+)$")
_PREDEFINED = re.compile(r"^db-n1-(standard|highmem)-(\d+)$")
_PREDEFINED_MB_PER_CPU = {"standard": 3840, "highmem": 6656}
_PREDEFINED_CPUS = (1, 2, 4, 8, 16, 32, 64, 96)
DB_RESERVE_FRACTION = 0.10
"""Connections kept free for administration, backups and the migrations at start."""
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


def tier_problem(engine: str, tier: str) -> str | None:
    """None when Cloud SQL (Enterprise edition) offers `tier` for `engine`, else what is
    allowed. PostgreSQL takes only custom tiers; the predefined db-n1 tiers are MySQL's."""
    if tier in SHARED_CORE_TIERS:
        return "a dedicated-core tier (shared-core tiers have no SLA)"
    custom = _CUSTOM.match(tier)
    if custom:
        cpus, memory = int(custom[1]), int(custom[2])
        if cpus != 1 and (cpus % 2 or not 2 <= cpus <= 96):
            return "db-custom-CPUS-MB with CPUS 1 or an even number up to 96"
        if memory % 256 or not max(3840, cpus * 922) <= memory <= cpus * 6656:
            return (
                f"db-custom-{cpus}-MB with MB a multiple of 256 from {max(3840, cpus * 922)} "
                f"to {cpus * 6656} (0.9 to 6.5 GB per vCPU)"
            )
        return None
    predefined = _PREDEFINED.match(tier)
    if predefined and int(predefined[2]) in _PREDEFINED_CPUS:
        if engine != "mysql":
            return f"db-custom-CPUS-MB with {engine} (db-n1 tiers are MySQL's only)"
        return None
    return (
        "db-custom-CPUS-MB (e.g. db-custom-2-7680), or db-n1-standard-N / db-n1-highmem-N on mysql"
    )


def tier_memory_mb(tier: str) -> int:
    """Memory of a custom or predefined tier in MB."""
    custom = _CUSTOM.match(tier)
    if custom:
        return int(custom[2])
    predefined = _PREDEFINED.match(tier)
    if predefined:
        return _PREDEFINED_MB_PER_CPU[predefined[1]] * int(predefined[2])
    raise ValueError(f"tier: {tier!r} is not a custom or db-n1 tier")


def db_max_connections(tier: str) -> int:
    """The `max_connections` flag of `tier`."""
    return min(MAX_CONNECTIONS_CAP, tier_memory_mb(tier) * CONNECTIONS_PER_96_MB // 96)


def db_flags(engine: str, tier: str) -> dict[str, str]:
    """Database flags of the instance: the connection limit the pools are budgeted against."""
    problem = tier_problem(engine, tier)
    if problem:
        raise ValueError(f"tier: {tier!r} for {engine}; allowed: {problem}")
    return {"max_connections": str(db_max_connections(tier))}


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


def db_connection_budget(tier: str) -> int:
    """Connections the MLflow servers may use: max_connections minus the reserve."""
    total = db_max_connections(tier)
    return total - int(total * DB_RESERVE_FRACTION)


def max_instances_that_fit(tier: str, workers: int, engines: int) -> int:
    """The most instances of `workers` workers x `engines` engines whose minimum pools
    (2 + 3 per engine) fit."""
    return servers_that_fit(db_connection_budget(tier), workers, engines)


def db_pool_settings(tier: str, max_instances: int, workers: int, engines: int) -> tuple[int, int]:
    """(pool_size, max_overflow) per engine so that `max_instances` instances of `workers`
    uvicorn workers, each with `engines` SQLAlchemy engines on the database
    (`db_pool.server_engines`), stay within the tier's `max_connections` less the reserve.
    ValueError naming max_instances when even the minimum pool (2 + 3) does not fit, with
    the largest count that does."""
    if max_instances < 1 or workers < 1:
        raise ValueError(f"max_instances ({max_instances}) and workers ({workers}) must be >= 1")
    budget = db_connection_budget(tier)
    pool = pool_per_engine(budget, max_instances, workers, engines)
    if pool is None:
        raise ValueError(
            f"max_instances: {max_instances} instances x {workers} workers x {engines} database "
            f"engines need at least {max_instances * workers * engines * sum(POOL_MINIMUM)} "
            f"database connections, but tier {tier} (max_connections "
            f"{db_max_connections(tier)}) allows {budget} after the reserve; allowed: "
            f"{max_instances_that_fit(tier, workers, engines)} or fewer"
        )
    return pool


def transaction_log_days(backup_retention_days: int) -> int:
    """Point-in-time-recovery log retention: the backup retention, at most 7 days."""
    if not 1 <= backup_retention_days <= 365:
        raise ValueError(f"backup_retention_days: {backup_retention_days} is not from 1 to 365")
    return min(backup_retention_days, TRANSACTION_LOG_DAYS_MAX)
