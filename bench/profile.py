"""Where the server's time goes: a py-spy sampling profile of the whole server process tree.

    .venv/bin/python -m bench.profile            # about 2 minutes
    .venv/bin/python -m bench.profile --clients 16 --duration 20 --upload-mb 256

Two workloads on the image's defaults (PostgreSQL, moto S3), each sampled by
`py-spy record --subprocesses --nonblocking --format raw` (every uvicorn worker; threads
py-spy sees as idle are not sampled, a thread blocked in a C call such as the database
driver's counts as active):

1. tracking: `--clients` concurrent clients doing what the benchmark's tracking phase
   does (create run, `log_batch` of 100 metrics and 10 params, terminate);
2. proxied upload: one `--upload-mb` file logged through the proxied server (scenario 5).

Writes `bench/results/profile-<date>.json` and `profile-latest.md`: the share of CPU
samples in each layer (a sample counts for every layer on its stack: MLflow's store,
SQLAlchemy, the database driver, the web stack, ...) and the functions that hold the CPU
themselves (leaf frames). Needs py-spy (`pip install py-spy`) and ptrace rights on the
server processes (root, or kernel.yama.ptrace_scope=0).
"""

# MLflow loads lazily, as in bench.run.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench import load, proc
from bench.servers import CONFIGS, Services, make_server, new_database, running
from tests import services

RESULTS = services.REPO / "bench" / "results"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("MLflow tracking store", ("mlflow/store/",)),
    ("MLflow REST handlers", ("mlflow/server/handlers", "mlflow/server/__init__")),
    ("MLflow artifact repositories", ("mlflow/store/artifact/",)),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("database driver", ("psycopg2/", "pymysql/")),
    ("protobuf / JSON", ("google/protobuf/", "mlflow/utils/proto_json_utils", "json/")),
    ("web stack (Flask, Starlette, uvicorn)", ("flask/", "werkzeug/", "starlette/", "uvicorn/")),
    ("boto3 / S3 transfer", ("boto3/", "botocore/", "s3transfer/")),
    ("file I/O (tempfile, shutil)", ("tempfile.py", "shutil.py")),
)
"""Layers a stack frame's file can belong to (first match of each pattern wins per layer)."""


def parse_collapsed(text: str) -> list[tuple[list[str], int]]:
    """py-spy's raw (collapsed) output: `frame;frame;...;leaf count` per line -> (frames, n).

    The first frame may be a `process ...` or `thread ...` label (with --subprocesses and
    threads); it is kept, it matches no layer.
    """
    stacks: list[tuple[list[str], int]] = []
    for raw_line in text.splitlines():
        frames, _, count = raw_line.strip().rpartition(" ")
        if not frames or not count.isdigit():
            continue
        stacks.append((frames.split(";"), int(count)))
    return stacks


def _layers_of(frames: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for frame in frames:
        for layer, patterns in LAYERS:
            if any(p in frame for p in patterns):
                found.add(layer)
    return found


def summarize(stacks: list[tuple[list[str], int]], top: int = 12) -> dict[str, Any]:
    """Layer shares (inclusive) and the top leaf functions (self), as % of all samples."""
    total = sum(n for _, n in stacks)
    layers: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    for frames, n in stacks:
        for layer in _layers_of(frames):
            layers[layer] += n
        leaves[frames[-1]] += n

    def pct(n: int) -> float:
        return round(100 * n / total, 1) if total else 0.0

    return {
        "samples": total,
        "layers_pct": {layer: pct(layers[layer]) for layer, _ in LAYERS if layers[layer]},
        "top_self_pct": [[frame, pct(n)] for frame, n in leaves.most_common(top)],
    }


def _py_spy() -> str:
    """The py-spy binary: on PATH, or beside this interpreter (the project's venv)."""
    return shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


def _record(pid: int, seconds: float, out: Path, rate: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            _py_spy(),
            "record",
            "--pid",
            str(pid),
            "--subprocesses",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--duration",
            str(max(1, round(seconds))),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _finish(recorder: subprocess.Popen[bytes], out: Path, timeout: float) -> dict[str, Any]:
    _, err = recorder.communicate(timeout=timeout)
    if not out.exists() or not out.stat().st_size:
        raise RuntimeError(f"py-spy failed ({recorder.returncode}): {err.decode()[-500:]}")
    return summarize(parse_collapsed(out.read_text()))


def profile_tracking(svc: Services, clients: int, duration: float, rate: int) -> dict[str, Any]:
    """Profile the image (PostgreSQL) under `clients` concurrent tracking clients."""
    from mlflow import MlflowClient

    config = CONFIGS["a"]
    server = make_server(svc, config, new_database(svc, config.db))
    with running(server):
        client = MlflowClient(server.url)
        experiment = client.create_experiment(f"profile-{time.time_ns()}")
        out = svc.tmp / "profile-tracking.txt"
        # Sampling starts before the load workers (which take seconds to import MLflow) and
        # is stopped when the load ends: an idle server adds no CPU samples meanwhile.
        recorder = _record(server.server_pid(), duration + 300, out, rate)
        time.sleep(1)
        level = load.run_level(
            url=server.url,
            experiment_id=experiment,
            clients=clients,
            iterations=100_000,
            duration=duration,
            server_pid=server.server_pid(),
        )
        recorder.send_signal(signal.SIGINT)  # py-spy stops and writes what it sampled
        summary = _finish(recorder, out, 60)
    return summary | {
        "workload": f"tracking, {clients} clients, {duration:g} s",
        "runs_per_s": round(len(level.acked) / level.wall_s, 2),
        "server_cores": round(level.server_cpu_s / level.wall_s, 2),
        "errors": len(level.errors),
    }


def profile_upload(svc: Services, size_mb: int, rate: int) -> dict[str, Any]:
    """Profile the proxied server while one `size_mb` file is logged through it."""
    from mlflow import MlflowClient

    config = CONFIGS["a"]
    moto = svc.moto()
    server = make_server(svc, config, new_database(svc, config.db))
    source = svc.tmp / f"profile-{size_mb}mb.bin"
    with source.open("wb") as f:
        for _ in range(size_mb):
            f.write(os.urandom(1024 * 1024))
    saved = {k: os.environ.get(k) for k in moto.env}
    os.environ.update(moto.env)
    try:
        with running(server):
            client = MlflowClient(server.url)
            run_id = client.create_run("0").info.run_id
            out = svc.tmp / "profile-upload.txt"
            # Long enough for the upload on this machine; py-spy stops early if the tree exits.
            recorder = _record(server.server_pid(), 30 + size_mb / 5, out, rate)
            time.sleep(1)
            start = time.perf_counter()
            client.log_artifact(run_id, str(source))
            upload_s = time.perf_counter() - start
            recorder.send_signal(signal.SIGINT)  # py-spy stops and writes what it sampled
            summary = _finish(recorder, out, 60)
    finally:
        source.unlink(missing_ok=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return summary | {
        "workload": f"proxied upload of {size_mb} MiB",
        "upload_mb_s": round(size_mb / upload_s, 1),
    }


def markdown(results: dict[str, Any]) -> str:
    """The profile as Markdown: one table of layers and one of leaf functions per workload."""
    lines = [
        f"### Server profile {results['date']}",
        "",
        f"Machine: {results['machine']}. py-spy {results['py_spy']}, {results['rate']} Hz, "
        "samples of the non-idle threads of the whole server process tree. py-spy counts a "
        "thread blocked inside a C call as active, so `do_execute` is mostly the wait for "
        "the database. A sample counts for every layer on its stack, so layers overlap.",
    ]
    for item in results["workloads"]:
        extra = ", ".join(
            f"{k} {item[k]}"
            for k in ("runs_per_s", "server_cores", "errors", "upload_mb_s")
            if k in item
        )
        lines += ["", f"#### {item['workload']} ({item['samples']} samples; {extra})", ""]
        lines += ["| layer | % of samples |", "|---|---|"]
        lines += [f"| {layer} | {pct} |" for layer, pct in item["layers_pct"].items()]
        lines += ["", "| leaf function (self) | % |", "|---|---|"]
        lines += [f"| `{frame}` | {pct} |" for frame, pct in item["top_self_pct"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Profile both workloads and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--upload-mb", type=int, default=256)
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    version = subprocess.run([_py_spy(), "--version"], capture_output=True, text=True, check=True)
    started = dt.datetime.now(dt.UTC)
    svc = Services()
    try:
        workloads = [
            profile_tracking(svc, args.clients, args.duration, args.rate),
            profile_upload(svc, args.upload_mb, args.rate),
        ]
    finally:
        svc.close()
    machine = proc.machine()
    results = {
        "date": started.isoformat(timespec="seconds"),
        "machine": f"{machine.get('nproc')} CPUs ({machine.get('cpu_model')})",
        "py_spy": version.stdout.split()[-1],
        "rate": args.rate,
        "workloads": workloads,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = started.strftime("%Y-%m-%dT%H%M%SZ")
    (args.out / f"profile-{stamp}.json").write_text(json.dumps(results, indent=1) + "\n")
    text = markdown(results)
    (args.out / "profile-latest.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
