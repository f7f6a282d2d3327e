"""basic-auth against real PostgreSQL and MariaDB (auth tables in the backend database, whose
password holds `%`): 401s, admin creates a user, 403 until granted, and a changed
AUTH_PASSWORD on restart replaces the admin's password."""

from __future__ import annotations

import os
import secrets

import pytest
import requests
import sqlalchemy.exc
from alembic.script import ScriptDirectory
from mlflow import MlflowClient
from mlflow.server import get_app_client
from mlflow.server.auth.db import utils as auth_db_utils
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
from mlflow_image import entrypoint as ep
from sqlalchemy.engine import URL

from tests import services
from tests.image.conftest import NASTY_PASSWORD, pg_env, unique

pytestmark = pytest.mark.e2e

SEARCH = "/api/2.0/mlflow/experiments/search?max_results=5"


def _as_user(username: str, password: str) -> dict[str, str | None]:
    """Point the in-process MLflow client at `username` (returns the old settings)."""
    old = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")}
    os.environ["MLFLOW_TRACKING_USERNAME"] = username
    os.environ["MLFLOW_TRACKING_PASSWORD"] = password
    return old


def _restore(old: dict[str, str | None]) -> None:
    """Undo _as_user."""
    for key, value in old.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def test_basic_auth_and_password_rotation(pg, server_factory) -> None:
    """The whole auth story on one database, across a restart with a new password."""
    db, user = unique("db"), unique("u")
    pg.create_database(db, user, NASTY_PASSWORD)
    first, second = "first-" + secrets.token_hex(8), "second-" + secrets.token_hex(8)
    env = {
        **pg_env(pg, db, user),
        "AUTH_ENABLED": "true",
        "AUTH_USERNAME": "root-admin",
        "AUTH_PASSWORD": first,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
        "DATA_DIR": "/nonexistent-must-not-be-used",
    }
    port = services.free_port()
    with server_factory(env, port=port) as server:
        url = server.url
        assert requests.get(url + SEARCH, timeout=10).status_code == 401
        assert (
            requests.get(
                url + SEARCH, auth=("root-admin", "wrong-password-123"), timeout=10
            ).status_code
            == 401
        )
        assert requests.get(url + SEARCH, auth=("root-admin", first), timeout=10).ok
        log = server.log()
        assert first not in log and NASTY_PASSWORD not in log and "rd%25" not in log

        old = _as_user("root-admin", first)
        try:
            admin = get_app_client("basic-auth", tracking_uri=url)
            admin.create_user("alice", "alice-password-1")
            experiment_id = MlflowClient(url).create_experiment(unique("secret-exp"))
        finally:
            _restore(old)
        get = f"{url}/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}"
        assert requests.get(get, auth=("alice", "alice-password-1"), timeout=10).status_code == 403
        old = _as_user("root-admin", first)
        try:
            admin.grant_user_permission("alice", "experiment", experiment_id, "READ")
        finally:
            _restore(old)
        response = requests.get(get, auth=("alice", "alice-password-1"), timeout=10)
        assert response.status_code == 200, response.text
        assert response.json()["experiment"]["experiment_id"] == experiment_id

    rows = pg.query(db, "SELECT count(*) FROM alembic_version_auth")
    assert rows == [(1,)]
    env["AUTH_PASSWORD"] = second
    with server_factory(env, port=port) as server:
        assert (
            requests.get(server.url + SEARCH, auth=("root-admin", first), timeout=10).status_code
            == 401
        )
        assert requests.get(server.url + SEARCH, auth=("root-admin", second), timeout=10).ok
        assert requests.get(server.url + SEARCH, auth=("alice", "alice-password-1"), timeout=10).ok
        assert "AUTH_PASSWORD changed" in server.log()


def _maria_url(maria: services.MariaDB, db: str, user: str, password: str) -> URL:
    return URL.create(
        "mysql+pymysql",
        username=user,
        password=password,
        host="127.0.0.1",
        port=maria.port,
        database=db,
    )


def test_mlflow_auth_migration_still_fails_on_mariadb(maria) -> None:
    """Why the entrypoint creates the initial auth tables itself on MySQL: MLflow 3.17.2's
    initial auth migration names two foreign keys `fk_user_id`, which MySQL/MariaDB reject
    within one database (mlflow/mlflow#10964). When this test fails, MLflow fixed it: drop
    entrypoint.create_mysql_auth_schema."""
    db, user = unique("db"), unique("u")
    maria.create_database(db, user, "auth-probe-password")
    store = SqlAlchemyStore()
    with pytest.raises(sqlalchemy.exc.OperationalError, match="errno: 121"):
        store.init_db(_maria_url(maria, db, user, "auth-probe-password").render_as_string(False))
    store.engine.dispose()


def test_later_auth_migrations_apply_on_the_mysql_safe_schema(maria) -> None:
    """The image's initial tables + MLflow's own stamp-and-upgrade reach MLflow's auth head:
    every later auth migration (workspaces, RBAC, scorer and gateway permissions...) runs."""
    db, user = unique("db"), unique("u")
    maria.create_database(db, user, "auth-probe-password")
    url = _maria_url(maria, db, user, "auth-probe-password")
    engine = ep.create_engine(url)
    try:
        assert ep.create_mysql_auth_schema(engine)
        assert not ep.create_mysql_auth_schema(engine)  # idempotent: tables exist
    finally:
        engine.dispose()
    store = SqlAlchemyStore()
    store.init_db(url.render_as_string(hide_password=False))
    store.engine.dispose()
    config = auth_db_utils._get_alembic_config(url.render_as_string(hide_password=False))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert maria.query(db, "SELECT version_num FROM alembic_version_auth") == [(head,)]
    assert head != auth_db_utils.INITIAL_REVISION
    tables = {row[0] for row in maria.query(db, "SHOW TABLES")}
    assert {"roles", "scorer_permissions", "workspace_permissions"} <= tables
    fks = maria.query(
        db,
        "SELECT constraint_name FROM information_schema.table_constraints "
        f"WHERE constraint_schema = '{db}' AND constraint_type = 'FOREIGN KEY'",
    )
    names = [row[0] for row in fks]
    assert len(names) == len(set(names)) >= 2


def test_basic_auth_on_mariadb(maria, server_factory) -> None:
    """basic-auth with its tables in a MariaDB backend store (refused before): 401 anonymous,
    admin works, a granted user reads, and a restart finds the schema in place."""
    db, user = unique("db"), unique("u")
    maria.create_database(db, user, NASTY_PASSWORD)
    password = "admin-" + secrets.token_hex(8)
    env = {
        "DB_ENGINE": "mysql",
        "DB_HOST": "127.0.0.1",
        "DB_PORT": str(maria.port),
        "DB_NAME": db,
        "DB_USER": user,
        "DB_PASSWORD": NASTY_PASSWORD,
        "AUTH_ENABLED": "true",
        "AUTH_PASSWORD": password,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": secrets.token_hex(16),
    }
    port = services.free_port()
    with server_factory(env, port=port) as server:
        url = server.url
        assert "MySQL-safe constraint names" in server.log()
        assert requests.get(url + SEARCH, timeout=10).status_code == 401
        old = _as_user("admin", password)
        try:
            admin = get_app_client("basic-auth", tracking_uri=url)
            admin.create_user("bob", "bob-password-12")
            experiment_id = MlflowClient(url).create_experiment(unique("exp"))
            admin.grant_user_permission("bob", "experiment", experiment_id, "READ")
        finally:
            _restore(old)
        get = f"{url}/api/2.0/mlflow/experiments/get?experiment_id={experiment_id}"
        assert requests.get(get, auth=("bob", "bob-password-12"), timeout=10).ok
    with server_factory(env, port=port) as server:
        assert "MySQL-safe constraint names" not in server.log()
        assert requests.get(server.url + SEARCH, auth=("admin", password), timeout=10).ok
