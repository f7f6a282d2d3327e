"""Pure helpers shared by every cloud's stack (no resources, no cloud SDK)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping

import pulumi


def client_environment_text(env: Mapping[str, str]) -> str:
    """`export NAME=value` lines, shell-quoted and sorted, ready to paste into a shell."""
    return "".join(f"export {name}={shlex.quote(env[name])}\n" for name in sorted(env))


def client_environment(
    plain: Mapping[str, pulumi.Input[str]],
    secrets: Mapping[str, pulumi.Input[str]] | None = None,
) -> pulumi.Output[str]:
    """The client's environment as paste-ready text; secret as soon as `secrets` holds any
    credential (a stack output must never show one in plain text)."""
    secrets = dict(secrets or {})
    names = sorted({*plain, *secrets})
    values = [plain[n] if n in plain else secrets[n] for n in names]
    text = pulumi.Output.all(*values).apply(
        lambda resolved: client_environment_text(dict(zip(names, resolved, strict=True)))
    )
    return pulumi.Output.secret(text) if secrets else text
