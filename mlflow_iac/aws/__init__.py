"""AWS components of the MLflow server: `Network`, `ArtifactBucket`, `Database`, `Identity`,
`Service` (with its `AccessLogBucket`), and the `MlflowServer` composite wiring them for a
scenario.

Type tokens are `mlflow-aws:index:<Class>`. Importing this package loads `pulumi_aws` (and
`pulumi_docker_build`, `pulumi_random`), never another cloud's SDK.
"""

from mlflow_iac.aws.bucket import (
    AccessLogBucket,
    AccessLogBucketArgs,
    ArtifactBucket,
    ArtifactBucketArgs,
)
from mlflow_iac.aws.database import Database, DatabaseArgs
from mlflow_iac.aws.identity import Identity, IdentityArgs
from mlflow_iac.aws.network import Network, NetworkArgs
from mlflow_iac.aws.server import MlflowServer, MlflowServerArgs
from mlflow_iac.aws.service import Service, ServiceArgs

__all__ = [
    "AccessLogBucket",
    "AccessLogBucketArgs",
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
