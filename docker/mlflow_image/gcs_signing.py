"""GCS signed URLs without a private key: signing through the IAM signBlob API.

MLflow's GCS artifact repository signs the part URLs of a proxied multipart upload with
`Blob.generate_signed_url`, which needs credentials holding a private key. On Cloud Run
(and GKE, GCE) the credentials come from the metadata server and hold only a token, so
that call raises AttributeError and every proxied multipart upload fails. google-cloud-
storage can sign through IAM instead (`service_account_email` + `access_token`: a
signBlob call as the service account itself, which needs
roles/iam.serviceAccountTokenCreator on that account); MLflow 3.17.2 never passes them.

`install()` wraps `Blob.generate_signed_url` so that, when the client's credentials cannot
sign but name a service account, those two arguments are added. Credentials that can sign
(a key file, GOOGLE_AUTH_STRING) and explicit arguments are left alone. The image loads it
in every server process through `gcs_boot/sitecustomize.py` when the artifact root is gs://,
as an import hook (`install_on_import`): google-cloud-storage is not imported at start, so a
uvicorn worker boots as fast as without it, and the wrapper is in place the moment MLflow
imports `google.cloud.storage.blob`.
"""

# google-cloud-storage is imported only when installing: the entrypoint must stay fast.
# ruff: noqa: PLC0415

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

MARKER = "_mlflow_image_iam_signing"
TARGET = "google.cloud.storage.blob"


def iam_signing_arguments(credentials: Any) -> dict[str, str]:
    """`service_account_email` and `access_token` for signing through IAM with
    token-only `credentials` ({} when they cannot say which account they are)."""
    import google.auth.credentials
    import google.auth.transport.requests

    if isinstance(credentials, google.auth.credentials.Signing):
        return {}
    email = getattr(credentials, "service_account_email", None)
    if not email:
        return {}  # e.g. anonymous credentials: nothing to sign as
    if not credentials.valid or email == "default":
        # The metadata server's credentials learn their e-mail and token on refresh.
        credentials.refresh(google.auth.transport.requests.Request())
        email = credentials.service_account_email
    return {"service_account_email": email, "access_token": credentials.token}


def install(blob_module: ModuleType | None = None) -> bool:
    """Wrap `Blob.generate_signed_url` once; True when this call installed the wrapper."""
    if blob_module is None:
        from google.cloud.storage import blob as blob_module
    original = blob_module.Blob.generate_signed_url
    if getattr(original, MARKER, False):
        return False

    @functools.wraps(original)
    def generate_signed_url(self: Any, *args: Any, **kwargs: Any) -> str:
        explicit = ("credentials", "service_account_email", "access_token")
        if not any(kwargs.get(name) for name in explicit):
            client = kwargs.get("client") or self.client
            kwargs.update(iam_signing_arguments(client._credentials))
        return original(self, *args, **kwargs)

    setattr(generate_signed_url, MARKER, True)
    blob_module.Blob.generate_signed_url = generate_signed_url
    return True


class _InstallAfterLoad(importlib.abc.Loader):
    """Runs the real loader, then `install` on the freshly executed module."""

    def __init__(self, inner: importlib.abc.Loader) -> None:
        self.inner = inner

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self.inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self.inner.exec_module(module)
        install(module)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds `google.cloud.storage.blob` through the other finders and wraps its loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _InstallAfterLoad(spec.loader)
                return spec
        return None


def install_on_import() -> None:
    """Install now if google-cloud-storage is loaded, else when it first is."""
    if TARGET in sys.modules:
        install(sys.modules[TARGET])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())
