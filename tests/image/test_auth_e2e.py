"""basic-auth against real PostgreSQL (auth tables in the backend database, whose
password holds `%`): 401s, admin creates a user, 403 until granted, and a changed
AUTH_PASSWORD on restart replaces the admin's password."""

from __future__ import annotations

import os
import secrets

import pytest
import requests
import sqlalchemy.exc
from mlflow import MlflowClient
from mlflow.server import get_app_client
from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
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


def test_mlflow_auth_migration_still_fails_on_mariadb(maria) -> None:
    """Why the entrypoint refuses a MySQL auth database: MLflow 3.17.2's initial auth
    migration names two foreign keys `fk_user_id`, which MySQL/MariaDB reject within one
    database (mlflow/mlflow#9642). When this test fails, MLflow fixed it: lift the check in
    entrypoint._resolve_auth."""
    db, user = unique("db"), unique("u")
    maria.create_database(db, user, "auth-probe-password")
    url = URL.create(
        "mysql+pymysql",
        username=user,
        password="auth-probe-password",
        host="127.0.0.1",
        port=maria.port,
        database=db,
    )
    store = SqlAlchemyStore()
    with pytest.raises(sqlalchemy.exc.OperationalError, match="errno: 121"):
        store.init_db(url.render_as_string(hide_password=False))
    store.engine.dispose()
