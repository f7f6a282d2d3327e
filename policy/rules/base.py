"""The rules' model (`Resource`, `Rule`) and the read-only helpers every rule uses.

Inputs may be the policy SDK's read-only proxies (a `Mapping`/`Sequence`, never a
`dict`/`list`), and reading a value that is unknown during `pulumi preview` raises the
SDK's `UnknownValueError`, which the SDK turns into an advisory "can't be known during
preview" note; the same rule then runs with real values on `pulumi up`. So the rules
only read, through these helpers, and never catch that error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resource:
    """One resource as a policy sees it."""

    type: str
    """The type token, e.g. `aws:rds/instance:Instance`."""
    name: str
    """The Pulumi resource name (the logical name in the program)."""
    props: Mapping[str, Any]
    """Inputs with camelCase keys, secrets unwrapped."""
    stack: str = ""
    """The stack being deployed (from the URN)."""
    protect: bool = False
    """The Pulumi `protect` resource option."""

    def label(self) -> str:
        """How messages name the resource: `'<name>' (<type>)`."""
        return f"'{self.name}' ({self.type})"


def stack_of(urn: str) -> str:
    """The stack name inside a URN `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    prefix = "urn:pulumi:"
    return urn[len(prefix) :].split("::", 1)[0] if urn.startswith(prefix) else ""


Check = Callable[[Resource, Mapping[str, Any]], list[str]]
"""A rule: (resource, the policy's settings) -> violation messages."""


@dataclass(frozen=True)
class Rule:
    """One policy of the pack: a name, what it guards, its check and its settings."""

    name: str
    description: str
    check: Check
    types: frozenset[str]
    """The type tokens the rule looks at (documentation and a test that each one exists)."""
    config_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON-schema properties of the policy's settings (the policy config file)."""
    defaults: Mapping[str, Any] = field(default_factory=dict)
    """Settings used when the policy config file sets none."""

    def settings(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The defaults overlaid with the configured settings."""
        return {**self.defaults, **(config or {})}

    def __call__(self, resource: Resource, config: Mapping[str, Any] | None = None) -> list[str]:
        if resource.type not in self.types:
            return []
        return self.check(resource, self.settings(config))


def get(value: Any, *path: str) -> Any:
    """`value[path[0]][path[1]]...`, None where a level is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list[Any]:
    """A list input as a list (None and scalars give [])."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def maps(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in items(value) if isinstance(v, Mapping)]


def parse_json(value: Any) -> Any:
    """A JSON document input (IAM policies, ECS container definitions), parsed; None if not."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def violation(resource: Resource, problem: str, fix: str) -> str:
    """The one message format: the resource, what is wrong, and how to fix it."""
    return f"{resource.label()}: {problem}. Fix: {fix}."


def strings(value: Any) -> list[str]:
    """A policy-document field that is a string or a list of strings, as a list."""
    if isinstance(value, str):
        return [value]
    return [v for v in items(value) if isinstance(v, str)]


def statements(document: Any) -> list[Mapping[str, Any]]:
    """The statements of an IAM policy document (one statement or a list)."""
    if not isinstance(document, Mapping):
        return []
    statements = document.get("Statement")
    return [statements] if isinstance(statements, Mapping) else maps(statements)
