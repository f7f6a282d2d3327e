"""Sizing and limits of the Azure services, as pure functions: database SKUs and storage,
Container Apps' CPU/memory pairs, workers, log retention, HTTP scaling. No Pulumi."""

from __future__ import annotations

import ipaddress
import math

from mlflow_iac.db_pool import pool_per_engine, servers_that_fit

DB_SKUS: dict[str, dict[str, tuple[str, str]]] = {
    # vocabulary engine -> size -> (SKU name, tier)
    "postgresql": {
        "small": ("Standard_B2s", "Burstable"),
        "medium": ("Standard_D2ds_v5", "GeneralPurpose"),
        "large": ("Standard_D4ds_v5", "GeneralPurpose"),
    },
    "mysql": {
        "small": ("Standard_B2s", "Burstable"),
        "medium": ("Standard_D2ds_v4", "GeneralPurpose"),
        "large": ("Standard_D4ds_v4", "GeneralPurpose"),
    },
}
"""dbSize -> Flexible Server SKU: small is burstable (2 vCores, 4 GiB), medium and large are
general purpose (2 and 4 vCores, 8 and 16 GiB), the classes AWS's sizes correspond to."""

DB_VERSIONS = {"postgresql": "16", "mysql": "8.0.21"}
"""Pinned major versions (Azure applies minor versions in the maintenance window)."""
DB_PORTS = {"postgresql": 5432, "mysql": 3306}
DB_TLS_PARAMETER = {
    "postgresql": ("require_secure_transport", "on"),
    "mysql": ("require_secure_transport", "ON"),
}
"""The server parameter that refuses unencrypted connections."""
PG_STORAGE_SIZES_GB = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
"""PostgreSQL Flexible Server offers these disk sizes only (MySQL takes any 20 to 16384)."""
BACKUP_DAYS = {"postgresql": (7, 35), "mysql": (1, 35)}
"""Backup retention Flexible Server accepts, per engine."""
LOG_RETENTION_DAYS = (30, 730)
"""Log Analytics workspace retention (pay-as-you-go tier)."""
REQUESTS_PER_WORKER = 10
"""HTTP scaling: concurrent requests per uvicorn worker before another replica is added
(the benchmark saturated 2 workers at about 16 concurrent tracking clients)."""


def db_sku(engine: str, size: str) -> tuple[str, str]:
    """(SKU name, tier) of the Flexible Server for `engine` and `size`."""
    if engine not in DB_SKUS:
        raise ValueError(f"engine: {engine!r} is not one of {', '.join(DB_SKUS)}")
    if size not in DB_SKUS[engine]:
        raise ValueError(f"size: {size!r} is not one of {', '.join(DB_SKUS[engine])}")
    return DB_SKUS[engine][size]


def db_storage_gb(engine: str, requested: int) -> int:
    """The disk size honouring `requested`: PostgreSQL rounds up to the next size it offers
    (20 GB -> 32 GB), MySQL takes it as is."""
    if not 20 <= requested <= 16384:
        raise ValueError(f"storage_gb: {requested} is not from 20 to 16384")
    if engine == "postgresql":
        return next(size for size in PG_STORAGE_SIZES_GB if size >= requested)
    if engine == "mysql":
        return requested
    raise ValueError(f"engine: {engine!r} is not one of {', '.join(DB_SKUS)}")


def high_availability_problem(engine: str, size: str, enabled: bool) -> str | None:
    """Why zone-redundant HA cannot be had, or None: burstable SKUs have no HA."""
    if enabled and db_sku(engine, size)[1] == "Burstable":
        return "medium or large (burstable SKUs of size small have no high availability)"
    return None


def backup_retention_problem(engine: str, days: int) -> str | None:
    """The allowed range when `days` is outside what the engine's Flexible Server takes."""
    low, high = BACKUP_DAYS[engine]
    return None if low <= days <= high else f"{low} to {high} days for {engine} on Azure"


def container_memory(cpu: float, memory_mb: int) -> str:
    """Container Apps' memory for `cpu` vCPU: its pairs are fixed at 2 GiB per vCPU (0.25 /
    0.5Gi ... 4 / 8Gi on the Consumption profile). Raises ValueError with the one allowed
    value otherwise."""
    if cpu not in (0.25, 0.5, 1.0, 2.0, 4.0):
        raise ValueError(f"cpu: {cpu:g} is not one of 0.25, 0.5, 1, 2, 4")
    allowed = int(cpu * 2048)
    if memory_mb != allowed:
        raise ValueError(
            f"memory_mb: {memory_mb} is not Container Apps' size for cpu {cpu:g}: {allowed}"
        )
    return f"{cpu * 2:g}Gi"


def server_workers(cpu: float, memory_mb: int) -> int:
    """uvicorn workers per replica: 2 per vCPU, about 512 MB each, at least one."""
    return max(1, min(round(cpu * 2), memory_mb // 512))


def concurrent_requests(workers: int) -> int:
    """The HTTP scale rule's concurrent requests per replica."""
    return max(1, workers) * REQUESTS_PER_WORKER


def log_retention_problem(days: int) -> str | None:
    """The allowed range when Log Analytics cannot keep logs `days` days."""
    low, high = LOG_RETENTION_DAYS
    return None if low <= days <= high else f"{low} to {high} days on Azure (Log Analytics)"


def subnet_prefixes(vnet_cidr: str) -> tuple[str, str]:
    """(apps, database) subnets of a new VNet: the first /23 for the Container Apps
    environment (room for the platform and 100+ replicas), the next /24 for the Flexible
    Server. For 10.0.0.0/16: 10.0.0.0/23 and 10.0.2.0/24."""
    network = ipaddress.IPv4Network(vnet_cidr)
    if network.prefixlen > 22:
        raise ValueError(f"vnet_cidr: {vnet_cidr!r} is smaller than /22")
    apps = next(network.subnets(new_prefix=23))
    database = ipaddress.IPv4Network((int(apps.broadcast_address) + 1, 24))
    return str(apps), str(database)


DB_MAX_CONNECTIONS = {
    "postgresql": {"small": 429, "medium": 859, "large": 1719},
    "mysql": {"small": 341, "medium": 1365, "large": 2731},
}
"""Default max_connections of each Flexible Server SKU of DB_SKUS (Azure's documented
defaults: PostgreSQL B2s 429, D2ds 859, D4ds 1719; MySQL B2s 341, D2ds 1365, D4ds 2731)."""
DB_RESERVE_MIN = 15
"""Connections kept free: Azure's own (PostgreSQL reserves 15), admins, migrations at start;
at least this many, or 10% of max_connections."""


def db_connection_budget(engine: str, size: str) -> int:
    """Connections the MLflow servers may use: max_connections minus the reserve."""
    db_sku(engine, size)
    total = DB_MAX_CONNECTIONS[engine][size]
    return total - max(DB_RESERVE_MIN, math.ceil(total * 0.1))


def max_replicas_that_fit(engine: str, size: str, workers: int, engines: int) -> int:
    """The most replicas of `workers` workers x `engines` engines whose minimum pools fit."""
    return servers_that_fit(db_connection_budget(engine, size), workers, engines)


def db_pool(
    engine: str, size: str, max_replicas: int, workers: int, engines: int
) -> tuple[int, int]:
    """(pool_size, max_overflow) per engine so that `max_replicas` replicas stay within the
    server's connection limit: every worker of every replica holds `engines` SQLAlchemy
    engines on the database (`db_pool.server_engines`: tracking, model registry, jobs, and
    basic-auth), each with its own pool. Raises ValueError naming max_replicas with the
    number that fits when even the minimum pool does not."""
    if max_replicas < 1 or workers < 1:
        raise ValueError(f"max_replicas: {max_replicas} and workers {workers} must be positive")
    pool = pool_per_engine(db_connection_budget(engine, size), max_replicas, workers, engines)
    if pool is None:
        raise ValueError(
            f"max_replicas: {max_replicas} replicas x {workers} workers x {engines} database "
            f"engines do not fit the {engine} {size} server's connections; allowed: "
            f"{max_replicas_that_fit(engine, size, workers, engines)} or fewer, or a larger size"
        )
    return pool
