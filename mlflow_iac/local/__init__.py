"""MLflow on the local Docker engine: the same component shape as every cloud.

`Database` (PostgreSQL / MySQL container), `Credentials` (MinIO's S3 key pair),
`Bucket` (MinIO container), `Service` (the mlflow-server image built from `docker/`
and run on 127.0.0.1), and `MlflowServer`, which wires them for one scenario.
Type tokens: `mlflow-local:index:<ClassName>`.

Plain modules beside them, resource-free and tested without mocks: `settings` (every
input checked once into typed settings), `engines` (each database image's facts),
`secrets` (the /run/secrets convention and the server's wrapper) and `docker_args`
(labels, environment lists and secret uploads in pulumi_docker's shapes).
"""

from mlflow_iac.local.bucket import Bucket, BucketArgs
from mlflow_iac.local.credentials import Credentials, CredentialsArgs
from mlflow_iac.local.database import Database, DatabaseArgs
from mlflow_iac.local.server import MlflowServer, MlflowServerArgs
from mlflow_iac.local.service import Service, ServiceArgs

__all__ = [
    "Bucket",
    "BucketArgs",
    "Credentials",
    "CredentialsArgs",
    "Database",
    "DatabaseArgs",
    "MlflowServer",
    "MlflowServerArgs",
    "Service",
    "ServiceArgs",
]
