"""The policy pack's policies: `policy/rules/` wired into `pulumi_policy` callbacks.

Importing this module builds the policy objects and nothing else; `PolicyPack(...)`
(which starts the analyzer's gRPC server and never returns) is constructed only by the
pack's entry point, `policy/__main__.py`. Every policy is mandatory by default; a policy
config file (`pulumi preview --policy-pack policy --policy-pack-config <file>`) sets
another enforcement level per policy and the deletion policy's `throwawayStacks`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import rules

PACK_NAME = "mlflow-security"
"""The pack's name, as `pulumi preview` prints it and a policy config file is written for."""

DEFAULT_LEVEL = EnforcementLevel.MANDATORY
"""Every policy blocks the deployment unless the policy config file says otherwise."""


def resource(args: ResourceValidationArgs) -> rules.Resource:
    """The pure rules' view of the resource the engine is validating."""
    return rules.Resource(
        type=args.resource_type,
        name=args.name,
        props=args.props,
        stack=rules.stack_of(args.urn),
        protect=bool(args.opts.protect),
    )


def _validate(rule: rules.Rule):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for message in rule(resource(args), args.get_config()):
            report_violation(message, None)

    return validate


def _validate_stack(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    stack = [
        rules.Resource(
            type=r.resource_type,
            name=r.name,
            props=r.props,
            stack=rules.stack_of(r.urn),
            protect=bool(r.opts.protect),
        )
        for r in args.resources
    ]
    urns = {id(s): r.urn for s, r in zip(stack, args.resources, strict=True)}
    for offender, message in rules.https_redirects(stack):
        report_violation(message, urns[id(offender)])


def _schema(rule: rules.Rule) -> PolicyConfigSchema | None:
    properties: Mapping[str, Any] = rule.config_schema
    return PolicyConfigSchema({k: dict(v) for k, v in properties.items()}) if properties else None


def policies() -> list[Policy]:
    """One mandatory policy per rule, plus the stack-wide HTTPS redirect check."""
    built: list[Policy] = [
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=_validate(rule),
            enforcement_level=DEFAULT_LEVEL,
            config_schema=_schema(rule),
        )
        for rule in rules.RULES
    ]
    built.append(
        StackValidationPolicy(
            name=rules.STACK_RULE_NAME,
            description="An HTTP listener beside an HTTPS one only redirects to HTTPS.",
            validate=_validate_stack,
            enforcement_level=DEFAULT_LEVEL,
        )
    )
    return built
