"""Bad or contradictory input: the real entrypoint process exits non-zero within 2 s with
one line that names the variable, the value (never a secret) and what is allowed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests import services

SECRET = "Sup3r-Secret-Value!"

CASES = [
    (
        "unknown engine",
        {"DB_ENGINE": "oracle", "DB_HOST": "h", "DB_PASSWORD": SECRET},
        "DB_ENGINE='oracle' is not supported; allowed: postgresql | mysql",
    ),
    (
        "artifacts-only with a database",
        {
            "ARTIFACT_MODE": "artifacts-only",
            "DATABASE_URI": f"postgresql://u:{SECRET}@h/db",
            "ARTIFACT_URL": "s3://b",
        },
        "ARTIFACT_MODE='artifacts-only' but DATABASE_URI is set",
    ),
    (
        "artifacts-only with DB_HOST",
        {"ARTIFACT_MODE": "artifacts-only", "DB_HOST": "h", "DB_PASSWORD": SECRET},
        "ARTIFACT_MODE='artifacts-only' but DB_HOST is set",
    ),
    (
        "direct without ARTIFACT_URL",
        {"ARTIFACT_MODE": "direct"},
        "ARTIFACT_URL is not set but ARTIFACT_MODE='direct' is",
    ),
    (
        "missing password",
        {"DB_HOST": "db.internal"},
        "DB_PASSWORD is not set but DB_HOST='db.internal' is",
    ),
    (
        "malformed URI",
        {"DATABASE_URI": f"::{SECRET}::"},
        "DATABASE_URI is not a valid database URI (value not shown",
    ),
    (
        "unsupported URI scheme",
        {"DATABASE_URI": f"oracle://u:{SECRET}@h/db"},
        "DATABASE_URI uses the unsupported scheme 'oracle'; allowed: postgresql",
    ),
    (
        "short auth password",
        {
            "AUTH_ENABLED": "true",
            "AUTH_PASSWORD": "Sup3r-S",
            "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET,
        },
        "AUTH_PASSWORD has 7 characters but AUTH_ENABLED=true; allowed: a password of 12",
    ),
    (
        "auth without password",
        {"AUTH_ENABLED": "true"},
        "AUTH_PASSWORD is not set but AUTH_ENABLED=true",
    ),
    (
        "auth without secret key",
        {"AUTH_ENABLED": "true", "AUTH_PASSWORD": SECRET},
        "MLFLOW_FLASK_SERVER_SECRET_KEY is not set but AUTH_ENABLED=true",
    ),
    (
        "bad ARTIFACT_MODE",
        {"ARTIFACT_MODE": "proxy"},
        "ARTIFACT_MODE='proxy' is not supported; allowed: proxied | direct | artifacts-only",
    ),
    ("non-integer port", {"PORT": "80a"}, "PORT='80a' is not an integer; allowed: 1..65535"),
    ("port out of range", {"PORT": "70000"}, "PORT='70000' is out of range"),
    (
        "non-integer DB_PORT",
        {"DB_HOST": "h", "DB_PASSWORD": SECRET, "DB_PORT": "x"},
        "DB_PORT='x' is not an integer",
    ),
    (
        "pool overflow 0",
        {"DB_HOST": "h", "DB_PASSWORD": SECRET, "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "0"},
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW='0' is out of range; allowed: 1..1000",
    ),
    (
        "bad boolean",
        {"AUTH_ENABLED": "maybe"},
        "AUTH_ENABLED='maybe' is not a boolean; allowed: true or false",
    ),
    (
        "bad sslmode",
        {"DB_HOST": "h", "DB_PASSWORD": SECRET, "DB_SSLMODE": "on"},
        "DB_SSLMODE='on' is not supported; allowed: disable | allow | prefer",
    ),
    (
        "verify-full without CA",
        {"DB_HOST": "h", "DB_PASSWORD": SECRET, "DB_SSLMODE": "verify-full"},
        "DB_SSLROOTCERT is not set but DB_SSLMODE='verify-full' is",
    ),
    (
        "bad ARTIFACT_URL",
        {"ARTIFACT_URL": "ftp://x/y"},
        "ARTIFACT_URL='ftp://x/y' is not a supported artifact location; allowed: s3://",
    ),
    (
        "CREATE_BUCKET on gs",
        {"ARTIFACT_URL": "gs://b", "CREATE_BUCKET": "true"},
        "CREATE_BUCKET=true but ARTIFACT_URL='gs://b' is not s3://",
    ),
    (
        "CREATE_BUCKET without endpoint",
        {"ARTIFACT_URL": "s3://b", "CREATE_BUCKET": "true"},
        "CREATE_BUCKET=true but MLFLOW_S3_ENDPOINT_URL is not set",
    ),
    (
        "bad GOOGLE_AUTH_STRING",
        {"GOOGLE_AUTH_STRING": SECRET},
        "GOOGLE_AUTH_STRING is not base64 of a JSON key file (value not shown)",
    ),
    (
        "bad PUBLIC_HOSTNAMES",
        {"PUBLIC_HOSTNAMES": "https://mlflow.example.com/"},
        "PUBLIC_HOSTNAMES item 'https://mlflow.example.com/' is not a host name",
    ),
    (
        "bad permission",
        {
            "AUTH_ENABLED": "true",
            "AUTH_PASSWORD": SECRET,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET,
            "AUTH_DEFAULT_PERMISSION": "ALL",
        },
        "AUTH_DEFAULT_PERMISSION='ALL' is not supported; allowed: READ | EDIT | MANAGE",
    ),
    (
        "auth artifacts-only without auth db",
        {
            "AUTH_ENABLED": "true",
            "AUTH_PASSWORD": SECRET,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET,
            "ARTIFACT_MODE": "artifacts-only",
            "ARTIFACT_URL": "s3://b",
        },
        "AUTH_DATABASE_URL is not set but AUTH_ENABLED=true with ARTIFACT_MODE='artifacts-only'",
    ),
    ("relative DATA_DIR", {"DATA_DIR": "data"}, "DATA_DIR='data' is not absolute"),
    (
        "bad MLflow boolean",
        {"MLFLOW_S3_IGNORE_TLS": "maybe"},
        "MLFLOW_S3_IGNORE_TLS='maybe' is not a boolean MLflow accepts; allowed: true | false",
    ),
    (
        "endpoint without scheme",
        {"MLFLOW_S3_ENDPOINT_URL": "minio:9000"},
        "MLFLOW_S3_ENDPOINT_URL='minio:9000' is not an endpoint URL; allowed: http://host",
    ),
    (
        "DB_HOST with a port",
        {"DB_HOST": "db.internal:5432", "DB_PASSWORD": SECRET},
        "DB_HOST='db.internal:5432' is not a host name; allowed: a host name or IP address "
        "alone (the port goes in DB_PORT",
    ),
    (
        "TLS setting next to DATABASE_URI",
        {"DATABASE_URI": f"postgresql://u:{SECRET}@h/db", "DB_SSLMODE": "verify-full"},
        "DB_SSLMODE is set but DATABASE_URI is, which would make it ignored",
    ),
    (
        "two backend URIs",
        {
            "DATABASE_URI": f"postgresql://u:{SECRET}@h/db",
            "MLFLOW_BACKEND_STORE_URI": f"postgresql://u:{SECRET}@h/other",
        },
        "DATABASE_URI and MLFLOW_BACKEND_STORE_URI are both set",
    ),
    (
        "MLFLOW_ARTIFACTS_ONLY next to a database",
        {"MLFLOW_ARTIFACTS_ONLY": "true", "DB_HOST": "h", "DB_PASSWORD": SECRET},
        "ARTIFACT_MODE='artifacts-only' but DB_HOST is set",
    ),
    (
        "MLFLOW_SERVE_ARTIFACTS against ARTIFACT_MODE",
        {"MLFLOW_SERVE_ARTIFACTS": "false", "ARTIFACT_MODE": "proxied", "ARTIFACT_URL": "s3://b"},
        "MLFLOW_SERVE_ARTIFACTS='false' contradicts ARTIFACT_MODE='proxied'",
    ),
    (
        "MLFLOW_PORT against PORT",
        {"PORT": "5000", "MLFLOW_PORT": "8080"},
        "MLFLOW_PORT='8080' disagrees with PORT='5000'; allowed: set PORT only",
    ),
    (
        "MLFLOW_REGISTRY_STORE_URI",
        {"MLFLOW_REGISTRY_STORE_URI": f"postgresql://u:{SECRET}@h/reg"},
        "MLFLOW_REGISTRY_STORE_URI is set (value not shown); allowed: unset",
    ),
    (
        "workspaces",
        {"MLFLOW_ENABLE_WORKSPACES": "true"},
        "MLFLOW_ENABLE_WORKSPACES='true' is not supported",
    ),
    (
        "bad static prefix",
        {"MLFLOW_STATIC_PREFIX": "mlflow/"},
        "MLFLOW_STATIC_PREFIX='mlflow/' is not a URL prefix",
    ),
    (
        "auth password without AUTH_ENABLED",
        {"AUTH_PASSWORD": SECRET},
        "AUTH_PASSWORD is set but AUTH_ENABLED='' is not true; allowed: AUTH_ENABLED=true",
    ),
    (
        "auth user with AUTH_ENABLED=false",
        {"AUTH_ENABLED": "false", "AUTH_USERNAME": "root"},
        "AUTH_USERNAME is set but AUTH_ENABLED='false' is not true",
    ),
    (
        "non-ASCII admin password",
        {
            "AUTH_ENABLED": "true",
            "AUTH_PASSWORD": SECRET + "é",
            "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET,
        },
        "AUTH_PASSWORD (value not shown) has a non-ASCII character; allowed: ASCII only",
    ),
    (
        "non-ASCII admin name",
        {
            "AUTH_ENABLED": "true",
            "AUTH_USERNAME": "jürgen",
            "AUTH_PASSWORD": SECRET,
            "MLFLOW_FLASK_SERVER_SECRET_KEY": SECRET,
        },
        "AUTH_USERNAME='jürgen' has a non-ASCII character",
    ),
]


@pytest.mark.parametrize(("env", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_fails_fast_with_one_line(env: dict[str, str], message: str, tmp_path) -> None:
    """Exit code 2, one stderr line with the expected text, no secret, nothing created, and
    fast: the refusal comes before any heavy import (MLflow and the cloud SDKs take seconds
    to load), which the process reports itself; a wall-clock bound would only
    measure this machine's load."""
    result = subprocess.run(
        [sys.executable, "-c", _MAIN_THEN_REPORT_IMPORTS],
        env=services.entrypoint_env({"DATA_DIR": str(tmp_path), **env}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, lines
    assert message in lines[0], lines[0]
    assert lines[0].startswith("mlflow_image: configuration error: ")
    assert SECRET not in result.stderr + result.stdout
    assert result.stdout.strip() == "heavy modules loaded: []", result.stdout
    assert not list(tmp_path.iterdir()), "nothing may be half-created"


# SQLAlchemy is not here: the entrypoint parses database URLs with it (a fraction of a
# second); MLflow and what it pulls in (pandas, numpy, Flask, the cloud SDKs) take seconds.
HEAVY_MODULES = (
    "mlflow",
    "alembic",
    "flask",
    "gunicorn",
    "uvicorn",
    "boto3",
    "botocore",
    "google",
    "azure",
    "pandas",
    "numpy",
    "psycopg2",
    "pymysql",
)
_MAIN_THEN_REPORT_IMPORTS = f"""
import sys
from mlflow_image.entrypoint import main
try:
    code = main()
except SystemExit as exc:
    code = exc.code
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({HEAVY_MODULES!r}))
print("heavy modules loaded:", loaded)
sys.exit(code)
"""
