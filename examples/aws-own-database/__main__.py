"""An MLflow tracking server composed from `mlflow_iac.aws`'s lower-level components: the
reuse path for a stack that wants parts `MlflowServer` decides for you, here the database.

The team's own database policy (multi-AZ PostgreSQL, size medium, 100 GB, 30 days of
backups) goes into `Database`; `Network`, `ArtifactBucket`, `Identity` and `Service` are
wired by hand, as `MlflowServer` would wire them for scenario proxied with basic-auth.
"""

import pulumi

from mlflow_iac.aws import ArtifactBucket, Database, Identity, Network, Service
from mlflow_iac.environment import DatabaseEndpoint

POSTGRESQL_PORT = 5432
tags = {"team": "ml-platform"}

# A new VPC; the load balancer admits only CloudFront, which serves HTTPS (no domain).
network = Network(
    "mlflow-net",
    {
        "allowed_cidrs": ["0.0.0.0/0"],
        "cloudfront_only": True,
        "database_port": POSTGRESQL_PORT,
        "tags": tags,
    },
)

# The backend store, by the team's policy rather than MlflowServer's defaults.
database = Database(
    "mlflow-db",
    {
        "subnet_ids": network.private_subnet_ids,
        "security_group_id": network.database_security_group_id.apply(lambda sg: sg or ""),
        "engine": "postgresql",
        "size": "medium",
        "storage_gb": 100,
        "high_availability": True,
        "backup_retention_days": 30,
        "tags": tags,
    },
)

bucket = ArtifactBucket("mlflow-artifacts", {"tags": tags})

# The server's task role, scoped to this one bucket (proxied: clients need no bucket access).
identity = Identity("mlflow-identity", {"bucket_arn": bucket.arn, "tags": tags})

service = Service(
    "mlflow-server",
    {
        "scenario": "proxied",
        "artifact_url": bucket.uri,
        "database": DatabaseEndpoint(
            engine=database.engine,
            host=database.host,
            port=database.port,
            name=database.name,
            username=database.username,
            password=database.password,
            sslmode=database.sslmode,
        ),
        "database_password_value_from": database.password_value_from,
        "database_secret_arn": database.secret_arn,
        "database_size": "medium",  # the servers' connection pools fit this instance
        "auth_enabled": True,
        "admin_password": pulumi.Config().require_secret("adminPassword"),
        "vpc_id": network.vpc_id,
        "public_subnet_ids": network.public_subnet_ids,
        "private_subnet_ids": network.private_subnet_ids,
        "load_balancer_security_group_id": network.load_balancer_security_group_id,
        "service_security_group_id": network.service_security_group_id,
        "task_role_arn": identity.task_role_arn,
        "tags": tags,
    },
)

pulumi.export("trackingUri", service.url)
pulumi.export("artifactLocation", bucket.uri)
pulumi.export("databaseHost", database.host)
