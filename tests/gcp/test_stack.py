"""The GCP stack under mocks: the real `__main__.py` with cloud=gcp for every scenario and
every option that changes the graph; what a reviewer of a production change checks is
asserted (database reachability and TLS, bucket exposure, IAM scope, secrets, hosts,
probes, scaling, outputs)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from typing import Any

import pulumi
import pytest
from mlflow_image import contract

from mlflow_iac.gcp import MlflowServer
from tests import harness
from tests.gcp.conftest import PROJECT, PROJECT_NUMBER, REGION, physical

SERVICE_NAME = "mlflow-test-mlflow-server"
RUN_APP_HOST = f"{SERVICE_NAME}-{PROJECT_NUMBER}.{REGION}.run.app"


def run(secret_keys: tuple[str, ...] = (), **config: Any) -> harness.ProgramResult:
    return harness.run_program(config={"cloud": "gcp", **guarded(config)}, secret_keys=secret_keys)


def guarded(config: dict[str, Any]) -> dict[str, Any]:
    """`config`, with Cloud Run's IAP in front in scenario artifacts-only (its required guard
    on GCP: no basic-auth there yet) unless the test sets it itself."""
    if config.get("scenario") == "artifacts-only" and "iapMembers" not in config:
        return {**config, "iapMembers": ARTIFACTS_ONLY_IAP}
    return config


ARTIFACTS_ONLY_IAP = ["group:ml@example.com"]


def inputs(result: harness.ProgramResult, token: str) -> dict[str, Any]:
    return result.mocks.one(token).inputs


def all_inputs(result: harness.ProgramResult, token: str) -> list[dict[str, Any]]:
    return [r.inputs for r in result.mocks.of_type(token)]


def container(result: harness.ProgramResult) -> dict[str, Any]:
    (only,) = inputs(result, "gcp:cloudrunv2/service:Service")["template"]["containers"]
    return only


def environment(result: harness.ProgramResult) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(result)["envs"] if "value" in e}


def secret_refs(result: harness.ProgramResult) -> dict[str, dict[str, str]]:
    return {
        e["name"]: e["valueSource"]["secretKeyRef"]
        for e in container(result)["envs"]
        if "valueSource" in e
    }


def stored_secrets(result: harness.ProgramResult) -> dict[str, str]:
    """secret id -> stored value."""
    ids = {
        f"projects/{PROJECT}/secrets/{s['secretId']}": s["secretId"]
        for s in all_inputs(result, "gcp:secretmanager/secret:Secret")
    }
    return {
        ids[v["secret"]]: v["secretData"]
        for v in all_inputs(result, "gcp:secretmanager/secretVersion:SecretVersion")
    }


# ---------------------------------------------------------------------------- the graph

BUCKET = Counter({"mlflow-gcp:index:ArtifactBucket": 1, "gcp:storage/bucket:Bucket": 1})
DATABASE = Counter(
    {
        "mlflow-gcp:index:Database": 1,
        "random:index/randomPassword:RandomPassword": 1,
        "gcp:sql/databaseInstance:DatabaseInstance": 1,
        "gcp:sql/database:Database": 1,
        "gcp:sql/user:User": 1,
        "gcp:secretmanager/secret:Secret": 1,
        "gcp:secretmanager/secretVersion:SecretVersion": 1,
    }
)
AUTH = Counter(
    {
        "random:index/randomPassword:RandomPassword": 2,
        "gcp:secretmanager/secret:Secret": 2,
        "gcp:secretmanager/secretVersion:SecretVersion": 2,
    }
)
SERVICE = Counter(
    {
        "mlflow-gcp:index:Service": 1,
        "gcp:artifactregistry/repository:Repository": 1,
        "docker-build:index:Image": 1,
        "gcp:cloudrunv2/service:Service": 1,
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": 1,
    }
)
SERVER_IDENTITY = Counter(
    {
        "mlflow-gcp:index:Identity": 1,
        "gcp:serviceaccount/account:Account": 1,
        "gcp:storage/bucketIAMMember:BucketIAMMember": 1,
    }
)
EXPECTED = {
    "proxied": Counter({"mlflow-gcp:index:MlflowServer": 1})
    + BUCKET
    + DATABASE
    + AUTH
    + SERVICE
    + SERVER_IDENTITY
    + Counter(
        {
            "gcp:projects/iAMMember:IAMMember": 1,
            "gcp:secretmanager/secretIamMember:SecretIamMember": 3,
            "gcp:serviceaccount/iAMMember:IAMMember": 1,  # signBlob on itself
        }
    ),
    "direct": Counter({"mlflow-gcp:index:MlflowServer": 1})
    + BUCKET
    + DATABASE
    + AUTH
    + SERVICE
    + SERVER_IDENTITY
    + Counter(
        {
            "gcp:projects/iAMMember:IAMMember": 1,
            "gcp:secretmanager/secretIamMember:SecretIamMember": 3,
            "gcp:serviceaccount/account:Account": 1,  # the client account
            "gcp:storage/bucketIAMMember:BucketIAMMember": 1,
        }
    ),
    "artifacts-only": Counter({"mlflow-gcp:index:MlflowServer": 1})
    + BUCKET
    + SERVICE
    + SERVER_IDENTITY
    + Counter(
        {
            "gcp:serviceaccount/iAMMember:IAMMember": 1,
            # IAP for ARTIFACTS_ONLY_IAP: the guard artifacts-only needs on GCP (no auth there)
            "gcp:iap/webCloudRunServiceIamMember:WebCloudRunServiceIamMember": 1,
        }
    ),
}


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_exact_resource_types_per_scenario(scenario: str) -> None:
    result = run(scenario=scenario)
    assert Counter(result.mocks.types()) == EXPECTED[scenario]
    root = result.mocks.one("mlflow-gcp:index:MlflowServer")
    for resource in result.mocks.resources:
        if resource is not root:
            assert resource.parent is not None, resource.name
    # Every component is a direct child of MlflowServer; every resource of a component.
    for token in ("ArtifactBucket", "Identity", "Service"):
        assert result.mocks.one(f"mlflow-gcp:index:{token}").parent == root.urn


OPTIONS = [
    (
        {"dbPrivateIp": "true"},
        Counter(
            {
                "mlflow-gcp:index:Network": 1,
                "gcp:compute/network:Network": 1,
                "gcp:compute/subnetwork:Subnetwork": 1,
                "gcp:compute/globalAddress:GlobalAddress": 1,
                "gcp:servicenetworking/connection:Connection": 1,
            }
        ),
    ),
    ({"domain": "mlflow.example.com"}, Counter({"gcp:cloudrun/domainMapping:DomainMapping": 1})),
    (
        {"iapMembers": '["group:ml@example.com", "domain:example.com"]'},
        Counter({"gcp:iap/webCloudRunServiceIamMember:WebCloudRunServiceIamMember": 2}),
    ),
    (
        {"authEnabled": "false", "dbEngine": "mysql"},
        Counter({"random:index/randomPassword:RandomPassword": 1}),  # MySQL root password
    ),
    (
        {"scenario": "direct", "clientAccessKey": "true"},
        Counter({"gcp:serviceaccount/key:Key": 1}),
    ),
    (
        {"scenario": "direct", "clientMembers": '["group:ml@example.com", "user:a@example.com"]'},
        Counter({"gcp:serviceaccount/iAMMember:IAMMember": 2}),
    ),
]


@pytest.mark.parametrize(("option", "added"), OPTIONS)
def test_options_change_the_graph_exactly(option: dict[str, str], added: Counter[str]) -> None:
    base = Counter(run(scenario=option.get("scenario", "proxied")).mocks.types())
    changed = Counter(harness.run_program(config={"cloud": "gcp", **option}).mocks.types())
    if option.get("authEnabled") == "false":
        # No admin password, Flask key, their secrets and accessor bindings; a root password.
        expected = (
            base - AUTH - Counter({"gcp:secretmanager/secretIamMember:SecretIamMember": 2}) + added
        )
        assert changed == expected
    else:
        assert changed - base == added and not base - changed


def test_prebuilt_image_builds_nothing() -> None:
    def program() -> None:
        MlflowServer("mlflow", {"scenario": "artifacts-only", "image": "ghcr.io/x/mlflow:1"})

    result = harness.run_program(program)
    assert not result.mocks.of_type("docker-build:index:Image")
    assert not result.mocks.of_type("gcp:artifactregistry/repository:Repository")
    assert container(result)["image"] == "ghcr.io/x/mlflow:1"


# ---------------------------------------------------------------------------- database


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_database_is_never_open_and_requires_tls(engine: str) -> None:
    result = run(dbEngine=engine, authEnabled="false" if engine == "mysql" else "true")
    instance = inputs(result, "gcp:sql/databaseInstance:DatabaseInstance")
    settings = instance["settings"]
    ip = settings["ipConfiguration"]
    assert ip["sslMode"] == "ENCRYPTED_ONLY"
    assert ip.get("authorizedNetworks", []) == []
    # The public IP only serves the Cloud SQL connector (IAM + mTLS); no network is allowed.
    assert ip["ipv4Enabled"] is True and "privateNetwork" not in ip
    assert (
        instance["databaseVersion"] == {"postgresql": "POSTGRES_16", "mysql": "MYSQL_8_4"}[engine]
    )
    assert settings["tier"] == "db-custom-1-3840" and settings["edition"] == "ENTERPRISE"
    assert settings["availabilityType"] == "ZONAL"
    assert instance["deletionProtection"] is True and settings["deletionProtectionEnabled"]
    backup = settings["backupConfiguration"]
    assert backup["enabled"] and backup["backupRetentionSettings"]["retainedBackups"] == 7
    if engine == "postgresql":
        assert backup["pointInTimeRecoveryEnabled"] is True
        assert "rootPassword" not in instance
    else:
        assert backup["binaryLogEnabled"] is True
        assert (
            instance["rootPassword"]
            and "rootPassword"
            in result.mocks.one("gcp:sql/databaseInstance:DatabaseInstance").secret_inputs
        )
    assert settings["databaseFlags"] == [{"name": "max_connections", "value": "200"}]
    user = inputs(result, "gcp:sql/user:User")
    assert (
        user["name"] == "mlflow"
        and "password" in result.mocks.one("gcp:sql/user:User").secret_inputs
    )


def test_database_options_map_to_cloud_sql() -> None:
    result = run(
        dbSize="large",
        dbHighAvailability="true",
        dbStorageGb="100",
        dbBackupRetentionDays="30",
        maxReplicas="10",
    )
    settings = inputs(result, "gcp:sql/databaseInstance:DatabaseInstance")["settings"]
    assert settings["tier"] == "db-custom-4-15360"
    assert settings["availabilityType"] == "REGIONAL"
    assert settings["diskSize"] == 100 and settings["diskAutoresize"] is True
    backup = settings["backupConfiguration"]
    assert backup["backupRetentionSettings"]["retainedBackups"] == 30
    assert backup["transactionLogRetentionDays"] == 7


def test_explicit_tier_sets_the_instance_and_the_pool_budget() -> None:
    result = run(dbEngine="mysql", authEnabled="false", dbTier="db-n1-highmem-2", maxReplicas="10")
    settings = inputs(result, "gcp:sql/databaseInstance:DatabaseInstance")["settings"]
    assert settings["tier"] == "db-n1-highmem-2"
    assert settings["databaseFlags"] == [{"name": "max_connections", "value": "693"}]
    env = environment(result)
    # 10 instances x 2 workers x 3 engines (tracking, registry, jobs; no auth) share
    # 693 - 69 = 624 connections: 10 per engine.
    assert (
        env["MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"],
        env["MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"],
    ) == (
        "3",
        "7",
    )


def test_private_database_has_no_public_ip_and_cloud_run_uses_the_vpc() -> None:
    result = run(dbPrivateIp="true")
    instance = inputs(result, "gcp:sql/databaseInstance:DatabaseInstance")
    ip = instance["settings"]["ipConfiguration"]
    network = inputs(result, "gcp:compute/network:Network")
    assert ip["ipv4Enabled"] is False
    assert ip["privateNetwork"] == f"projects/{PROJECT}/global/networks/{physical_net(result)}"
    assert ip["sslMode"] == "ENCRYPTED_ONLY" and ip.get("authorizedNetworks", []) == []
    assert network["autoCreateSubnetworks"] is False
    service = inputs(result, "gcp:cloudrunv2/service:Service")["template"]
    (interface,) = service["vpcAccess"]["networkInterfaces"]
    assert service["vpcAccess"]["egress"] == "PRIVATE_RANGES_ONLY"
    assert interface["subnetwork"].endswith("subnetworks/" + inputs_name(result, "Subnetwork"))
    # No Cloud SQL socket (TCP to the private IP with TLS); only the spool.
    assert [v["name"] for v in service["volumes"]] == ["spool"]
    env = environment(result)
    assert env["DB_HOST"] == "10.20.0.3" and env["DB_SSLMODE"] == "require"
    # The instance waits for the peering it takes its address from.
    assert result.mocks.one("gcp:servicenetworking/connection:Connection")


def physical_net(result: harness.ProgramResult) -> str:
    return inputs_name(result, "Network")


def inputs_name(result: harness.ProgramResult, kind: str) -> str:
    token = {
        "Network": "gcp:compute/network:Network",
        "Subnetwork": "gcp:compute/subnetwork:Subnetwork",
    }[kind]
    return physical(result.mocks.one(token).name)


# ---------------------------------------------------------------------------- bucket


def test_bucket_is_private_versioned_and_expires_old_versions() -> None:
    result = run(artifactNoncurrentDays="14", tags='{"team": "ml"}')
    bucket = inputs(result, "gcp:storage/bucket:Bucket")
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["location"] == REGION
    assert bucket["forceDestroy"] is False
    assert bucket["labels"] == {"team": "ml"}
    rules = {r["action"]["type"]: r["condition"] for r in bucket["lifecycleRules"]}
    assert rules["Delete"] == {"daysSinceNoncurrentTime": 14, "withState": "ARCHIVED"}
    assert rules["AbortIncompleteMultipartUpload"] == {"age": 7}
    assert "encryption" not in bucket


def test_bucket_options_kms_no_versioning() -> None:
    key = "projects/kms-p/locations/europe-west1/keyRings/r/cryptoKeys/k"
    result = run(kmsKeyName=key, artifactVersioning="false", artifactForceDestroy="true")
    bucket = inputs(result, "gcp:storage/bucket:Bucket")
    assert bucket["encryption"] == {"defaultKmsKeyName": key}
    assert bucket["versioning"] == {"enabled": False}
    assert [r["action"]["type"] for r in bucket["lifecycleRules"]] == [
        "AbortIncompleteMultipartUpload"
    ]
    assert bucket["forceDestroy"] is True


# ---------------------------------------------------------------------------- IAM


@pytest.mark.parametrize("scenario", ["direct", "proxied", "artifacts-only"])
def test_iam_is_scoped_to_this_bucket_these_secrets_this_instance(scenario: str) -> None:
    result = run(scenario=scenario)
    bucket = result.outputs["artifactLocation"].removeprefix("gs://")
    server = result.outputs["serverServiceAccount"]
    member = f"serviceAccount:{server}"
    # Bucket: object rights only, on this bucket only.
    grants = all_inputs(result, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert {g["bucket"] for g in grants} == {bucket}
    assert {g["role"] for g in grants} == {"roles/storage.objectUser"}
    # Secrets: accessor on exactly the secrets the container references.
    secret_grants = all_inputs(result, "gcp:secretmanager/secretIamMember:SecretIamMember")
    assert all(g["role"] == "roles/secretmanager.secretAccessor" for g in secret_grants)
    assert all(g["member"] == member for g in secret_grants)
    referenced = {f"projects/{PROJECT}/secrets/{r['secret']}" for r in secret_refs(result).values()}
    assert {g["secretId"] for g in secret_grants} == referenced
    # Cloud SQL: project-level role, conditioned to this instance.
    project_grants = all_inputs(result, "gcp:projects/iAMMember:IAMMember")
    if scenario == "artifacts-only":
        assert not project_grants
    else:
        (sql_grant,) = project_grants
        instance = result.outputs["databaseConnectionName"].split(":")[-1]
        assert sql_grant["role"] == "roles/cloudsql.client" and sql_grant["member"] == member
        assert sql_grant["project"] == PROJECT
        assert (
            f'resource.name == "projects/{PROJECT}/instances/{instance}"'
            in sql_grant["condition"]["expression"]
        )
    # signBlob: on the server's own account, for the server only, and only where it signs.
    token = all_inputs(result, "gcp:serviceaccount/iAMMember:IAMMember")
    if scenario == "direct":
        assert not token
    else:
        (grant,) = token
        assert grant["role"] == "roles/iam.serviceAccountTokenCreator"
        assert grant["member"] == member
        assert grant["serviceAccountId"] == f"projects/{PROJECT}/serviceAccounts/{server}"
    # Cloud Run runs as that account, never the default compute one.
    assert inputs(result, "gcp:cloudrunv2/service:Service")["template"]["serviceAccount"] == server
    assert "compute@developer" not in server


def test_direct_client_account_and_impersonators() -> None:
    result = run(scenario="direct", clientMembers='["group:ml@example.com"]')
    client = result.outputs["clientServiceAccount"]
    assert client.startswith("client-") and client != result.outputs["serverServiceAccount"]
    bucket_members = {
        g["member"] for g in all_inputs(result, "gcp:storage/bucketIAMMember:BucketIAMMember")
    }
    assert f"serviceAccount:{client}" in bucket_members
    (impersonate,) = all_inputs(result, "gcp:serviceaccount/iAMMember:IAMMember")
    assert impersonate == {
        "serviceAccountId": f"projects/{PROJECT}/serviceAccounts/{client}",
        "role": "roles/iam.serviceAccountTokenCreator",
        "member": "group:ml@example.com",
    }
    env = result.outputs["clientEnvironment"]
    assert env["CLOUDSDK_AUTH_IMPERSONATE_SERVICE_ACCOUNT"] == client
    assert "GOOGLE_AUTH_STRING" not in env and "clientKey" not in result.outputs


def test_direct_client_key_is_secret_everywhere() -> None:
    result = run(scenario="direct", clientAccessKey="true")
    key = result.outputs["clientKey"]
    assert "clientKey" in result.secret_outputs and "clientEnvironment" in result.secret_outputs
    assert result.outputs["clientEnvironment"]["GOOGLE_AUTH_STRING"] == key
    assert inputs(result, "gcp:serviceaccount/key:Key")["serviceAccountId"].endswith(
        result.outputs["clientServiceAccount"]
    )


# ---------------------------------------------------------------------------- the container


def test_proxied_environment_exact_and_secrets_only_by_reference() -> None:
    result = run(allowedHosts='["mlflow.internal"]')
    env = environment(result)
    refs = secret_refs(result)
    instance = inputs(result, "gcp:sql/databaseInstance:DatabaseInstance")
    connection = f"{PROJECT}:{REGION}:" + result.outputs["databaseConnectionName"].split(":")[-1]
    assert env == {
        "ARTIFACT_MODE": "proxied",
        "ARTIFACT_URL": result.outputs["artifactLocation"],
        "AUTH_DEFAULT_PERMISSION": "NO_PERMISSIONS",
        "AUTH_ENABLED": "true",
        "AUTH_USERNAME": "admin",
        "CREATE_BUCKET": "false",
        "DB_ENGINE": "postgresql",
        "DB_HOST": f"/cloudsql/{connection}",
        "DB_NAME": "mlflow",
        "DB_PORT": "5432",
        "DB_SSLMODE": "require",
        "DB_USER": "mlflow",
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        # 4 instances x 2 workers x 4 engines (with auth) share 180 connections: 5 each.
        "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW": "3",
        "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE": "2",
        "PUBLIC_HOSTNAMES": f"{RUN_APP_HOST},mlflow.internal",
        "SERVER_KEEP_ALIVE_SECONDS": "650",
        "SERVER_SHUTDOWN_SECONDS": "8",
        "SERVER_WORKERS": "2",
        "SPOOL_DIR": "/spool",
        "ARTIFACT_MAX_UPLOAD_MB": "32",
    }
    assert "PORT" not in env  # Cloud Run sets it and refuses a service that does
    assert set(refs) == {"AUTH_PASSWORD", "DB_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"}
    assert all(r["version"] == "1" for r in refs.values())
    # Every name is in the image's contract; no value of a secret is anywhere in plain env.
    for name in env:
        assert contract.is_contract_variable(name), name
        assert name not in contract.SECRET_NAMES, name
    assert set(refs) <= contract.SECRET_NAMES
    stored = stored_secrets(result)
    assert set(stored) == {r["secret"] for r in refs.values()}
    text = repr(inputs(result, "gcp:cloudrunv2/service:Service"))
    for value in stored.values():
        assert value not in text
    assert result.outputs["adminPassword"] == stored[refs["AUTH_PASSWORD"]["secret"]]
    # The Cloud SQL socket is mounted where DB_HOST points.
    template = inputs(result, "gcp:cloudrunv2/service:Service")["template"]
    assert template["volumes"][0] == {
        "name": "cloudsql",
        "cloudSqlInstance": {"instances": [connection]},
    }
    assert container(result)["volumeMounts"][0] == {"name": "cloudsql", "mountPath": "/cloudsql"}
    assert "args" not in container(result) and "commands" not in container(result)
    assert instance["settings"]["ipConfiguration"]["sslMode"] == "ENCRYPTED_ONLY"


def test_mysql_socket_is_the_file_and_artifacts_only_has_no_database() -> None:
    mysql = environment(run(scenario="direct", dbEngine="mysql", authEnabled="false"))
    assert mysql["DB_ENGINE"] == "mysql" and mysql["DB_PORT"] == "3306"
    assert mysql["DB_HOST"].startswith(f"/cloudsql/{PROJECT}:{REGION}:")
    assert mysql["ARTIFACT_MODE"] == "direct"
    only = run(scenario="artifacts-only")
    env = environment(only)
    assert env["ARTIFACT_MODE"] == "artifacts-only"
    assert not any(k.startswith("DB_") or k.startswith("AUTH_") for k in env)
    assert secret_refs(only) == {}
    assert not only.mocks.of_type("gcp:secretmanager/secret:Secret")


def test_service_probes_scaling_resources_and_public_access() -> None:
    result = run(
        minReplicas="1",
        replicas="1",
        maxReplicas="6",
        serverCpu="2",
        serverMemoryMb="4096",
        dbSize="large",  # 6 instances x 4 workers x 4 engines: 480 connections at least
    )
    service = inputs(result, "gcp:cloudrunv2/service:Service")
    template, box = service["template"], container(result)
    assert service["name"] == SERVICE_NAME and service["location"] == REGION
    assert service["ingress"] == "INGRESS_TRAFFIC_ALL" and service["deletionProtection"] is True
    assert template["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 6}
    assert template["timeout"] == "3600s"
    assert template["executionEnvironment"] == "EXECUTION_ENVIRONMENT_GEN2"
    assert box["resources"] == {
        "limits": {"cpu": "2", "memory": "4096Mi"},
        "cpuIdle": True,
        "startupCpuBoost": True,
    }
    assert box["ports"] == {"name": "http1", "containerPort": 5000}
    for probe in ("startupProbe", "livenessProbe"):
        assert box[probe]["httpGet"] == {"path": "/health", "port": 5000}
    # Cloud Run caps a service's startup probe at 240 s (failureThreshold x periodSeconds).
    assert box["startupProbe"]["periodSeconds"] * box["startupProbe"]["failureThreshold"] == 240
    assert environment(result)["SERVER_WORKERS"] == "4"
    (invoker,) = all_inputs(result, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert invoker["role"] == "roles/run.invoker" and invoker["member"] == "allUsers"
    assert invoker["name"] == SERVICE_NAME


def test_iap_replaces_public_access() -> None:
    result = run(iapMembers='["group:ml@example.com"]')
    service = inputs(result, "gcp:cloudrunv2/service:Service")
    assert service["iapEnabled"] is True
    (invoker,) = all_inputs(result, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember")
    assert invoker["member"] == (
        f"serviceAccount:service-{PROJECT_NUMBER}@gcp-sa-iap.iam.gserviceaccount.com"
    )
    assert invoker["role"] == "roles/run.invoker"
    (accessor,) = all_inputs(
        result, "gcp:iap/webCloudRunServiceIamMember:WebCloudRunServiceIamMember"
    )
    assert accessor == {
        "cloudRunServiceName": SERVICE_NAME,
        "location": REGION,
        "role": "roles/iap.httpsResourceAccessor",
        "member": "group:ml@example.com",
    }
    assert "allUsers" not in repr([r.inputs for r in result.mocks.resources])
    assert inputs(run(), "gcp:cloudrunv2/service:Service")["iapEnabled"] is False


def test_image_is_built_from_docker_and_pushed_to_artifact_registry() -> None:
    result = run(scenario="artifacts-only")
    image = inputs(result, "docker-build:index:Image")
    repo = inputs(result, "gcp:artifactregistry/repository:Repository")
    assert repo["format"] == "DOCKER" and repo["location"] == REGION
    assert repo["dockerConfig"] == {"immutableTags": True}
    policies = {p["id"]: p for p in repo["cleanupPolicies"]}
    assert policies["keep-last-10"]["mostRecentVersions"] == {"keepCount": 10}
    assert policies["delete-after-30-days"]["condition"] == {
        "tagState": "ANY",
        "olderThan": "2592000s",
    }
    assert image["push"] is True and image["context"]["location"].endswith("/docker")
    (tag,) = image["tags"]
    assert tag.startswith(
        f"{REGION}-docker.pkg.dev/{PROJECT}/{repo['repositoryId']}/mlflow-server:"
    )
    (registry,) = image["registries"]
    assert registry["username"] == "oauth2accesstoken"
    assert "registries" in result.mocks.one("docker-build:index:Image").secret_inputs
    assert container(result)["image"].startswith(tag + "@sha256:")


def test_domain_mapping_and_hosts() -> None:
    result = run(domain="mlflow.example.com")
    mapping = inputs(result, "gcp:cloudrun/domainMapping:DomainMapping")
    assert mapping["name"] == "mlflow.example.com"
    assert mapping["spec"] == {"routeName": SERVICE_NAME}
    assert mapping["metadata"]["namespace"] == PROJECT
    assert result.outputs["trackingUri"] == "https://mlflow.example.com"
    assert result.outputs["domainDnsRecords"] == [
        {"name": "mlflow", "type": "CNAME", "rrdata": "ghs.googlehosted.com."}
    ]
    assert environment(result)["PUBLIC_HOSTNAMES"] == f"{RUN_APP_HOST},mlflow.example.com"


def test_run_app_host_is_checked_against_what_cloud_run_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The mock reports URLs as Cloud Run's API does (deterministic + hashed): no warning.
    Reported without the computed host, `pulumi up` warns."""
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **k: warnings.append(message))
    result = run()
    assert result.outputs["trackingUri"] == f"https://{RUN_APP_HOST}" and not warnings
    original = harness.OUTPUTS["gcp:cloudrunv2/service:Service"]

    def hashed_only(args: Any) -> dict[str, Any]:
        outputs = original(args)
        return {**outputs, "urls": [outputs["uri"]]}

    monkeypatch.setitem(harness.OUTPUTS, "gcp:cloudrunv2/service:Service", hashed_only)
    run()
    assert any(f"not the computed https://{RUN_APP_HOST}" in w for w in warnings)


def test_no_deletion_protection_when_asked() -> None:
    result = run(deletionProtection="false")
    instance = inputs(result, "gcp:sql/databaseInstance:DatabaseInstance")
    assert instance["deletionProtection"] is False
    assert instance["settings"]["deletionProtectionEnabled"] is False
    assert inputs(result, "gcp:cloudrunv2/service:Service")["deletionProtection"] is False


# ---------------------------------------------------------------------------- outputs


@pytest.mark.parametrize("scenario", ["direct", "proxied", "artifacts-only"])
def test_outputs_and_secretness(scenario: str) -> None:
    result = run(scenario=scenario)
    outputs = result.outputs
    assert outputs["trackingUri"] == f"https://{RUN_APP_HOST}"
    assert outputs["artifactLocation"].startswith("gs://")
    env = outputs["clientEnvironment"]
    assert env["MLFLOW_TRACKING_URI"] == outputs["trackingUri"]
    if scenario == "artifacts-only":
        assert "adminPassword" not in outputs and "databasePasswordSecret" not in outputs
        assert "clientEnvironment" not in result.secret_outputs
    else:
        assert {"adminPassword", "clientEnvironment"} <= result.secret_outputs
        assert env["MLFLOW_TRACKING_PASSWORD"] == outputs["adminPassword"]
        assert outputs["databasePasswordSecret"] == "mlflow-test-mlflow-db-password"
        assert outputs["adminPasswordSecret"] == "mlflow-test-mlflow-admin-password"
        assert outputs["flaskSecretKeySecret"] == "mlflow-test-mlflow-flask-key"
    for name in ("databasePasswordSecret", "adminPasswordSecret", "runAppHost"):
        assert name not in result.secret_outputs
    if scenario == "direct":
        assert "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD" not in env
    else:
        assert env["MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD"] == "true"
        assert int(env["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"]) < 32 * 1024 * 1024
        assert (
            env["MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE"]
            == env["MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE"]
        )


def test_given_admin_password_is_used_and_stays_secret() -> None:
    result = run(secret_keys=("adminPassword",), adminPassword="a-Given-Passw0rd!")
    assert result.outputs["adminPassword"] == "a-Given-Passw0rd!"
    assert "adminPassword" in result.secret_outputs
    assert not [
        r
        for r in result.mocks.resources
        if r.name == "mlflow-admin-password" and r.type.startswith("random")
    ]
    version = next(
        r
        for r in result.mocks.of_type("gcp:secretmanager/secretVersion:SecretVersion")
        if r.name == "mlflow-admin-password"
    )
    assert "secretData" in version.secret_inputs


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"maxReplicas": "40"}, "mlflow:maxReplicas: invalid value 40"),
        ({"serverCpu": "0.5", "serverMemoryMb": "1024"}, "mlflow:serverCpu"),
        ({"tags": '{"Team": "ML"}'}, "mlflow:tags"),
        # Tiers the engine lacks: db-n1 is MySQL's; shared-core has no SLA.
        (
            {"dbTier": "db-n1-standard-2"},
            "mlflow:dbTier: invalid value 'db-n1-standard-2' with postgresql",
        ),
        (
            {"dbTier": "db-f1-micro", "dbEngine": "mysql", "authEnabled": "false"},
            "mlflow:dbTier: invalid value 'db-f1-micro' with mysql",
        ),
    ],
)
def test_bad_config_registers_nothing(config: dict[str, str], message: str) -> None:
    mocks = harness.new_mocks()
    with pytest.raises(Exception, match=message):
        harness.run_program(config={"cloud": "gcp", **config}, mocks=mocks)
    assert not mocks.resources


def test_project_less_stack_registers_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_PROJECT")
    mocks = harness.new_mocks()
    with pytest.raises(Exception, match="gcp:project: unset"):
        harness.run_program(config={"cloud": "gcp"}, mocks=mocks)
    assert not mocks.resources


def test_gcp_stack_never_imports_other_clouds() -> None:
    code = (
        "import sys, stacks.gcp, mlflow_iac.gcp; "
        "bad = [m for m in sys.modules if m.startswith(('pulumi_aws', 'pulumi_azure'))]; "
        "assert not bad, bad"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
