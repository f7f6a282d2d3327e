"""Unit tests of the entrypoint's pure functions: no services, no subprocess."""

from __future__ import annotations

import base64
import configparser
import json
from pathlib import Path

import pytest
from mlflow_image import entrypoint as ep
from mlflow_image.contract import CONTRACT, SECRET_NAMES
from sqlalchemy.engine import make_url

PASSWORD = "p@ss:w/rd%25%#?& x é€ü"


def test_database_url_from_parts_round_trips_any_password() -> None:
    """The assembled URI parses back to exactly the password, user and database."""
    url = ep.build_database_url(
        {
            "DB_HOST": "db.internal",
            "DB_PASSWORD": PASSWORD,
            "DB_USER": "ml user",
            "DB_NAME": "mlflow",
        }
    )
    parsed = make_url(ep.url_to_string(url))
    assert parsed.password == PASSWORD
    assert parsed.username == "ml user"
    assert (parsed.drivername, parsed.host, parsed.port, parsed.database) == (
        "postgresql+psycopg2",
        "db.internal",
        5432,
        "mlflow",
    )
    assert parsed.query == {"sslmode": "prefer", **ep.PG_CONNECTION_DEFAULTS}
    assert PASSWORD not in ep.mask_url(url) and "***" in ep.mask_url(url)


def test_mysql_url_sends_utf8_password_bytes() -> None:
    """PyMySQL encodes passwords as Latin-1: the URL carries the UTF-8 bytes spelled so."""
    url = ep.build_database_url({"DB_ENGINE": "mysql", "DB_HOST": "h", "DB_PASSWORD": PASSWORD})
    parsed = make_url(ep.url_to_string(url))
    assert parsed.drivername == "mysql+pymysql" and parsed.port == 3306
    assert str(parsed.password).encode("latin-1") == PASSWORD.encode("utf-8")
    assert parsed.query["charset"] == "utf8mb4"
    assert ep.pymysql_password("plain-ascii") == "plain-ascii"


def test_unix_socket_forms() -> None:
    """An absolute DB_HOST is a socket: directory for PostgreSQL, file for MySQL."""
    pg = ep.build_database_url(
        {"DB_HOST": "/cloudsql/p:r:i", "DB_PASSWORD": "x", "DB_PORT": "5433"}
    )
    assert pg.host is None and pg.port == 5433
    assert pg.query == {"host": "/cloudsql/p:r:i", **ep.PG_CONNECTION_DEFAULTS}
    my = ep.build_database_url(
        {"DB_ENGINE": "mysql", "DB_HOST": "/cloudsql/p:r:i", "DB_PASSWORD": "x"}
    )
    assert my.host is None and my.port is None
    assert my.query["unix_socket"] == "/cloudsql/p:r:i"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("require", {"sslmode": "require"}),
        ("verify-full", {"sslmode": "verify-full", "sslrootcert": "/ca.pem"}),
    ],
)
def test_postgres_tls(mode: str, expected: dict[str, str]) -> None:
    """DB_SSLMODE / DB_SSLROOTCERT become libpq's parameters."""
    env = {"DB_HOST": "h", "DB_PASSWORD": "x", "DB_SSLMODE": mode}
    if mode.startswith("verify"):
        env["DB_SSLROOTCERT"] = "/ca.pem"
    assert dict(ep.build_database_url(env).query) == {**expected, **ep.PG_CONNECTION_DEFAULTS}


def test_mysql_tls() -> None:
    """For MySQL, verify-ca checks the CA but not the host name; require checks neither."""
    base = {"DB_ENGINE": "mysql", "DB_HOST": "h", "DB_PASSWORD": "x"}
    q = ep.build_database_url({**base, "DB_SSLMODE": "verify-ca", "DB_SSLROOTCERT": "/ca"}).query
    assert (q["ssl_ca"], q["ssl_check_hostname"]) == ("/ca", "false")
    q = ep.build_database_url({**base, "DB_SSLMODE": "require"}).query
    assert q["ssl_check_hostname"] == "false" and "ssl_ca" not in q
    assert "ssl_check_hostname" not in ep.build_database_url(base).query


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("postgres://u:p@h/db", "postgresql+psycopg2"),
        ("postgresql://u:p@h/db", "postgresql+psycopg2"),
        ("mysql://u:p@h/db", "mysql+pymysql"),
        ("mariadb://u:p@h/db", "mysql+pymysql"),
        ("sqlite:////data/x.db", "sqlite"),
    ],
)
def test_database_uri_driver_pinned(raw: str, driver: str) -> None:
    """Scheme aliases map onto the drivers the image ships."""
    assert ep.parse_database_uri("DATABASE_URI", raw).drivername == driver


def test_scenario_3_zero_config() -> None:
    """No configuration: SQLite and proxied artifacts under DATA_DIR."""
    plan = ep.resolve({"DATA_DIR": "/d"})
    assert plan.env["MLFLOW_BACKEND_STORE_URI"] == "sqlite:////d/mlflow.db"
    assert plan.args[:6] == ["--host", "0.0.0.0", "--port", "5000", "--workers", "2"]
    assert plan.args[6:8] == ["--artifacts-destination", "/d/artifacts"]
    assert plan.args[-2:] == [
        "--uvicorn-opts",
        "--timeout-keep-alive 650 --timeout-graceful-shutdown 8",
    ]
    assert plan.launcher == ep.PRELOADED
    assert plan.env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert "MLFLOW_SERVER_ALLOWED_HOSTS" not in plan.env


def test_scenario_4_direct() -> None:
    """ARTIFACT_MODE=direct: --no-serve-artifacts --default-artifact-root ARTIFACT_URL."""
    plan = ep.resolve(
        {
            "DATABASE_URI": "postgresql://u:p@h/db",
            "ARTIFACT_URL": "s3://b/p",
            "ARTIFACT_MODE": "direct",
        }
    )
    assert "--no-serve-artifacts" in plan.args
    i = plan.args.index("--default-artifact-root")
    assert plan.args[i + 1] == "s3://b/p"
    assert "--artifacts-destination" not in plan.args


def test_scenario_5_proxied_default() -> None:
    """ARTIFACT_URL alone: proxied artifacts (--artifacts-destination)."""
    plan = ep.resolve({"DATABASE_URI": "postgresql://u:p@h/db", "ARTIFACT_URL": "gs://b"})
    i = plan.args.index("--artifacts-destination")
    assert plan.args[i + 1] == "gs://b"
    assert "--no-serve-artifacts" not in plan.args


def test_scenario_6_artifacts_only() -> None:
    """artifacts-only: no backend store at all."""
    plan = ep.resolve({"ARTIFACT_URL": "s3://b", "ARTIFACT_MODE": "artifacts-only"})
    assert plan.backend is None and "MLFLOW_BACKEND_STORE_URI" not in plan.env
    assert plan.args[6:9] == ["--artifacts-only", "--artifacts-destination", "s3://b"]


def test_secrets_never_in_args_and_unset_for_server() -> None:
    """Secrets travel in the environment only; spent ones are removed before exec."""
    env = {
        "DB_HOST": "h",
        "DB_PASSWORD": PASSWORD,
        "AUTH_ENABLED": "true",
        "AUTH_PASSWORD": "a-very-long-password",
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "k" * 32,
        "GOOGLE_AUTH_STRING": base64.b64encode(b"{}").decode(),
    }
    plan = ep.resolve(env, ["--static-prefix", "/x"])
    joined = " ".join(plan.args)
    assert "a-very-long-password" not in joined and "rd%25" not in joined
    assert plan.args[-2:] == ["--static-prefix", "/x"]  # extra args last: they win
    assert "--app-name" in plan.args and "basic-auth" in plan.args
    server_env = ep.server_environment(plan, env)
    for name in ("DB_PASSWORD", "AUTH_PASSWORD", "GOOGLE_AUTH_STRING"):
        assert name not in server_env
    assert server_env["MLFLOW_AUTH_ADMIN_PASSWORD"] == "a-very-long-password"
    assert PASSWORD not in plan.describe()


def test_allowed_hosts_and_cors_from_public_hostnames() -> None:
    """Each public name bare, :80 and :443, plus localhost with and without PORT."""
    plan = ep.resolve({"PUBLIC_HOSTNAMES": "mlflow.example.com, x.run.app", "PORT": "8080"})
    hosts = plan.env["MLFLOW_SERVER_ALLOWED_HOSTS"].split(",")
    for host in (
        "mlflow.example.com",
        "mlflow.example.com:80",
        "mlflow.example.com:443",
        "x.run.app:443",
        "localhost",
        "localhost:8080",
        "127.0.0.1:8080",
    ):
        assert host in hosts
    origins = plan.env["MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"].split(",")
    assert "https://mlflow.example.com" in origins and "http://x.run.app" in origins


def test_explicit_mlflow_security_variables_win() -> None:
    """MLFLOW_SERVER_ALLOWED_HOSTS / _CORS_ALLOWED_ORIGINS set explicitly are not touched."""
    plan = ep.resolve(
        {
            "PUBLIC_HOSTNAMES": "a.example.com",
            "MLFLOW_SERVER_ALLOWED_HOSTS": "*",
            "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS": "https://b",
        }
    )
    assert "MLFLOW_SERVER_ALLOWED_HOSTS" not in plan.env
    assert "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS" not in plan.env


def test_uvicorn_options_respect_user() -> None:
    """User's MLFLOW_UVICORN_OPTS are kept; keep-alive is added unless already there."""
    plan = ep.resolve(
        {
            "MLFLOW_UVICORN_OPTS": "--proxy-headers",
            "SERVER_KEEP_ALIVE_SECONDS": "900",
            "SERVER_WORKERS": "3",
        }
    )
    assert plan.args[plan.args.index("--uvicorn-opts") + 1] == (
        "--proxy-headers --timeout-keep-alive 900 --timeout-graceful-shutdown 8"
    )
    assert plan.args[plan.args.index("--workers") + 1] == "3"
    plan = ep.resolve({"MLFLOW_GUNICORN_OPTS": "--timeout 60"})
    assert "--uvicorn-opts" not in plan.args


POOL_DEFAULTS = {
    "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "10",
    "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "20",
    "MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE": "1800",
}


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URI": "postgresql://u:p@h/db"},
        {"MLFLOW_BACKEND_STORE_URI": "mysql://u:p@h/db"},
        {"DB_HOST": "h", "DB_PASSWORD": "x"},
        {"DB_ENGINE": "mysql", "DB_HOST": "h", "DB_PASSWORD": "x"},
    ],
    ids=["postgresql-uri", "mysql-uri", "postgresql-parts", "mysql-parts"],
)
def test_pool_defaults_for_a_database_server(env: dict[str, str]) -> None:
    """PostgreSQL/MySQL: pool 10 + overflow 20 per worker, recycled after 30 min."""
    plan = ep.resolve(env)
    assert {k: v for k, v in plan.env.items() if k in POOL_DEFAULTS} == POOL_DEFAULTS
    assert plan.db_pool == (10, 20)
    assert "pool=10+20/worker" in plan.describe()
    assert all(ep.server_environment(plan, env)[k] == v for k, v in POOL_DEFAULTS.items())


@pytest.mark.parametrize(
    "env",
    [
        {"DATA_DIR": "/d"},
        {"DATABASE_URI": "sqlite:////data/x.db"},
        {"ARTIFACT_URL": "s3://b", "ARTIFACT_MODE": "artifacts-only"},
    ],
    ids=["sqlite-default", "sqlite-uri", "artifacts-only"],
)
def test_no_pool_defaults_without_a_database_server(env: dict[str, str]) -> None:
    """SQLite keeps MLflow's own pool handling; artifacts-only has no store at all."""
    plan = ep.resolve(env)
    assert not set(plan.env) & set(POOL_DEFAULTS)
    assert plan.db_pool is None and "pool=" not in plan.describe()


def test_user_pool_values_win() -> None:
    """A user's value reaches the server untouched; only the unset ones get defaults."""
    env = {
        "DATABASE_URI": "postgresql://u:p@h/db",
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "25",
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": " 50 ",
    }
    plan = ep.resolve(env)
    assert "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE" not in plan.env
    assert "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW" not in plan.env
    assert plan.db_pool == (25, 50)
    server_env = ep.server_environment(plan, env)
    assert server_env["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"] == "25"
    assert server_env["MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"] == " 50 "
    assert server_env["MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE"] == "1800"
    # SQLite: a user's value passes through too, and nothing is added.
    sqlite = {"DATA_DIR": "/d", "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "3"}
    assert (
        ep.server_environment(ep.resolve(sqlite), sqlite)["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"] == "3"
    )


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("MLFLOW_SQLALCHEMYSTORE_POOL_SIZE", "ten", "is not an integer; allowed: 1..1000"),
        ("MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW", "0", "is out of range; allowed: 1..1000"),
        ("MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW", "-1", "is out of range; allowed: 1..1000"),
        ("MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE", "-5", "is out of range; allowed: 0..86400"),
    ],
)
def test_bad_pool_values_name_the_variable(name: str, raw: str, message: str) -> None:
    """0 would silently mean SQLAlchemy's default in MLflow, -1 an unbounded overflow."""
    with pytest.raises(ep.ConfigError, match=rf"^{name}='{raw}' {message}$"):
        ep.resolve({"DB_HOST": "h", "DB_PASSWORD": "x", name: raw})


def test_auth_ini_survives_configparser_interpolation() -> None:
    """MLflow reads the auth ini with ConfigParser: `%` must be doubled to survive."""
    url = ep.build_database_url({"DB_HOST": "h", "DB_PASSWORD": PASSWORD})
    text = ep.auth_ini_text(ep.url_to_string(url), "admin%x", "READ")
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert parser["mlflow"]["database_uri"] == ep.url_to_string(url)
    assert make_url(parser["mlflow"]["database_uri"]).password == PASSWORD
    assert parser["mlflow"]["admin_username"] == "admin%x"
    assert parser["mlflow"]["default_permission"] == "READ"


def test_auth_plan() -> None:
    """Auth: defaults (admin, NO_PERMISSIONS), auth DB = backend unless AUTH_DATABASE_URL."""
    env = {
        "DATABASE_URI": "postgresql://u:p@h/db",
        "AUTH_ENABLED": "TRUE",
        "AUTH_PASSWORD": "x" * 12,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": "k",
    }
    plan = ep.resolve(env)
    assert (plan.auth_username, plan.auth_default_permission) == ("admin", "NO_PERMISSIONS")
    assert plan.auth_database == plan.backend
    plan = ep.resolve(
        {**env, "AUTH_DATABASE_URL": "postgresql://a:b@c/auth", "AUTH_DEFAULT_PERMISSION": "read"}
    )
    assert plan.auth_database is not None and plan.auth_database.database == "auth"
    assert plan.auth_default_permission == "READ"


def test_google_auth_string() -> None:
    """GOOGLE_AUTH_STRING must be base64 of JSON."""
    key = {"type": "service_account"}
    assert (
        json.loads(
            ep.decode_google_auth_string(base64.b64encode(json.dumps(key).encode()).decode())
        )
        == key
    )
    with pytest.raises(ep.ConfigError, match="GOOGLE_AUTH_STRING is not base64"):
        ep.decode_google_auth_string("not base64!")
    with pytest.raises(ep.ConfigError, match="GOOGLE_AUTH_STRING"):
        ep.decode_google_auth_string(base64.b64encode(b"not json").decode())


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("s3://bucket/path", True),
        ("gs://b", True),
        ("wasbs://c@a.blob.core.windows.net/p", True),
        ("/abs/path", True),
        ("file:///x", True),
        ("relative/path", False),
        ("ftp://h/x", False),
        ("s3://", False),
    ],
)
def test_artifact_url_validation(raw: str, ok: bool) -> None:
    """Supported artifact locations pass; anything else is a one-line ConfigError."""
    if ok:
        assert ep.validate_artifact_url(raw) == raw
    else:
        with pytest.raises(ep.ConfigError, match="ARTIFACT_URL"):
            ep.validate_artifact_url(raw)


def test_parsers() -> None:
    """Booleans, integers and choices accept the documented spellings only."""
    assert ep.parse_bool({"X": "Yes"}, "X", False) is True
    assert ep.parse_bool({"X": ""}, "X", True) is True
    assert ep.parse_bool({}, "X", False) is False
    with pytest.raises(ep.ConfigError, match="X='maybe' is not a boolean"):
        ep.parse_bool({"X": "maybe"}, "X", False)
    assert ep.parse_int({"P": " 80 "}, "P", 1, 1, 100) == 80
    with pytest.raises(ep.ConfigError, match=r"P='0' is out of range; allowed: 1\.\.100"):
        ep.parse_int({"P": "0"}, "P", 1, 1, 100)
    assert ep.parse_choice({"M": "DIRECT"}, "M", "proxied", ("proxied", "direct")) == "direct"
    assert ep.parse_list(" a, ,b ,") == ["a", "b"]
    assert ep.s3_bucket_of("s3://bkt/a/b") == "bkt" and ep.s3_bucket_of("gs://x") is None


def test_every_contract_variable_is_read_by_the_entrypoint() -> None:
    """The contract and the entrypoint agree: each contract name appears in the code."""
    source = "".join(p.read_text() for p in Path(ep.__file__).parent.glob("*.py"))
    missing = [v.name for v in CONTRACT if f'"{v.name}"' not in source]
    assert not missing, missing
    assert {
        "DATABASE_URI",
        "DB_PASSWORD",
        "AUTH_PASSWORD",
        "GOOGLE_AUTH_STRING",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    } <= SECRET_NAMES


def test_connect_timeout_and_keepalives_on_every_database_url() -> None:
    """Assembled or given, PostgreSQL URLs get libpq's connect timeout and keepalives and
    MySQL URLs PyMySQL's connect timeout; a user's own value in the URI wins."""
    plan = ep.resolve(
        {
            "DATABASE_URI": "postgresql://u:p@h/db?connect_timeout=3",
            "MLFLOW_READ_REPLICA_BACKEND_STORE_URI": "mysql://u:p@r/db",
        }
    )
    assert plan.backend is not None and plan.read_replica is not None
    assert plan.backend.query["connect_timeout"] == "3"
    assert plan.backend.query["keepalives_idle"] == "30"
    assert plan.read_replica.query == {
        "connect_timeout": "10",
        "read_timeout": "30",
        "write_timeout": "30",
    }
    served = make_url(plan.env["MLFLOW_BACKEND_STORE_URI"])
    assert served.query["keepalives"] == "1"
    mysql = ep.build_database_url({"DB_ENGINE": "mysql", "DB_HOST": "h", "DB_PASSWORD": "x"})
    assert mysql.query["connect_timeout"] == "10" and mysql.query["read_timeout"] == "30"
    sqlite = ep.resolve({"DATA_DIR": "/d"}).backend
    assert sqlite is not None and not sqlite.query


def test_db_read_timeout_is_honoured_or_refused() -> None:
    """DB_READ_TIMEOUT_SECONDS sets PyMySQL's read/write timeouts and the plan's PostgreSQL
    read timeout; 0 turns both off; a URI's own read_timeout wins; bad values are refused."""
    given = {"DB_ENGINE": "mysql", "DB_HOST": "h", "DB_PASSWORD": "x"}
    plan = ep.resolve({**given, "DB_READ_TIMEOUT_SECONDS": "120"})
    assert plan.db_read_timeout == 120 and plan.backend is not None
    assert plan.backend.query["read_timeout"] == plan.backend.query["write_timeout"] == "120"
    off = ep.resolve({**given, "DB_READ_TIMEOUT_SECONDS": "0"})
    assert off.db_read_timeout == 0 and off.backend is not None
    assert off.backend.query == {"connect_timeout": "10", "charset": "utf8mb4"}
    own = ep.resolve({"DATABASE_URI": "mysql://u:p@h/db?read_timeout=5"})
    assert own.backend is not None and own.backend.query["read_timeout"] == "5"
    assert own.backend.query["write_timeout"] == "30"
    pg = ep.resolve({"DB_HOST": "h", "DB_PASSWORD": "x", "DB_READ_TIMEOUT_SECONDS": "45"})
    assert pg.db_read_timeout == 45 and pg.backend is not None
    assert "read_timeout" not in pg.backend.query  # libpq has none: pg_timeout's callback
    for bad in ("-1", "3601", "soon"):
        with pytest.raises(ep.ConfigError, match=r"^DB_READ_TIMEOUT_SECONDS="):
            ep.resolve({**given, "DB_READ_TIMEOUT_SECONDS": bad})


def test_spool_checks(tmp_path) -> None:
    """SPOOL_DIR is created, logged and becomes the server's TMPDIR; too little free space
    for ARTIFACT_MAX_UPLOAD_MB stops the start; direct mode spools nothing."""
    spool = tmp_path / "spool"
    plan = ep.resolve({"DATA_DIR": str(tmp_path), "SPOOL_DIR": str(spool)})
    ep.check_spool(plan)
    assert spool.is_dir() and plan.env["TMPDIR"] == str(spool)
    huge = ep.resolve({"SPOOL_DIR": str(spool), "ARTIFACT_MAX_UPLOAD_MB": "10000000"})
    with pytest.raises(ep.StartError, match="ARTIFACT_MAX_UPLOAD_MB=10000000"):
        ep.check_spool(huge)
    with pytest.raises(ep.ConfigError, match="SPOOL_DIR='spool' is not absolute"):
        ep.resolve({"SPOOL_DIR": "spool"})
    direct = ep.resolve(
        {
            "DB_HOST": "h",
            "DB_PASSWORD": "x",
            "ARTIFACT_MODE": "direct",
            "ARTIFACT_URL": "s3://b",
            "SPOOL_DIR": "/nonexistent/spool",
            "ARTIFACT_MAX_UPLOAD_MB": "10000000",
        }
    )
    ep.check_spool(direct)  # nothing spooled in direct mode: no check, no directory
