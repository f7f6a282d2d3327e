"""The Pulumi engine's side of a component package, in-process, for tests without the CLI.

- `start_host(cloud, engine_address)` starts a package's provider host as the engine does: a
  subprocess running the plugin directory (`python provider/mlflow-<cloud> <engine>`), whose
  first stdout line is the gRPC port it listens on.
- `FakeEngine` is the engine's two gRPC services the host calls back during `Construct`, on
  127.0.0.1: `ResourceMonitor` (RegisterResource, RegisterResourceOutputs, Invoke,
  SupportsFeature, ...) and `Engine` (Log, root resource). Registrations and invokes are
  answered by the project's own `harness.RecordingMocks` (the same `OUTPUTS`/`INVOKES` tables
  the Python tests use), so a hosted component and the same component under mocks see the
  same computed outputs and can be compared resource for resource.
"""

from __future__ import annotations

import os
import selectors
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import pulumi
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)

from tests import harness

HOST_START_TIMEOUT = 30.0
"""Seconds a provider host may take to print its port (it starts in about 0.6 s here)."""


FEATURES = [
    resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
    resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
    resource_pb2.RESOURCE_MONITOR_FEATURE_TRANSFORMS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_TRANSFORMS,
    resource_pb2.RESOURCE_MONITOR_FEATURE_PARAMETERIZATION,
]
"""What the fake monitor supports: as the SDK's MockMonitor, everything but output values,
so inputs arrive as plain values (secrets wrapped) for the mocks, exactly as under
`harness.run_program`."""


def plugin_dir(cloud: str) -> str:
    return str(harness.ROOT / "provider" / f"mlflow-{cloud}")


@dataclass
class Host:
    """A running provider host."""

    process: subprocess.Popen[bytes]
    port: int
    start_seconds: float
    """From process start to the port on stdout."""

    def stub(self) -> provider_pb2_grpc.ResourceProviderStub:
        channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        return provider_pb2_grpc.ResourceProviderStub(channel)


@contextmanager
def start_host(cloud: str, engine_address: str) -> Iterator[Host]:
    """Run the plugin of `cloud` as the engine does and yield it once it printed its port;
    stop it afterwards. The repository root is on PYTHONPATH as an installed `mlflow-iac`
    would be on the plugin virtualenv's path."""
    env = {**os.environ, "PYTHONPATH": str(harness.ROOT)}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, plugin_dir(cloud), engine_address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=plugin_dir(cloud),
    )
    try:
        port = _read_port(process)
        yield Host(process, port, time.monotonic() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        process.stderr.close()


def _read_port(process: subprocess.Popen[bytes]) -> int:
    assert process.stdout is not None and process.stderr is not None
    deadline = time.monotonic() + HOST_START_TIMEOUT
    line = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not selector.select(remaining):
                process.kill()
                raise AssertionError(f"provider host printed no port in {HOST_START_TIMEOUT} s")
            chunk = os.read(process.stdout.fileno(), 64)
            if not chunk:
                process.wait(timeout=10)
                raise AssertionError(f"provider host exited: {process.stderr.read().decode()}")
            line += chunk
    return int(line.decode().strip())


def to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    """A wire Struct as plain values: secrets stay `{sig: ..., value: ...}` wrappers, as the
    SDK's mock monitor hands them to `Mocks.new_resource`."""
    return json_format.MessageToDict(struct)


def _to_struct(values: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(values)
    return struct


@dataclass
class FakeEngine(resource_pb2_grpc.ResourceMonitorServicer, engine_pb2_grpc.EngineServicer):
    """Resource monitor and engine for one construct, answered by `mocks`."""

    mocks: harness.RecordingMocks
    project: str = harness.PROJECT
    stack: str = harness.STACK
    registered: list[resource_pb2.RegisterResourceRequest] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """URN -> what the resource registered with RegisterResourceOutputs."""
    logs: list[str] = field(default_factory=list)
    urns: dict[str, str] = field(default_factory=dict)
    """URN -> type token of every registered resource."""

    @property
    def stack_urn(self) -> str:
        return f"urn:pulumi:{self.stack}::{self.project}::pulumi:pulumi:Stack::{self.project}-{self.stack}"

    def _urn(self, parent: str, type_: str, name: str) -> str:
        # As the engine: the parent's type chain, without the stack's.
        chain = type_
        if parent and parent != self.stack_urn:
            chain = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{self.stack}::{self.project}::{chain}::{name}"

    # ResourceMonitor
    def RegisterResource(self, request, context):  # noqa: N802  # the gRPC method's name
        urn = self._urn(request.parent, request.type, request.name)
        self.registered.append(request)
        self.urns[urn] = request.type
        self.mocks.lineage[(request.type, request.name)] = (urn, request.parent or None)
        resource_id, state = self.mocks.new_resource(
            pulumi.runtime.MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=to_dict(request.object),
                provider=request.provider,
                custom=request.custom,
            )
        )
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=resource_id or "", object=_to_struct(state)
        )

    def RegisterResourceOutputs(self, request, context):  # noqa: N802  # the gRPC method's name
        self.outputs[request.urn] = to_dict(request.outputs)
        return empty_pb2.Empty()

    def Invoke(self, request, context):  # noqa: N802  # the gRPC method's name
        result, failures = self.mocks.call(
            pulumi.runtime.MockCallArgs(
                token=request.tok, args=to_dict(request.args), provider=request.provider
            )
        )
        assert not failures
        response = resource_pb2.ResourceInvokeResponse()
        getattr(response, "return").CopyFrom(_to_struct(result))  # `return` is a keyword
        return response

    def SupportsFeature(self, request, context):  # noqa: N802  # the gRPC method's name
        supported = {resource_pb2.ResourceMonitorFeature.Name(f) for f in FEATURES}
        name = "RESOURCE_MONITOR_FEATURE_" + "".join(
            "_" + c if c.isupper() else c.upper() for c in request.id
        )
        return resource_pb2.SupportsFeatureResponse(hasSupport=name in supported)

    def GetDeploymentInfo(self, request, context):  # noqa: N802  # the gRPC method's name
        # The same feature list as SupportsFeature answers (the SDK asks this one first).
        return resource_pb2.DeploymentInfo(supportedFeatures=FEATURES)

    def RegisterPackage(self, request, context):  # noqa: N802  # the gRPC method's name
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}-ref")

    def SignalAndWaitForShutdown(self, request, context):  # noqa: N802  # the gRPC method's name
        return empty_pb2.Empty()

    # Engine
    def Log(self, request, context):  # noqa: N802  # the gRPC method's name
        self.logs.append(request.message)
        return empty_pb2.Empty()

    def GetRootResource(self, request, context):  # noqa: N802  # the gRPC method's name
        return engine_pb2.GetRootResourceResponse(urn=self.stack_urn)

    def SetRootResource(self, request, context):  # noqa: N802  # the gRPC method's name
        return engine_pb2.SetRootResourceResponse()

    # Queries
    def parent_type(self, request: resource_pb2.RegisterResourceRequest) -> str:
        return self.urns.get(request.parent, "pulumi:pulumi:Stack")


@contextmanager
def serve(engine: FakeEngine) -> Iterator[str]:
    """Serve `engine` on a free 127.0.0.1 port; yield its address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(engine, server)
    engine_pb2_grpc.add_EngineServicer_to_server(engine, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)
