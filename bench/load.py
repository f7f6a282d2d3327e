"""Tracking load: N concurrent MLflow clients, each repeating create run, log_batch, terminate.

The clients run in `processes` worker processes (`python -m bench.load SPEC`) of threads,
so the client side is not one GIL: each worker reports its CPU seconds, and the report
shows client CPU per process next to the wall time (a worker near 1.0 CPU-s/s would mean
the client, not the server, limits the numbers). Every worker imports MLflow and opens
its connections before the common start signal; retries are off
(MLFLOW_HTTP_REQUEST_MAX_RETRIES=0), so every failed request counts as an error instead of
being hidden behind a back-off.

After the load, a search in the experiment checks every acknowledged run (all three calls
returned) is there, FINISHED, with its 100 metrics and 10 params: anything else is a lost
or incomplete write.
"""

# MLflow, boto3 and matplotlib load lazily: `--help` and the report stay fast without them.
# ruff: noqa: PLC0415

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from bench import proc
from tests import services

METRICS_PER_BATCH = 100
PARAMS_PER_BATCH = 10
READY = "READY"
RESULT = "RESULT "


def client_env(threads: int) -> dict[str, str]:
    """Environment of a load worker: retries off, a connection pool for every thread."""
    env = dict(os.environ)
    env.update(
        {
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "60",
            "MLFLOW_HTTP_POOL_CONNECTIONS": str(threads + 4),
            "MLFLOW_HTTP_POOL_MAXSIZE": str(threads + 4),
            "MLFLOW_ENABLE_ASYNC_LOGGING": "false",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONPATH": str(services.REPO),
        }
    )
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        env.pop(name, None)
    return env


# --------------------------------------------------------------------------- worker side


def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Run `threads` clients after the go line on stdin; return what they measured."""
    from mlflow import MlflowClient
    from mlflow.entities import Metric, Param

    url, experiment_id = spec["url"], spec["experiment_id"]
    threads, iterations, duration = spec["threads"], spec["iterations"], spec["duration"]
    client = MlflowClient(url)
    client.get_experiment(experiment_id)  # import and connect before the clock starts
    lock = threading.Lock()
    records: list[list[float]] = []
    acked: list[str] = []
    errors: list[str] = []

    def one_client() -> None:
        local = MlflowClient(url)
        deadline = go + duration
        for _ in range(iterations):
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            try:
                run_id = local.create_run(experiment_id).info.run_id
                t1 = time.perf_counter()
                ts = int(time.time() * 1000)
                local.log_batch(
                    run_id,
                    metrics=[Metric(f"m{i}", float(i), ts, 0) for i in range(METRICS_PER_BATCH)],
                    params=[Param(f"p{i}", str(i)) for i in range(PARAMS_PER_BATCH)],
                )
                t2 = time.perf_counter()
                local.set_terminated(run_id)
                t3 = time.perf_counter()
            except Exception as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            with lock:
                records.append([t3 - t0, t1 - t0, t2 - t1, t3 - t2])
                acked.append(run_id)

    print(READY, file=PROTOCOL, flush=True)
    sys.stdin.readline()
    cpu0 = os.times()
    go = time.monotonic()
    workers = [threading.Thread(target=one_client, daemon=True) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(duration + 300)
    wall = time.monotonic() - go
    cpu1 = os.times()
    return {
        "records": records,
        "acked": acked,
        "errors": errors,
        "wall_s": wall,
        "cpu_s": (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system),
    }


PROTOCOL = sys.stdout
"""Where a worker writes READY and RESULT: the real stdout (MLflow's prints go elsewhere)."""


def main() -> None:
    """Entry of a worker process: `python -m bench.load '<json spec>'`."""
    global PROTOCOL  # noqa: PLW0603  # set once, before any thread starts
    PROTOCOL = os.fdopen(os.dup(1), "w")
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115  # MLflow prints a line per finished run
    result = _worker(json.loads(sys.argv[1]))
    print(RESULT + json.dumps(result), file=PROTOCOL, flush=True)


# --------------------------------------------------------------------------- coordinator


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class LevelResult:
    """Raw outcome of one load level against one server."""

    clients: int
    processes: int
    wall_s: float
    records: list[list[float]]
    acked: list[str]
    errors: list[str]
    client_cpu_s: list[float]
    server_cpu_s: float
    server_peak: proc.Footprint
    missing: int = 0
    incomplete: int = 0


def run_level(
    *,
    url: str,
    experiment_id: str,
    clients: int,
    iterations: int,
    duration: float,
    server_pid: int,
    max_processes: int = 4,
) -> LevelResult:
    """Run `clients` concurrent clients against `url` and collect what they measured."""
    processes = max(1, min(clients, max_processes))
    split = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    workers: list[subprocess.Popen[str]] = []
    try:
        for threads in split:
            spec = {
                "url": url,
                "experiment_id": experiment_id,
                "threads": threads,
                "iterations": iterations,
                "duration": duration,
            }
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.load", json.dumps(spec)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    env=client_env(threads),
                    cwd=str(services.REPO),
                    start_new_session=True,
                )
            )
        for worker in workers:
            assert worker.stdout is not None
            line = _readline(worker, 180)
            if line.strip() != READY:
                raise RuntimeError(f"load worker did not start: {line!r}")
        with proc.PeakSampler(server_pid, max_seconds=duration + 600) as sampler:
            cpu0 = proc.cpu_seconds(server_pid)
            start = time.monotonic()
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.write("go\n")
                worker.stdin.flush()
            results = []
            for worker in workers:
                line = _readline(worker, duration + 600)
                if not line.startswith(RESULT):
                    raise RuntimeError(f"load worker failed: {line!r}")
                results.append(json.loads(line[len(RESULT) :]))
            wall = time.monotonic() - start
            server_cpu = proc.cpu_seconds(server_pid) - cpu0
        return LevelResult(
            clients=clients,
            processes=processes,
            wall_s=wall,
            records=[r for res in results for r in res["records"]],
            acked=[a for res in results for a in res["acked"]],
            errors=[e for res in results for e in res["errors"]],
            client_cpu_s=[res["cpu_s"] for res in results],
            server_cpu_s=server_cpu,
            server_peak=sampler.peak,
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait(10)


def _readline(worker: subprocess.Popen[str], timeout: float) -> str:
    """One stdout line of a worker, or raise after `timeout` seconds."""
    box: list[str] = []
    assert worker.stdout is not None
    stdout = worker.stdout
    reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    if not box:
        raise TimeoutError(f"load worker silent for {timeout:.0f}s")
    return box[0]


def verify(url: str, experiment_id: str, result: LevelResult, max_pages: int = 200) -> None:
    """Search the experiment; count acknowledged runs missing or incomplete (in place)."""
    from mlflow import MlflowClient

    client = MlflowClient(url)
    found: dict[str, Any] = {}
    token = None
    for _ in range(max_pages):
        page = client.search_runs([experiment_id], max_results=1000, page_token=token)
        for run in page:
            found[run.info.run_id] = run
        token = page.token
        if not token:
            break
    for run_id in result.acked:
        run = found.get(run_id)
        if run is None:
            result.missing += 1
        elif (
            run.info.status != "FINISHED"
            or len(run.data.metrics) != METRICS_PER_BATCH
            or len(run.data.params) != PARAMS_PER_BATCH
        ):
            result.incomplete += 1


if __name__ == "__main__":
    main()
