"""The Pulumi program: read and validate the config once, deploy the chosen cloud's stack, export.

Only the chosen cloud's stack module is imported, so a GCP stack never loads
`pulumi_aws` and the other way round.
"""

from __future__ import annotations

import importlib

import pulumi

from stacks.config import ConfigError, load_config

try:
    config = load_config()
except ConfigError as error:
    # RunError ends the program with this one line instead of a stack trace.
    raise pulumi.RunError(str(error)) from None

stack = importlib.import_module(f"stacks.{config.cloud}")
for name, value in stack.deploy(config).items():
    pulumi.export(name, value)
