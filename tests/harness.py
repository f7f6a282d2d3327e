"""Pulumi mocks harness shared by every stack's and component's tests.

`RecordingMocks` records every registered resource, returns realistic computed
outputs per type token (registered by each cloud's tests through
`OUTPUTS`), and raises on an invoke nobody registered: Pulumi would otherwise
resolve an unmocked invoke to None and the test would pass on nothing.

`run_program` runs a callable (or the real `__main__.py`) inside a fresh Stack
under mocks and returns what it registered and exported.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.settings import set_root_resource
from pulumi.runtime.stack import Stack, run_pulumi_func, wait_for_rpcs

PROJECT = "mlflow"
STACK = "test"
ROOT = Path(__file__).resolve().parent.parent

OutputsFn = Callable[[pulumi.runtime.MockResourceArgs], dict[str, Any]]
InvokeFn = Callable[[dict[str, Any]], dict[str, Any]]

OUTPUTS: dict[str, OutputsFn] = {}
"""type token -> computed outputs added to a resource's inputs (per-cloud tests register theirs)."""

INVOKES: dict[str, InvokeFn] = {}
"""invoke token -> result (per-cloud tests register theirs)."""


class UnmockedInvokeError(AssertionError):
    """An invoke the tests did not register a result for."""


@dataclass
class Registered:
    """One resource the program registered, as the engine saw it."""

    type: str
    name: str
    inputs: dict[str, Any]
    """Inputs as the engine receives them: camelCase keys, secrets unwrapped."""
    urn: str
    parent: str | None
    provider: str | None
    secret_inputs: frozenset[str] = frozenset()
    """Top-level input names whose value is (or holds) a secret."""
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options as the engine receives them (see `RecordingMonitor`): `protect`,
    `deleteBeforeReplace`, `retainOnDelete`, `ignoreChanges`, `replaceOnChanges`,
    `deletedWith` and `dependencies` (sorted URNs). Mocks never see options otherwise."""


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record registrations and refuse unknown invokes."""

    resources: list[Registered] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    lineage: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    """(type, name) -> (URN, parent URN), filled by `RecordingMonitor` (MockResourceArgs has
    no parent)."""
    options: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """(type, name) -> resource options, filled by `RecordingMonitor`."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        extra = OUTPUTS.get(args.typ)
        state = {**args.inputs, **(extra(args) if extra else {})}
        urn, parent = self.lineage.get((args.typ, args.name), (_urn(args.typ, args.name), None))
        secret_inputs = frozenset(k for k, v in args.inputs.items() if _holds_secret(v))
        self.resources.append(
            Registered(
                args.typ,
                args.name,
                _unwrap(dict(args.inputs)),
                urn,
                parent,
                args.provider,
                secret_inputs,
                self.options.get((args.typ, args.name), {}),
            )
        )
        resource_id = state.pop("id", None) or f"{args.name}-id"
        return resource_id, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        self.invokes.append((args.token, dict(args.args)))
        handler = INVOKES.get(args.token)
        if handler is None:
            raise UnmockedInvokeError(f"unmocked invoke {args.token} with {dict(args.args)}")
        # The second element is the invoke's check failures; the mock monitor iterates it.
        return handler(dict(args.args)), []

    # Queries used by tests.
    def of_type(self, type_token: str) -> list[Registered]:
        """Every resource of one type token."""
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str) -> Registered:
        """The single resource of a type; fails when there are none or several."""
        found = self.of_type(type_token)
        assert len(found) == 1, f"expected one {type_token}, found {[r.name for r in found]}"
        return found[0]

    def types(self) -> list[str]:
        """Sorted type tokens of everything registered (the graph's shape)."""
        return sorted(r.type for r in self.resources)

    def by_urn(self, urn: str) -> Registered:
        """The resource with this URN."""
        found = [r for r in self.resources if r.urn == urn]
        assert len(found) == 1, f"expected one resource with URN {urn}, found {len(found)}"
        return found[0]


_SECRET_SIG = "4dabf18193072939515e22adb298388d"
"""Pulumi's wire signature key; with value `_SECRET_VALUE` it marks a secret."""
_SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270"


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SECRET_SIG) == _SECRET_VALUE


def _holds_secret(value: Any) -> bool:
    if _is_secret(value):
        return True
    if isinstance(value, dict):
        return any(_holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_secret(v) for v in value)
    return False


def _unwrap(value: Any) -> Any:
    """Inputs with every secret wrapper replaced by its plain value."""
    if _is_secret(value):
        return _unwrap(value["value"])
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _urn(type_token: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::{PROJECT}::{type_token}::{name}"


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, also telling the mocks each resource's URN, parent URN and
    options (MockResourceArgs carries none of them)."""

    def __init__(self, mocks: RecordingMocks):
        super().__init__(mocks)
        self.recording = mocks

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802  # the gRPC method's name
        urn = self.make_urn(request.parent, request.type, request.name)
        self.recording.lineage[(request.type, request.name)] = (urn, request.parent or None)
        self.recording.options[(request.type, request.name)] = _options(request)
        return super().RegisterResource(request)


def _options(request: Any) -> dict[str, Any]:
    """The resource options a RegisterResourceRequest carries, as plain values."""
    return {
        "protect": bool(request.protect),
        "deleteBeforeReplace": bool(request.deleteBeforeReplace),
        "retainOnDelete": bool(request.retainOnDelete),
        "ignoreChanges": list(request.ignoreChanges),
        "replaceOnChanges": list(request.replaceOnChanges),
        "deletedWith": request.deletedWith or None,
        "dependencies": sorted(request.dependencies),
    }


@dataclass
class ProgramResult:
    """What one program run registered and exported."""

    mocks: RecordingMocks
    outputs: dict[str, Any]
    """Stack outputs, resolved to plain values."""
    secret_outputs: frozenset[str]
    """Names of stack outputs that are secret."""


def set_config(values: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> None:
    """Replace the stack config with `values` (keys without namespace; lists/dicts as JSON)."""
    full = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
    runtime_config.set_all_config(full, [f"{PROJECT}:{k}" for k in secret_keys])


def new_mocks() -> RecordingMocks:
    """Install fresh recording mocks with a fresh event loop."""
    asyncio.set_event_loop(asyncio.new_event_loop())
    # Drop the previous root Stack (set_mocks only creates one when there is none), and let
    # the new root's registration finish on this loop: otherwise a run_program after a
    # second new_mocks() waited forever on the abandoned registration.
    set_root_resource(None)  # type: ignore[arg-type]  # the SDK's own reset, typed too narrowly
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(
        mocks, project=PROJECT, stack=STACK, preview=False, monitor=RecordingMonitor(mocks)
    )
    asyncio.get_event_loop().run_until_complete(wait_for_rpcs())
    return mocks


def run_program(
    program: Callable[[], None] | None = None,
    config: dict[str, Any] | None = None,
    secret_keys: tuple[str, ...] = (),
    mocks: RecordingMocks | None = None,
) -> ProgramResult:
    """Run `program` (default: the project's `__main__.py`) in a Stack under fresh mocks.

    Pass `mocks` (from `new_mocks()`, installed) to inspect what was registered even when
    the program raises, e.g. that a config error registered nothing.
    """
    mocks = mocks if mocks is not None else new_mocks()
    set_config(config or {}, secret_keys)
    main = program or (lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))
    loop = asyncio.get_event_loop()
    # set_mocks registers a finished root Stack; the program gets its own, as under the CLI.
    set_root_resource(None)  # type: ignore[arg-type]  # the SDK's own reset, typed too narrowly
    holder: list[Stack] = []

    async def in_stack() -> None:
        stack = Stack()
        holder.append(stack)
        try:
            main()
        finally:
            stack._finish()  # registers the exports, as run_in_stack does under the CLI

    loop.run_until_complete(run_pulumi_func(in_stack))
    stack = holder[0]
    outputs, secrets = loop.run_until_complete(_resolve(stack.outputs))
    return ProgramResult(mocks, outputs, frozenset(secrets))


async def _resolve(outputs: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    values: dict[str, Any] = {}
    secrets: set[str] = set()
    for name, value in outputs.items():
        out = pulumi.Output.from_input(value)
        values[name] = await out.future()
        if await out.is_secret():
            secrets.add(name)
    return values, secrets


async def resolve(output: Any) -> Any:
    """Await an Output (or plain value) to its value."""
    return await pulumi.Output.from_input(output).future()


def run_async(coroutine: Any) -> Any:
    """Run a coroutine on the current (mocked) event loop."""
    return asyncio.get_event_loop().run_until_complete(coroutine)
