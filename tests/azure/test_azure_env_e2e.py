"""End to end: the container environment the Azure stack produces runs the real image.

The stack runs under mocks (proxied on PostgreSQL, direct on MariaDB without auth,
artifacts-only); the Container App's environment is then started on this host the way
Container Apps would start it, with only the Azure endpoints swapped for local services:

- every `secretRef` is resolved as Container Apps resolves a Key Vault reference: the app
  secret's `keyVaultUrl` names one of the stack's Key Vault secrets, whose value it gets
  (the identity that may read it is asserted by the mock tests, not here);
- DB_HOST / DB_PORT point at a local PostgreSQL or MariaDB whose user is created with the
  stack's login and password (Azure creates the administrator login), DB_NAME gets a unique
  suffix, DB_SSLMODE `require` becomes `prefer` (the local servers have no TLS);
- the wasbs:// ARTIFACT_URL is kept (MLflow takes the container and path from it);
  AZURE_STORAGE_CONNECTION_STRING points MLflow's Azure store at Azurite, standing in for
  the managed identity (AZURE_CLIENT_ID stays set: the connection string wins in MLflow's
  store, so this test does not exercise the identity; `test_azure_identity_e2e.py` does);
- PORT is a free host port (Container Apps' ingress targets the container's 5000).
- SPOOL_DIR (/spool, the EmptyDir volume at /spool) is a directory of the test's own.

Clients then use the stack's `clientEnvironment` (tracking URI swapped for the local one)
with the real MLflow client flow, and the Host check is exercised with the app's FQDN.
Proxied: a file above the multipart threshold goes as a proxied multipart upload, the
parts straight to Blob Storage (Azurite) with SAS URLs the server signed (here with
Azurite's account key; on Azure with a user delegation key, see the identity test).
"""

from __future__ import annotations

import contextlib
import os
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import mlflow
import mlflow.artifacts
import pytest
from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient

from tests import harness, services
from tests.image.flow import artifacts_flow, tracking_flow

pytestmark = pytest.mark.e2e

AZ = "azure-native"
CLIENT_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}
STARTUP_SECONDS = 300
CLIENT_VARIABLES = (
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD",
    "MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE",
    "MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE",
    "AZURE_STORAGE_ACCESS_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
)


@pytest.fixture(scope="module")
def blob() -> Iterator[services.Emulator]:
    with services.azurite() as emulator:
        yield emulator


class _Stopper:
    """Stops the server (and removes its log) when closed."""

    def __init__(self, server: services.EntrypointServer) -> None:
        self.server = server

    def close(self) -> None:
        self.server.__exit__(None, None, None)


def app_environment(result: harness.ProgramResult) -> tuple[dict[str, str], dict[str, str]]:
    """(plain env, secrets resolved like Container Apps' Key Vault references) of the app."""
    app = result.mocks.one(f"{AZ}:app:ContainerApp").inputs
    (container,) = app["template"]["containers"]
    plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    vault = {
        f"https://{s.inputs['vaultName']}.vault.azure.net/secrets/{s.inputs['secretName']}": s.inputs[
            "properties"
        ]["value"]
        for s in result.mocks.of_type(f"{AZ}:keyvault:Secret")
    }
    url_of = {s["name"]: s["keyVaultUrl"] for s in app["configuration"].get("secrets", [])}
    secrets = {
        e["name"]: vault[url_of[e["secretRef"]]] for e in container["env"] if "secretRef" in e
    }
    return plain, secrets


def blobs(emulator: services.Emulator, container: str) -> list[str]:
    service = BlobServiceClient.from_connection_string(
        emulator.env["AZURE_STORAGE_CONNECTION_STRING"]
    )
    return [b.name for b in service.get_container_client(container).list_blobs()]


def committed_blocks(emulator: services.Emulator, container: str, name: str) -> list[str]:
    service = BlobServiceClient.from_connection_string(
        emulator.env["AZURE_STORAGE_CONNECTION_STRING"]
    )
    committed, _ = service.get_blob_client(container, name).get_block_list("committed")
    return [block.id for block in committed]


def status_with_host(url: str, host: str) -> int:
    """GET url with a given Host header (what the Container Apps ingress forwards)."""
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


CASES = [
    pytest.param({"scenario": "proxied"}, id="proxied-postgresql"),
    pytest.param(
        {
            "scenario": "direct",
            "dbEngine": "mysql",
            "authEnabled": "false",
            "clientAccessKey": "true",
        },
        id="direct-mysql-no-auth-key",
    ),
    # Named networks: the guard artifacts-only needs on Azure (no basic-auth there yet).
    pytest.param(
        {"scenario": "artifacts-only", "allowedCidrs": ["10.0.0.0/8"]}, id="artifacts-only"
    ),
]


@pytest.mark.usefixtures("every_special_password")
@pytest.mark.parametrize("config", CASES)
def test_azure_container_environment_runs_the_image(
    config: dict[str, str],
    request: pytest.FixtureRequest,
    blob: services.Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = harness.run_program(
        config={"cloud": "azure", f"{AZ}:location": "westeurope", **config}
    )
    plain, secrets = app_environment(result)
    scenario = config["scenario"]
    assert plain["ARTIFACT_URL"] == result.outputs["artifactLocation"]
    assert plain["ARTIFACT_URL"].startswith("wasbs://mlflow@")
    with contextlib.suppress(ResourceExistsError):  # one Azurite for every case
        services.create_azure_container(blob, "mlflow")

    env = {
        **plain,
        **secrets,
        "AZURE_STORAGE_CONNECTION_STRING": blob.env["AZURE_STORAGE_CONNECTION_STRING"],
    }
    env.pop("PORT")
    if "SPOOL_DIR" in env:  # the platform's spool volume: a directory of this test's
        assert env["SPOOL_DIR"] == "/spool"
        env["SPOOL_DIR"] = str(tmp_path / "spool")
    if "DB_HOST" in plain:
        assert plain["DB_SSLMODE"] == "require"
        server = request.getfixturevalue("pg" if plain["DB_ENGINE"] == "postgresql" else "maria")
        database = f"{plain['DB_NAME']}_{uuid.uuid4().hex[:8]}"
        server.create_database(database, plain["DB_USER"], secrets["DB_PASSWORD"])
        env.update(
            DB_HOST="127.0.0.1", DB_PORT=str(server.port), DB_NAME=database, DB_SSLMODE="prefer"
        )
    assert not set(plain) & set(secrets)

    mlflow_server = services.EntrypointServer(env, log_dir=str(tmp_path)).start()
    with contextlib.closing(_Stopper(mlflow_server)):
        # A first migration of MySQL on a loaded 2-core machine takes over a minute.
        mlflow_server.wait_healthy(timeout=STARTUP_SECONDS)
        for name, value in CLIENT_SETTINGS.items():
            monkeypatch.setenv(name, value)
        for name in CLIENT_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        client_env = dict(result.outputs["clientEnvironment"])
        assert client_env.pop("MLFLOW_TRACKING_URI") == f"https://{result.outputs['appFqdn']}"
        for name, value in client_env.items():
            monkeypatch.setenv(name, value)
        if scenario == "direct":
            # The account key reaches https://<account>.blob.core.windows.net only; the
            # connection string stands in for it (same key-based client in MLflow's store).
            assert os.environ.pop("AZURE_STORAGE_ACCESS_KEY") == result.outputs["storageAccountKey"]
            monkeypatch.setenv(
                "AZURE_STORAGE_CONNECTION_STRING", blob.env["AZURE_STORAGE_CONNECTION_STRING"]
            )

        if scenario == "artifacts-only":
            prefix = artifacts_flow(mlflow_server.url, tmp_path)
            assert any(name.startswith(prefix) for name in blobs(blob, "mlflow"))
        else:
            flow = tracking_flow(mlflow_server.url, tmp_path, register=scenario == "proxied")
            if scenario == "direct":
                assert flow.artifact_location.startswith(plain["ARTIFACT_URL"] + "/")
            else:
                assert flow.artifact_location.startswith("mlflow-artifacts:")
            assert any(flow.run_id in name for name in blobs(blob, "mlflow"))
            search = f"{mlflow_server.url}/api/2.0/mlflow/experiments/search?max_results=1"
            accepted = 401 if "AUTH_ENABLED" in plain else 200
            assert status_with_host(search, result.outputs["appFqdn"]) == accepted
            assert status_with_host(search, "evil.example.com") == 403
            if scenario == "proxied":
                _large_upload_goes_as_multipart(
                    mlflow_server.url, blob, tmp_path, monkeypatch, flow.run_id
                )
        log = mlflow_server.log()
        for value in secrets.values():
            assert value not in log


def _large_upload_goes_as_multipart(
    url: str,
    blob: services.Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_id: str,
) -> None:
    """A file above the client's threshold is uploaded as parts straight to Blob Storage
    with the server's SAS URLs, then committed by the server (thresholds shrunk to 1 MiB so
    the test stays small; the stack's clientEnvironment sets 100 MiB)."""
    assert os.environ["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] == "true"
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(1024 * 1024))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(1024 * 1024))
    big = tmp_path / "model.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    mlflow.MlflowClient(url).log_artifact(run_id, str(big), "large")
    (name,) = [n for n in blobs(blob, "mlflow") if n.endswith("/large/model.bin")]
    # Four committed blocks named by MLflow's multipart code: the bytes went as parts.
    assert len(committed_blocks(blob, "mlflow", name)) == 4
    down = mlflow.artifacts.download_artifacts(
        run_id=run_id,
        artifact_path="large/model.bin",
        dst_path=str(tmp_path / "down"),
        tracking_uri=url,
    )
    assert Path(down).read_bytes() == big.read_bytes()
