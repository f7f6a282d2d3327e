"""The local stack's server container, run by podman exactly as the stack specifies it.

No Docker engine runs here; podman (runtime runc) stands in for it. The real
`__main__.py` runs under the mocks for scenario proxied with basic-auth, and the server
container it registers is replayed with podman: the same image (built from `docker/`),
the same entrypoint (the secrets wrapper), the same environment, labels, memory and CPU
limits and health check, the image's own user, and the same secret files (content,
owner, group and mode) delivered the way the Docker provider delivers uploads: a tar
copied into the created container before it starts, its ownership kept
(`podman cp --archive=false`, like the Docker API's copy).

Only addresses differ. With `--network host` there is no private network: the stack's
host names (`database`, `object-store`) are mapped to 127.0.0.1 with `--add-host`, and
the ports become the free ports of the host's PostgreSQL, moto (S3) and the server
(DB_PORT, MLFLOW_S3_ENDPOINT_URL's port, PORT). The database user's password is the
generated one the stack uploads.
"""

from __future__ import annotations

import base64
import io
import json
import shlex
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests import harness, services
from tests.container.podman import build_image
from tests.local import mocks  # noqa: F401  # registers the Docker / random mock outputs

pytestmark = [pytest.mark.e2e, pytest.mark.container]

CONTAINER = "docker:index/container:Container"


def podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done


@pytest.fixture(scope="module")
def image() -> str:
    """The mlflow-server image built from docker/ as tests/container builds it (podman's layer
    cache makes it seconds when the container tests built it already); never a stale tag."""
    return build_image().ref


def stack_server_container() -> harness.Registered:
    """The server container the real program registers: proxied, PostgreSQL, basic-auth."""
    result = harness.run_program(
        config={"cloud": "local", "scenario": "proxied", "authEnabled": "true"}
    )
    (server,) = [r for r in result.mocks.of_type(CONTAINER) if r.name == "mlflow-service-container"]
    return server


def secrets_tar(uploads: list[dict[str, Any]]) -> bytes:
    """The uploads as one tar, each file with its upload's owner, group and mode."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for upload in uploads:
            data = upload["content"].encode()
            info = tarfile.TarInfo(upload["file"].lstrip("/"))
            info.size = len(data)
            info.uid = int(upload.get("owner") or 0)
            info.gid = int(upload.get("group") or 0)
            info.mode = int(upload["permissions"], 8)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def health_command(tests: list[str]) -> str:
    """Docker's exec-form test (["CMD", argv...]) as podman 4.3 takes it: a shell line, since
    it reads a JSON array as one word. shlex quoting keeps every argument intact."""
    assert tests[0] == "CMD", tests
    return shlex.join(tests[1:])


def create(
    name: str, image: str, server: harness.Registered, overrides: dict[str, str]
) -> list[str]:
    """`podman create` arguments for the recorded container, addresses overridden."""
    inputs = server.inputs
    env = dict(item.split("=", 1) for item in inputs["envs"])
    assert set(overrides) <= set(env), set(overrides) - set(env)
    env.update(overrides)
    check = inputs["healthcheck"]
    args = [
        "create",
        "--name",
        name,
        "--network",
        "host",
        "--add-host",
        "database:127.0.0.1",
        "--add-host",
        "object-store:127.0.0.1",
        "--entrypoint",
        json.dumps(inputs["entrypoints"]),
        "--memory",
        f"{int(inputs['memory'])}m",
        "--cpus",
        inputs["cpus"],
        "--health-cmd",
        health_command(check["tests"]),
        "--health-interval",
        check["interval"],
        "--health-timeout",
        check["timeout"],
        "--health-retries",
        str(int(check["retries"])),
        "--health-start-period",
        check["startPeriod"],
        "--stop-timeout",
        str(int(inputs["stopTimeout"])),
    ]
    for label in inputs["labels"]:
        args += ["--label", f"{label['label']}={label['value']}"]
    for key in sorted(env):
        args += ["--env", f"{key}={env[key]}"]
    return [*args, image]


def copy_in(name: str, tar: bytes) -> None:
    subprocess.run(
        ["podman", "cp", "--archive=false", "-", f"{name}:/"],
        input=tar,
        capture_output=True,
        timeout=60,
        check=True,
    )


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"mlflow-local-e2e-{uuid.uuid4().hex[:8]}"
    try:
        yield name
    finally:
        podman("rm", "--force", "--time", "5", name, check=False, timeout=60)


def request(
    url: str, method: str = "GET", body: bytes | None = None, auth: tuple[str, str] | None = None
) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_healthy(name: str, timeout: float = 300) -> float:
    """Run the container's own health check until it passes; seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        state = podman("inspect", "--format", "{{.State.Status}}", name).stdout.strip()
        if state not in ("running", "created", "configured"):
            logs = podman("logs", name, check=False).stderr[-3000:]
            raise AssertionError(f"container {state} before healthy:\n{logs}")
        if podman("healthcheck", "run", name, check=False, timeout=30).returncode == 0:
            return time.monotonic() - start
        time.sleep(2)
    logs = podman("logs", name, check=False).stderr[-3000:]
    raise AssertionError(f"not healthy after {timeout}s:\n{logs}")


def test_server_container_as_the_stack_specifies_it_is_healthy_on_real_services(
    image: str, container_name: str
) -> None:
    server = stack_server_container()
    uploads = server.inputs["uploads"]
    files = {u["file"].rsplit("/", 1)[1]: u for u in uploads}
    assert set(files) == {
        "AUTH_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
        "MLFLOW_FLASK_SERVER_SECRET_KEY",
    }
    env = dict(item.split("=", 1) for item in server.inputs["envs"])
    with services.postgres() as pg, services.moto_s3() as s3:
        pg.create_database(env["DB_NAME"], env["DB_USER"], files["DB_PASSWORD"]["content"])
        port = services.free_port()
        s3_port = s3.endpoint.rsplit(":", 1)[1]
        overrides = {
            "PORT": str(port),
            "DB_PORT": str(pg.port),
            "MLFLOW_S3_ENDPOINT_URL": f"http://object-store:{s3_port}",
        }
        podman(*create(container_name, image, server, overrides))
        copy_in(container_name, secrets_tar(uploads))
        podman("start", container_name)
        seconds = wait_healthy(container_name)
        print(f"\nserver container healthy after {seconds:.1f}s")

        # The files arrived as the stack uploads them, and the image's user read them.
        listing = podman(
            "exec", container_name, "sh", "-c", "id -u; id -g; stat -c '%n %u:%g %a' /run/secrets/*"
        ).stdout.split("\n")
        assert listing[:2] == ["10001", "10001"]
        for name in files:
            assert f"/run/secrets/{name} 10001:10001 440" in listing
        # No secret in the container's configuration.
        inspected = podman("inspect", container_name).stdout
        for upload in uploads:
            assert upload["content"] not in inspected, upload["file"]

        base = f"http://127.0.0.1:{port}"
        assert request(f"{base}/health")[0] == 200
        admin = (env["AUTH_USERNAME"], files["AUTH_PASSWORD"]["content"])
        body = json.dumps({"name": "e2e-local"}).encode()
        denied, _ = request(f"{base}/api/2.0/mlflow/experiments/create", "POST", body)
        assert denied == 401
        status, created = request(
            f"{base}/api/2.0/mlflow/experiments/create", "POST", body, auth=admin
        )
        assert status == 200, created
        experiment = json.loads(created)["experiment_id"]
        # Proxied artifacts: through the server into the bucket it created in moto.
        path = f"{base}/api/2.0/mlflow-artifacts/artifacts/{experiment}/hello.txt"
        assert request(path, "PUT", b"hello from the container", auth=admin)[0] == 200
        assert request(path, auth=admin) == (200, b"hello from the container")
        # The tracking data is in the host's PostgreSQL.
        rows = pg.query(env["DB_NAME"], "SELECT name FROM experiments ORDER BY experiment_id")
        assert ("e2e-local",) in rows


@pytest.mark.parametrize(
    ("owner", "mode", "expected"),
    [
        # What a provider that applied neither owner nor group would leave.
        (
            (0, 0),
            "0400",
            "mlflow-server secrets: /run/secrets/AUTH_PASSWORD is not readable by uid 10001 "
            "gid 10001: -r-------- 1 0 0 ",
        ),
        # No files at all.
        (None, "", "mlflow-server secrets: /run/secrets/AUTH_PASSWORD is missing"),
    ],
    ids=["root-owned-0400", "missing"],
)
def test_server_container_stops_at_once_naming_the_secret_file(
    image: str, container_name: str, owner: tuple[int, int] | None, mode: str, expected: str
) -> None:
    server = stack_server_container()
    podman(*create(container_name, image, server, {}))
    if owner is not None:
        uploads = [
            {**u, "owner": str(owner[0]), "group": str(owner[1]), "permissions": mode}
            for u in server.inputs["uploads"]
        ]
        copy_in(container_name, secrets_tar(uploads))
    started = time.monotonic()
    done = podman("start", "--attach", container_name, check=False, timeout=120)
    assert time.monotonic() - started < 60
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", container_name).stdout
    assert exit_code.strip() == "2"
    output = done.stdout + done.stderr
    assert expected in output
    assert "DB_PASSWORD is not set" not in output  # the old, misleading failure
