"""The image's scenarios against real services, driven by the real MLflow client.

Matrix (what the stacks deploy): scenario 5 (proxied) on PostgreSQL with S3, GCS and
Azure Blob, and on MariaDB with S3; scenario 4 (direct) on PostgreSQL and MariaDB with
S3; scenario 6 (artifacts-only) with S3; scenario 3 (zero config). Every database
user has NASTY_PASSWORD, and the URI reaches the image in each supported form: DB_*
parts over TCP, DB_* parts over a unix socket (Cloud SQL form), and DATABASE_URI.
Each case also checks the artifacts landed in the bucket, not on local disk.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import urllib.request
from pathlib import Path

import boto3
import pytest
from azure.storage.blob import BlobServiceClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage
from sqlalchemy.engine import URL

from tests import services
from tests.image.conftest import NASTY_PASSWORD, pg_env, unique
from tests.image.flow import artifacts_flow, tracking_flow

pytestmark = pytest.mark.e2e


def s3_keys(emulator: services.Emulator, bucket: str) -> list[str]:
    """Every key in an S3 bucket on moto."""
    client = boto3.client(
        "s3",
        endpoint_url=emulator.endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def azure_keys(emulator: services.Emulator, container: str) -> list[str]:
    """Every blob name in an Azurite container."""
    service = BlobServiceClient.from_connection_string(
        emulator.env["AZURE_STORAGE_CONNECTION_STRING"]
    )
    return [b.name for b in service.get_container_client(container).list_blobs()]


def gcs_keys(emulator: services.Emulator, bucket: str) -> list[str]:
    """Every object name in a GCS emulator bucket."""
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.endpoint
    try:
        client = storage.Client(project="e2e-test", credentials=AnonymousCredentials())
        return [b.name for b in client.list_blobs(bucket)]
    finally:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)


def maria_parts(
    maria: services.MariaDB, db: str, user: str, socket: bool = False
) -> dict[str, str]:
    """DB_* variables for a MariaDB database (TCP, or the unix-socket file)."""
    return {
        "DB_ENGINE": "mysql",
        "DB_HOST": maria.socket if socket else "127.0.0.1",
        "DB_PORT": str(maria.port),
        "DB_NAME": db,
        "DB_USER": user,
        "DB_PASSWORD": NASTY_PASSWORD,
    }


def uri(driver: str, port: int, db: str, user: str) -> str:
    """A full DATABASE_URI with NASTY_PASSWORD, encoded the way a user would (URL.create)."""
    return URL.create(
        driver, username=user, password=NASTY_PASSWORD, host="127.0.0.1", port=port, database=db
    ).render_as_string(hide_password=False)


def assert_in_bucket(keys: list[str], flow_run_id: str) -> None:
    """The run's artifacts (and its logged model) are objects in the bucket."""
    assert any(flow_run_id in k and k.endswith("notes.txt") for k in keys), keys[:20]
    assert any(k.endswith("MLmodel") for k in keys), keys[:20]


def test_proxied_postgres_s3(pg, s3, server_factory, tmp_path) -> None:
    """Scenario 5 on PostgreSQL (DB_* parts over TCP) with S3."""
    db, user, bucket = unique("db"), unique("u"), unique("bkt")
    pg.create_database(db, user, NASTY_PASSWORD)
    services.create_s3_bucket(s3, bucket)
    env = {**pg_env(pg, db, user), **s3.env, "ARTIFACT_URL": f"s3://{bucket}/mlflow"}
    with server_factory(env) as server:
        result = tracking_flow(server.url, tmp_path)
    assert result.artifact_location.startswith("mlflow-artifacts:")
    assert_in_bucket(s3_keys(s3, bucket), result.run_id)


def test_proxied_postgres_gcs_socket(pg, gcs, server_factory, tmp_path) -> None:
    """Scenario 5 on PostgreSQL over its unix socket (Cloud SQL form) with GCS.

    The server also gets GOOGLE_AUTH_STRING: it must land in a private 0600 file that
    GOOGLE_APPLICATION_CREDENTIALS names, and the secret itself must leave the environment
    the server's process started with.
    """
    db, user, bucket = unique("db"), unique("u"), unique("bkt")
    pg.create_database(db, user, NASTY_PASSWORD)
    services.create_gcs_bucket(gcs, bucket)
    key = {"type": "service_account", "project_id": "e2e-test", "client_email": "x@y.z"}
    auth_string = base64.b64encode(json.dumps(key).encode()).decode()
    env = {
        **pg_env(pg, db, user, socket=True),
        **gcs.env,
        "ARTIFACT_URL": f"gs://{bucket}/mlflow",
        "GOOGLE_AUTH_STRING": auth_string,
    }
    with server_factory(env) as server:
        environ = dict(
            item.split("=", 1)
            for item in Path(f"/proc/{server.server_pid()}/environ").read_text().split("\0")
            if "=" in item
        )
        # Set in the server's own environment after start (the preloaded server is the
        # entrypoint's process): the log names the file.
        logged = re.search(r"GOOGLE_AUTH_STRING written to (\S+) \(0600\)", server.log())
        assert logged, server.log()
        key_path = Path(logged.group(1))
        assert json.loads(key_path.read_text()) == key
        assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
        assert stat.S_IMODE(key_path.parent.stat().st_mode) == 0o700
        assert "GOOGLE_AUTH_STRING" not in environ
        assert "DB_PASSWORD" not in environ
        result = tracking_flow(server.url, tmp_path)
    assert_in_bucket(gcs_keys(gcs, bucket), result.run_id)


def test_proxied_postgres_azure_uri(pg, azure, server_factory, tmp_path) -> None:
    """Scenario 5 on PostgreSQL (full DATABASE_URI) with Azure Blob (wasbs://, Azurite)."""
    db, user, container = unique("db"), unique("u"), unique("ctr")
    pg.create_database(db, user, NASTY_PASSWORD)
    services.create_azure_container(azure, container)
    env = {
        "DATABASE_URI": uri("postgresql", pg.port, db, user),
        **azure.env,
        "ARTIFACT_URL": f"wasbs://{container}@{services.AZURITE_ACCOUNT}"
        ".blob.core.windows.net/mlflow",
    }
    with server_factory(env) as server:
        result = tracking_flow(server.url, tmp_path)
    assert_in_bucket(azure_keys(azure, container), result.run_id)


def test_proxied_mariadb_s3(maria, s3, server_factory, tmp_path) -> None:
    """Scenario 5 on MariaDB (DB_* parts over TCP) with S3."""
    db, user, bucket = unique("db"), unique("u"), unique("bkt")
    maria.create_database(db, user, NASTY_PASSWORD)
    services.create_s3_bucket(s3, bucket)
    env = {**maria_parts(maria, db, user), **s3.env, "ARTIFACT_URL": f"s3://{bucket}/mlflow"}
    with server_factory(env) as server:
        result = tracking_flow(server.url, tmp_path)
    assert_in_bucket(s3_keys(s3, bucket), result.run_id)


def test_direct_postgres_s3_uri(pg, s3, server_factory, tmp_path) -> None:
    """Scenario 4 on PostgreSQL (DATABASE_URI): the client writes to S3 with its own creds."""
    db, user, bucket = unique("db"), unique("u"), unique("bkt")
    pg.create_database(db, user, NASTY_PASSWORD)
    services.create_s3_bucket(s3, bucket)
    env = {
        "DATABASE_URI": uri("postgresql+psycopg2", pg.port, db, user),
        **s3.env,
        "ARTIFACT_URL": f"s3://{bucket}/mlflow",
        "ARTIFACT_MODE": "direct",
    }
    with server_factory(env) as server:
        result = tracking_flow(server.url, tmp_path)
    assert result.artifact_location.startswith(f"s3://{bucket}/mlflow"), result
    assert_in_bucket(s3_keys(s3, bucket), result.run_id)


def test_direct_mariadb_s3_socket(maria, s3, server_factory, tmp_path) -> None:
    """Scenario 4 on MariaDB over its unix socket with S3."""
    db, user, bucket = unique("db"), unique("u"), unique("bkt")
    maria.create_database(db, user, NASTY_PASSWORD)
    services.create_s3_bucket(s3, bucket)
    env = {
        **maria_parts(maria, db, user, socket=True),
        **s3.env,
        "ARTIFACT_URL": f"s3://{bucket}/mlflow",
        "ARTIFACT_MODE": "direct",
    }
    with server_factory(env) as server:
        result = tracking_flow(server.url, tmp_path)
    assert result.artifact_location.startswith(f"s3://{bucket}/mlflow"), result
    assert_in_bucket(s3_keys(s3, bucket), result.run_id)


def test_artifacts_only_s3_creates_bucket(s3, server_factory, tmp_path) -> None:
    """Scenario 6 with S3; the bucket is missing and CREATE_BUCKET=true creates it."""
    bucket = unique("bkt")
    env = {
        **s3.env,
        "ARTIFACT_URL": f"s3://{bucket}/art",
        "ARTIFACT_MODE": "artifacts-only",
        "CREATE_BUCKET": "true",
    }
    with server_factory(env) as server:
        prefix = artifacts_flow(server.url, tmp_path)
        status = services.http_status(f"{server.url}/api/2.0/mlflow/experiments/search")
        assert status >= 400, "tracking API must be off in artifacts-only mode"
    keys = s3_keys(s3, bucket)
    assert f"art/{prefix}/notes.txt" in keys, keys


def test_missing_bucket_stops_start(s3) -> None:
    """Without CREATE_BUCKET a missing bucket stops the start with one clear line."""
    bucket = unique("bkt")
    result = services.run_entrypoint(
        {**s3.env, "ARTIFACT_URL": f"s3://{bucket}/x", "ARTIFACT_MODE": "artifacts-only"},
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert f"bucket '{bucket}' of ARTIFACT_URL does not exist" in result.stderr
    assert "CREATE_BUCKET=true" in result.stderr


def test_zero_config_sqlite(server_factory, tmp_path) -> None:
    """Scenario 3: no configuration at all; SQLite and artifacts under DATA_DIR.

    Also: an MLflow variable (MLFLOW_SERVER_X_FRAME_OPTIONS) passes straight through.
    """
    data = tmp_path / "data"
    env = {"DATA_DIR": str(data), "MLFLOW_SERVER_X_FRAME_OPTIONS": "DENY"}
    with server_factory(env) as server:
        with urllib.request.urlopen(
            f"{server.url}/api/2.0/mlflow/experiments/search?max_results=1", timeout=10
        ) as response:
            assert response.headers["X-Frame-Options"] == "DENY"
        result = tracking_flow(server.url, tmp_path / "flow")
    assert (data / "mlflow.db").is_file()
    stored = list((data / "artifacts").rglob("notes.txt"))
    assert stored and result.run_id in str(stored[0]), stored
