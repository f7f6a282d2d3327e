"""Pulumi.yaml's config block, the README's config table and the default stack file agree with
the keys `stacks/config.py` reads (regenerate with `.venv/bin/python -m stacks.reference`)."""

from __future__ import annotations

import re

import yaml
from mlflow_image.contract import CONTRACT

from stacks import reference
from stacks.config import KNOWN_KEYS, NAMESPACE, SECRET_KEYS, parse_config

ROOT = reference.ROOT


def test_pulumi_yaml_declares_exactly_the_known_keys() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == NAMESPACE
    assert project["config"] == reference.pulumi_yaml_config()
    assert list(project["config"]) == list(KNOWN_KEYS)


def test_every_declared_key_has_a_type_and_description() -> None:
    for name, entry in reference.pulumi_yaml_config().items():
        assert entry["type"] in ("string", "integer", "boolean", "array"), name
        assert str(entry["description"]).strip(), name
        assert "default" not in entry, name  # a default would count as set


def test_readme_holds_the_generated_table() -> None:
    readme = (ROOT / "README.md").read_text()
    block = f"{reference.README_BEGIN}\n{reference.readme_table()}\n{reference.README_END}"
    assert block in readme
    for name in KNOWN_KEYS:
        assert f"`{NAMESPACE}:{name}`" in readme


def test_secret_keys_are_documented_as_secret() -> None:
    for name in SECRET_KEYS:
        assert KNOWN_KEYS[name].description.startswith("Secret."), name


def test_default_stack_file_is_valid_config() -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    raw = {}
    for full_key, value in stack["config"].items():
        namespace, _, key = full_key.partition(":")
        assert namespace == NAMESPACE, full_key
        assert key in KNOWN_KEYS, full_key
        raw[key] = value if isinstance(value, str) else yaml.safe_dump(value)
    config = parse_config(raw)
    assert config.cloud == "local"


def test_readmes_hold_the_image_contract_table() -> None:
    block = f"{reference.CONTRACT_BEGIN}\n{reference.contract_table()}\n{reference.CONTRACT_END}"
    for name in reference.CONTRACT_FILES:
        assert block in (ROOT / name).read_text(), (
            f"{name}: run .venv/bin/python -m stacks.reference"
        )


def test_contract_table_rows_keep_their_columns() -> None:
    # Descriptions hold `|` (e.g. "postgresql | mysql"): unescaped, a row would grow columns.
    rows = reference.contract_table().splitlines()[2:]
    assert len(rows) == len(CONTRACT)
    for var, row in zip(CONTRACT, rows, strict=True):
        cells = re.split(r"(?<!\\)\|", row)[1:-1]
        assert len(cells) == 4, row
        assert cells[0].strip() == f"`{var.name}`"
        assert cells[2].strip() == ("yes" if var.secret else "")
