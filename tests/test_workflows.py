"""The PR-check workflows (.github/workflows): actionlint (with shellcheck on every `run:`
script) passes, and each workflow does what the README says it does."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from policy import rules

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
BIN = Path(sys.executable).parent
PINNED = re.compile(r"^[\w.-]+/[\w.-]+@v\d+(\.\d+){0,2}$")


def actionlint(*paths: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """actionlint from the venv, with the venv's shellcheck on PATH (it runs it when found)."""
    assert (BIN / "actionlint").exists() and (BIN / "shellcheck").exists()
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(
        [str(BIN / "actionlint"), "-no-color", *map(str, paths)],
        check=False,  # the tests read the exit code
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def load(name: str) -> dict[Any, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job["steps"]]


def test_actionlint_and_shellcheck_pass() -> None:
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_bad_input_and_an_unquoted_variable(tmp_path: Path) -> None:
    """The linter really checks action inputs and runs shellcheck (not a test of nothing)."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: pulumi/actions@v6\n        with:\n          comand: preview\n"
        "      - run: echo $HOME\n"
    )
    result = actionlint(bad, cwd=tmp_path)
    assert result.returncode == 1
    assert 'input "comand" is not defined in action "pulumi/actions@v6"' in result.stdout
    assert "SC2086" in result.stdout


def test_every_action_is_pinned_to_a_version() -> None:
    for name in ("test.yml", "preview.yml"):
        uses = [s["uses"] for s in steps(load(name)) if "uses" in s]
        assert uses and all(PINNED.match(u) for u in uses), uses


def test_the_test_workflow_runs_the_readme_commands_in_ci_mode() -> None:
    workflow = load("test.yml")
    runs = [s["run"] for s in steps(workflow) if "run" in s]
    assert runs == [
        "sudo --preserve-env=CI,PYTHON bash scripts/setup",
        "sudo --preserve-env=CI bash scripts/test",
    ]
    assert workflow["jobs"]["test"]["env"] == {"CI": "true"}
    readme = (ROOT / "README.md").read_text()
    assert "scripts/setup" in readme and "scripts/test" in readme


def test_the_preview_runs_every_stack_with_the_policy_pack_and_oidc_only() -> None:
    workflow = load("preview.yml")
    assert workflow[True] == {"pull_request": None}  # YAML 1.1 reads the key `on` as True
    assert workflow["permissions"]["id-token"] == "write"
    job = workflow["jobs"]["preview"]
    stacks = job["strategy"]["matrix"]["include"]
    assert {s["cloud"] for s in stacks} == {"aws", "gcp", "azure"}
    (preview,) = [s for s in job["steps"] if s.get("uses", "").startswith("pulumi/actions@")]
    assert preview["with"]["command"] == "preview"
    assert preview["with"]["comment-on-pr"] is True
    assert preview["with"]["stack-name"].endswith("/${{ matrix.stack }}")
    assert preview["with"]["policyPacks"] == "policy"
    assert (ROOT / preview["with"]["policyPackConfigs"]).exists()
    assert (ROOT / "policy" / "PulumiPolicy.yaml").exists()

    logins = {s["uses"].split("@")[0]: s for s in job["steps"] if "uses" in s}
    assert "role-to-assume" in logins["aws-actions/configure-aws-credentials"]["with"]
    assert "workload_identity_provider" in logins["google-github-actions/auth"]["with"]
    assert "client-id" in logins["azure/login"]["with"]
    assert "pulumi/auth-actions" in logins
    text = (WORKFLOWS / "preview.yml").read_text()
    for long_lived in ("aws-secret-access-key", "credentials_json", "client-secret", "creds:"):
        assert long_lived not in text
    assert "PULUMI_ACCESS_TOKEN" not in text


@pytest.mark.parametrize("name", [r.name for r in rules.RULES] + [rules.STACK_RULE_NAME])
def test_the_readme_documents_each_policy(name: str) -> None:
    assert f"`{name}`" in (ROOT / "README.md").read_text()
