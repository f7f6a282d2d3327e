"""The real `__main__.py` under mocks, for every scenario of the local stack: resource graph,
parenting, the server container's exact environment, secrets and stack outputs."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulumi
import pytest
from mlflow_image import contract

from mlflow_iac.local import MlflowServer
from tests import harness
from tests.local import mocks  # registers the Docker / random mock outputs

CONTAINER = "docker:index/container:Container"
PASSWORD = "random:index/randomPassword:RandomPassword"
STACK_URN = f"urn:pulumi:{harness.STACK}::{harness.PROJECT}::pulumi:pulumi:Stack::mlflow-test"

GRAPH = {
    "local-server": {
        "mlflow-local:index:MlflowServer": 1,
        "mlflow-local:index:Service": 1,
        "docker:index/network:Network": 1,
        "docker-build:index:Image": 1,
        "docker:index/volume:Volume": 2,  # /data and the spool
        CONTAINER: 1,
    },
    "direct": {
        "mlflow-local:index:MlflowServer": 1,
        "mlflow-local:index:Database": 1,
        "mlflow-local:index:Credentials": 1,
        "mlflow-local:index:Bucket": 1,
        "mlflow-local:index:Service": 1,
        "docker:index/network:Network": 2,
        "docker:index/remoteImage:RemoteImage": 2,
        "docker:index/volume:Volume": 2,
        "docker-build:index:Image": 1,
        CONTAINER: 3,
        PASSWORD: 2,
    },
    "artifacts-only": {
        "mlflow-local:index:MlflowServer": 1,
        "mlflow-local:index:Credentials": 1,
        "mlflow-local:index:Bucket": 1,
        "mlflow-local:index:Service": 1,
        "docker:index/network:Network": 2,
        "docker:index/remoteImage:RemoteImage": 1,
        "docker:index/volume:Volume": 2,  # MinIO's data and the server's spool
        "docker-build:index:Image": 1,
        CONTAINER: 2,
        PASSWORD: 1,
    },
}
# proxied spools uploads on a volume of its own; direct spools nothing.
GRAPH["proxied"] = {**GRAPH["direct"], "docker:index/volume:Volume": 3}

BASE_ENV = {
    "PORT": "5000",
    "SERVER_KEEP_ALIVE_SECONDS": "650",
    "SERVER_SHUTDOWN_SECONDS": "8",
    "SERVER_WORKERS": "2",
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
}
SPOOL_ENV = {"SPOOL_DIR": "/spool", "ARTIFACT_MAX_UPLOAD_MB": "1024"}
BUCKET_ENV = {
    "ARTIFACT_URL": "s3://mlflow",
    "CREATE_BUCKET": "true",
    "MLFLOW_S3_ENDPOINT_URL": "http://object-store:9000",
    "AWS_ACCESS_KEY_ID": "mlflow",
}
DB_ENV = {
    "DB_ENGINE": "postgresql",
    "DB_HOST": "database",
    "DB_PORT": "5432",
    "DB_NAME": "mlflow",
    "DB_USER": "mlflow",
    "DB_SSLMODE": "disable",
}
EXPECTED_ENV = {
    "local-server": {**BASE_ENV, **SPOOL_ENV},
    "direct": {**BASE_ENV, **BUCKET_ENV, **DB_ENV, "ARTIFACT_MODE": "direct"},
    "proxied": {**BASE_ENV, **SPOOL_ENV, **BUCKET_ENV, **DB_ENV, "ARTIFACT_MODE": "proxied"},
    "artifacts-only": {**BASE_ENV, **SPOOL_ENV, **BUCKET_ENV, "ARTIFACT_MODE": "artifacts-only"},
}
EXPECTED_SECRET_FILES = {
    "local-server": set(),
    "direct": {"DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"},
    "proxied": {"DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"},
    "artifacts-only": {"AWS_SECRET_ACCESS_KEY"},
}
AUTH_ENV = {
    "AUTH_ENABLED": "true",
    "AUTH_USERNAME": "admin",
    "AUTH_DEFAULT_PERMISSION": "NO_PERMISSIONS",
}
AUTH_SECRETS = {"AUTH_PASSWORD", "MLFLOW_FLASK_SERVER_SECRET_KEY"}
SCENARIOS = ["local-server", "direct", "proxied", "artifacts-only"]
AUTH_CASES = [(s, a) for s in SCENARIOS for a in (False, True) if not (a and s == "artifacts-only")]


def run(scenario: str, auth: bool = False, **extra: Any) -> harness.ProgramResult:
    config = {"cloud": "local", "scenario": scenario, "authEnabled": str(auth).lower(), **extra}
    return harness.run_program(config=config)


def env_of(resource: harness.Registered) -> dict[str, str]:
    """A docker.Container's `envs` list ("K=V") as a dict, refusing duplicates."""
    items = [item.split("=", 1) for item in resource.inputs.get("envs", [])]
    env = dict(items)
    assert len(env) == len(items), f"duplicate variables in {resource.name}"
    return env


def uploads_of(resource: harness.Registered) -> dict[str, dict[str, Any]]:
    return {u["file"]: u for u in resource.inputs.get("uploads", [])}


def server(result: harness.ProgramResult) -> harness.Registered:
    return next(r for r in result.mocks.of_type(CONTAINER) if r.name == "mlflow-service-container")


def secret_values(result: harness.ProgramResult) -> list[str]:
    """Every generated secret (RandomPassword results, as the mocks computed them)."""
    return [mocks.password_for(r.name, r.inputs) for r in result.mocks.of_type(PASSWORD)]


@pytest.mark.parametrize(("scenario", "auth"), AUTH_CASES)
def test_resource_graph(scenario: str, auth: bool) -> None:
    result = run(scenario, auth)
    expected = Counter(GRAPH[scenario])
    if auth:
        expected[PASSWORD] += 2  # admin password and Flask secret key
    assert Counter(result.mocks.types()) == expected


@pytest.mark.parametrize(("scenario", "auth"), AUTH_CASES)
def test_every_child_is_parented_to_its_component(scenario: str, auth: bool) -> None:
    registered = run(scenario, auth).mocks
    top = registered.one("mlflow-local:index:MlflowServer")
    assert top.parent == STACK_URN
    for resource in registered.resources:
        if resource is top:
            continue
        parent = registered.by_urn(resource.parent or "")
        assert parent.type.startswith("mlflow-local:index:"), resource.name
        # Child names are `<component name>-<suffix>`.
        assert resource.name.startswith(parent.name + "-"), (resource.name, parent.name)
    owners = {
        r.name: registered.by_urn(r.parent or "").name for r in registered.resources if r is not top
    }
    assert owners["mlflow-service-container"] == "mlflow-service"
    if scenario in ("direct", "proxied"):
        assert owners["mlflow-database-container"] == "mlflow-database"
        assert owners["mlflow-database-password"] == "mlflow-database"
    if scenario != "local-server":
        assert owners["mlflow-bucket-minio"] == "mlflow-bucket"
        assert owners["mlflow-credentials-secret-key"] == "mlflow-credentials"


@pytest.mark.parametrize(("scenario", "auth"), AUTH_CASES)
def test_server_container_environment_is_exactly_the_contract(scenario: str, auth: bool) -> None:
    result = run(scenario, auth)
    container = server(result)
    env = env_of(container)
    expected = {**EXPECTED_ENV[scenario], **(AUTH_ENV if auth else {})}
    assert env == expected
    assert all(contract.is_contract_variable(name) for name in env)
    # No credential in the plain environment: they travel as files.
    assert not set(env) & contract.SECRET_NAMES
    assert "AWS_SECRET_ACCESS_KEY" not in env
    files = uploads_of(container)
    expected_secrets = EXPECTED_SECRET_FILES[scenario] | (AUTH_SECRETS if auth else set())
    assert set(files) == {f"/run/secrets/{name}" for name in expected_secrets}
    for name in expected_secrets:
        assert contract.is_contract_variable(name)
        upload = files[f"/run/secrets/{name}"]
        # The image's user and group: readable when the engine applies either id.
        assert (upload["owner"], upload["group"], upload["permissions"]) == (
            "10001",
            "10001",
            "0440",
        )
        assert upload["content"]
    # The engine receives the uploads as a secret (encrypted in state), the env as plain.
    assert "envs" not in container.secret_inputs
    assert ("uploads" in container.secret_inputs) == bool(expected_secrets)


@pytest.mark.parametrize(("scenario", "auth"), AUTH_CASES)
def test_no_secret_value_in_any_environment_or_command(scenario: str, auth: bool) -> None:
    result = run(scenario, auth)
    secrets = secret_values(result)
    assert secrets or (scenario == "local-server" and not auth)
    for container in result.mocks.of_type(CONTAINER):
        visible = " ".join(
            [
                *container.inputs.get("envs", []),
                *container.inputs.get("entrypoints", []),
                *container.inputs.get("commands", []),
            ]
        )
        for secret in secrets:
            assert secret not in visible, container.name


def test_server_database_password_is_the_database_password() -> None:
    result = run("proxied")
    db_file = uploads_of(_db(result))["/run/secrets/db-password"]["content"]
    server_file = uploads_of(server(result))["/run/secrets/DB_PASSWORD"]["content"]
    generated = next(
        mocks.password_for(r.name, r.inputs)
        for r in result.mocks.of_type(PASSWORD)
        if r.name == "mlflow-database-password"
    )
    assert db_file == server_file == generated


def _db(result: harness.ProgramResult) -> harness.Registered:
    return next(r for r in result.mocks.of_type(CONTAINER) if r.name == "mlflow-database-container")


def test_minio_keys_are_shared_by_minio_and_server() -> None:
    result = run("direct")
    minio = next(r for r in result.mocks.of_type(CONTAINER) if r.name == "mlflow-bucket-minio")
    minio_files = uploads_of(minio)
    assert minio_files["/run/secrets/minio-root-user"]["content"] == "mlflow"
    key = minio_files["/run/secrets/minio-root-password"]["content"]
    assert uploads_of(server(result))["/run/secrets/AWS_SECRET_ACCESS_KEY"]["content"] == key
    assert result.outputs["clientEnvironment"].count(key) == 1


def test_server_container_runtime_settings() -> None:
    container = server(run("proxied", serverMemoryMb="4096", serverCpu="2", localPort="8080"))
    inputs = container.inputs
    assert inputs["ports"] == [{"internal": 5000, "external": 8080, "ip": "127.0.0.1"}]
    assert inputs["restart"] == "unless-stopped"
    assert inputs["memory"] == 4096 and inputs["cpus"] == "2"
    assert inputs["wait"] is True
    assert "/health" in " ".join(inputs["healthcheck"]["tests"])
    assert inputs["entrypoints"][:2] == ["/bin/sh", "-c"]
    # The wrapper loads exactly the uploaded secret files, each required.
    wrapper = inputs["entrypoints"][2]
    assert "load AWS_SECRET_ACCESS_KEY; load DB_PASSWORD; exec python -m mlflow_image" in wrapper
    assert inputs["image"] == "mlflow-server:test"
    assert env_of(container)["SERVER_WORKERS"] == "4"
    assert {
        "label": "mlflow.image-digest",
        "value": mocks.digest_of("mlflow-service-image"),
    } in inputs["labels"]


def test_only_direct_publishes_minio_and_only_on_loopback() -> None:
    for scenario in ("direct", "proxied", "artifacts-only"):
        minio = next(
            r for r in run(scenario).mocks.of_type(CONTAINER) if r.name == "mlflow-bucket-minio"
        )
        ports = minio.inputs.get("ports", [])
        if scenario == "direct":
            assert ports == [{"internal": 9000, "external": 5001, "ip": "127.0.0.1"}]
        else:
            assert ports == []
    for scenario in ("direct", "proxied"):
        db = _db(run(scenario))
        assert db.inputs.get("ports", []) == []


def test_database_and_minio_live_on_the_internal_network_only() -> None:
    registered = run("proxied").mocks
    networks = {r.name: r for r in registered.of_type("docker:index/network:Network")}
    assert networks["mlflow-private"].inputs["internal"] is True
    assert not networks["mlflow-network"].inputs.get("internal", False)
    private = "mlflow-private-1a2b3c4"
    db = _db_from(registered)
    assert [n["name"] for n in db.inputs["networksAdvanced"]] == [private]
    assert db.inputs["networksAdvanced"][0]["aliases"] == ["database"]
    server_networks = [
        n["name"]
        for n in next(
            r for r in registered.of_type(CONTAINER) if r.name == "mlflow-service-container"
        ).inputs["networksAdvanced"]
    ]
    assert server_networks == ["mlflow-network-1a2b3c4", private]


def _db_from(registered: harness.RecordingMocks) -> harness.Registered:
    return next(r for r in registered.of_type(CONTAINER) if r.name == "mlflow-database-container")


def test_mysql_engine() -> None:
    result = run("proxied", dbEngine="mysql")
    env = env_of(server(result))
    assert env["DB_ENGINE"] == "mysql" and env["DB_PORT"] == "3306"
    db = _db(result)
    db_env = env_of(db)
    assert db_env["MYSQL_PASSWORD_FILE"] == "/run/secrets/db-password"
    assert db_env["MYSQL_ROOT_PASSWORD_FILE"] == "/run/secrets/db-root-password"
    assert not any("PASSWORD=" in item and "_FILE" not in item for item in db.inputs["envs"])
    images = {
        r.inputs["name"] for r in result.mocks.of_type("docker:index/remoteImage:RemoteImage")
    }
    assert "mysql:8.4.6" in images


@pytest.mark.parametrize(("scenario", "auth"), AUTH_CASES)
def test_stack_outputs(scenario: str, auth: bool) -> None:
    result = run(scenario, auth)
    out = result.outputs
    assert out["scenario"] == scenario
    assert out["trackingUri"] == "http://127.0.0.1:5000"
    assert out["artifactLocation"] == (
        "/data/artifacts" if scenario == "local-server" else "s3://mlflow"
    )
    text = out["clientEnvironment"]
    names = {line.split("=", 1)[0].removeprefix("export ") for line in text.splitlines()}
    expected = {"MLFLOW_TRACKING_URI"}
    if scenario == "direct":
        expected |= {"MLFLOW_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
        assert out["s3Endpoint"] == "http://127.0.0.1:5001"
        assert "export MLFLOW_S3_ENDPOINT_URL=http://127.0.0.1:5001\n" in text
    else:
        assert "s3Endpoint" not in out
    if auth:
        expected |= {"MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"}
        assert out["adminUsername"] == "admin"
        assert len(out["adminPassword"]) == 24
        assert f"export MLFLOW_TRACKING_PASSWORD='{out['adminPassword']}'" in text
    else:
        assert "adminUsername" not in out and "adminPassword" not in out
    assert names == expected
    has_credential = auth or scenario == "direct"
    expected_secret = {"adminPassword"} if auth else set()
    if has_credential:
        expected_secret.add("clientEnvironment")
    assert result.secret_outputs == expected_secret


def test_configured_admin_password_is_used_and_stays_secret() -> None:
    password = "a configured p@ss'word"
    result = harness.run_program(
        config={"scenario": "proxied", "authEnabled": "true", "adminPassword": password},
        secret_keys=("adminPassword",),
    )
    assert result.outputs["adminPassword"] == password
    assert "adminPassword" in result.secret_outputs
    assert uploads_of(server(result))["/run/secrets/AUTH_PASSWORD"]["content"] == password
    assert "mlflow-admin-password" not in {r.name for r in result.mocks.of_type(PASSWORD)}


def test_allowed_hosts_and_domain_keep_localhost_working() -> None:
    env = env_of(
        server(run("proxied", domain="mlflow.example.com", allowedHosts='["mlflow.internal"]'))
    )
    assert env["PUBLIC_HOSTNAMES"] == (
        "mlflow.example.com,mlflow.internal,localhost:5000,127.0.0.1:5000"
    )


def test_tags_become_docker_labels() -> None:
    registered = run("proxied", tags='{"team": "ml"}').mocks
    for r in registered.resources:
        if r.type.startswith("docker:index/") and r.type != "docker:index/remoteImage:RemoteImage":
            assert {"label": "team", "value": "ml"} in r.inputs["labels"], r.name


def test_deletion_protection_protects_the_data_volumes() -> None:
    # Mocks do not see `protect`; the volumes' own options do.
    seen: dict[str, bool] = {}

    def program() -> None:
        server = MlflowServer("m", {"scenario": "proxied", "protect": True})
        assert server.database is not None and server.bucket is not None
        for volume in (server.database.volume, server.bucket.volume):
            seen[volume._name] = bool(volume._protect)  # type: ignore[attr-defined]  # SDK internals
        pulumi.export("url", server.url)

    harness.run_program(program)
    assert seen == {"m-database-data": True, "m-bucket-data": True}
