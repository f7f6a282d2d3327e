"""The mlflow-server image built and run with podman: what every stack deploys, proven as
an image rather than as the entrypoint on the host.

podman stands in for the Docker engine (none runs here); its settings for this kernel
(runtime runc, no default ulimits, no pids limit) are written by tests/install_services.sh.
No registry is reachable, so the official base is replaced by a stand-in made from Debian
packages under the same name (tests/container/make_base.sh); docker/Dockerfile is built
unchanged. Containers use the host network and bind to 127.0.0.1, so the services the
tests start on host loopback are reachable as they are from the entrypoint tests.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parents[2]
BASE_IMAGE = "localhost/python:3.11-slim-bookworm"
IMAGE = "localhost/mlflow-server:test"
MAKE_BASE = Path(__file__).with_name("make_base.sh")


def podman(*args: str, timeout: float = 120, check: bool = True, stdin: str | None = None) -> str:
    """Run `podman ARGS` and return its stdout; raise with stderr on failure."""
    result = subprocess.run(
        ["podman", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(
            f"podman {' '.join(args[:3])} ... exited {result.returncode}:\n{result.stderr[-4000:]}"
        )
    return result.stdout


def require_podman() -> None:
    """podman and runc present, or the test is unavailable (a failure in CI)."""
    for tool in ("podman", "runc"):
        if shutil.which(tool) is None:
            services.unavailable(f"{tool} not installed (scripts/setup installs it)")


@dataclass(frozen=True)
class BuiltImage:
    """The image the tests run, and what its build cost."""

    ref: str
    size_bytes: int
    build_seconds: float


def build_image() -> BuiltImage:
    """Build docker/Dockerfile (podman's layer cache makes an unchanged rebuild take
    seconds). `--format docker` keeps the HEALTHCHECK, which the OCI format drops."""
    require_podman()
    if not _image_exists(BASE_IMAGE):
        subprocess.run(["bash", str(MAKE_BASE)], check=True, timeout=600)
    started = time.monotonic()
    podman(
        "build",
        "--format",
        "docker",
        "--network",
        "host",
        "--pull=never",
        "--tag",
        IMAGE,
        str(ROOT / "docker"),
        timeout=900,
    )
    seconds = time.monotonic() - started
    size = json.loads(podman("image", "inspect", IMAGE))[0]["Size"]
    return BuiltImage(IMAGE, int(size), seconds)


def _image_exists(ref: str) -> bool:
    return (
        subprocess.run(
            ["podman", "image", "exists", ref], capture_output=True, check=False
        ).returncode
        == 0
    )


@dataclass
class Container:
    """One container of the image on the host network, serving on 127.0.0.1:`port`."""

    image: str
    env: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Variable -> value, injected as podman secrets (type=env), as platforms inject them."""
    volumes: Sequence[str] = ()
    """`-v` values, e.g. `NAME:/data`."""
    options: Sequence[str] = ()
    """Further `podman run` options, e.g. `--read-only`."""
    args: Sequence[str] = ()
    """Arguments to the image's ENTRYPOINT."""
    port: int = field(default_factory=services.free_port)
    name: str = field(default_factory=lambda: f"mlflow-test-{uuid.uuid4().hex[:10]}")
    started_at: float = 0.0
    healthy_after: float = 0.0
    _secret_ids: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The tracking URI clients use."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Container:
        """Create the secrets and start the container detached (returns at once)."""
        secret_flags: list[str] = []
        for variable, value in self.secrets.items():
            secret = f"{self.name}-{variable.lower()}"
            podman("secret", "create", secret, "-", stdin=value)
            self._secret_ids.append(secret)
            secret_flags += ["--secret", f"{secret},type=env,target={variable}"]
        env_flags: list[str] = []
        for key, value in {"HOST": "127.0.0.1", "PORT": str(self.port), **self.env}.items():
            env_flags += ["--env", f"{key}={value}"]
        volume_flags = [flag for volume in self.volumes for flag in ("--volume", volume)]
        self.started_at = time.monotonic()
        podman(
            "run",
            "--detach",
            "--name",
            self.name,
            "--network",
            "host",
            *env_flags,
            *secret_flags,
            *volume_flags,
            *self.options,
            self.image,
            *self.args,
        )
        return self

    def wait_healthy(self, timeout: float = 120) -> Container:
        """Wait (bounded) for GET /health 200; raise with the logs if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state()["Status"] == "exited":
                raise RuntimeError(f"container exited {self.state()['ExitCode']}:\n{self.logs()}")
            if services.http_status(f"{self.url}/health", timeout=2) == 200:
                self.healthy_after = time.monotonic() - self.started_at
                return self
            time.sleep(0.25)
        raise TimeoutError(f"container not healthy after {timeout}s:\n{self.logs()}")

    def state(self) -> dict:
        """`podman inspect`'s State of the container."""
        return json.loads(podman("container", "inspect", self.name))[0]["State"]

    def logs(self) -> str:
        """The container's output (last 6000 characters)."""
        result = subprocess.run(
            ["podman", "logs", self.name], capture_output=True, text=True, timeout=30, check=False
        )
        return (result.stdout + result.stderr)[-6000:]

    def exec(self, *command: str) -> str:
        """Run a command inside the running container; its stdout."""
        return podman("exec", self.name, *command)

    def stop(self, grace: int = 10) -> float:
        """`podman stop` (SIGTERM, SIGKILL after `grace` s); the seconds it took."""
        started = time.monotonic()
        podman("stop", "--time", str(grace), self.name, timeout=grace + 30)
        return time.monotonic() - started

    def remove(self) -> None:
        """Remove the container and its secrets, whatever state they are in."""
        podman("rm", "--force", "--time", "0", self.name, check=False)
        for secret in self._secret_ids:
            podman("secret", "rm", secret, check=False)
        self._secret_ids.clear()

    def __enter__(self) -> Container:
        """Start and wait for health."""
        try:
            return self.start().wait_healthy()
        except BaseException:
            self.remove()
            raise

    def __exit__(self, *exc: object) -> None:
        """Remove the container."""
        self.remove()


@contextlib.contextmanager
def volume() -> Iterator[str]:
    """A named podman volume, removed afterwards."""
    name = f"mlflow-test-{uuid.uuid4().hex[:10]}"
    podman("volume", "create", name)
    try:
        yield name
    finally:
        podman("volume", "rm", "--force", name, check=False)
