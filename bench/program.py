"""The Pulumi program: time and peak memory of evaluating each stack under mocks, vs its floor.

Each measurement is a fresh interpreter (`python -c ...`), timed from spawn to exit by this
process, reporting its own peak RSS (VmHWM; see `_PEAK` for why not ru_maxrss). A stack run is `tests.harness.run_program(config=
{"cloud": ...})` (the real `__main__.py` under the tests' recording mocks). Its floor is a
fresh interpreter that only imports `pulumi`, `pulumi.runtime` and exactly the `pulumi_*`
modules the stack run loaded (its provider service modules): what any program using those
providers pays before it declares a resource. Stack and floor alternate.

Test modules that register mock outputs / invokes for a cloud (files under `tests/` that
mention `harness.OUTPUTS` or `harness.INVOKES` and the cloud's name) are imported first, and
their module-level `*_OUTPUTS` / `*_INVOKES` tables installed (what their fixtures do);
their import time (after `pulumi` and the harness are loaded, which count) is measured
inside the child and subtracted from its wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from typing import Any

from tests import services

REPO = services.REPO
CLOUDS = ("local", "aws", "gcp", "azure")
PROVIDER_CONFIG = {"azure": {"azure-native:location": "westeurope"}}
"""Provider settings a cloud's stack requires (Azure refuses to run without a region)."""
FOREIGN_SDKS = {
    "local": ("pulumi_gcp", "pulumi_azure_native"),
    "aws": ("pulumi_gcp", "pulumi_azure_native"),
    "gcp": ("pulumi_aws", "pulumi_azure_native"),
    "azure": ("pulumi_aws", "pulumi_gcp"),
}
"""SDKs a stack must never load (DESIGN.md: a GCP stack never imports pulumi_aws, ...)."""

_PEAK = """
def hwm():
    # VmHWM: peak RSS of this process image. ru_maxrss is not used: on Linux it keeps the RSS
    # the forking parent had, so a child of a big benchmark process reports the parent's size.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

_STACK_CHILD = """
import json, resource, sys, time, importlib
{peak}
t0 = time.perf_counter()
sys.path[:0] = {paths!r}
from tests import harness
t1 = time.perf_counter()
for name in {registrations!r}:
    module = importlib.import_module(name)
    for attr, value in vars(module).items():  # tables a fixture would install
        if isinstance(value, dict) and attr.endswith("_OUTPUTS"):
            harness.OUTPUTS.update(value)
        if isinstance(value, dict) and attr.endswith("_INVOKES"):
            harness.INVOKES.update(value)
t_reg = time.perf_counter() - t1
result = harness.run_program(config={config!r})
t_total = time.perf_counter() - t0
mods = sorted(sys.modules)
print("RESULT " + json.dumps({{
    "registration_s": t_reg,
    "in_process_s": t_total,
    "maxrss_mb": hwm(),
    "resources": len(result.mocks.resources),
    "top_level": sorted({{m.split(".")[0] for m in mods}}),
    "pulumi_modules": [m for m in mods if m.startswith("pulumi_")],
}}))
"""

_FLOOR_CHILD = """
import json, resource, sys, time, importlib
{peak}
t0 = time.perf_counter()
import pulumi, pulumi.runtime
for name in {modules!r}:
    importlib.import_module(name)
print("RESULT " + json.dumps({{
    "registration_s": 0.0,
    "in_process_s": time.perf_counter() - t0,
    "maxrss_mb": hwm(),
}}))
"""


def _registrations(cloud: str) -> list[str]:
    """Test modules that register mock outputs/invokes for `cloud` (dotted names)."""
    found = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        if "node_modules" in path.parts or path.name.startswith("test_"):
            continue
        text = path.read_text(errors="replace")
        if ("harness.OUTPUTS" in text or "harness.INVOKES" in text) and cloud in str(
            path.relative_to(REPO)
        ):
            found.append(".".join(path.relative_to(REPO).with_suffix("").parts))
    return found


def _child(code: str, timeout: float = 300) -> dict[str, Any]:
    """Run `code` in a fresh interpreter; its RESULT line plus the spawn-to-exit wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=str(REPO),
        check=False,
    )
    wall = time.perf_counter() - start
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "no output")
    result = json.loads(lines[-1][len("RESULT ") :])
    result["wall_s"] = wall - result["registration_s"]
    return result


def measure(reps: int, clouds: tuple[str, ...] = CLOUDS) -> dict[str, Any]:
    """Per cloud: stack and floor wall time and peak RSS (alternating), modules loaded."""
    out: dict[str, Any] = {}
    for cloud in clouds:
        if (
            not (REPO / "stacks" / f"{cloud}.py").exists()
            and not (REPO / "stacks" / cloud).is_dir()
        ):
            out[cloud] = {"skipped": f"stacks/{cloud}.py does not exist (yet)"}
            continue
        registrations = _registrations(cloud)
        stack_code = _STACK_CHILD.format(
            peak=_PEAK,
            paths=[str(REPO), str(REPO / "docker")],
            registrations=registrations,
            config={"cloud": cloud, **PROVIDER_CONFIG.get(cloud, {})},
        )
        try:
            first = _child(stack_code)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            out[cloud] = {"skipped": f"stack did not evaluate under mocks: {exc}"}
            continue
        floor_code = _FLOOR_CHILD.format(peak=_PEAK, modules=first["pulumi_modules"])
        # The first run only warms the page cache and lists the modules; then alternate.
        stacks, floors = [], []
        for _ in range(reps):
            floors.append(_child(floor_code))
            stacks.append(_child(stack_code))
        foreign = [m for m in FOREIGN_SDKS[cloud] if m in first["top_level"]]
        out[cloud] = {
            "registrations": registrations,
            "resources": first["resources"],
            "stack_wall_s": [round(s["wall_s"], 3) for s in stacks],
            "stack_maxrss_mb": [round(s["maxrss_mb"], 1) for s in stacks],
            "floor_wall_s": [round(f["wall_s"], 3) for f in floors],
            "floor_maxrss_mb": [round(f["maxrss_mb"], 1) for f in floors],
            "pulumi_sdks_loaded": [m for m in first["top_level"] if m.startswith("pulumi_")],
            "provider_modules": len(first["pulumi_modules"]),
            "top_level_modules": first["top_level"],
            "foreign_sdks_loaded": foreign,
            "no_foreign_sdk": not foreign,
        }
    return out
