"""examples/yaml-aws: a Pulumi YAML program using the mlflow-aws component package, held to
the schema its provider host returns (resource type, property names and types, required
inputs, the secret config feeding a non-plain input, the outputs it reads), then its
resource constructed through the host against the fake engine with the example's values."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlflow_iac import plugin
from tests import harness
from tests.plugin.test_construct import assert_hosted_matches_python
from tests.plugin.test_schema import get_schema

EXAMPLE = harness.ROOT / "examples" / "yaml-aws"
CONFIG_VALUES = {"image": "public.ecr.aws/example/mlflow:1", "adminPassword": "Yaml-admin-pw-0123"}
"""What `pulumi config set` would give the example's config in the test."""
JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
REFERENCE = re.compile(r"^\$\{([A-Za-z][\w-]*)(?:\.([A-Za-z]\w*))?\}$")


@pytest.fixture(scope="module")
def program() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLE / "Pulumi.yaml").read_text())


@pytest.fixture(scope="module")
def schemas(program: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Package name -> the schema of the plugin the example's `packages:` points at."""
    found: dict[str, dict[str, Any]] = {}
    for package, path in program["packages"].items():
        directory = (EXAMPLE / path).resolve()
        manifest = yaml.safe_load((directory / "PulumiPlugin.yaml").read_text())
        assert manifest["runtime"] == "python"
        (cloud,) = [c for c in plugin.CLOUDS if plugin.package_name(c) == package]
        assert directory == Path(harness.ROOT / "provider" / package).resolve()
        found[package] = get_schema(cloud)
        assert found[package]["name"] == package
    return found


def check_value(value: Any, prop: dict[str, Any], config: dict[str, Any], where: str) -> None:
    """A literal matches the schema type; a `${config}` reference has a matching type."""
    if isinstance(value, str) and (ref := REFERENCE.match(value)):
        declared = config[ref.group(1)]
        assert declared["type"] == prop["type"], where
        if declared.get("secret"):
            # A secret must reach the component as an Output to stay secret.
            assert not prop.get("plain"), f"{where}: secret config into a plain input"
        return
    if prop["type"] == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            check_value(item, prop["items"], config, f"{where}[{i}]")
    elif prop["type"] == "object":
        assert isinstance(value, dict), where
        for key, item in value.items():
            check_value(item, prop["additionalProperties"], config, f"{where}.{key}")
    else:
        assert isinstance(value, JSON_TYPES[prop["type"]]), where
        assert not isinstance(value, bool) or prop["type"] == "boolean", where


def test_resources_match_the_schema(program: dict[str, Any], schemas: dict) -> None:
    assert program["runtime"] == "yaml"
    resources = program["resources"]
    assert resources
    for name, resource in resources.items():
        package = resource["type"].split(":")[0]
        spec = schemas[package]["resources"][resource["type"]]
        given = resource.get("properties", {})
        assert set(given) <= set(spec["inputProperties"]), name
        assert set(spec.get("requiredInputs", [])) <= set(given), name
        for key, value in given.items():
            check_value(value, spec["inputProperties"][key], program["config"], f"{name}.{key}")


def test_outputs_read_existing_properties(program: dict[str, Any], schemas: dict) -> None:
    resources = program["resources"]
    for output, expression in program["outputs"].items():
        ref = REFERENCE.match(expression)
        assert ref and ref.group(2), output
        resource = resources[ref.group(1)]
        spec = schemas[resource["type"].split(":")[0]]["resources"][resource["type"]]
        assert ref.group(2) in spec["properties"], output


def test_the_example_constructs(
    program: dict[str, Any], cloud_mocks: Callable[[str], None]
) -> None:
    cloud_mocks("aws")
    (resource,) = program["resources"].values()
    args: dict[str, Any] = {}
    for key, value in resource["properties"].items():
        ref = REFERENCE.match(value) if isinstance(value, str) else None
        snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), key)
        args[snake] = CONFIG_VALUES[ref.group(1)] if ref else value
    assert_hosted_matches_python("aws", args)
