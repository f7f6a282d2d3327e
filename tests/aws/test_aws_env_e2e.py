"""End to end: the container environment the AWS stack produces runs the real image.

The stack runs under mocks (scenarios proxied on PostgreSQL, direct on MySQL/MariaDB,
artifacts-only); the task definition's environment is then started on this host the way
ECS would start it, with only the AWS endpoints swapped for local services:

- `valueFrom` references are resolved against the stack's own Secrets Manager secret
  versions (`<arn>:password::` reads the JSON key), as the ECS agent does;
- DB_HOST / DB_PORT point at a local PostgreSQL or MariaDB whose user is created with the
  stack's user name and password (RDS creates it on AWS), DB_NAME gets a unique suffix;
- DB_SSLMODE `require` becomes `prefer`: RDS enforces TLS, the local servers have none;
- the s3:// ARTIFACT_URL is kept; MLFLOW_S3_ENDPOINT_URL and test credentials point boto3
  at moto (on AWS the task role supplies credentials);
- PORT is the host's free port (ECS maps the container port).
- SPOOL_DIR (/spool, the task volume at /spool) is a directory of the test's own.

Clients then connect with the stack's `clientEnvironment` output (tracking URI swapped
for the local one) and run the real MLflow client flow. The Host check is exercised with
the load balancer's DNS name, which the ALB forwards unchanged.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from mlflow.store.artifact.s3_artifact_repo import _cached_get_s3_client
from sqlalchemy.engine import make_url

from tests import harness, services
from tests.image.flow import artifacts_flow, tracking_flow

pytestmark = pytest.mark.e2e

CLIENT_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
    "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


@pytest.fixture(scope="module")
def s3() -> Iterator[services.Emulator]:
    with services.moto_s3() as emulator:
        yield emulator


def task_environment(result: harness.ProgramResult) -> tuple[dict[str, str], dict[str, str]]:
    """(plain environment, secrets resolved like the ECS agent) of the stack's container."""
    task = result.mocks.one("aws:ecs/taskDefinition:TaskDefinition")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    plain = {e["name"]: e["value"] for e in container["environment"]}
    stored = {
        v.inputs["secretId"]: _value(v.inputs["secretString"])
        for v in result.mocks.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    secrets: dict[str, str] = {}
    for ref in container["secrets"]:
        arn, _, json_key = ref["valueFrom"].partition(":password")
        value = stored[arn]
        secrets[ref["name"]] = json.loads(value)["password"] if json_key else value
    return plain, secrets


def _value(value: Any) -> str:
    # The harness may hand secret inputs over wrapped ({sig, value}) or plain.
    return value["value"] if isinstance(value, dict) else value


def s3_keys(emulator: services.Emulator, bucket: str) -> list[str]:
    client = boto3.client(
        "s3",
        endpoint_url=emulator.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


def status_with_host(url: str, host: str) -> int:
    """GET url with a given Host header (what the ALB forwards); the HTTP status."""
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


CASES = [
    pytest.param({"scenario": "proxied", "dbEngine": "postgresql"}, id="proxied-postgresql"),
    pytest.param({"scenario": "direct", "clientAccessKey": "true"}, id="direct-postgresql-key"),
    # MySQL needs auth off on AWS (the image refuses basic-auth on MySQL, mlflow/mlflow#9642).
    pytest.param(
        {"scenario": "direct", "dbEngine": "mysql", "authEnabled": "false"},
        id="direct-mysql-no-auth",
    ),
    pytest.param({"scenario": "artifacts-only"}, id="artifacts-only-auth"),
    pytest.param({"scenario": "artifacts-only", "authEnabled": "false"}, id="artifacts-only-open"),
]


@pytest.mark.usefixtures("every_special_password")
@pytest.mark.parametrize("config", CASES)
def test_aws_container_environment_runs_the_image(
    config: dict[str, str],
    request: pytest.FixtureRequest,
    s3: services.Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    result = harness.run_program(config={"cloud": "aws", "domain": "mlflow.example.com", **config})
    plain, secrets = task_environment(result)
    scenario = config["scenario"]
    bucket = result.outputs["artifactLocation"].removeprefix("s3://")
    assert plain["ARTIFACT_URL"] == f"s3://{bucket}"
    services.create_s3_bucket(s3, bucket)

    env = {**plain, **secrets, **s3.env}
    env.pop("PORT")  # ECS maps the container port; here a free host port
    if "SPOOL_DIR" in env:  # the platform's spool volume: a directory of this test's
        assert env["SPOOL_DIR"] == "/spool"
        env["SPOOL_DIR"] = str(tmp_path / "spool")
    if "DB_HOST" in plain:
        assert plain["DB_SSLMODE"] == "require"
        server = request.getfixturevalue("pg" if plain["DB_ENGINE"] == "postgresql" else "maria")
        # RDS creates the database and master user: the user and password are the stack's;
        # the database gets a unique name, since one local server stands in for several RDS.
        database = f"{plain['DB_NAME']}_{uuid.uuid4().hex[:8]}"
        server.create_database(database, plain["DB_USER"], secrets["DB_PASSWORD"])
        env.update(
            DB_HOST="127.0.0.1", DB_PORT=str(server.port), DB_NAME=database, DB_SSLMODE="prefer"
        )
    if "AUTH_DATABASE_URL" in secrets:
        # artifacts-only with auth: the auth tables' RDS PostgreSQL, here the local one,
        # with the stack's user and password (every special character RDS allows).
        url = make_url(secrets["AUTH_DATABASE_URL"])
        assert (url.drivername, url.query["sslmode"]) == ("postgresql", "require")
        server = request.getfixturevalue("pg")
        database = f"{url.database}_{uuid.uuid4().hex[:8]}"
        server.create_database(database, url.username or "", url.password or "")
        local = url.set(host="127.0.0.1", port=server.port, database=database)
        env["AUTH_DATABASE_URL"] = local.update_query_dict({"sslmode": "prefer"}).render_as_string(
            hide_password=False
        )
    assert not set(plain) & set(secrets)

    with services.EntrypointServer(env, log_dir=str(tmp_path)) as mlflow_server:
        for name, value in CLIENT_SETTINGS.items():
            monkeypatch.setenv(name, value)
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "AWS_PROFILE"):
            monkeypatch.delenv(name, raising=False)
        # The client's side: the stack's clientEnvironment, tracking URI swapped for local.
        client_env = dict(result.outputs["clientEnvironment"])
        assert client_env.pop("MLFLOW_TRACKING_URI") == "https://mlflow.example.com"
        for name, value in client_env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3.endpoint)  # direct: clients reach "S3"
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        if "AWS_PROFILE" in client_env:
            # direct with the client role: the user appended clientAwsConfig to their AWS
            # config and has their own `default` credentials; boto3 assumes the role at
            # moto's STS (which does not check policies here; test_client_profile.py does).
            aws_config = tmp_path / "aws-config"
            aws_config.write_text(result.outputs["clientAwsConfig"])
            credentials = tmp_path / "aws-credentials"
            credentials.write_text(
                "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
            )
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
                monkeypatch.delenv(name, raising=False)
            monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
            monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
            monkeypatch.setenv("AWS_ENDPOINT_URL_STS", s3.endpoint)
            # A fresh client process: no boto3 session or MLflow S3 client made before the
            # variables were set (create_s3_bucket above made both).
            monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
            _cached_get_s3_client.cache_clear()
        if scenario == "proxied":
            # Clients need nothing but the tracking URI and their MLflow login.
            for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MLFLOW_S3_ENDPOINT_URL"):
                monkeypatch.delenv(name, raising=False)

        search = f"{mlflow_server.url}/api/2.0/mlflow/experiments/search?max_results=1"
        if scenario == "artifacts-only":
            if "AUTH_ENABLED" in plain:
                # No anonymous write (nor read) through the artifacts proxy.
                anonymous = urllib.request.Request(
                    f"{mlflow_server.url}/api/2.0/mlflow-artifacts/artifacts/anonymous.txt",
                    data=b"x",
                    method="PUT",
                )
                with pytest.raises(urllib.error.HTTPError) as refused:
                    urllib.request.urlopen(anonymous, timeout=10)
                assert refused.value.code == 401
            prefix = artifacts_flow(mlflow_server.url, tmp_path)
            assert any(k.startswith(prefix) for k in s3_keys(s3, bucket))
        else:
            flow = tracking_flow(mlflow_server.url, tmp_path, register=scenario == "proxied")
            if scenario == "direct":
                assert flow.artifact_location.startswith(f"s3://{bucket}/")
                if "AWS_PROFILE" in client_env:
                    # The client's S3 calls ran under the assumed client role.
                    assert boto3.DEFAULT_SESSION is not None
                    assert boto3.DEFAULT_SESSION.get_credentials().method == "assume-role"
            else:
                assert flow.artifact_location.startswith("mlflow-artifacts:")
            assert any(flow.run_id in k for k in s3_keys(s3, bucket))
            # Behind the ALB the Host header is its DNS name or the domain: accepted
            # (401 with auth: the login is still required); any other host is refused.
            accepted = 401 if "AUTH_ENABLED" in plain else 200
            assert status_with_host(search, result.outputs["loadBalancerDnsName"]) == accepted
            assert status_with_host(search, "mlflow.example.com") == accepted
            assert status_with_host(search, "evil.example.com") == 403
        # Nothing sensitive reached the server's log.
        log = mlflow_server.log()
        for value in secrets.values():
            assert value not in log
