"""AWS components of the MLflow server: `Network`, `ArtifactBucket`, `Database`, `Identity`,
`Service`, and the `MlflowServer` composite wiring them for a scenario.

Type tokens are `mlflow-aws:index:<Class>`. Importing this package loads `pulumi_aws` (and
`pulumi_docker_build`, `pulumi_random`), never another cloud's SDK.
"""

from components.aws.bucket import ArtifactBucket, ArtifactBucketArgs
from components.aws.database import Database, DatabaseArgs
from components.aws.identity import Identity, IdentityArgs
from components.aws.network import Network, NetworkArgs
from components.aws.server import MlflowServer, MlflowServerArgs
from components.aws.service import Service, ServiceArgs

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
