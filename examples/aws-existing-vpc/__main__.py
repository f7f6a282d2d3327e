"""An MLflow tracking server in the caller's existing VPC: `mlflow_iac.aws.MlflowServer`
builds no network of its own, only its security groups, in the VPC and subnets given here.

Scenario proxied (the default): clients need only the tracking URL; the server reads and
writes the artifact bucket for them. Region and credentials are the AWS provider's
(`pulumi config set aws:region eu-west-1`).
"""

import pulumi

from mlflow_iac.aws import MlflowServer

config = pulumi.Config()

server = MlflowServer(
    "mlflow",
    {
        "vpc_id": config.require("vpcId"),
        "public_subnet_ids": config.require_object("publicSubnetIds"),
        "private_subnet_ids": config.require_object("privateSubnetIds"),
        "tags": {"team": "ml-platform"},
    },
)

pulumi.export("trackingUri", server.url)
pulumi.export("artifactLocation", server.artifact_location)
pulumi.export("adminUsername", server.admin_username)
pulumi.export("adminPassword", server.admin_password)  # secret
