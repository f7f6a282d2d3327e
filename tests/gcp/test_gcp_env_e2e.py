"""End to end: the container environment the GCP stack produces runs the real image.

The stack runs under mocks (proxied on PostgreSQL, direct on MySQL/MariaDB, artifacts-only);
the Cloud Run container's `envs` are then started on this host the way Cloud Run would
start them, with only Google's endpoints swapped for local services:

- `valueSource.secretKeyRef` entries are resolved against the stack's own Secret Manager
  secret versions (secret id + pinned version), as Cloud Run does at instance start;
- the Cloud SQL connection is a directory named like Cloud Run's mount,
  `<tmp>/cloudsql/PROJECT:REGION:INSTANCE`: for PostgreSQL a directory holding
  `.s.PGSQL.5432`, for MySQL the socket file itself, each a link to the socket of a real
  local server whose user has the stack's user name and password. DB_HOST keeps the stack's
  value with `/cloudsql` moved under the temporary directory; DB_PORT and DB_SSLMODE are
  the stack's, untouched (the image uses neither TLS nor the port number over a socket
  except as the PostgreSQL socket's name);
- the gs:// ARTIFACT_URL is kept; STORAGE_EMULATOR_HOST points google-cloud-storage at the
  GCS emulator (on Cloud Run the metadata server supplies the service account's token);
- PORT is a free host port (Cloud Run sets PORT itself).
- SPOOL_DIR (/spool, the in-memory volume at /spool) is a directory of the test's own.

Clients then connect with the stack's `clientEnvironment` (tracking URI swapped for the
local one) and run the real MLflow client flow; the Host check is exercised with the
computed run.app host name, which Cloud Run forwards unchanged.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core.exceptions import Conflict
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from tests import harness, services
from tests.image.flow import artifacts_flow, tracking_flow

pytestmark = pytest.mark.e2e

CLIENT_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "120",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


@pytest.fixture(scope="module")
def gcs() -> Iterator[services.Emulator]:
    with services.gcs_emulator() as emulator:
        yield emulator


@pytest.fixture
def mount_root() -> Iterator[Path]:
    """Where this test 'mounts' /cloudsql: short, since a socket path has at most 107 bytes."""
    root = Path(tempfile.mkdtemp(prefix="gcp-", dir="/tmp"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cloud_run_environment(result: harness.ProgramResult) -> tuple[dict[str, str], dict[str, str]]:
    """(plain environment, secrets resolved like Cloud Run) of the stack's container."""
    service = result.mocks.one("gcp:cloudrunv2/service:Service")
    (container,) = service.inputs["template"]["containers"]
    secret_ids = {
        s.inputs["secretId"] for s in result.mocks.of_type("gcp:secretmanager/secret:Secret")
    }
    versions = {
        # the SecretVersion names its secret by resource id: projects/P/secrets/<secret id>
        (v.inputs["secret"].rsplit("/", 1)[-1], "1"): _value(v.inputs["secretData"])
        for v in result.mocks.of_type("gcp:secretmanager/secretVersion:SecretVersion")
    }
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    for entry in container["envs"]:
        if "value" in entry:
            plain[entry["name"]] = entry["value"]
        else:
            ref = entry["valueSource"]["secretKeyRef"]
            assert ref["secret"] in secret_ids, ref
            secrets[entry["name"]] = versions[(ref["secret"], ref["version"])]
    return plain, secrets


def _value(value: Any) -> str:
    return value["value"] if isinstance(value, dict) else value


@contextlib.contextmanager
def emulator_host(emulator: services.Emulator) -> Iterator[None]:
    old = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.endpoint
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("STORAGE_EMULATOR_HOST", None)
        else:
            os.environ["STORAGE_EMULATOR_HOST"] = old


def gcs_names(emulator: services.Emulator, bucket: str) -> list[str]:
    with emulator_host(emulator):
        client = storage.Client(project="e2e-test", credentials=AnonymousCredentials())
        return [b.name for b in client.list_blobs(bucket)]


def status_with_host(url: str, host: str) -> int:
    """GET url with a given Host header (what Cloud Run forwards); the HTTP status."""
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def mount_cloud_sql(
    plain: dict[str, str], secrets: dict[str, str], server: Any, root: Path
) -> dict[str, str]:
    """Create the stack's user and a database on `server`, link its socket where Cloud Run
    would mount it, and return the DB_* overrides (DB_HOST under `root`, unique DB_NAME)."""
    host = plain["DB_HOST"]
    assert host.startswith("/cloudsql/") and host.count(":") == 2, host
    database = f"{plain['DB_NAME']}_{uuid.uuid4().hex[:8]}"
    server.create_database(database, plain["DB_USER"], secrets["DB_PASSWORD"])
    mounted = root / host.removeprefix("/")
    if plain["DB_ENGINE"] == "postgresql":
        mounted.mkdir(parents=True)
        (mounted / f".s.PGSQL.{plain['DB_PORT']}").symlink_to(
            Path(server.socket_dir) / f".s.PGSQL.{server.port}"
        )
    else:
        mounted.parent.mkdir(parents=True)
        mounted.symlink_to(server.socket)
    return {"DB_HOST": str(mounted), "DB_NAME": database}


CASES = [
    pytest.param({"scenario": "proxied", "dbEngine": "postgresql"}, id="proxied-postgresql"),
    # MySQL needs auth off (the image refuses basic-auth on MySQL, mlflow/mlflow#9642).
    pytest.param(
        {"scenario": "direct", "dbEngine": "mysql", "authEnabled": "false"},
        id="direct-mysql-no-auth",
    ),
    # IAP: the guard artifacts-only needs on GCP (no basic-auth there yet).
    pytest.param(
        {"scenario": "artifacts-only", "iapMembers": ["group:ml@example.com"]}, id="artifacts-only"
    ),
]


@pytest.mark.usefixtures("every_special_password")
@pytest.mark.parametrize("config", CASES)
def test_gcp_container_environment_runs_the_image(
    config: dict[str, str],
    request: pytest.FixtureRequest,
    mount_root: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gcs: services.Emulator = request.getfixturevalue("gcs")
    result = harness.run_program(config={"cloud": "gcp", **config})
    plain, secrets = cloud_run_environment(result)
    scenario = config["scenario"]
    bucket = result.outputs["artifactLocation"].removeprefix("gs://")
    assert plain["ARTIFACT_URL"] == f"gs://{bucket}"
    with contextlib.suppress(Conflict):  # the same mocked bucket name in every case
        services.create_gcs_bucket(gcs, bucket)
    assert "PORT" not in plain and not set(plain) & set(secrets)

    env = {**plain, **secrets, **gcs.env}
    if "SPOOL_DIR" in env:  # the platform's spool volume: a directory of this test's
        assert env["SPOOL_DIR"] == "/spool"
        env["SPOOL_DIR"] = str(tmp_path / "spool")
    if "DB_HOST" in plain:
        server = request.getfixturevalue("pg" if plain["DB_ENGINE"] == "postgresql" else "maria")
        env.update(mount_cloud_sql(plain, secrets, server, mount_root))
        assert env["DB_SSLMODE"] == "require" and env["DB_PORT"] in ("5432", "3306")

    with services.EntrypointServer(env, log_dir=str(tmp_path)) as mlflow_server:
        for name, value in CLIENT_SETTINGS.items():
            monkeypatch.setenv(name, value)
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
            monkeypatch.delenv(name, raising=False)
        client_env = dict(result.outputs["clientEnvironment"])
        assert client_env.pop("MLFLOW_TRACKING_URI") == f"https://{result.outputs['runAppHost']}"
        for name, value in client_env.items():
            monkeypatch.setenv(name, value)
        if scenario == "direct":
            # Clients reach "GCS" themselves (on GCP as the impersonated client account).
            assert client_env["CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT"].startswith("client-")
            monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs.endpoint)
        else:
            monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)

        search = f"{mlflow_server.url}/api/2.0/mlflow/experiments/search?max_results=1"
        if scenario == "artifacts-only":
            prefix = artifacts_flow(mlflow_server.url, tmp_path)
            assert any(n.startswith(prefix) for n in gcs_names(gcs, bucket))
        else:
            flow = tracking_flow(mlflow_server.url, tmp_path, register=scenario == "proxied")
            if scenario == "direct":
                assert flow.artifact_location.startswith(f"gs://{bucket}/")
            else:
                assert flow.artifact_location.startswith("mlflow-artifacts:")
            assert any(flow.run_id in n for n in gcs_names(gcs, bucket))
        # Cloud Run forwards the run.app host: accepted (401 with auth: login still needed);
        # any other host is refused.
        accepted = 401 if "AUTH_ENABLED" in plain else 200
        if scenario != "artifacts-only":
            assert status_with_host(search, result.outputs["runAppHost"]) == accepted
            assert status_with_host(search, "evil.example.com") == 403
        log = mlflow_server.log()
        for value in secrets.values():
            assert value not in log
