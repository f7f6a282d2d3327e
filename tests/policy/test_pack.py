"""The policy pack as the Pulumi engine runs it: the policies' names, levels and config,
the callbacks feeding the pure rules, and the real entry point (`policy/__main__.py`)
answering the engine's gRPC calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationPolicy,
)

from policy import pack, rules

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policy"
NAMES = [r.name for r in rules.RULES] + [rules.STACK_RULE_NAME]
URN = "urn:pulumi:{stack}::mlflow::aws:rds/instance:Instance::db"
BAD_DB = {"engine": "postgres", "publiclyAccessible": True, "storageEncrypted": True}


def args(props: dict[str, Any], stack: str = "production", config: Any = None, protect=False):
    options = PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    return ResourceValidationArgs(
        "aws:rds/instance:Instance", props, URN.format(stack=stack), "db", options, None, config
    )


def by_name() -> dict[str, Any]:
    return {p.name: p for p in pack.policies()}


def test_one_mandatory_policy_per_rule_and_the_stack_rule() -> None:
    policies = pack.policies()
    assert [p.name for p in policies] == NAMES
    assert {p.enforcement_level for p in policies} == {EnforcementLevel.MANDATORY}
    assert all(isinstance(p, ResourceValidationPolicy) for p in policies[:-1])
    assert isinstance(policies[-1], StackValidationPolicy)


def test_a_resource_policy_reports_what_its_rule_finds() -> None:
    reported: list[tuple[str, str | None]] = []
    by_name()["no-public-database"].validate(
        args(BAD_DB), lambda m, u=None: reported.append((m, u))
    )
    assert reported == [
        (
            "'db' (aws:rds/instance:Instance): publiclyAccessible is true. Fix: set "
            "publicly_accessible=False and reach the database from inside its VPC.",
            None,
        )
    ]


@pytest.mark.parametrize(
    ("stack", "config", "protect", "reported"),
    [
        ("production", None, False, 1),
        ("pr-7", None, False, 0),  # a default throw-away pattern
        ("production", None, True, 1),  # RDS needs its own flag: protect is not enough
        ("sandbox-1", {"throwawayStacks": ["sandbox-*"]}, False, 0),  # the config file's list
        ("dev", {"throwawayStacks": ["sandbox-*"]}, False, 1),  # which replaces the defaults
    ],
)
def test_deletion_protection_follows_the_stack_and_the_configured_throwaway_stacks(
    stack: str, config: Any, protect: bool, reported: int
) -> None:
    found: list[str] = []
    policy = by_name()["deletion-protection"]
    resource = args({"deletionProtection": False}, stack, config, protect)
    policy.validate(resource, lambda message, urn=None: found.append(message))
    assert len(found) == reported, found


def test_the_policy_config_names_every_policy_with_a_valid_level() -> None:
    config = json.loads((PACK_DIR / "config.json").read_text())
    assert sorted(config) == sorted(NAMES)
    levels = {e.value for e in EnforcementLevel}
    for value in config.values():
        level = value if isinstance(value, str) else value["enforcementLevel"]
        assert level in levels
    schema = by_name()["deletion-protection"].config_schema.properties
    assert set(config["deletion-protection"]) - {"enforcementLevel"} <= set(schema)
    # The file the preview workflow applies holds the pack's own defaults: every policy
    # mandatory, the default throw-away stacks.
    assert {v if isinstance(v, str) else v["enforcementLevel"] for v in config.values()} == {
        "mandatory"
    }
    assert config["deletion-protection"]["throwawayStacks"] == list(rules.THROWAWAY_STACKS)


# ---------------------------------------------------------------------------- the entry point


@pytest.fixture(scope="module")
def analyzer() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """`policy/__main__.py` started as the engine starts it: it prints its port and serves."""
    process = subprocess.Popen(
        [sys.executable, str(PACK_DIR)],
        cwd=PACK_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")},
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip() or 0)
        assert port, process.stderr.read().decode() if process.stderr else "no port"
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=20)
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.kill()  # our own child, by its handle
        process.wait(timeout=10)


def analyze(stub: analyzer_pb2_grpc.AnalyzerStub, props: dict[str, Any], stack: str) -> list:
    properties = struct_pb2.Struct()
    properties.update(props)
    request = analyzer_pb2.AnalyzeRequest(
        type="aws:rds/instance:Instance",
        properties=properties,
        urn=URN.format(stack=stack),
        name="db",
        options=analyzer_pb2.AnalyzerResourceOptions(protect=False),
    )
    return list(stub.Analyze(request, timeout=20).diagnostics)


def test_the_entry_point_serves_the_pack(analyzer: analyzer_pb2_grpc.AnalyzerStub) -> None:
    started = time.monotonic()
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty(), timeout=20)
    assert info.name == pack.PACK_NAME
    assert [p.name for p in info.policies] == NAMES
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}
    assert time.monotonic() - started < 20


def test_the_entry_point_reports_violations_and_honours_the_policy_config(
    analyzer: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    bad = {**BAD_DB, "deletionProtection": False}
    found = {d.policyName: d for d in analyze(analyzer, bad, "production")}
    assert set(found) == {"no-public-database", "deletion-protection"}
    assert found["no-public-database"].enforcementLevel == analyzer_pb2.MANDATORY
    assert "publiclyAccessible is true" in found["no-public-database"].message

    # What `--policy-pack-config` does: a level and settings per policy.
    throwaway = struct_pb2.Struct()
    throwaway.update({"throwawayStacks": ["qa-*"]})
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                "no-public-database": analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.ADVISORY
                ),
                "deletion-protection": analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.MANDATORY, properties=throwaway
                ),
            }
        ),
        timeout=20,
    )
    found = {d.policyName: d for d in analyze(analyzer, bad, "qa-3")}
    assert set(found) == {"no-public-database"}
    assert found["no-public-database"].enforcementLevel == analyzer_pb2.ADVISORY
