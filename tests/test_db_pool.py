"""The shared connection budget (`mlflow_iac/db_pool.py`), and the engine count it rests on
held to the pinned MLflow's source."""

from __future__ import annotations

import inspect

import pytest
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore as AuthStore
from mlflow.store.db import utils
from mlflow.store.jobs.sqlalchemy_store import SqlAlchemyJobStore
from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore as RegistryStore
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

from mlflow_iac import db_pool


def test_engines_per_worker() -> None:
    assert db_pool.server_engines(backend_store=True, auth_tables=True) == 4
    assert db_pool.server_engines(backend_store=True, auth_tables=False) == 3
    assert db_pool.server_engines(backend_store=False, auth_tables=True) == 1  # auth DB apart
    with pytest.raises(ValueError, match=r"^engines: "):
        db_pool.server_engines(backend_store=False, auth_tables=False)


def test_pool_per_engine_keeps_every_engine_within_the_budget() -> None:
    for budget in (50, 181, 729, 1459):
        for servers in (1, 2, 4, 9, 18):
            for workers in (1, 2, 4):
                for engines in (1, 3, 4):
                    pool = db_pool.pool_per_engine(budget, servers, workers, engines)
                    fits = db_pool.servers_that_fit(budget, workers, engines)
                    if pool is None:
                        assert servers > fits
                        continue
                    assert servers <= fits
                    assert db_pool.connections_at_most(servers, workers, engines, pool) <= budget
                    assert pool >= (2, 3) and sum(pool) <= db_pool.POOL_PER_ENGINE_MAX
    # The old one-engine budget gave 181 // 8 = 22 (7 + 15) to each of 4 engines: 704
    # connections at full load against a budget of 181.
    assert db_pool.connections_at_most(4, 2, 4, (7, 15)) == 704
    assert db_pool.pool_per_engine(181, 4, 2, 4) == (2, 3)
    with pytest.raises(ValueError, match=r"^servers: 0 "):
        db_pool.pool_per_engine(100, 0, 2, 3)


def test_mlflow_opens_one_engine_per_store() -> None:
    """What `BACKEND_STORE_ENGINES` counts, read from the pinned MLflow: the tracking, model
    registry and jobs stores cache their engines in three separate class maps (the same
    URI gets three engines), and the auth store creates its own."""
    maps = [store._engine_map for store in (TrackingStore, RegistryStore, SqlAlchemyJobStore)]
    assert len({id(m) for m in maps}) == len(db_pool.BACKEND_STORE_ENGINES) == 3
    assert "create_sqlalchemy_engine_with_retry(db_uri)" in inspect.getsource(AuthStore.init_db)
    # Every engine reads the same pool variables: the image cannot size them per store.
    source = inspect.getsource(utils.create_sqlalchemy_engine)
    assert "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE.get()" in source
    assert "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW.get()" in source
