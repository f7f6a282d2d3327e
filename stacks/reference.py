"""Renders the config reference (Pulumi.yaml's `config:` block, the README table) from `stacks.config`.

`python -m stacks.reference` rewrites both; `tests/test_config_reference.py`
fails when either has drifted from the keys the program actually reads.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from stacks.config import KNOWN_KEYS, NAMESPACE

ROOT = Path(__file__).resolve().parent.parent
README_BEGIN = "<!-- config-reference:begin -->"
README_END = "<!-- config-reference:end -->"


def pulumi_yaml_config() -> dict[str, dict[str, object]]:
    """The `config:` block of Pulumi.yaml: every key with type and description, no defaults
    (a default there would count as 'set' and defeat the contradiction checks)."""
    block: dict[str, dict[str, object]] = {}
    for doc in KNOWN_KEYS.values():
        entry: dict[str, object] = {"type": doc.type, "description": doc.description}
        if doc.type == "array":
            entry["items"] = {"type": "string"}
        block[doc.name] = entry  # unnamespaced: the project's own namespace, `mlflow:`
    return block


def readme_table() -> str:
    """The README's config reference table."""
    rows = ["| key | type | default | description |", "|---|---|---|---|"]
    for doc in KNOWN_KEYS.values():
        rows.append(f"| `{NAMESPACE}:{doc.name}` | {doc.type} | {doc.default} | {doc.description} |")
    return "\n".join(rows)


def write() -> None:
    """Rewrite Pulumi.yaml's config block and the README's table in place."""
    pulumi_yaml = ROOT / "Pulumi.yaml"
    project = yaml.safe_load(pulumi_yaml.read_text())
    project["config"] = pulumi_yaml_config()
    pulumi_yaml.write_text(yaml.safe_dump(project, sort_keys=False, width=100))
    readme = ROOT / "README.md"
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + ".*?" + re.escape(README_END), re.S)
    text = pattern.sub(lambda _: f"{README_BEGIN}\n{readme_table()}\n{README_END}", text)
    readme.write_text(text)


if __name__ == "__main__":
    write()
    sys.exit(0)
