"""End to end, the managed-identity path as far as Azurite allows.

The Azure stack gives the server no storage key: `AZURE_CLIENT_ID` (the user-assigned
identity's client id) and Container Apps' own `IDENTITY_ENDPOINT` / `IDENTITY_HEADER`.
Here, with the stack's container environment (under mocks):

- MLflow's Azure store, built from the stack's wasbs:// ARTIFACT_URL and environment, picks
  `DefaultAzureCredential` (no connection string, no key);
- that credential asks a local stand-in of Container Apps' identity endpoint for a token,
  for exactly the stack's AZURE_CLIENT_ID and the storage audience, with the header secret;
- the same credential object, pointed at Azurite over HTTPS with Entra ID checking on
  (`--oauth basic`: audience, issuer and lifetime of the bearer token), writes, lists and
  reads artifacts; MLflow's multipart code gets a user delegation key with that token and
  signs one SAS URL per part with it (skoid = the identity); MLflow's commit assembles the
  parts.

Proven: the environment selects the identity; the token request names the identity; bearer
tokens reach Blob Storage; the identity obtains a user delegation key and MLflow 3.17.2
builds delegation-SAS part URLs from it; the server-side commit. Not proven: that Blob
Storage accepts those part URLs (Azurite 3.35, the last to run on Debian 12's Node 18,
verifies SAS signatures in its 2025-07-05 format, the locked SDK signs in a newer one with
two more fields; the parts are staged with the token instead; the account-key SAS variant
of the same flow runs end to end in `test_azure_env_e2e.py`); that the role assignments
suffice and no more (Azurite has no RBAC: `Storage Blob Data Contributor` on the container,
`Storage Blob Delegator` on the account are asserted on the graph by the mock tests); Key
Vault references; the real Entra token service; MLflow's Azure account URL
(`<account>.blob.core.windows.net`, swapped here for Azurite's).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError
from azure.identity import DefaultAzureCredential
from azure.storage.blob import BlobServiceClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from mlflow.entities.multipart_upload import MultipartUploadPart
from mlflow.store.artifact.azure_blob_artifact_repo import AzureBlobArtifactRepository

from tests import harness, services
from tests.azure.conftest import TENANT

pytestmark = pytest.mark.e2e

IDENTITY_HEADER = "container-apps-identity-header"
STORAGE = "https://storage.azure.com"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 (Azurite's HTTPS; bearer tokens need TLS)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress  # noqa: PLC0415  # only here

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_token(client_id: str) -> tuple[str, int]:
    """A JWT shaped like Entra ID's for the storage audience (Azurite checks the claims)."""
    now = int(time.time())
    claims = {
        "aud": STORAGE,
        "iss": f"https://sts.windows.net/{TENANT}/",
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + 3600,
        "appid": client_id,
        "oid": client_id,
        "tid": TENANT,
    }
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.c2lnbmF0dXJl", now + 3600


class IdentityEndpoint:
    """A stand-in for Container Apps' managed identity endpoint (App Service protocol)."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, list[str]], str | None]] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # http.server's method name
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                endpoint.requests.append((query, self.headers.get("X-IDENTITY-HEADER")))
                token, expires = fake_token(query.get("client_id", [""])[0])
                body = json.dumps(
                    {
                        "access_token": token,
                        "expires_on": str(expires),
                        "token_type": "Bearer",
                        "resource": query.get("resource", [""])[0],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # the base's name
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/msi/token"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> IdentityEndpoint:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def azurite_tls(tls: tuple[Path, Path]) -> Iterator[services.Emulator]:
    with services.azurite(tls) as emulator:
        yield emulator


def stack_environment(scenario: str) -> dict[str, str]:
    result = harness.run_program(
        config={
            "cloud": "azure",
            "azure-native:location": "westeurope",
            "scenario": scenario,
            # The guard artifacts-only needs on Azure (no basic-auth there yet).
            **({"allowedCidrs": ["10.0.0.0/8"]} if scenario == "artifacts-only" else {}),
        }
    )
    app = result.mocks.one("azure-native:app:ContainerApp").inputs
    (container,) = app["template"]["containers"]
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


@pytest.mark.parametrize("scenario", ["proxied", "artifacts-only"])
def test_managed_identity_reaches_blob_storage_and_signs_multipart_uploads(
    scenario: str,
    azurite_tls: services.Emulator,
    tls: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = stack_environment(scenario)
    assert not {"AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCESS_KEY"} & set(plain)
    for name in (
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCESS_KEY",
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_FEDERATED_TOKEN_FILE",
        "MSI_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in plain.items():
        if name.startswith("AZURE_"):
            monkeypatch.setenv(name, value)
    cert = str(tls[0])
    with IdentityEndpoint() as endpoint:
        # What Container Apps injects into a container that has a managed identity.
        monkeypatch.setenv("IDENTITY_ENDPOINT", endpoint.url)
        monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
        repo = AzureBlobArtifactRepository(f"{plain['ARTIFACT_URL']}/{scenario}")
        credential = repo.client.credential
        assert isinstance(credential, DefaultAzureCredential)
        assert repo.client.url.startswith("https://mlflowtest")  # Azure's account URL
        # The same credential, pointed at Azurite (HTTPS, bearer tokens checked).
        repo.client = BlobServiceClient(
            azurite_tls.endpoint, credential=credential, connection_verify=cert
        )
        with contextlib.suppress(ResourceExistsError):  # one Azurite for both scenarios
            repo.client.create_container("mlflow")
        small = tmp_path / "notes.txt"
        small.write_text("written with a bearer token\n")
        repo.log_artifact(str(small), "docs")
        assert [f.path for f in repo.list_artifacts("docs")] == ["docs/notes.txt"]

        # MLflow's multipart upload: the identity gets a user delegation key (Azurite, like
        # Azure, hands one out to an Entra token only) and signs each part's URL with it.
        big = tmp_path / "model.bin"
        big.write_bytes(bytes(range(256)) * 4096 * 3)  # 3 MiB
        created = repo.create_multipart_upload(str(big), num_parts=3, artifact_path="large")
        blob_url = f"{azurite_tls.endpoint}/mlflow/{scenario}/large/model.bin"
        for number, part in enumerate(created.credentials, start=1):
            url = urllib.parse.urlparse(part.url)
            query = urllib.parse.parse_qs(url.query)
            assert part.url.startswith(blob_url + "?comp=block&blockid=")
            assert query["sp"] == ["rw"] and query["sr"] == ["b"] and query["sig"]
            # A delegation SAS: signed by the key of the identity's object id, no account key.
            assert query["skoid"] == [plain["AZURE_CLIENT_ID"]] and query["sktid"] == [TENANT]
            assert base64.b64decode(query["blockid"][0]).decode() == f"mlflow_block_{number}"
        # Azurite 3.35 cannot verify the SAS signature of the locked SDK's newest format (two
        # more fields than its 2025-07-05 check), so the parts are staged with the identity's
        # token instead, and MLflow's server-side commit is run on them.
        blob_client = repo.client.get_blob_client("mlflow", f"{scenario}/large/model.bin")
        data = big.read_bytes()
        for number, start in enumerate(range(0, len(data), 1 << 20), start=1):
            blob_client.stage_block(f"mlflow_block_{number}", data[start : start + (1 << 20)])
        parts = [MultipartUploadPart(c.part_number, None, c.url) for c in created.credentials]
        repo.complete_multipart_upload(str(big), created.upload_id or "", parts, "large")
        (tmp_path / "down").mkdir()
        down = repo.download_artifacts("large/model.bin", str(tmp_path / "down"))
        assert Path(down).read_bytes() == data

    client_id = plain["AZURE_CLIENT_ID"]
    assert endpoint.requests, "the identity endpoint was never asked"
    for query, header in endpoint.requests:
        assert query["client_id"] == [client_id]
        assert query["resource"][0].rstrip("/") == STORAGE
        assert header == IDENTITY_HEADER
