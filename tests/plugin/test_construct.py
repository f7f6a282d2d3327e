"""`Construct` of `MlflowServer` through its component package, as a TypeScript or YAML
program would have the engine do it: the provider host runs as a subprocess, calls back a
fake engine (`engine.FakeEngine`, 127.0.0.1) to register the children and run the data-source
invokes, and returns the component's URN and outputs.

The same Args are then built in-process under the project's mocks (`harness.run_program`),
and the two runs must register the same resources (type and parent type, with counts) and
return the same output values and the same secret outputs: the hosted component is the
Python component, not a second implementation."""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

import grpc
import pulumi
import pytest
from google.protobuf import struct_pb2
from pulumi.runtime.proto import errors_pb2, provider_pb2, status_pb2

from mlflow_iac import plugin
from tests import harness
from tests.plugin import engine
from tests.plugin.test_schema import camel

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"
PASSWORD = "Hosted-admin-pw-0123"
CONSTRUCT_TIMEOUT = 120.0
"""Seconds one Construct may take (a few here)."""

SCENARIOS: list[tuple[str, dict[str, Any]]] = [
    (
        "aws",
        {
            "scenario": "proxied",
            "image_context": str(harness.ROOT / "docker"),
            "admin_password": PASSWORD,
            "deletion_protection": False,
            "tags": {"team": "ml"},
        },
    ),
    (
        "aws",
        {
            "scenario": "direct",
            "image": "public.ecr.aws/example/mlflow:1",
            "client_access_key": True,
            "db_engine": "mysql",
            "db_size": "medium",
            "allowed_hosts": ["mlflow.example.com"],
        },
    ),
    ("gcp", {"scenario": "proxied", "image": "europe-docker.pkg.dev/p/r/mlflow:1"}),
    ("azure", {"scenario": "direct", "location": "westeurope", "image": "example.azurecr.io/m:1"}),
    ("local", {"scenario": "proxied", "auth_enabled": True, "admin_password": PASSWORD}),
    ("local", {"scenario": "direct", "db_engine": "mysql"}),
]


def wire_inputs(args: dict[str, Any]) -> struct_pb2.Struct:
    """Args as the engine sends them: schema (camelCase) names, the password secret."""
    wire: dict[str, Any] = {}
    for key, value in args.items():
        secret = key == "admin_password"
        wire[camel(key)] = {SECRET_SIG: SECRET_VALUE, "value": value} if secret else value
    struct = struct_pb2.Struct()
    struct.update(wire)
    return struct


def graph(mocks: harness.RecordingMocks) -> Counter[tuple[str, str]]:
    """(type, parent's type) of every registered resource, with counts."""
    types = {r.urn: r.type for r in mocks.resources}
    return Counter(
        (r.type, types.get(r.parent or "", "pulumi:pulumi:Stack")) for r in mocks.resources
    )


def unwrap(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict) and value.get(SECRET_SIG) == SECRET_VALUE:
        return value["value"], True
    return value, False


def hosted(
    cloud: str, args: dict[str, Any], fake: engine.FakeEngine | None = None
) -> tuple[engine.FakeEngine, Any]:
    """Construct `MlflowServer` of `cloud` through its provider host."""
    fake = fake or engine.FakeEngine(harness.RecordingMocks())
    with engine.serve(fake) as address, engine.start_host(cloud, address) as host:
        stub = host.stub()
        stub.Configure(
            provider_pb2.ConfigureRequest(acceptSecrets=True, acceptResources=True), timeout=30
        )
        response = stub.Construct(
            provider_pb2.ConstructRequest(
                project=harness.PROJECT,
                stack=harness.STACK,
                organization="organization",
                dryRun=False,
                monitorEndpoint=address,
                type=f"mlflow-{cloud}:index:MlflowServer",
                name="srv",
                parent=fake.stack_urn,
                inputs=wire_inputs(args),
            ),
            timeout=CONSTRUCT_TIMEOUT,
        )
    return fake, response


def reference(cloud: str, args: dict[str, Any]) -> tuple[harness.ProgramResult, dict, set]:
    """The same Args in-process under mocks: what was registered, output values, secrets."""
    (component,) = plugin.components(cloud)
    # The class's own (name, args, opts) signature; the list is typed as ComponentResource's.
    make: Any = component
    servers: list[Any] = []

    def program() -> None:
        given = dict(args)
        if "admin_password" in given:
            given["admin_password"] = pulumi.Output.secret(given["admin_password"])
        servers.append(make("srv", given))

    result = harness.run_program(program)
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for key in inspect.get_annotations(component):
        out = pulumi.Output.from_input(getattr(servers[0], key))
        values[camel(key)] = harness.run_async(harness.resolve(out))
        if harness.run_async(out.is_secret()):
            secrets.add(camel(key))
    return result, values, secrets


@pytest.mark.parametrize(
    ("cloud", "args"), SCENARIOS, ids=[f"{c}-{a['scenario']}" for c, a in SCENARIOS]
)
def test_construct_registers_what_the_python_component_does(
    cloud: str, args: dict, cloud_mocks: Callable[[str], None]
) -> None:
    cloud_mocks(cloud)
    assert_hosted_matches_python(cloud, args)


def assert_hosted_matches_python(cloud: str, args: dict[str, Any]) -> None:
    """Construct through the host and in-process; the two must agree (see module doc)."""
    fake, response = hosted(cloud, args)
    expected, values, secrets = reference(cloud, args)

    token = f"mlflow-{cloud}:index:MlflowServer"
    (server,) = [r for r in fake.registered if r.type == token]
    assert response.urn == fake.mocks.one(token).urn
    # Children of the component, nothing else: the hosted run registers the Python graph.
    assert graph(fake.mocks) == graph(expected.mocks)
    assert sum(graph(fake.mocks).values()) > 10
    assert all(r.parent for r in fake.registered if r is not server)

    state = {k: unwrap(v) for k, v in engine.to_dict(response.state).items()}
    # An output that resolves to None is absent from the state, as the engine stores it.
    known = {k: v for k, v in values.items() if v is not None}
    assert {k: v for k, (v, _) in state.items()} == known
    assert {k for k, (_, secret) in state.items() if secret} == secrets
    if args.get("auth_enabled", cloud != "local"):
        assert "adminPassword" in secrets
    # The component registered its outputs, under their Python names.
    assert {camel(k) for k in fake.outputs[response.urn]} == set(known)


@pytest.mark.parametrize(
    ("cloud", "args", "message"),
    [
        ("aws", {"scenario": "bogus", "image": "i"}, "scenario: 'bogus' is not one of"),
        ("azure", {"image": "i"}, "Missing required input 'location'"),
    ],
)
def test_bad_input_is_refused_before_any_child(
    cloud: str, args: dict, message: str, cloud_mocks: Callable[[str], None]
) -> None:
    """The caller gets the component's (or the schema's) one-line error; nothing exists."""
    cloud_mocks(cloud)
    fake = engine.FakeEngine(harness.RecordingMocks())
    with pytest.raises(grpc.RpcError) as caught:
        hosted(cloud, args, fake)
    assert message in error_text(caught.value)
    assert fake.registered == []


def error_text(error: grpc.RpcError) -> str:
    """What the engine shows of a failed Construct: the details, and the property errors the
    host packs into the trailing metadata (google.rpc.Status with InputPropertiesError)."""
    call: Any = error  # an RpcError raised by a stub is also a grpc.Call
    texts = [call.details() or ""]
    for key, value in call.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                errors = errors_pb2.InputPropertiesError()
                if detail.Unpack(errors):
                    texts += [f"{e.property_path}: {e.reason}" for e in errors.errors]
    return "\n".join(texts)
