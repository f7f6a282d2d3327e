"""Proxied multipart uploads on Cloud Run: the server signs GCS part URLs through IAM.

What is proven here, without Google: MLflow 3.17.2's own `GCSArtifactRepository.
create_multipart_upload` (the code behind POST /mlflow-artifacts/mpu/create) fails with
token-only credentials like Cloud Run's metadata server gives (AttributeError: no private
key), and with the image's `gcs_signing` installed it signs every part URL through the
IAM signBlob call (`_sign_message` with the account's e-mail and access token), which
needs roles/iam.serviceAccountTokenCreator on the server's own account, the grant the
stack makes. The signBlob HTTP call itself and GCS's XML multipart API are stood in for:
the GCS emulator has no XML multipart API and nothing here reaches Google.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import google.auth.credentials
import pytest
from google.cloud import storage
from google.cloud.storage import _signing
from google.cloud.storage import blob as blob_module
from google.resumable_media.requests import XMLMPUContainer
from mlflow.store.artifact.gcs_artifact_repo import GCSArtifactRepository
from mlflow_image import entrypoint, gcs_signing

from tests import harness

EMAIL = "server-1a2b3c4d@ml-platform-prod.iam.gserviceaccount.com"
MiB = 1024 * 1024


class MetadataCredentials(google.auth.credentials.Credentials):
    """Token-only credentials shaped like google.auth.compute_engine.Credentials: the
    e-mail is 'default' until a refresh asks the metadata server (here: no network)."""

    def __init__(self) -> None:
        super().__init__()
        self.service_account_email = "default"
        self.refreshed = 0

    def refresh(self, request: Any) -> None:
        self.refreshed += 1
        self.service_account_email = EMAIL
        self.token = "ya29.metadata-token"


@pytest.fixture
def unpatched(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the wrapper after each test (monkeypatch restores the original method)."""
    monkeypatch.setattr(
        blob_module.Blob, "generate_signed_url", blob_module.Blob.generate_signed_url
    )


@pytest.fixture
def sign_blob(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """Stand-in for IAM signBlob: records (message, token, e-mail), returns a signature."""
    calls: list[tuple[str, str, str]] = []

    def sign(message: Any, access_token: str, service_account_email: str, *rest: Any) -> str:
        calls.append((str(message), access_token, service_account_email))
        return base64.b64encode(b"signed-by-iam").decode()

    monkeypatch.setattr(_signing, "_sign_message", sign)
    return calls


@pytest.fixture
def repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> tuple[GCSArtifactRepository, Path]:
    """MLflow's GCS repository with metadata-server credentials; XML multipart initiation
    answers an upload id without network."""

    def initiate(self: XMLMPUContainer, transport: Any, content_type: str, **kwargs: Any) -> None:
        self._upload_id = "upload-1"

    monkeypatch.setattr(XMLMPUContainer, "initiate", initiate)
    client = storage.Client(project="ml-platform-prod", credentials=MetadataCredentials())
    large = tmp_path / "model.bin"
    with large.open("wb") as f:
        f.truncate(40 * MiB)  # sparse: the size is what matters
    return GCSArtifactRepository("gs://mlflow-artifacts/1/run/artifacts", client=client), large


@pytest.mark.usefixtures("unpatched")
def test_stock_mlflow_cannot_sign_with_metadata_credentials(repository: Any) -> None:
    repo, large = repository
    with pytest.raises(AttributeError, match="private key"):
        repo.create_multipart_upload(str(large), num_parts=3)


@pytest.mark.usefixtures("unpatched")
def test_installed_signing_goes_through_iam_sign_blob(
    repository: Any, sign_blob: list[tuple[str, str, str]]
) -> None:
    repo, large = repository
    assert gcs_signing.install() is True
    assert gcs_signing.install() is False  # once
    chunk = 16 * MiB
    parts = -(-large.stat().st_size // chunk)
    response = repo.create_multipart_upload(str(large), num_parts=parts)
    assert response.upload_id == "upload-1"
    assert [c.part_number for c in response.credentials] == [1, 2, 3]
    for credential in response.credentials:
        url = credential.url
        assert url.startswith("https://storage.googleapis.com/mlflow-artifacts/1/run/artifacts/")
        assert f"partNumber={credential.part_number}" in url and "uploadId=upload-1" in url
        assert "X-Goog-Credential=" + EMAIL.replace("@", "%40") in url
        assert url.endswith("X-Goog-Signature=" + b"signed-by-iam".hex())
    # One signBlob call per part, as the server's own account with its metadata token.
    assert [(token, email) for _, token, email in sign_blob] == [
        ("ya29.metadata-token", EMAIL)
    ] * parts
    # Every part the client then PUTs to GCS stays under Cloud Run's 32 MiB body limit;
    # only the small create/complete JSON calls go through Cloud Run.
    assert all(min(chunk, large.stat().st_size - i * chunk) < 32 * MiB for i in range(parts))


@pytest.mark.usefixtures("unpatched")
def test_signing_credentials_and_explicit_arguments_are_left_alone(
    sign_blob: list[tuple[str, str, str]],
) -> None:
    gcs_signing.install()
    assert gcs_signing.iam_signing_arguments(google.auth.credentials.AnonymousCredentials()) == {}
    client = storage.Client(project="p", credentials=MetadataCredentials())
    blob = client.bucket("b").blob("o")
    url = blob.generate_signed_url(
        version="v4",
        expiration=60,
        service_account_email="other@p.iam.gserviceaccount.com",
        access_token="explicit",
    )
    assert "other%40p.iam.gserviceaccount.com" in url
    assert sign_blob[-1][1:] == ("explicit", "other@p.iam.gserviceaccount.com")


def test_entrypoint_loads_the_signing_in_server_processes_for_gcs_only() -> None:
    gcs = entrypoint.server_environment(
        entrypoint.resolve({"ARTIFACT_URL": "gs://bucket", "ARTIFACT_MODE": "proxied"}, []),
        {"PYTHONPATH": "/app"},
    )
    assert gcs["PYTHONPATH"].split(os.pathsep) == [str(entrypoint.GCS_BOOT_DIR), "/app"]
    s3 = entrypoint.server_environment(
        entrypoint.resolve({"ARTIFACT_URL": "s3://bucket", "ARTIFACT_MODE": "proxied"}, []),
        {"PYTHONPATH": "/app"},
    )
    assert s3["PYTHONPATH"] == "/app"
    # A process started with that PYTHONPATH (as `mlflow server` and its uvicorn workers
    # are) has the wrapper in place before MLflow imports anything.
    # Lazily: nothing of google-cloud-storage is loaded at start (a worker boots as fast).
    code = (
        "import sys; lazy = 'google.cloud.storage' not in sys.modules; "
        "from google.cloud.storage import blob; "
        f"print(lazy and getattr(blob.Blob.generate_signed_url, {gcs_signing.MARKER!r}, False))"
    )
    docker = str(harness.ROOT / "docker")
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(entrypoint.GCS_BOOT_DIR), docker])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "True", done.stderr
