"""RDS engine/size mappings, the connection budget and Fargate sizes (`mlflow_iac/aws/sizing.py`)."""

from __future__ import annotations

import pytest

from mlflow_iac.aws import sizing


@pytest.mark.parametrize(
    ("engine", "size", "expected"),
    [
        ("postgresql", "small", ("postgres", "16", "postgres16", 5432, "db.t4g.small")),
        ("postgresql", "medium", ("postgres", "16", "postgres16", 5432, "db.t4g.large")),
        ("mysql", "large", ("mysql", "8.4", "mysql8.4", 3306, "db.m7g.xlarge")),
    ],
)
def test_db_settings(engine: str, size: str, expected: tuple) -> None:
    assert sizing.db_settings(engine, size)[:5] == expected


def test_db_settings_refuse_unknown_values() -> None:
    with pytest.raises(ValueError, match="engine"):
        sizing.db_settings("oracle", "small")
    with pytest.raises(ValueError, match="size"):
        sizing.db_settings("mysql", "huge")


@pytest.mark.parametrize(
    ("engine", "size", "max_connections", "engines", "pool"),
    [
        # max_connections from RDS's default formulas on 90% of the memory; pool per engine
        # at the default maxReplicas 4 with 2 workers (1 vCPU, 2 GB): 8 worker processes,
        # each with 4 engines (tracking, registry, jobs, auth) or 3 without auth (MySQL).
        ("postgresql", "small", 202, 4, (2, 3)),  # 181 // 32 = 5
        ("postgresql", "medium", 811, 4, (7, 15)),  # 729 // 32 = 22
        ("postgresql", "large", 1622, 4, (10, 20)),
        ("mysql", "small", 153, 3, (2, 3)),  # 137 // 24 = 5
        ("mysql", "medium", 614, 3, (7, 16)),  # 552 // 24 = 23
        ("mysql", "large", 1228, 3, (10, 20)),
    ],
)
def test_db_pool_settings_per_size_and_engine(
    engine: str, size: str, max_connections: int, engines: int, pool: tuple[int, int]
) -> None:
    assert sizing.db_max_connections(engine, size) == max_connections
    assert sizing.db_pool_settings(engine, size, 4, 2, engines) == pool
    budget = sizing.db_connection_budget(engine, size)
    assert max_connections - budget >= max(10, max_connections // 10)  # the reserve
    assert 4 * 2 * engines * sum(pool) <= budget


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
@pytest.mark.parametrize("engines", [1, 3, 4])
def test_db_pool_settings_shrink_with_scale_and_fit_every_time(engine: str, engines: int) -> None:
    for workers in (1, 2, 4, 8):
        previous = {size: (10, 20) for size in sizing.DB_INSTANCE_CLASSES}
        for max_replicas in range(1, 101):
            for size in sizing.DB_INSTANCE_CLASSES:
                try:
                    pool, overflow = sizing.db_pool_settings(
                        engine, size, max_replicas, workers, engines
                    )
                except ValueError:
                    # Once it no longer fits, it never fits again for more replicas.
                    previous[size] = (0, 0)
                    continue
                assert previous[size] != (0, 0), (size, max_replicas, workers)
                assert pool <= previous[size][0] and overflow <= previous[size][1]
                assert 2 <= pool <= 10 and 3 <= overflow <= 20 and pool <= overflow
                budget = sizing.db_connection_budget(engine, size)
                assert max_replicas * workers * engines * (pool + overflow) <= budget
                previous[size] = (pool, overflow)
            # A larger instance never gets a smaller pool (0: does not fit).
            totals = [sum(previous[s]) for s in ("small", "medium", "large")]
            assert totals == sorted(totals), (max_replicas, workers, totals)


def test_db_pool_settings_refuse_too_many_replicas_for_the_size() -> None:
    # 5 tasks x 2 workers x 4 engines x (2 + 3) = 200 > 181 (202 minus a reserve of 21).
    assert sizing.db_pool_settings("postgresql", "small", 4, 2, 4) == (2, 3)
    with pytest.raises(
        ValueError,
        match=r"^max_replicas: 5 tasks x 2 workers x 4 database engines need at least 200 "
        r"database connections \(pool 2 \+ overflow 3 per engine\), but size 'small' "
        r"\(db\.t4g\.small, postgresql\) allows about 181 after the reserve; allowed: "
        r"max_replicas <= 4 for size 'small', or a larger size \(medium, large\)$",
    ):
        sizing.db_pool_settings("postgresql", "small", 5, 2, 4)
    # Counting one engine (the old budget) let 18 such tasks through: 4x the connections.
    assert sizing.max_replicas_that_fit("postgresql", "small", 2, 1) == 18
    with pytest.raises(ValueError, match=r"max_replicas <= 9 for size 'large'$"):
        sizing.db_pool_settings("mysql", "large", 100, 8, 3)
    with pytest.raises(ValueError, match=r"^size: "):
        sizing.db_pool_settings("mysql", "huge", 4, 2, 3)
    with pytest.raises(ValueError, match=r"^max_replicas: 0 "):
        sizing.db_pool_settings("mysql", "small", 0, 2, 3)


def test_server_workers() -> None:
    assert sizing.server_workers(1.0, 2048) == 2
    assert sizing.server_workers(2.0, 6144) == 4
    assert sizing.server_workers(0.25, 512) == 1  # at least one
    assert sizing.server_workers(4.0, 1024) == 2  # memory-bound: about 512 MB each


def test_fargate_memory_sizes() -> None:
    assert sizing.fargate_memory_sizes(0.25) == [512, 1024, 2048]
    assert sizing.fargate_memory_sizes(1.0)[0] == 2048
    assert sizing.fargate_memory_sizes(1.0)[-1] == 8192
    assert sizing.fargate_memory_sizes(4.0)[-1] == 30720
    assert 1536 not in sizing.fargate_memory_sizes(1.0)
    assert sizing.fargate_memory_sizes(3.0) == []
