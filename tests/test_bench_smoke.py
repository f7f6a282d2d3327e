"""Smoke run of the benchmark harness (`bench/`): its plumbing, not a timed pass/fail.

One configuration (the seeds' default: plain `mlflow server` on SQLite), 1 client, 3
runs, one 1 MiB artifact through an image server on SQLite + moto S3, and the program
phase. It checks the results have every field the README table and the plot need, with
sane values. Like every e2e test: a missing service skips here and fails in CI (CI=true).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import run

pytestmark = pytest.mark.e2e


def test_bench_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tiny full pass writes JSON, markdown and PNG with sane values."""
    monkeypatch.setenv("BENCH_STRICT", "1")  # a failing phase raises instead of a note
    code = run.main(
        [
            "--quick",
            "--configs",
            "c",
            "--clients",
            "1",
            "--iterations",
            "3",
            "--duration",
            "30",
            "--artifact-sizes",
            "1",
            "--artifact-backend",
            "sqlite",
            "--program-reps",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    results = json.loads((tmp_path / "latest.json").read_text())
    assert (tmp_path / "latest.md").read_text().startswith("### Benchmark")
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(list(tmp_path.glob("20*.json"))) == 1
    assert results["notes"] == []

    meta = results["meta"]
    assert meta["machine"]["nproc"] >= 1 and meta["machine"]["memory_gib"] > 0
    assert meta["bytecode"]["PYTHONDONTWRITEBYTECODE"] in ("", "0", "1")
    assert set(meta["configs"]) == {"c"}

    one = results["tracking"]["c"]["1"]
    assert one["runs"] == 3, one
    assert one["errors"] == 0 and one["lost_writes"] == 0 and one["incomplete_writes"] == 0
    assert one["runs_per_s"] > 0
    assert 0 < one["p50_ms"] <= one["p95_ms"] <= one["p99_ms"] < 60_000
    assert set(one["op_p95_ms"]) == {"create_run", "log_batch", "set_terminated"}
    assert results["ratios_vs_baseline"]["c"]["throughput"]["1"] == 1.0

    start = results["cold_start"]["c"]["empty"]
    assert start["samples_s"] and 0 < start["median_s"] < 300
    footprint = results["footprint"]["c"]
    assert footprint["processes"] >= 2  # mlflow server's CLI process and uvicorn at least
    assert 50 < footprint["idle_pss_mb"] <= footprint["idle_rss_mb"]
    assert footprint["load_rss_mb"] > 0

    artifact = results["artifacts"]["by_size"]["1"]
    for mode in ("direct", "proxied", "proxied-mpu"):
        assert artifact[mode]["intact"], mode
        assert artifact[mode]["upload_mb_s"] > 0 and artifact[mode]["download_mb_s"] > 0
        assert artifact[mode]["s3_parts"] == 1  # 1 MiB is below every multipart threshold
    assert artifact["proxied"]["upload_vs_direct"] > 0

    program = results["program"]
    assert set(program) == {"local", "aws", "gcp", "azure"}
    for cloud, entry in program.items():
        if "skipped" in entry:
            continue
        assert entry["stack_wall_s"] > 0 and entry["floor_wall_s"] > 0, cloud
        assert entry["no_foreign_sdk"], (cloud, entry["foreign_sdks_loaded"])
    targets = {t["target"]: t for t in results["targets"]}
    assert targets["plain-sqlite: errors, all concurrencies"]["met"] is True
