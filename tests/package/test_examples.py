"""The installable package, as another Pulumi program gets it: the wheel built from this
checkout, installed into a fresh virtualenv outside the repository with only the extras an
example's requirements.txt names, runs each program of `examples/` under Pulumi's mocks.

No network: the wheel is built with the venv's own build backend (no build isolation) and
the dependencies are installed from uv.lock's export through the uv cache `scripts/setup`
filled (`--offline`). The repository is never on the fresh venv's `sys.path`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

import mlflow_iac
from mlflow_iac.image import context_digest
from tests.harness import ROOT

EXAMPLES = ROOT / "examples"
IMAGE_FILES = ("Dockerfile", "requirements.txt", "mlflow_image/entrypoint.py")
OTHER_CLOUDS = ("pulumi_gcp", "pulumi_azure_native")


def _uv(*args: str, cwd: Path = ROOT) -> str:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ["HOME"]}
    env |= {k: v for k, v in os.environ.items() if k.startswith("UV_CACHE")}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("uv")), *args],
        cwd=cwd,
        env={**env, "UV_OFFLINE": "1", "UV_PYTHON_DOWNLOADS": "never"},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, f"uv {' '.join(args)}:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel of this checkout, built offline by the pinned hatchling in .venv."""
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--wheel", "--no-build-isolation", "--python", sys.executable, "-o", str(out))
    (built,) = out.glob("mlflow_iac-*.whl")
    return built


def _requirement(example: Path) -> Requirement:
    lines = (example / "requirements.txt").read_text().splitlines()
    (line,) = [line for line in lines if line.strip() and not line.startswith("#")]
    return Requirement(line)


def _fresh_venv(where: Path, wheel: Path, extras: set[str]) -> Path:
    """A virtualenv at `where` with the wheel and the locked dependencies of `extras`."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    assert "include-system-site-packages = false" in (where / "pyvenv.cfg").read_text()
    python = str(where / "bin" / "python")
    lock = where / "pylock.toml"
    extra_args = [arg for extra in sorted(extras) for arg in ("--extra", extra)]
    _uv(
        "export",
        "--frozen",
        "--format",
        "pylock.toml",
        "--no-default-groups",
        "--no-emit-project",
        *extra_args,
        "-o",
        str(lock),
    )
    _uv("pip", "install", "--python", python, "-r", str(lock))
    _uv("pip", "install", "--python", python, "--no-deps", str(wheel))
    _uv("pip", "check", "--python", python)  # the wheel's own requirements are all met
    return where


def _run_example(
    venv: Path, example: Path, config: dict[str, Any], secrets: tuple[str, ...], work: Path
) -> dict[str, Any]:
    """Run `example` under mocks with the fresh venv's python; what the driver reported."""
    driver = work / "driver"
    # The harness and the AWS mock tables with the modules beside them (copies: the
    # repository itself stays off the fresh venv's sys.path).
    (driver / "tests" / "aws").mkdir(parents=True)
    for source in [*(ROOT / "tests").glob("*.py"), *(ROOT / "tests" / "aws").glob("*.py")]:
        shutil.copy(source, driver / source.relative_to(ROOT))
    shutil.copy(Path(__file__).with_name("driver.py"), driver / "driver.py")
    result = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-I",
            str(driver / "driver.py"),
            str(example),
            json.dumps(config),
            json.dumps(list(secrets)),
        ],
        cwd=work,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ["HOME"]},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.splitlines()[-1])


def _types(report: dict[str, Any]) -> set[str]:
    return {r["type"] for r in report["resources"]}


def _one(report: dict[str, Any], type_token: str) -> dict[str, Any]:
    (found,) = [r for r in report["resources"] if r["type"] == type_token]
    return found["inputs"]


def test_the_wheel_carries_the_package_its_types_and_the_image_context(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "mlflow_iac/py.typed" in names
    for cloud in ("aws", "gcp", "azure", "local"):
        assert f"mlflow_iac/{cloud}/__init__.py" in names
    for name in IMAGE_FILES:
        assert f"mlflow_iac/_image/{name}" in names
    packaged = {n.removeprefix("mlflow_iac/_image/") for n in names if "/_image/" in n}
    in_checkout = {
        str(p.relative_to(ROOT / "docker"))
        for p in (ROOT / "docker").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert packaged == in_checkout  # the whole context, nothing more
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.split("/")[0] in ("stacks", "tests", "docker", "policy")]
    metadata = (
        zipfile.ZipFile(wheel)
        .read(f"{wheel.name.split('-')[0]}-{mlflow_iac.__version__}.dist-info/METADATA")
        .decode()
    )
    assert f"Version: {mlflow_iac.__version__}\n" in metadata
    for extra in ("aws", "gcp", "azure", "local", "all"):
        assert f"Provides-Extra: {extra}\n" in metadata
    # The core needs no cloud SDK: each arrives only with its extra.
    assert "Requires-Dist: pulumi-aws<8,>=7; extra == 'aws'" in metadata
    assert not [
        line
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: pulumi-")
        and "extra ==" not in line
        and line.split()[1].split("<")[0].split(">")[0]
        in ("pulumi-aws", "pulumi-gcp", "pulumi-azure-native")
    ]


def test_the_build_backend_pin_is_the_dev_groups_pin() -> None:
    """The wheel above is built by .venv's hatchling: the one [build-system] names."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (backend,) = project["build-system"]["requires"]
    assert backend.startswith("hatchling==")
    assert backend in project["dependency-groups"]["dev"]


EXAMPLE_CASES = {
    "aws-existing-vpc": (
        {
            "vpcId": "vpc-0123456789abcdef0",
            "publicSubnetIds": ["subnet-0aaa0000000000001", "subnet-0aaa0000000000002"],
            "privateSubnetIds": ["subnet-0bbb0000000000001", "subnet-0bbb0000000000002"],
        },
        (),
    ),
    "aws-own-database": ({"adminPassword": "a-Long-admin-Pass-1"}, ("adminPassword",)),
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_example_runs_from_the_installed_wheel(name: str, wheel: Path, tmp_path: Path) -> None:
    example = EXAMPLES / name
    assert (example / "Pulumi.yaml").read_text().count("name: python") == 1
    requirement = _requirement(example)
    assert requirement.name == "mlflow-iac"
    assert requirement.specifier.contains(mlflow_iac.__version__)
    venv = _fresh_venv(tmp_path / "venv", wheel, set(requirement.extras))
    config, secrets = EXAMPLE_CASES[name]

    report = _run_example(venv, example, config, secrets, tmp_path)

    site = Path(report["mlflow_iac"]).parent.parent
    assert site.is_relative_to(tmp_path / "venv")
    assert site.name == "site-packages"
    assert report["version"] == mlflow_iac.__version__
    # Only the AWS SDK was loaded, and the others were not even installed.
    assert "pulumi_aws" in report["modules"]
    assert not [m for m in report["modules"] if m.startswith(OTHER_CLOUDS)]
    assert not [p for p in site.iterdir() if p.name.startswith(OTHER_CLOUDS)]
    # The image is built from the context inside the installed package, with the tag the
    # checkout's docker/ gives: same content, same image.
    assert report["default_context"] == str(site / "mlflow_iac" / "_image")
    image = _one(report, "docker-build:index:Image")
    assert image["context"]["location"] == report["default_context"]
    assert image["tags"][0].endswith(":" + context_digest(ROOT / "docker"))
    types = _types(report)
    assert {
        "aws:ecs/service:Service",
        "aws:rds/instance:Instance",
        "aws:s3/bucket:Bucket",
        "aws:lb/loadBalancer:LoadBalancer",
    } <= types
    assert "trackingUri" in report["outputs"]
    _EXPECT[name](report, types)


def _existing_vpc(report: dict[str, Any], types: set[str]) -> None:
    """MlflowServer in the given VPC: no VPC, subnet or gateway of its own."""
    assert "mlflow-aws:index:MlflowServer" in types
    assert not types & {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway"}
    groups = [
        r["inputs"]
        for r in report["resources"]
        if r["type"] == "aws:ec2/securityGroup:SecurityGroup"
    ]
    assert groups and {g["vpcId"] for g in groups} == {"vpc-0123456789abcdef0"}
    subnet_group = _one(report, "aws:rds/subnetGroup:SubnetGroup")
    assert subnet_group["subnetIds"] == ["subnet-0bbb0000000000001", "subnet-0bbb0000000000002"]
    assert "adminPassword" in report["secret_outputs"]


def _own_database(report: dict[str, Any], types: set[str]) -> None:
    """The lower-level components wired by the program itself, with its database policy."""
    assert "mlflow-aws:index:MlflowServer" not in types
    assert {
        "mlflow-aws:index:Network",
        "mlflow-aws:index:Database",
        "mlflow-aws:index:ArtifactBucket",
        "mlflow-aws:index:Identity",
        "mlflow-aws:index:Service",
    } <= types
    instance = _one(report, "aws:rds/instance:Instance")
    assert (
        instance["multiAz"],
        instance["allocatedStorage"],
        instance["backupRetentionPeriod"],
    ) == (True, 100, 30)
    assert "aws:ec2/vpc:Vpc" in types


_EXPECT = {"aws-existing-vpc": _existing_vpc, "aws-own-database": _own_database}


@pytest.mark.parametrize("name", sorted(EXAMPLE_CASES))
def test_example_declares_the_config_it_reads(name: str) -> None:
    """Every key the program reads is declared in its Pulumi.yaml (type, description),
    secret ones as secret, and the test above sets exactly those keys."""
    example = EXAMPLES / name
    project = yaml.safe_load((example / "Pulumi.yaml").read_text())
    assert project["runtime"]["name"] == "python"
    read = set(re.findall(r"\.require\w*\(\"(\w+)\"\)", (example / "__main__.py").read_text()))
    assert read == set(project["config"]) == set(EXAMPLE_CASES[name][0])
    for key, declared in project["config"].items():
        assert declared["type"] and declared["description"], key
        assert declared.get("secret", False) == (key in EXAMPLE_CASES[name][1]), key
