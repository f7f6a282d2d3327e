"""`mlflow_iac.local.engines`: each database engine's image facts, without mocks."""

from __future__ import annotations

from mlflow_iac.local.engines import ENGINES, PASSWORD_FILE, ROOT_PASSWORD_FILE
from mlflow_iac.vocabulary import ENGINES as ENGINE_NAMES


def test_one_spec_per_engine_of_the_vocabulary() -> None:
    assert tuple(ENGINES) == ENGINE_NAMES
    assert all(spec.engine == name for name, spec in ENGINES.items())


def test_postgresql_reads_its_password_from_a_file() -> None:
    spec = ENGINES["postgresql"]
    assert spec.environment("db", "user") == {
        "POSTGRES_DB": "db",
        "POSTGRES_USER": "user",
        "POSTGRES_PASSWORD_FILE": "/run/secrets/db-password",
    }
    assert spec.secret_files() == (PASSWORD_FILE,)
    assert spec.health_test("db", "user") == [
        "CMD",
        "pg_isready",
        "-h",
        "127.0.0.1",
        "-U",
        "user",
        "-d",
        "db",
    ]
    assert (spec.port, spec.data_dir, spec.image_uid) == (5432, "/var/lib/postgresql/data", "999")


def test_mysql_gets_a_root_password_file_of_its_own() -> None:
    spec = ENGINES["mysql"]
    env = spec.environment("db", "user")
    assert env["MYSQL_PASSWORD_FILE"] == "/run/secrets/db-password"
    assert env["MYSQL_ROOT_PASSWORD_FILE"] == "/run/secrets/db-root-password"
    assert not any(k.endswith("PASSWORD") for k in env)  # never a value, only *_FILE
    assert spec.secret_files() == (PASSWORD_FILE, ROOT_PASSWORD_FILE)
    assert spec.health_test("db", "user")[1] == "mysqladmin"
    assert (spec.port, spec.data_dir) == (3306, "/var/lib/mysql")
