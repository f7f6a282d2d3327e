"""GCP components of the MLflow server: `Network`, `ArtifactBucket`, `Database`, `Identity`,
`Service`, and the `MlflowServer` composite wiring them for a scenario.

Type tokens are `mlflow-gcp:index:<Class>`. Importing this package loads `pulumi_gcp` (and
`pulumi_docker_build`, `pulumi_random`), never another cloud's SDK. Pure logic lives in
`naming`, `sizing` and `iam`.
"""

from components.gcp.bucket import ArtifactBucket, ArtifactBucketArgs
from components.gcp.database import Database, DatabaseArgs
from components.gcp.identity import Identity, IdentityArgs
from components.gcp.network import Network, NetworkArgs
from components.gcp.server import MlflowServer, MlflowServerArgs
from components.gcp.service import Service, ServiceArgs

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
