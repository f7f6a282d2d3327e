"""The package's public surface, read from the source (no SDK imported): every component
and its Args of every cloud is exported from the cloud's sub-package with `__all__`, every
Args field and every output carries a docstring, and the pure modules load no cloud SDK."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

import mlflow_iac
from tests.harness import ROOT

PACKAGE = ROOT / "mlflow_iac"
CLOUDS = ("aws", "gcp", "azure", "local")
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")


def _classes(cloud: str) -> dict[str, ast.ClassDef]:
    """Component and Args classes of a cloud's modules, by name."""
    found: dict[str, ast.ClassDef] = {}
    for module in sorted((PACKAGE / cloud).glob("[!_]*.py")):
        for node in ast.parse(module.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base) in ("pulumi.ComponentResource", "TypedDict")
                for base in node.bases
            ):
                found[node.name] = node
    return found


def _exported(cloud: str) -> list[str]:
    for node in ast.parse((PACKAGE / cloud / "__init__.py").read_text()).body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "__all__":
            return list(ast.literal_eval(node.value))
    raise AssertionError(f"mlflow_iac/{cloud}/__init__.py has no __all__")


def _undocumented(cls: ast.ClassDef) -> list[str]:
    """Annotated attributes of `cls` not followed by a docstring."""
    body = cls.body
    return [
        ast.unparse(node.target)
        for node, after in zip(body, [*body[1:], None], strict=True)
        if isinstance(node, ast.AnnAssign)
        and not (
            isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        )
    ]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_component_and_its_args_is_exported(cloud: str) -> None:
    classes = _classes(cloud)
    components = [n for n, c in classes.items() if "TypedDict" not in map(ast.unparse, c.bases)]
    assert "MlflowServer" in components and "Service" in components
    assert sorted(_exported(cloud)) == sorted(classes)
    for component in components:
        assert f"{component}Args" in classes, f"{cloud}.{component} has no {component}Args"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_every_args_field_and_output_is_documented(cloud: str) -> None:
    for name, cls in _classes(cloud).items():
        assert ast.get_docstring(cls), f"mlflow_iac.{cloud}.{name}: no docstring"
        assert _undocumented(cls) == [], f"mlflow_iac.{cloud}.{name}: fields without docstring"


def test_version_has_one_source() -> None:
    """pyproject.toml reads the version from `mlflow_iac.__version__` (hatch), so the
    installed distribution's metadata is that same string."""
    from importlib.metadata import version  # noqa: PLC0415  # only this test needs it

    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert '[tool.hatch.version]\npath = "mlflow_iac/__init__.py"' in pyproject
    assert version("mlflow-iac") == mlflow_iac.__version__
    assert (PACKAGE / "py.typed").is_file()


def test_the_shared_modules_and_the_local_components_load_no_cloud_sdk() -> None:
    code = (
        "import sys, mlflow_iac, mlflow_iac.environment, mlflow_iac.vocabulary, "
        "mlflow_iac.image, mlflow_iac.local; "
        "[getattr(mlflow_iac.local, n) for n in mlflow_iac.local.__all__]; "
        f"print(sorted(m for m in sys.modules if m.startswith({CLOUD_SDKS!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
