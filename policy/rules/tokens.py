"""Every resource type token the rules look at, by cloud: one home for the names, so a
rule and the test that each token exists in its provider SDK read the same list."""

from __future__ import annotations

# ---------------------------------------------------------------------------- AWS

AWS_DB_INSTANCE = "aws:rds/instance:Instance"
AWS_DB_INSTANCES = frozenset({AWS_DB_INSTANCE, "aws:rds/clusterInstance:ClusterInstance"})
AWS_DB_CLUSTER = "aws:rds/cluster:Cluster"
AWS_ENCRYPTED_STORAGE = frozenset({AWS_DB_INSTANCE, AWS_DB_CLUSTER})
"""Where encryption at rest is set (Aurora cluster instances take it from the cluster)."""
S3_BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
S3_SSE = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_ACLS = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
AWS_IAM_DOCUMENTS = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/groupPolicy:GroupPolicy",
        S3_BUCKET_POLICY,
    }
)
AWS_ATTACHMENTS = frozenset(
    {
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        "aws:iam/policyAttachment:PolicyAttachment",
    }
)
ECS_TASK = "aws:ecs/taskDefinition:TaskDefinition"
AWS_LISTENER = "aws:lb/listener:Listener"

# ---------------------------------------------------------------------------- GCP

GCP_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
GCS_BUCKET = "gcp:storage/bucket:Bucket"
GCS_IAM = frozenset(
    {
        "gcp:storage/bucketIAMMember:BucketIAMMember",
        "gcp:storage/bucketIAMBinding:BucketIAMBinding",
    }
)
GCS_ACLS = frozenset(
    {
        "gcp:storage/bucketAccessControl:BucketAccessControl",
        "gcp:storage/defaultObjectAccessControl:DefaultObjectAccessControl",
        "gcp:storage/objectAccessControl:ObjectAccessControl",
    }
)
GCP_PROJECT_IAM = frozenset(
    {
        "gcp:projects/iAMMember:IAMMember",
        "gcp:projects/iAMBinding:IAMBinding",
        "gcp:organizations/iAMMember:IAMMember",
        "gcp:organizations/iAMBinding:IAMBinding",
        "gcp:folder/iAMMember:IAMMember",
        "gcp:folder/iAMBinding:IAMBinding",
    }
)
CLOUD_RUN_V2 = frozenset({"gcp:cloudrunv2/service:Service", "gcp:cloudrunv2/job:Job"})
CLOUD_RUN_V1 = "gcp:cloudrun/service:Service"
GCP_DOMAIN_MAPPING = "gcp:cloudrun/domainMapping:DomainMapping"
GCP_SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"

# ---------------------------------------------------------------------------- Azure

AZURE_DB_SERVERS = frozenset(
    {"azure-native:dbforpostgresql:Server", "azure-native:dbformysql:Server"}
)
AZURE_DB_FIREWALL = frozenset(
    {"azure-native:dbforpostgresql:FirewallRule", "azure-native:dbformysql:FirewallRule"}
)
AZURE_DB_CONFIGURATION = frozenset(
    {"azure-native:dbforpostgresql:Configuration", "azure-native:dbformysql:Configuration"}
)
AZURE_STORAGE = "azure-native:storage:StorageAccount"
AZURE_CONTAINER = "azure-native:storage:BlobContainer"
AZURE_ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
AZURE_CONTAINER_APP = "azure-native:app:ContainerApp"
AZURE_APPS = frozenset({AZURE_CONTAINER_APP, "azure-native:app:Job"})

# ---------------------------------------------------------------------------- Docker

DOCKER_CONTAINER = "docker:index/container:Container"
