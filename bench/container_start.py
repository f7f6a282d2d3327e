"""Start time of the image in a container next to the same entrypoint on the host.

Zero-config scenario 3 (SQLite and artifacts on a fresh /data each start), start to the
first healthy GET /health, alternating runs so both see the same machine load. Three
variants, measured side by side in one run:

- `container`: the image built from docker/Dockerfile, run by podman on the host network
  with `--read-only`; its byte-code was compiled at build time.
- `host-bytecode`: `python -m mlflow_image` from .venv with a warm byte-code cache
  (PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE unset): what the image does, minus the
  container.
- `host-no-bytecode`: the same with PYTHONDONTWRITEBYTECODE=1 (this machine's default)
  and PYTHONPYCACHEPREFIX on an empty folder, so no byte-code is read or written and every
  start compiles every module again (what a virtualenv without byte-code costs).

Usage: `.venv/bin/python -m bench.container_start [--runs N]`. Reports medians and the
ratios to `host-bytecode`; not a pass/fail test (timing is noisy here).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable

from tests import services
from tests.container import podman

Start = Callable[[], float]
WORKERS = "2"
"""Server workers in every variant (the image's default)."""


def container_start(image: str) -> float:
    """Seconds from `podman run` to a healthy /health, on a fresh volume."""
    with podman.volume() as data:
        container = podman.Container(
            image,
            env={"SERVER_WORKERS": WORKERS},
            volumes=[f"{data}:/data"],
            options=("--read-only", "--tmpfs", "/tmp"),
        )
        with container:
            return container.healthy_after


def host_start(bytecode_dir: str, write_bytecode: bool) -> float:
    """Seconds from starting the entrypoint on the host to a healthy /health, with its
    byte-code cache in `bytecode_dir` (written there, or neither read nor written)."""
    with tempfile.TemporaryDirectory(prefix="bench-start-") as data:
        env = {
            "DATA_DIR": data,
            "SERVER_WORKERS": WORKERS,
            "PYTHONPYCACHEPREFIX": bytecode_dir,
            # Python reads "" as unset: byte-code is written (and read) in bytecode_dir.
            "PYTHONDONTWRITEBYTECODE": "" if write_bytecode else "1",
        }
        with services.EntrypointServer(env) as server:
            return server.healthy_after


def measure(runs: int) -> dict[str, list[float]]:
    """Alternate the three variants `runs` times (after one unmeasured warm-up each)."""
    image = podman.build_image().ref
    warm = tempfile.mkdtemp(prefix="bench-pycache-")
    empty = tempfile.mkdtemp(prefix="bench-no-pycache-")
    variants: dict[str, Start] = {
        "container": lambda: container_start(image),
        "host-bytecode": lambda: host_start(warm, write_bytecode=True),
        "host-no-bytecode": lambda: host_start(empty, write_bytecode=False),
    }
    for start in variants.values():
        start()  # warm-up: page cache, the byte-code cache, podman's storage
    times: dict[str, list[float]] = {key: [] for key in variants}
    for _ in range(runs):
        for key, start in variants.items():
            times[key].append(start())
    return times


def report(times: dict[str, list[float]]) -> str:
    """A Markdown table of medians and ratios to host-bytecode."""
    base = statistics.median(times["host-bytecode"])
    lines = [
        "| variant | median start to healthy | runs | ratio to host-bytecode |",
        "|---|---|---|---|",
    ]
    for key, values in times.items():
        median = statistics.median(values)
        lines.append(f"| {key} | {median:.1f} s | {len(values)} | {median / base:.2f}x |")
    return "\n".join(lines)


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(
        description="Start time of the image next to the host entrypoint."
    )
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    with contextlib.suppress(KeyError):
        del os.environ["PYTHONPYCACHEPREFIX"]
    started = time.monotonic()
    times = measure(args.runs)
    print(report(times))
    print(
        f"({args.runs} alternating runs, {time.monotonic() - started:.0f} s in all, "
        f"{os.cpu_count()} cores)"
    )


if __name__ == "__main__":
    main()
