"""The full recorded graph of a stack, held to a committed snapshot: one implementation for
every cloud's `test_graph_unchanged.py`, so a refactor is provably behaviour-free.

A recording is every registered resource (type, name, URN, parent URN, provider, inputs
with secrets unwrapped, which inputs are secret, resource options such as protect and
deleteBeforeReplace) and the stack's exports (values, which are secret). The two values
that depend on the working tree are placeholders: the checkout's path, and the image tag
(a digest of the docker/ build context) with the mocked image digest derived from it, so a
clone elsewhere or a changed image does not read as a changed graph.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tests import harness


def record(cloud: str, config: Mapping[str, Any], secret_keys: Sequence[str] = ()) -> dict:
    """Run the real program for `cloud` with `config` under the current mocks; its graph."""
    result = harness.run_program(config={"cloud": cloud, **config}, secret_keys=tuple(secret_keys))
    resources = sorted(
        (
            {
                "type": r.type,
                "name": r.name,
                "urn": r.urn,
                "parent": r.parent,
                "provider": r.provider,
                "inputs": r.inputs,
                "secret_inputs": sorted(r.secret_inputs),
                "options": r.options,
            }
            for r in result.mocks.resources
        ),
        key=lambda r: r["urn"],
    )
    data = {
        "resources": resources,
        "outputs": result.outputs,
        "secret_outputs": sorted(result.secret_outputs),
    }
    return json.loads(normalise(json.dumps(data, sort_keys=True, default=str), resources))


def normalise(text: str, resources: list[dict[str, Any]]) -> str:
    """`text` with the checkout's path and the image's digests as placeholders."""
    text = text.replace(json.dumps(str(harness.ROOT))[1:-1], "<checkout>")
    for resource in resources:
        if resource["type"] != "docker-build:index:Image":
            continue
        tag = resource["inputs"]["tags"][0]
        text = text.replace(hashlib.sha256(tag.encode()).hexdigest(), "<image-digest>")
        suffix = tag.rsplit(":", 1)[1]
        if re.fullmatch(r"[0-9a-f]{12,}", suffix):  # a content digest, not a fixed tag
            text = text.replace(suffix, "<context-digest>")
    return text


def load(snapshot: Path) -> dict[str, Any]:
    """The committed recordings by case name."""
    return json.loads(snapshot.read_text())


def write(snapshot: Path, recordings: Mapping[str, dict]) -> None:
    """Commit `recordings` (only when a graph change is intended: say why in the commit)."""
    snapshot.write_text(json.dumps(dict(recordings), indent=1, sort_keys=True) + "\n")
    count = sum(len(r["resources"]) for r in recordings.values())
    print(f"wrote {snapshot} ({len(recordings)} cases, {count} resources)")


def assert_same_graph(got: dict[str, Any], expected: dict[str, Any]) -> None:
    """`got` equals `expected`, compared so that the failure names what changed."""
    assert got["outputs"] == expected["outputs"]
    assert got["secret_outputs"] == expected["secret_outputs"]
    by_urn = {r["urn"]: r for r in expected["resources"]}
    assert [r["urn"] for r in got["resources"]] == sorted(by_urn), "resources added or removed"
    for resource in got["resources"]:
        assert resource == by_urn[resource["urn"]], resource["urn"]
