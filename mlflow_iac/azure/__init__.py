"""Azure components of the MLflow server: `Network`, `ArtifactBucket`, `Database`, `Identity`,
`Service`, and the `MlflowServer` composite wiring them for a scenario.

Type tokens are `mlflow-azure:index:<Class>`. The classes load `pulumi_azure_native` (and
`pulumi_docker_build`, `pulumi_random`) on first use, never another cloud's SDK: the package
imports them lazily so that the pure modules beside them (`locations`, `naming`, `sizing`,
`roles`) serve the config check of every stack without loading the Azure SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlflow_iac.azure.bucket import ArtifactBucket, ArtifactBucketArgs
    from mlflow_iac.azure.database import Database, DatabaseArgs
    from mlflow_iac.azure.identity import Identity, IdentityArgs
    from mlflow_iac.azure.network import Network, NetworkArgs
    from mlflow_iac.azure.server import MlflowServer, MlflowServerArgs
    from mlflow_iac.azure.service import Service, ServiceArgs

_HOMES = {
    "ArtifactBucket": "bucket",
    "ArtifactBucketArgs": "bucket",
    "Database": "database",
    "DatabaseArgs": "database",
    "Identity": "identity",
    "IdentityArgs": "identity",
    "MlflowServer": "server",
    "MlflowServerArgs": "server",
    "Network": "network",
    "NetworkArgs": "network",
    "Service": "service",
    "ServiceArgs": "service",
}

__all__ = [
    "ArtifactBucket",
    "ArtifactBucketArgs",
    "Database",
    "DatabaseArgs",
    "Identity",
    "IdentityArgs",
    "MlflowServer",
    "MlflowServerArgs",
    "Network",
    "NetworkArgs",
    "Service",
    "ServiceArgs",
]


def __getattr__(name: str) -> Any:
    """Import a component's module on first access (PEP 562)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
