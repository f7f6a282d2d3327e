"""`GetSchema` of each component package, asked of the provider host over gRPC as the engine
asks it, checked against the Python types it is derived from: every `MlflowServerArgs` field
is an input with its type, its docstring and its required/optional split; every output
annotation of `MlflowServer` is an output with its docstring; the admin password is the one
input that takes an Output (so a secret reaches the component as a secret).

The expected schema is computed here from the TypedDict and class annotations (typing) and
their docstrings (read from the source with ast), not from a list that could drift."""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime.proto import provider_pb2

import mlflow_iac
from mlflow_iac import plugin
from tests.plugin import engine

SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings of a class: the string literal right after each annotation."""
    tree = ast.parse(inspect.getsource(cls))
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef)).body
    found: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            found[node.target.id] = after.value.value
    return found


def strip(annotation: Any) -> tuple[Any, bool]:
    """(the value type, whether None is allowed) of an annotation, through Output/Input."""
    optional = False
    while True:
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin in (pulumi.Output, typing.Required, typing.NotRequired):
            annotation = args[0]
        elif origin is typing.Union or (origin is not None and type(None) in args):
            rest = [a for a in args if a is not type(None)]
            optional = optional or len(rest) < len(args)
            # pulumi.Input[T] is Union[T, Awaitable[T], Output[T]]: its plain member is T.
            plain = rest if len(rest) == 1 else [a for a in rest if _plain(a)]
            assert len(plain) == 1, f"a union the schema cannot hold: {annotation}"
            annotation = plain[0]
        else:
            return annotation, optional


def _plain(member: Any) -> bool:
    return typing.get_origin(member) is not pulumi.Output and not any(
        word in str(member) for word in ("Awaitable", "Output")
    )


def expected_type(annotation: Any) -> dict[str, Any]:
    """The schema type of a Python annotation: scalar, array or string-keyed map."""
    value, _ = strip(annotation)
    if value in SCALARS:
        return {"type": SCALARS[value]}
    origin, args = typing.get_origin(value), typing.get_args(value)
    if origin in (list, Sequence):
        return {"type": "array", "items": expected_type(args[0])}
    if origin in (dict, Mapping):
        assert args[0] is str, f"map keys must be strings: {value}"
        return {"type": "object", "additionalProperties": expected_type(args[1])}
    raise AssertionError(f"no schema type for {annotation}")


def shape(prop: dict[str, Any]) -> dict[str, Any]:
    """The type part of a schema property (no descriptions, no plain markers)."""
    kept: dict[str, Any] = {"type": prop["type"]}
    if "items" in prop:
        kept["items"] = shape(prop["items"])
    if "additionalProperties" in prop:
        kept["additionalProperties"] = shape(prop["additionalProperties"])
    return kept


def get_schema(cloud: str) -> dict[str, Any]:
    """The schema the running host of `cloud` returns to `GetSchema`."""
    with engine.start_host(cloud, "127.0.0.1:1") as host:
        stub = host.stub()
        stub.Configure(
            provider_pb2.ConfigureRequest(acceptSecrets=True, acceptResources=True), timeout=30
        )
        reply = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0), timeout=30)
    return json.loads(reply.schema)


@pytest.fixture(scope="module", params=plugin.CLOUDS)
def hosted(request: pytest.FixtureRequest) -> tuple[str, type, dict[str, Any]]:
    cloud = request.param
    (component,) = plugin.components(cloud)
    return cloud, component, get_schema(cloud)


def test_package(hosted: tuple[str, type, dict[str, Any]]) -> None:
    cloud, component, schema = hosted
    manifest = yaml.safe_load((Path(engine.plugin_dir(cloud)) / "PulumiPlugin.yaml").read_text())
    assert manifest == {"runtime": "python"}
    assert schema["name"] == f"mlflow-{cloud}"
    assert schema["namespace"] == plugin.NAMESPACE
    assert schema["version"] == mlflow_iac.__version__
    # The token is the one the Python class registers (see test_construct).
    assert list(schema["resources"]) == [f"mlflow-{cloud}:index:{component.__name__}"]
    resource = schema["resources"][f"mlflow-{cloud}:index:MlflowServer"]
    assert resource["isComponent"] is True
    assert resource["description"] == (component.__doc__ or "").strip()


def test_inputs_match_the_args_typeddict(hosted: tuple[str, type, dict[str, Any]]) -> None:
    cloud, component, schema = hosted
    resource = schema["resources"][f"mlflow-{cloud}:index:MlflowServer"]
    # inspect, not typing.get_type_hints: pulumi.Input holds a ForwardRef("Output[T]") that
    # only the SDK's own namespace resolves.
    args = inspect.get_annotations(component.__init__)["args"]
    hints = inspect.get_annotations(args)
    docs = docstrings(args)
    inputs = resource["inputProperties"]

    assert set(inputs) == {camel(k) for k in hints}
    for key, annotation in hints.items():
        prop = inputs[camel(key)]
        assert shape(prop) == expected_type(annotation), key
        assert prop["description"] == docs[key], key
    assert sorted(resource.get("requiredInputs", [])) == sorted(
        camel(k) for k in args.__required_keys__
    )
    # Plain (known at construction) everywhere but the admin password: every other field
    # decides which or how many resources exist. The password takes an Output, so a secret
    # (`fn::secret`, a secret config value) arrives at the component still secret.
    assert {k for k, p in inputs.items() if not p.get("plain")} == {"adminPassword"}


def test_outputs_match_the_component_annotations(hosted: tuple[str, type, dict[str, Any]]) -> None:
    cloud, component, schema = hosted
    resource = schema["resources"][f"mlflow-{cloud}:index:MlflowServer"]
    hints = {k: v for k, v in inspect.get_annotations(component).items() if not k.startswith("_")}
    docs = docstrings(component)
    outputs = resource["properties"]

    assert hints, "MlflowServer declares its outputs as class annotations"
    assert set(outputs) == {camel(k) for k in hints}
    for key, annotation in hints.items():
        prop = outputs[camel(key)]
        assert shape(prop) == expected_type(annotation), key
        assert prop["description"] == docs[key], key
    assert sorted(resource["required"]) == sorted(
        camel(k) for k, annotation in hints.items() if not strip(annotation)[1]
    )
    assert "adminPassword" in outputs and "adminPassword" not in resource["required"]
