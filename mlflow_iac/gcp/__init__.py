"""GCP components of the MLflow server: `Network`, `ArtifactBucket`, `Database`, `Identity`,
`Service`, and the `MlflowServer` composite wiring them for a scenario.

Type tokens are `mlflow-gcp:index:<Class>`. Importing this package loads `pulumi_gcp` (and
`pulumi_docker_build`, `pulumi_random`), never another cloud's SDK. Pure logic lives in
`naming`, `sizing` and `iam`.
"""

from mlflow_iac.gcp.bucket import ArtifactBucket, ArtifactBucketArgs
from mlflow_iac.gcp.database import Database, DatabaseArgs
from mlflow_iac.gcp.identity import Identity, IdentityArgs
from mlflow_iac.gcp.network import Network, NetworkArgs
from mlflow_iac.gcp.server import MlflowServer, MlflowServerArgs
from mlflow_iac.gcp.service import Service, ServiceArgs

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
