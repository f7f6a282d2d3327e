"""Benchmark of the MLflow server image against plain `mlflow server`: one command.

    .venv/bin/python -m bench.run            # full run (about 20-25 minutes on 2 cores)
    .venv/bin/python -m bench.run --quick    # a few minutes: 1 and 4 clients, small files

Needs the real services of the end-to-end tests (`tests/install_services.sh`). Writes
`bench/results/<date>.json`, `latest.json`, `latest.md` (the README table) and `latest.png`.

Phases, every configuration measured in the same run and in alternating order (round r
visits the configurations forwards when r is even, backwards when odd), so that the noise
of a shared machine lands on all of them alike; the report gives ratios against the seeds'
default (c):

1. tracking: per configuration and round, start the server on its database (the first
   round finds it empty: an empty-DB cold start; later rounds find it migrated), record
   the idle footprint, then run each client count for `--duration` seconds (at most
   `--iterations` per client) and verify every acknowledged run afterwards;
2. cold starts: more start -> healthy -> stop cycles on the migrated databases and on
   fresh empty ones;
3. artifacts: proxied vs direct upload/download on the same moto S3 endpoint;
4. program: each existing stack under Pulumi mocks vs its import floor.

Where the server's time goes is a separate command, `python -m bench.profile` (py-spy).
"""

# MLflow, boto3 and matplotlib load lazily: `--help` and the report stay fast without them.
# ruff: noqa: PLC0415

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

from bench import artifacts, load, proc, program, report
from bench.servers import (
    BASELINE,
    CONFIGS,
    Config,
    Database,
    Services,
    add_variant,
    make_server,
    new_database,
)
from tests import services

RESULTS = services.REPO / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; --quick changes the defaults of the others."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=(__doc__ or "").split("\n", 1)[0]
    )
    parser.add_argument("--quick", action="store_true", help="a few minutes instead of ~25")
    parser.add_argument("--configs", default="abcd", help="which of a b c d (default: abcd)")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="tuning variant KEY=BASE:VAR=value[,VAR=value], e.g. w4=a:SERVER_WORKERS=4 (repeat)",
    )
    parser.add_argument("--clients", help="comma-separated client counts (1,4,16,64)")
    parser.add_argument("--iterations", type=int, help="at most this many runs per client")
    parser.add_argument("--duration", type=float, help="seconds of load per client count")
    parser.add_argument("--rounds", type=int, help="tracking rounds per configuration")
    parser.add_argument("--cold-starts", type=int, help="extra migrated-DB start cycles")
    parser.add_argument("--empty-starts", type=int, help="extra empty-DB start cycles")
    parser.add_argument("--artifact-sizes", help="comma-separated MiB (1,64,512)")
    parser.add_argument("--artifact-rounds", type=int, help="rounds of the artifact phase")
    parser.add_argument(
        "--artifact-backend", default="postgresql", choices=("postgresql", "mariadb", "sqlite")
    )
    parser.add_argument("--program-reps", type=int, help="stack/floor pairs per cloud")
    parser.add_argument(
        "--skip", default="", help="comma-separated phases: tracking,coldstart,artifacts,program"
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--budget-minutes", type=float, help="skip phases that start later")
    args = parser.parse_args(argv)
    args.configs = [*args.configs, *(add_variant(v) for v in args.variant)]
    quick = args.quick
    defaults: dict[str, Any] = {
        "clients": "1,4" if quick else "1,4,16,64",
        "iterations": 5 if quick else 100_000,
        "duration": 3.0 if quick else 6.0,
        "rounds": 1 if quick else 2,
        "cold_starts": 0 if quick else 1,
        "empty_starts": 0 if quick else 1,
        "artifact_sizes": "1,8" if quick else "1,64,512",
        "artifact_rounds": 1 if quick else 2,
        "program_reps": 1 if quick else 3,
        "budget_minutes": 10.0 if quick else 28.0,
    }
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def _order(keys: list[str], rnd: int) -> list[str]:
    """Round r's visiting order: forwards on even rounds, backwards on odd ones (ABBA)."""
    return keys if rnd % 2 == 0 else keys[::-1]


def settle_footprint(pid: int, seconds: float) -> proc.Footprint:
    """The tree's footprint once it stops changing (workers booted), bounded by `seconds`."""
    last = proc.footprint(pid)
    deadline = time.monotonic() + seconds
    for _ in range(int(seconds) + 2):
        time.sleep(1)
        now = proc.footprint(pid)
        if abs(now.pss_mb - last.pss_mb) <= 0.02 * max(last.pss_mb, 1) and now.processes == (
            last.processes
        ):
            return now
        last = now
        if time.monotonic() > deadline:
            break
    return last


def tracking_phase(
    svc: Services, args: argparse.Namespace, raw: dict[str, Any], state: dict[str, Any]
) -> None:
    """Rounds of start + idle footprint + every client count + verification, per config."""
    keys = list(args.configs)
    dbs = {k: new_database(svc, CONFIGS[k].db) for k in keys}
    buckets = {k: svc.bucket() for k in keys if CONFIGS[k].image}
    for rnd in range(args.rounds):
        for key in _order(keys, rnd):
            config = CONFIGS[key]
            db_state = "empty" if rnd == 0 else "migrated"
            print(f"[tracking] round {rnd} {config.name} ({db_state} DB) starting", flush=True)
            try:
                _tracking_session(
                    svc,
                    args,
                    raw,
                    config=config,
                    rnd=rnd,
                    db_state=db_state,
                    db=dbs[key],
                    buckets=buckets,
                )
            except Exception as exc:  # one configuration failing must not end the others
                if services.in_ci() or os.environ.get("BENCH_STRICT"):
                    raise
                raw["notes"].append(f"{config.name} round {rnd}: {_short(exc)}")
                print(f"  failed: {_short(exc)}", flush=True)
    state["dbs"], state["buckets"] = dbs, buckets


def _short(exc: BaseException) -> str:
    """An exception as a short note: its type and the last lines of its message."""
    lines = [ln for ln in str(exc).splitlines() if ln.strip()]
    return f"{type(exc).__name__}: " + " | ".join(lines[:1] + lines[-3:])[:600]


def _tracking_session(
    svc: Services,
    args: argparse.Namespace,
    raw: dict[str, Any],
    *,
    config: Config,
    rnd: int,
    db_state: str,
    db: Database,
    buckets: dict[str, str],
) -> None:
    """One server life: start (cold start sample), idle footprint, every client count."""
    from mlflow import MlflowClient

    key = config.key
    server = make_server(svc, config, db, bucket=buckets.get(key))
    server.start()
    try:
        healthy = server.wait_healthy_fine()
        raw["cold_start"].append({"config": key, "db": db_state, "s": round(healthy, 3)})
        client = MlflowClient(server.url)
        client.search_experiments(max_results=1)  # one request through a worker
        idle = settle_footprint(server.server_pid(), 5 if args.quick else 10)
        raw["idle"].append({"config": key, "round": rnd, **idle.__dict__})
        for clients in _ints(args.clients):
            experiment = client.create_experiment(f"bench-{key}-{clients}-{rnd}-{_uid()}")
            level = load.run_level(
                url=server.url,
                experiment_id=experiment,
                clients=clients,
                iterations=args.iterations,
                duration=args.duration,
                server_pid=server.server_pid(),
            )
            load.verify(server.url, experiment, level)
            raw["levels"].append(_level_record(key, rnd, level))
            print(
                f"  {clients:>3} clients: {len(level.acked) / level.wall_s:6.1f} runs/s "
                f"errors {len(level.errors)} missing {level.missing} "
                f"incomplete {level.incomplete}",
                flush=True,
            )
    finally:
        server.stop()
        server.log_path.unlink(missing_ok=True)


def _uid() -> str:
    return uuid.uuid4().hex[:6]


def _level_record(key: str, rnd: int, level: load.LevelResult) -> dict[str, Any]:
    """The JSON form of one load level (latencies in ms)."""
    iteration_ms = [round(r[0] * 1000, 1) for r in level.records]
    ops = {
        name: [r[i] * 1000 for r in level.records]
        for i, name in ((1, "create_run"), (2, "log_batch"), (3, "set_terminated"))
    }
    return {
        "config": key,
        "round": rnd,
        "clients": level.clients,
        "client_processes": level.processes,
        "wall_s": round(level.wall_s, 3),
        "runs": len(level.acked),
        "runs_per_s": round(len(level.acked) / level.wall_s, 2) if level.wall_s else 0.0,
        "latency_ms": iteration_ms,
        "op_p95_ms": {n: round(load.percentile(v, 95), 1) for n, v in ops.items()},
        "errors": len(level.errors),
        "error_samples": sorted(set(level.errors))[:5],
        "missing": level.missing,
        "incomplete": level.incomplete,
        "client_cpu_per_process": [round(c / level.wall_s, 2) for c in level.client_cpu_s],
        "server_cpu_per_s": round(level.server_cpu_s / level.wall_s, 2),
        "server_peak": level.server_peak.__dict__,
    }


def coldstart_phase(
    svc: Services, args: argparse.Namespace, raw: dict[str, Any], state: dict[str, Any]
) -> None:
    """Start -> healthy -> stop cycles, alternating configs: migrated DBs, then empty ones."""
    keys = list(args.configs)
    dbs = state.get("dbs") or {k: new_database(svc, CONFIGS[k].db) for k in keys}
    buckets = state.get("buckets") or {k: svc.bucket() for k in keys if CONFIGS[k].image}
    plan = [("migrated", r) for r in range(args.cold_starts)] + [
        ("empty", r) for r in range(args.empty_starts)
    ]
    for i, (db_state, _) in enumerate(plan):
        for key in _order(keys, i + 1):
            config = CONFIGS[key]
            db = dbs[key] if db_state == "migrated" else new_database(svc, config.db)
            server = make_server(svc, config, db, bucket=buckets.get(key))
            print(f"[coldstart] {config.name} ({db_state} DB)", flush=True)
            server.start()
            try:
                healthy = server.wait_healthy_fine()
                raw["cold_start"].append({"config": key, "db": db_state, "s": round(healthy, 3)})
            except Exception as exc:  # one configuration failing must not end the others
                if services.in_ci() or os.environ.get("BENCH_STRICT"):
                    raise
                raw["notes"].append(f"{config.name} cold start ({db_state}): {_short(exc)}")
            finally:
                server.stop()
                server.log_path.unlink(missing_ok=True)


def bytecode_info() -> dict[str, Any]:
    """The byte-code setting and how much of what the servers import is precompiled."""
    import importlib.util
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    tag = sys.implementation.cache_tag
    coverage = {}
    for package in ("mlflow", "sqlalchemy", "fastapi", "boto3", "botocore", "pulumi"):
        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            continue
        root = Path(next(iter(spec.submodule_search_locations)))
        sources = list(root.rglob("*.py"))
        compiled = sum(
            1 for s in sources if (s.parent / "__pycache__" / f"{s.stem}.{tag}.pyc").exists()
        )
        coverage[package] = round(compiled / max(len(sources), 1), 3)
    start = time.perf_counter()
    for path in sorted((services.DOCKER_DIR / "mlflow_image").glob("*.py")):
        compile(path.read_text(), str(path), "exec")
    return {
        "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
        "dont_write_bytecode": sys.flags.dont_write_bytecode,
        "site_packages": str(site),
        "site_packages_pyc_coverage": coverage,
        "entrypoint_compile_ms": round((time.perf_counter() - start) * 1000, 1),
        "note": (
            "All configurations run with this process's PYTHONDONTWRITEBYTECODE. The venv's "
            "site-packages ship compiled byte-code (coverage above), so MLflow and its "
            "dependencies load from .pyc in every configuration, as in the image; only the "
            "image's own entrypoint modules compile at each start (entrypoint_compile_ms)."
        ),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the phases, write the results, print the markdown table."""
    args = parse_args(argv)
    began = time.monotonic()
    deadline = began + args.budget_minutes * 60
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    started = dt.datetime.now(dt.UTC)
    raw: dict[str, Any] = {"cold_start": [], "idle": [], "levels": [], "notes": []}
    state: dict[str, Any] = {}  # databases and buckets the tracking phase leaves migrated
    meta = {
        "date": started.isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "machine": proc.machine(),
        "python": sys.version.split()[0],
        "bytecode": bytecode_info(),
        "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "configs": {k: CONFIGS[k].label for k in args.configs},
        "baseline": BASELINE,
    }
    phases = [
        ("tracking", lambda: tracking_phase(svc, args, raw, state)),
        ("coldstart", lambda: coldstart_phase(svc, args, raw, state)),
        (
            "artifacts",
            lambda: raw.__setitem__(
                "artifacts",
                artifacts.run(
                    svc, _ints(args.artifact_sizes), args.artifact_rounds, args.artifact_backend
                ),
            ),
        ),
        ("program", lambda: raw.__setitem__("program", program.measure(args.program_reps))),
    ]
    svc = Services()
    try:
        for name, phase in phases:
            if name in skip:
                continue
            if time.monotonic() > deadline:
                raw["notes"].append(f"phase {name} skipped: time budget spent")
                continue
            phase_start = time.monotonic()
            try:
                phase()
            except Exception as exc:
                if services.in_ci() or os.environ.get("BENCH_STRICT"):
                    raise
                raw["notes"].append(f"phase {name} failed: {type(exc).__name__}: {exc}"[:2000])
                traceback.print_exc()
            raw.setdefault("phase_seconds", {})[name] = round(time.monotonic() - phase_start, 1)
    finally:
        svc.close()
    meta["total_seconds"] = round(time.monotonic() - began, 1)
    results = report.summarize(meta, raw)
    report.write(results, args.out, started)
    print(report.markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
