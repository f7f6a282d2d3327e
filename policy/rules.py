"""The security invariants as pure functions over one resource's type and inputs.

Each rule takes a `Resource` (type token, name, camelCase inputs as the engine holds
them, the Pulumi `protect` option and the stack name) plus its settings, and returns
the violation messages: each names the resource and says how to fix it. Nothing here
imports `pulumi_policy` or the Pulumi engine, so the rules are tested on plain dicts,
on resources recorded under Pulumi's mocks, and by any team on its own stacks; the pack
(`policy/pack.py`) only wires them into `pulumi_policy` callbacks.

Inputs may be the policy SDK's read-only proxies (a `Mapping`/`Sequence`, never a
`dict`/`list`), and reading a value that is unknown during `pulumi preview` raises the
SDK's `UnknownValueError`, which the SDK turns into an advisory "can't be known during
preview" note; the same rule then runs with real values on `pulumi up`. So the rules
only read, through the helpers below, and never catch that error.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlflow_image import contract

# ---------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it."""

    type: str
    """The type token, e.g. `aws:rds/instance:Instance`."""
    name: str
    """The Pulumi resource name (the logical name in the program)."""
    props: Mapping[str, Any]
    """Inputs with camelCase keys, secrets unwrapped."""
    stack: str = ""
    """The stack being deployed (from the URN)."""
    protect: bool = False
    """The Pulumi `protect` resource option."""

    def label(self) -> str:
        """How messages name the resource: `'<name>' (<type>)`."""
        return f"'{self.name}' ({self.type})"


def stack_of(urn: str) -> str:
    """The stack name inside a URN `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    prefix = "urn:pulumi:"
    return urn[len(prefix) :].split("::", 1)[0] if urn.startswith(prefix) else ""


Check = Callable[[Resource, Mapping[str, Any]], list[str]]
"""A rule: (resource, the policy's settings) -> violation messages."""


@dataclass(frozen=True)
class Rule:
    """One policy of the pack: a name, what it guards, its check and its settings."""

    name: str
    description: str
    check: Check
    types: frozenset[str]
    """The type tokens the rule looks at (documentation and a test that each one exists)."""
    config_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the policy's settings (the policy config file)."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Settings used when the policy config file sets none."""

    def settings(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The defaults overlaid with the configured settings."""
        return {**self.defaults, **(config or {})}

    def __call__(self, resource: Resource, config: Mapping[str, Any] | None = None) -> list[str]:
        if resource.type not in self.types:
            return []
        return self.check(resource, self.settings(config))


# ---------------------------------------------------------------------------- helpers


def _get(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, None where a level is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _items(value: Any) -> list[Any]:
    """A list input as a list (None and scalars give [])."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def _maps(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in _items(value) if isinstance(v, Mapping)]


def _json(value: Any) -> Any:
    """A JSON document input (IAM policies, ECS container definitions), parsed; None if not."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def _violation(resource: Resource, problem: str, fix: str) -> str:
    return f"{resource.label()}: {problem}. Fix: {fix}."


# ---------------------------------------------------------------------------- databases

AWS_DB_INSTANCES = frozenset(
    {"aws:rds/instance:Instance", "aws:rds/clusterInstance:ClusterInstance"}
)
AWS_DB_CLUSTER = "aws:rds/cluster:Cluster"
GCP_SQL = "gcp:sql/databaseInstance:DatabaseInstance"
AZURE_DB_SERVERS = frozenset(
    {"azure-native:dbforpostgresql:Server", "azure-native:dbformysql:Server"}
)
AZURE_DB_FIREWALL = frozenset(
    {"azure-native:dbforpostgresql:FirewallRule", "azure-native:dbformysql:FirewallRule"}
)
AZURE_DB_CONFIGURATION = frozenset(
    {"azure-native:dbforpostgresql:Configuration", "azure-native:dbformysql:Configuration"}
)
OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})


def no_public_database(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """No database endpoint reachable from the internet.

    Cloud SQL with a public IP and *no* authorized networks accepts only the Cloud SQL
    connector (IAM-authenticated, TLS), which is how Cloud Run reaches it without a VPC:
    allowed. Any authorized network on a public IP is a public endpoint. An Azure firewall
    rule starting at 0.0.0.0 is refused too: 0.0.0.0-0.0.0.0 is "every Azure service of
    every tenant", a wider range is the internet.
    """
    if r.type in AWS_DB_INSTANCES and r.props.get("publiclyAccessible") is True:
        return [
            _violation(
                r,
                "publiclyAccessible is true",
                "set publicly_accessible=False and reach the database from inside its VPC",
            )
        ]
    if r.type == GCP_SQL:
        ip = _get(r.props, "settings", "ipConfiguration") or {}
        networks = [n.get("value") for n in _maps(ip.get("authorizedNetworks"))]
        if ip.get("ipv4Enabled", True) is not False and networks:
            return [
                _violation(
                    r,
                    f"a public IP with authorized networks {networks}",
                    "remove settings.ip_configuration.authorized_networks (connect through the "
                    "Cloud SQL connector) or set ipv4_enabled=False with a private_network",
                )
            ]
    if r.type in AZURE_DB_SERVERS:
        # A server in a delegated subnet (VNet integration) has no public endpoint at all,
        # and Azure refuses publicNetworkAccess on it; otherwise it must be Disabled.
        access = _get(r.props, "network", "publicNetworkAccess")
        in_vnet = bool(_get(r.props, "network", "delegatedSubnetResourceId"))
        if access != "Disabled" and not in_vnet:
            return [
                _violation(
                    r,
                    f"network.publicNetworkAccess is {access or 'unset (Enabled)'}",
                    "set network.public_network_access='Disabled' and reach the server through "
                    "a delegated subnet or a private endpoint",
                )
            ]
    if r.type in AZURE_DB_FIREWALL and r.props.get("startIpAddress") == "0.0.0.0":
        end = r.props.get("endIpAddress")
        return [
            _violation(
                r,
                f"the firewall opens 0.0.0.0-{end} (every Azure tenant or the internet)",
                "delete the rule and disable public network access on the server",
            )
        ]
    return []


# ---------------------------------------------------------------------------- encryption

S3_BUCKETS = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
S3_SSE = frozenset(
    {
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    }
)
S3_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})
AZURE_STORAGE = "azure-native:storage:StorageAccount"
AWS_ENCRYPTED_STORAGE = frozenset({"aws:rds/instance:Instance", AWS_DB_CLUSTER})
"""Aurora cluster instances take their encryption from the cluster."""
WEAK_TLS = frozenset({"TLS1_0", "TLS1_1"})


def encryption(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """Storage and database encryption on, at rest and in transit.

    At rest: RDS/Aurora `storageEncrypted`; an S3 encryption configuration names an
    algorithm (S3 has encrypted every new object with SSE-S3 since 2023 and cannot be
    turned off, so a bucket without one is still encrypted); GCS, Cloud SQL, Azure
    Storage and Azure Database encrypt at rest always. In transit, where the service
    lets it be turned off: Cloud SQL `sslMode`, Azure Storage HTTPS-only and TLS 1.2+,
    Azure Database `require_secure_transport`.
    """
    if r.type in AWS_ENCRYPTED_STORAGE and r.props.get("storageEncrypted") is not True:
        return [_violation(r, "storageEncrypted is not true", "set storage_encrypted=True")]
    if r.type in S3_SSE:
        rules = _maps(r.props.get("rules"))
        algorithms = [_get(x, "applyServerSideEncryptionByDefault", "sseAlgorithm") for x in rules]
        if not algorithms or any(a not in S3_ALGORITHMS for a in algorithms):
            return [
                _violation(
                    r,
                    f"default encryption algorithms {algorithms}",
                    "give every rule apply_server_side_encryption_by_default with sse_algorithm "
                    "AES256 or aws:kms",
                )
            ]
    if r.type == GCP_SQL:
        ip = _get(r.props, "settings", "ipConfiguration") or {}
        mode = ip.get("sslMode")
        if mode not in ("ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"):
            return [
                _violation(
                    r,
                    f"settings.ipConfiguration.sslMode is {mode or 'unset'}: unencrypted "
                    "connections are accepted",
                    "set settings.ip_configuration.ssl_mode='ENCRYPTED_ONLY'",
                )
            ]
    if r.type == AZURE_STORAGE:
        found = []
        if r.props.get("enableHttpsTrafficOnly") is False:
            found.append(
                _violation(
                    r, "enableHttpsTrafficOnly is false", "set enable_https_traffic_only=True"
                )
            )
        if r.props.get("minimumTlsVersion") in WEAK_TLS:
            found.append(
                _violation(
                    r,
                    f"minimumTlsVersion is {r.props.get('minimumTlsVersion')}",
                    "set minimum_tls_version='TLS1_2'",
                )
            )
        return found
    if r.type in AZURE_DB_CONFIGURATION and (
        r.props.get("configurationName") == "require_secure_transport"
        and str(r.props.get("value", "")).lower() in ("off", "false", "0")
    ):
        return [
            _violation(
                r,
                "require_secure_transport is off: unencrypted connections are accepted",
                "delete this configuration or set its value to 'on'",
            )
        ]
    return []


# ---------------------------------------------------------------------------- public buckets

S3_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
S3_ACLS = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
S3_BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
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
GCP_PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
AZURE_CONTAINER = "azure-native:storage:BlobContainer"
S3_BLOCK_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def _public_statements(document: Any) -> list[Mapping[str, Any]]:
    """Allow statements of a bucket policy whose principal is everyone, without a condition."""
    found = []
    for statement in _statements(document):
        principal = statement.get("Principal")
        everyone = principal == "*" or (
            isinstance(principal, Mapping) and "*" in _strings(principal.get("AWS"))
        )
        if statement.get("Effect") == "Allow" and everyone and not statement.get("Condition"):
            found.append(statement)
    return found


def bucket_public_access(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """Buckets are never public: S3 public access block fully on, no public ACL or
    bucket-policy grant; GCS public access prevention enforced with uniform bucket-level
    access, no allUsers/allAuthenticatedUsers; Azure blob public access off."""
    if r.type == S3_PUBLIC_ACCESS_BLOCK:
        off = [flag for flag in S3_BLOCK_FLAGS if r.props.get(flag) is not True]
        if off:
            return [_violation(r, f"{', '.join(off)} not true", "set all four flags to True")]
    if r.type in S3_BUCKETS | S3_ACLS and r.props.get("acl") in PUBLIC_ACLS:
        return [_violation(r, f"acl is {r.props.get('acl')}", "drop the ACL (keep it private)")]
    if r.type == S3_BUCKET_POLICY and _public_statements(_json(r.props.get("policy"))):
        return [
            _violation(
                r,
                "the bucket policy allows Principal '*' without a condition",
                "grant named principals (roles) instead of everyone",
            )
        ]
    if r.type == GCS_BUCKET:
        found = []
        if r.props.get("publicAccessPrevention") != "enforced":
            found.append(
                _violation(
                    r,
                    f"publicAccessPrevention is {r.props.get('publicAccessPrevention') or 'unset'}",
                    "set public_access_prevention='enforced'",
                )
            )
        if r.props.get("uniformBucketLevelAccess") is not True:
            found.append(
                _violation(
                    r,
                    "uniformBucketLevelAccess is not true (object ACLs can make objects public)",
                    "set uniform_bucket_level_access=True",
                )
            )
        return found
    if r.type in GCS_IAM | GCS_ACLS:
        members = [r.props.get("member"), r.props.get("entity"), *_items(r.props.get("members"))]
        public = sorted(GCP_PUBLIC_MEMBERS.intersection(m for m in members if isinstance(m, str)))
        if public:
            return [_violation(r, f"grants the bucket to {public}", "grant named principals")]
    if r.type == AZURE_STORAGE and r.props.get("allowBlobPublicAccess") is not False:
        return [
            _violation(
                r,
                f"allowBlobPublicAccess is {r.props.get('allowBlobPublicAccess', 'unset')}",
                "set allow_blob_public_access=False",
            )
        ]
    if r.type == AZURE_CONTAINER and r.props.get("publicAccess") not in (None, "None"):
        return [
            _violation(
                r,
                f"publicAccess is {r.props.get('publicAccess')}",
                "set public_access='None' (or leave it unset)",
            )
        ]
    return []


# ---------------------------------------------------------------------------- scoped IAM

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
AWS_WIDE_MANAGED_POLICIES = frozenset(
    {
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    }
)
"""AWS-managed policies that grant S3 actions on every bucket."""
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
GCP_WIDE_ROLES = frozenset({"roles/owner", "roles/editor", "roles/viewer"})
AZURE_ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
AZURE_STORAGE_ROLES = {
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
    "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}
"""Built-in Azure roles (definition GUID -> name) that reach blob data or storage accounts."""
AZURE_STORAGE_SCOPE = "/providers/microsoft.storage/storageaccounts/"


def _strings(value: Any) -> list[str]:
    """A policy-document field that is a string or a list of strings, as a list."""
    if isinstance(value, str):
        return [value]
    return [v for v in _items(value) if isinstance(v, str)]


def _statements(document: Any) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement")
    return [statements] if isinstance(statements, Mapping) else _maps(statements)


def _storage_action(action: str) -> bool:
    action = action.lower()
    return action == "*" or action.startswith("s3:") or action.startswith("s3*")


def _wildcard_resource(resource: str) -> bool:
    return resource in ("*", "arn:aws:s3:::*", "arn:aws:s3:::*/*")


def wide_storage_statements(document: Any) -> list[str]:
    """Descriptions of Allow statements granting storage actions on every bucket: a wildcard
    resource or a NotResource (everything but...)."""
    found = []
    for index, statement in enumerate(_statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        actions = [a for a in _strings(statement.get("Action")) if _storage_action(a)]
        if statement.get("NotAction") is not None:
            actions.append("NotAction")
        if not actions:
            continue
        resources = _strings(statement.get("Resource"))
        wide = [x for x in resources if _wildcard_resource(x)]
        if statement.get("NotResource") is not None:
            wide.append("NotResource")
        if wide:
            sid = statement.get("Sid") or f"#{index}"
            found.append(f"statement {sid} allows {actions} on {wide}")
    return found


def scoped_storage_iam(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """Storage permissions name their bucket: no IAM statement, managed policy, project
    role or subscription/resource-group role assignment that reaches every bucket."""
    if r.type in AWS_IAM_DOCUMENTS:
        wide = wide_storage_statements(_json(r.props.get("policy")))
        if wide:
            return [
                _violation(
                    r,
                    "; ".join(wide),
                    "list the bucket ARN (and arn:aws:s3:::<bucket>/*) as the Resource",
                )
            ]
    if r.type in AWS_ATTACHMENTS and r.props.get("policyArn") in AWS_WIDE_MANAGED_POLICIES:
        return [
            _violation(
                r,
                f"attaches {r.props.get('policyArn')}, which reaches every bucket",
                "attach a policy whose statements name the bucket",
            )
        ]
    if r.type in GCP_PROJECT_IAM:
        role = str(r.props.get("role") or "")
        if role.startswith("roles/storage.") or role in GCP_WIDE_ROLES:
            return [
                _violation(
                    r,
                    f"grants {role} on the whole project/folder/organization",
                    "grant the role on the bucket (gcp.storage.BucketIAMMember)",
                )
            ]
    if r.type == AZURE_ROLE_ASSIGNMENT:
        definition = str(r.props.get("roleDefinitionId") or "").lower()
        role = next((n for g, n in AZURE_STORAGE_ROLES.items() if definition.endswith(g)), None)
        scope = str(r.props.get("scope") or "").lower()
        if role and AZURE_STORAGE_SCOPE not in scope:
            return [
                _violation(
                    r,
                    f"assigns {role} at scope {r.props.get('scope')!r}, above the storage account",
                    "scope the assignment to the storage account (or its container)",
                )
            ]
    return []


# ---------------------------------------------------------------------------- credentials

ECS_TASK = "aws:ecs/taskDefinition:TaskDefinition"
DOCKER_CONTAINER = "docker:index/container:Container"
CLOUD_RUN_V2 = frozenset({"gcp:cloudrunv2/service:Service", "gcp:cloudrunv2/job:Job"})
CLOUD_RUN_V1 = "gcp:cloudrun/service:Service"
AZURE_APPS = frozenset({"azure-native:app:ContainerApp", "azure-native:app:Job"})

CREDENTIAL_NAME = re.compile(
    r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|PRIVATE_?KEY|API_?KEY|ACCESS_?KEY|ACCOUNT_?KEY"
    r"|CREDENTIAL|AUTH_STRING|CONNECTION_?STRING|(^|_)KEY$",
    re.IGNORECASE,
)
"""Names that say the value is a credential."""
REFERENCE_SUFFIX = re.compile(
    r"_(FILE|PATH|DIR|ID|ARN|NAME|REF|VERSION|ENABLED|URL|URI|ENDPOINT|HOST|PORT|USER|USERNAME"
    r"|TYPE|TTL|LENGTH|ALGORITHM)$",
    re.IGNORECASE,
)
"""Names that carry a pointer to a credential (a file, an id, a secret's name, the service
that issues it) or a property of one, not the credential. A URL with a password in it is
still caught by its value, and the contract's secret URIs by their names."""
REFERENCE_NAMES = frozenset({"GOOGLE_APPLICATION_CREDENTIALS"})
"""A path to a key file, by Google's convention."""

CREDENTIAL_VALUE = re.compile(
    r"[a-z][a-z0-9+.-]*://[^/\s:@]+:(?!\$)[^/\s@]+@"  # a URI with a password
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"  # PEM private key
    r"|\"private_key\"\s*:"  # a service-account key file
    r"|AccountKey=|SharedAccessSignature="  # Azure storage connection strings
    r"|[?&]sig=[A-Za-z0-9%+/=]{20,}"  # an Azure SAS URL
    r"|\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_\w{20,}"  # GitHub tokens
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|\bAIza[0-9A-Za-z_-]{35}\b"  # Google API keys
    r"|\beyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}",  # a JWT
    re.IGNORECASE,
)
"""Values that look like a credential whatever their variable is called."""
CREDENTIAL_FLAG = re.compile(r"^--?([A-Za-z][\w-]*)(?:=(.*))?$")


def credential_variable(name: str, value: Any) -> str | None:
    """Why the plain variable `name=value` holds a credential, or None.

    The image's contract (`docker/mlflow_image/contract.py`) marks its secret variables;
    other names are judged by the words in them (`*_PASSWORD`, `*_SECRET*`, `*TOKEN*`,
    `*_KEY`...) unless they only point at a credential (`*_FILE`, `*_ID`, `*_ARN`...).
    Any value that looks like a credential (a URI with a password, a private key, a
    known token format) is one whatever its name.
    """
    if not isinstance(value, str) or not value:
        return None
    if name in contract.SECRET_NAMES:
        return f"{name} is a secret of the image's contract"
    if (
        CREDENTIAL_NAME.search(name)
        and not REFERENCE_SUFFIX.search(name)
        and name not in REFERENCE_NAMES
    ):
        return f"{name} is named like a credential"
    if CREDENTIAL_VALUE.search(value):
        return f"the value of {name} looks like a credential"
    return None


def credential_arguments(arguments: Iterable[Any]) -> list[str]:
    """Why a command line holds a credential: `--password x`, `--token=x`, or an argument
    (or a word of a shell script) that looks like a credential."""
    words: list[str] = []
    for argument in arguments:
        if isinstance(argument, str):
            words.extend(argument.split())
    found = []
    for index, word in enumerate(words):
        if CREDENTIAL_VALUE.search(word):
            found.append(f"word {index} of the command line looks like a credential")
            continue
        flag = CREDENTIAL_FLAG.match(word)
        if not flag:
            continue
        name = flag.group(1).replace("-", "_")
        if not CREDENTIAL_NAME.search(name) or REFERENCE_SUFFIX.search(name):
            continue
        value = flag.group(2)
        if value is None and index + 1 < len(words):
            value = words[index + 1]
        if value and not value.startswith(("-", "$")):
            found.append(f"--{flag.group(1)} is given on the command line")
    return found


@dataclass(frozen=True)
class Container:
    """A container's plain configuration, whatever the platform."""

    name: str
    env: list[tuple[str, Any]]
    """Plain (name, value) pairs; secret references are left out."""
    arguments: list[Any]
    """Entrypoint/command and arguments, concatenated."""


def _ecs_containers(props: Mapping[str, Any]) -> Iterator[Container]:
    for c in _maps(_json(props.get("containerDefinitions"))):
        env = [(e.get("name", ""), e.get("value")) for e in _maps(c.get("environment"))]
        yield Container(
            str(c.get("name", "")), env, _items(c.get("entryPoint")) + _items(c.get("command"))
        )


def _docker_containers(props: Mapping[str, Any]) -> Iterator[Container]:
    env = []
    for item in _items(props.get("envs")):
        if isinstance(item, str):
            key, _, value = item.partition("=")
            env.append((key, value))
    arguments = _items(props.get("entrypoints")) + _items(props.get("command"))
    yield Container(str(props.get("name", "")), env, arguments)


def _named_env(items: Any, value_key: str = "value") -> list[tuple[str, Any]]:
    """Plain `{name, value}` env entries (entries that reference a secret have no value)."""
    return [(e.get("name", ""), e.get(value_key)) for e in _maps(items)]


def _cloud_run_containers(props: Mapping[str, Any], *path: str) -> Iterator[Container]:
    for c in _maps(_get(props, *path)):
        arguments = _items(c.get("commands")) + _items(c.get("args"))
        yield Container(str(c.get("name", "")), _named_env(c.get("envs")), arguments)


def _azure_containers(props: Mapping[str, Any]) -> Iterator[Container]:
    template = props.get("template")
    for c in _maps(_get(template, "containers")) + _maps(_get(template, "initContainers")):
        arguments = _items(c.get("command")) + _items(c.get("args"))
        yield Container(str(c.get("name", "")), _named_env(c.get("env")), arguments)


def containers(r: Resource) -> list[Container]:
    """The containers a resource runs, with their plain environment and command line."""
    if r.type == ECS_TASK:
        return list(_ecs_containers(r.props))
    if r.type == DOCKER_CONTAINER:
        return list(_docker_containers(r.props))
    if r.type in CLOUD_RUN_V2:
        path = ("template", "template", "containers") if r.type.endswith("Job") else ()
        return list(_cloud_run_containers(r.props, *(path or ("template", "containers"))))
    if r.type == CLOUD_RUN_V1:
        return list(_cloud_run_containers(r.props, "template", "spec", "containers"))
    if r.type in AZURE_APPS:
        return list(_azure_containers(r.props))
    return []


def no_plain_credentials(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """No credential in a container's plain environment, command or arguments: they reach
    the container through the platform's secret mechanism (ECS `secrets`, Cloud Run
    `value_source.secret_key_ref`, Container Apps `secret_ref`, files under /run/secrets)."""
    found = []
    for container in containers(r):
        reasons = [
            why for key, value in container.env if (why := credential_variable(key, value))
        ] + credential_arguments(container.arguments)
        for why in reasons:
            found.append(
                _violation(
                    r,
                    f"container '{container.name}': {why} in plain configuration",
                    "pass it through the platform's secret mechanism (ECS secrets, Cloud Run "
                    "secret_key_ref, Container Apps secret_ref, a secret file) and drop it from "
                    "the environment and command line",
                )
            )
    return found


# ---------------------------------------------------------------------------- TLS

AWS_LISTENER = "aws:lb/listener:Listener"
AWS_LEGACY_SSL_POLICIES = re.compile(r"^ELBSecurityPolicy-(2015|2016|TLS-1-0|TLS-1-1|TLS-1-0-2015)")
GCP_DOMAIN_MAPPING = "gcp:cloudrun/domainMapping:DomainMapping"
GCP_SSL_POLICY = "gcp:compute/sSLPolicy:SSLPolicy"
AZURE_INGRESS_APP = "azure-native:app:ContainerApp"


def https_where_domain(r: Resource, _: Mapping[str, Any]) -> list[str]:
    """HTTPS with TLS 1.2+ wherever a domain is served: an HTTPS listener has a certificate
    and a TLS 1.2+ policy, a Cloud Run domain mapping a managed certificate, a Container
    App's custom domain an SNI certificate and no plain-HTTP ingress; an HTTP listener
    beside an HTTPS one only redirects (`https_redirects`, a stack-wide check)."""
    if r.type == AWS_LISTENER and r.props.get("protocol") == "HTTPS":
        policy = str(r.props.get("sslPolicy") or "ELBSecurityPolicy-2016-08 (the default)")
        found = []
        if not r.props.get("certificateArn"):
            found.append(
                _violation(r, "an HTTPS listener without a certificate", "set certificate_arn")
            )
        if AWS_LEGACY_SSL_POLICIES.match(policy):
            found.append(
                _violation(
                    r,
                    f"sslPolicy {policy} allows TLS below 1.2",
                    "set ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06'",
                )
            )
        return found
    if r.type == GCP_DOMAIN_MAPPING and _get(r.props, "spec", "certificateMode") == "NONE":
        return [
            _violation(
                r,
                f"domain {r.props.get('name')} is served without a certificate",
                "set spec.certificate_mode='AUTOMATIC'",
            )
        ]
    if r.type == GCP_SSL_POLICY and r.props.get("minTlsVersion") in (None, "TLS_1_0", "TLS_1_1"):
        return [
            _violation(
                r,
                f"minTlsVersion is {r.props.get('minTlsVersion') or 'unset (TLS_1_0)'}",
                "set min_tls_version='TLS_1_2'",
            )
        ]
    if r.type == AZURE_INGRESS_APP:
        ingress = _get(r.props, "configuration", "ingress") or {}
        found = []
        if ingress.get("allowInsecure") is True:
            found.append(
                _violation(r, "ingress.allowInsecure is true", "set ingress.allow_insecure=False")
            )
        for domain in _maps(ingress.get("customDomains")):
            if domain.get("bindingType") != "SniEnabled" or not domain.get("certificateId"):
                found.append(
                    _violation(
                        r,
                        f"custom domain {domain.get('name')} has no SNI certificate binding",
                        "set binding_type='SniEnabled' with a managed certificate_id",
                    )
                )
        return found
    return []


def https_redirects(resources: Sequence[Resource]) -> list[tuple[Resource, str]]:
    """Stack-wide: on a load balancer that serves HTTPS (a domain is set), every HTTP
    listener only redirects to HTTPS. Without a domain there is no certificate and the
    AWS stack serves HTTP on the load balancer's own name, which this allows."""
    listeners = [r for r in resources if r.type == AWS_LISTENER]
    https = {
        r.props.get("loadBalancerArn") for r in listeners if r.props.get("protocol") == "HTTPS"
    }
    found = []
    for r in listeners:
        if r.props.get("protocol") != "HTTP" or r.props.get("loadBalancerArn") not in https:
            continue
        actions = _maps(r.props.get("defaultActions"))
        redirects = all(
            a.get("type") == "redirect" and _get(a, "redirect", "protocol") == "HTTPS"
            for a in actions
        )
        if not actions or not redirects:
            found.append(
                (
                    r,
                    _violation(
                        r,
                        "plain HTTP is served beside HTTPS on the same load balancer",
                        "make the HTTP listener's only default action a redirect to HTTPS",
                    ),
                )
            )
    return found


# ---------------------------------------------------------------------------- deletion

NATIVE_DELETION_PROTECTION = {
    "aws:rds/instance:Instance": "deletionProtection",
    "aws:rds/cluster:Cluster": "deletionProtection",
}
"""Stateful types with a provider-side deletion protection flag that must be true."""
PULUMI_DEFAULT_ON = {GCP_SQL: "deletionProtection"}
"""Stateful types whose provider flag defaults to on: it must not be set to false."""
PROTECTED_BY_OPTION = frozenset(
    {
        *S3_BUCKETS,
        GCS_BUCKET,
        AZURE_STORAGE,
        *AZURE_DB_SERVERS,
    }
)
"""Stateful types without such a flag: Pulumi's `protect` option must be on."""
THROWAWAY_STACKS = ("dev", "test", "pr-*")


def deletion_protection(r: Resource, settings: Mapping[str, Any]) -> list[str]:
    """Stateful resources (databases, buckets, storage accounts) are protected from
    deletion, except in throw-away stacks (`throwawayStacks`, shell patterns)."""
    patterns = _items(settings.get("throwawayStacks"))
    if any(fnmatch.fnmatchcase(r.stack, str(p)) for p in patterns):
        return []
    where = f"in stack '{r.stack}'"
    if r.type in NATIVE_DELETION_PROTECTION:
        key = NATIVE_DELETION_PROTECTION[r.type]
        if r.props.get(key) is not True:
            return [
                _violation(
                    r,
                    f"{key} is not true {where}",
                    "set deletion_protection=True (mlflow:deletionProtection), or list the stack "
                    "in throwawayStacks",
                )
            ]
    if r.type in PULUMI_DEFAULT_ON and r.props.get(PULUMI_DEFAULT_ON[r.type]) is False:
        return [
            _violation(
                r,
                f"deletionProtection is false {where}",
                "set deletion_protection=True, or list the stack in throwawayStacks",
            )
        ]
    if r.type in PROTECTED_BY_OPTION and not r.protect:
        return [
            _violation(
                r,
                f"not protected from deletion {where}",
                "create it with pulumi.ResourceOptions(protect=True) "
                "(mlflow:deletionProtection), or list the stack in throwawayStacks",
            )
        ]
    return []


# ---------------------------------------------------------------------------- the rules

RULES: tuple[Rule, ...] = (
    Rule(
        "no-public-database",
        "No database endpoint reachable from the internet.",
        no_public_database,
        AWS_DB_INSTANCES | {GCP_SQL} | AZURE_DB_SERVERS | AZURE_DB_FIREWALL,
    ),
    Rule(
        "storage-and-database-encryption",
        "Database and storage encryption on, at rest and in transit.",
        encryption,
        AWS_ENCRYPTED_STORAGE | {GCP_SQL, AZURE_STORAGE} | S3_SSE | AZURE_DB_CONFIGURATION,
    ),
    Rule(
        "bucket-public-access-blocked",
        "Artifact buckets are private: public access blocked, no public grant.",
        bucket_public_access,
        S3_BUCKETS
        | S3_ACLS
        | GCS_IAM
        | GCS_ACLS
        | {S3_PUBLIC_ACCESS_BLOCK, S3_BUCKET_POLICY, GCS_BUCKET, AZURE_STORAGE, AZURE_CONTAINER},
    ),
    Rule(
        "storage-iam-scoped",
        "Storage permissions are scoped to named buckets, never every bucket.",
        scoped_storage_iam,
        AWS_IAM_DOCUMENTS | AWS_ATTACHMENTS | GCP_PROJECT_IAM | {AZURE_ROLE_ASSIGNMENT},
    ),
    Rule(
        "no-plain-credentials",
        "No credential in a container's plain environment, command or arguments.",
        no_plain_credentials,
        frozenset({ECS_TASK, DOCKER_CONTAINER, CLOUD_RUN_V1}) | CLOUD_RUN_V2 | AZURE_APPS,
    ),
    Rule(
        "https-where-domain-set",
        "A served domain gets HTTPS with TLS 1.2 or newer.",
        https_where_domain,
        frozenset({AWS_LISTENER, GCP_DOMAIN_MAPPING, GCP_SSL_POLICY, AZURE_INGRESS_APP}),
    ),
    Rule(
        "deletion-protection",
        "Databases, buckets and storage accounts are protected from deletion outside "
        "throw-away stacks.",
        deletion_protection,
        frozenset(NATIVE_DELETION_PROTECTION) | frozenset(PULUMI_DEFAULT_ON) | PROTECTED_BY_OPTION,
        config_schema={
            "throwawayStacks": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Stack names (shell patterns) where deletion protection is "
                "not required.",
                "default": list(THROWAWAY_STACKS),
            }
        },
        defaults={"throwawayStacks": list(THROWAWAY_STACKS)},
    ),
)
"""Every resource rule of the pack, by policy name."""

STACK_RULE_NAME = "https-redirect-beside-https"
"""The stack-wide TLS policy (`https_redirects`)."""


def violations(
    resources: Iterable[Resource], config: Mapping[str, Mapping[str, Any]] | None = None
) -> list[tuple[str, str]]:
    """(policy name, message) for every violation in `resources`, the stack rule included;
    `config` is the policy config file's content (policy name -> settings)."""
    resources = list(resources)
    found = [
        (rule.name, message)
        for resource in resources
        for rule in RULES
        for message in rule(resource, (config or {}).get(rule.name))
    ]
    found += [(STACK_RULE_NAME, message) for _, message in https_redirects(resources)]
    return found
