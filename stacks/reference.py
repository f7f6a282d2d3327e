"""Renders the generated reference: Pulumi.yaml's `config:` block and the README's config
table from `stacks.config`, and the image's environment contract table (in README.md and
docker/README.md) from `docker/mlflow_image/contract.py`.

`python -m stacks.reference` rewrites all of them; `tests/test_config_reference.py`
fails when any has drifted from the keys the program and the image actually read.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import yaml

from stacks.config import KNOWN_KEYS, NAMESPACE

ROOT = Path(__file__).resolve().parent.parent
README_BEGIN = "<!-- config-reference:begin -->"
README_END = "<!-- config-reference:end -->"
CONTRACT_BEGIN = "<!-- image-contract:begin -->"
CONTRACT_END = "<!-- image-contract:end -->"
CONTRACT_FILES = ("README.md", "docker/README.md")
"""Files that hold the image's contract table between the markers above."""


def _contract_module() -> ModuleType:
    # Loaded by path: `docker/` is the image's build context, not a package of this program.
    path = ROOT / "docker" / "mlflow_image" / "contract.py"
    spec = importlib.util.spec_from_file_location("_image_contract", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


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
        rows.append(
            f"| `{NAMESPACE}:{doc.name}` | {doc.type} | {doc.default} | {doc.description} |"
        )
    return "\n".join(rows)


def contract_table() -> str:
    """The image's environment contract as a Markdown table, one row per variable."""
    rows = ["| variable | default | secret | meaning |", "|---|---|---|---|"]
    for var in _contract_module().CONTRACT:
        meaning = var.description.replace("|", "\\|")
        default = (var.default or "-").replace("|", "\\|")
        rows.append(f"| `{var.name}` | {default} | {'yes' if var.secret else ''} | {meaning} |")
    return "\n".join(rows)


def _replace_block(text: str, begin: str, end: str, body: str) -> str:
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"markers {begin} ... {end} not found")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text)


def write() -> None:
    """Rewrite Pulumi.yaml's config block, the README's table and the contract tables in place."""
    pulumi_yaml = ROOT / "Pulumi.yaml"
    project = yaml.safe_load(pulumi_yaml.read_text())
    project["config"] = pulumi_yaml_config()
    pulumi_yaml.write_text(yaml.safe_dump(project, sort_keys=False, width=100))
    readme = ROOT / "README.md"
    readme.write_text(_replace_block(readme.read_text(), README_BEGIN, README_END, readme_table()))
    for name in CONTRACT_FILES:
        path = ROOT / name
        path.write_text(
            _replace_block(path.read_text(), CONTRACT_BEGIN, CONTRACT_END, contract_table())
        )


if __name__ == "__main__":
    write()
    sys.exit(0)
