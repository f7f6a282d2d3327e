"""Results: the summary with ratios against the seeds' default and the targets, as JSON,
a markdown table for the README and a PNG plot (matplotlib, Agg backend)."""

# MLflow, boto3 and matplotlib load lazily: `--help` and the report stay fast without them.
# ruff: noqa: PLC0415

from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path
from typing import Any

from bench.load import percentile
from bench.servers import BASELINE, CONFIGS

OURS = ("a", "b")
SAME_DB_PLAIN = {"a": "d"}
"""Our configuration -> plain `mlflow server` on the same database engine."""


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _ratio(num: float | None, den: float | None) -> float | None:
    if num is None or den is None or den == 0:
        return None
    return round(num / den, 3)


def summarize(meta: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Aggregate the raw samples per configuration and check the targets."""
    keys = [k for k in meta["configs"]]
    tracking: dict[str, dict[str, Any]] = {}
    for key in keys:
        per_clients: dict[str, Any] = {}
        levels = [lv for lv in raw["levels"] if lv["config"] == key]
        for clients in sorted({lv["clients"] for lv in levels}):
            same = [lv for lv in levels if lv["clients"] == clients]
            pooled = [ms for lv in same for ms in lv["latency_ms"]]
            per_clients[str(clients)] = {
                "runs_per_s": _median([lv["runs_per_s"] for lv in same]),
                "runs_per_s_rounds": [lv["runs_per_s"] for lv in same],
                "runs": sum(lv["runs"] for lv in same),
                "p50_ms": round(percentile(pooled, 50), 1),
                "p95_ms": round(percentile(pooled, 95), 1),
                "p99_ms": round(percentile(pooled, 99), 1),
                "op_p95_ms": same[-1]["op_p95_ms"],
                "errors": sum(lv["errors"] for lv in same),
                "error_samples": sorted({e for lv in same for e in lv["error_samples"]})[:5],
                "lost_writes": sum(lv["missing"] for lv in same),
                "incomplete_writes": sum(lv["incomplete"] for lv in same),
                "client_cpu_per_process_max": max(
                    (c for lv in same for c in lv["client_cpu_per_process"]), default=0.0
                ),
                "client_processes": same[-1]["client_processes"],
                "server_cpu_per_s": _median([lv["server_cpu_per_s"] for lv in same]),
            }
        tracking[key] = per_clients

    footprint: dict[str, Any] = {}
    for key in keys:
        idle = [s for s in raw["idle"] if s["config"] == key]
        peaks = [lv["server_peak"] for lv in raw["levels"] if lv["config"] == key]
        footprint[key] = {
            "processes": max((s["processes"] for s in idle), default=None),
            "idle_rss_mb": _median([s["rss_mb"] for s in idle]),
            "idle_pss_mb": _median([s["pss_mb"] for s in idle]),
            "load_rss_mb": max((p["rss_mb"] for p in peaks), default=None),
            "load_pss_mb": max((p["pss_mb"] for p in peaks), default=None),
        }

    cold: dict[str, Any] = {}
    for key in keys:
        samples = [s for s in raw["cold_start"] if s["config"] == key]
        cold[key] = {
            state: {
                "median_s": _median([s["s"] for s in samples if s["db"] == state]),
                "samples_s": [s["s"] for s in samples if s["db"] == state],
            }
            for state in ("migrated", "empty")
        }

    results: dict[str, Any] = {
        "meta": meta,
        "tracking": tracking,
        "footprint": footprint,
        "cold_start": cold,
        "artifacts": _artifact_summary(raw.get("artifacts")),
        "program": _program_summary(raw.get("program")),
        "notes": raw["notes"],
        "phase_seconds": raw.get("phase_seconds", {}),
        "raw": {k: v for k, v in raw.items() if k not in ("notes", "phase_seconds")},
    }
    results["ratios_vs_baseline"] = _ratios(results, keys)
    results["targets"] = _targets(results, keys)
    return results


def _artifact_summary(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return None
    out: dict[str, Any] = {"engine": data["engine"], "by_size": {}}
    for size in data["sizes_mb"]:
        row: dict[str, Any] = {}
        for mode in ("direct", "proxied", "proxied-mpu"):
            samples = [s for s in data["samples"] if s["size_mb"] == size and s["mode"] == mode]
            if not samples:
                continue
            row[mode] = {
                "upload_mb_s": _median([s["upload_mb_s"] for s in samples]),
                "download_mb_s": _median([s["download_mb_s"] for s in samples]),
                "s3_parts": max(s["s3_parts"] for s in samples),
                "multipart": any(s["multipart"] for s in samples),
                "intact": all(s["intact"] for s in samples),
                "server_peak_pss_mb": max(
                    max(s["server_peak_pss_mb_up"], s["server_peak_pss_mb_down"]) for s in samples
                ),
            }
        if "direct" in row:
            for mode in ("proxied", "proxied-mpu"):
                if mode in row:
                    row[mode]["upload_vs_direct"] = _ratio(
                        row[mode]["upload_mb_s"], row["direct"]["upload_mb_s"]
                    )
                    row[mode]["download_vs_direct"] = _ratio(
                        row[mode]["download_mb_s"], row["direct"]["download_mb_s"]
                    )
        out["by_size"][str(size)] = row
    return out


def _program_summary(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return None
    out: dict[str, Any] = {}
    for cloud, entry in data.items():
        if "skipped" in entry:
            out[cloud] = entry
            continue
        stack = _median(entry["stack_wall_s"])
        floor = _median(entry["floor_wall_s"])
        out[cloud] = {
            "stack_wall_s": stack,
            "floor_wall_s": floor,
            "ratio_to_floor": _ratio(stack, floor),
            "stack_maxrss_mb": _median(entry["stack_maxrss_mb"]),
            "floor_maxrss_mb": _median(entry["floor_maxrss_mb"]),
            "resources": entry["resources"],
            "pulumi_sdks_loaded": entry["pulumi_sdks_loaded"],
            "foreign_sdks_loaded": entry["foreign_sdks_loaded"],
            "no_foreign_sdk": entry["no_foreign_sdk"],
            "top_level_modules": entry["top_level_modules"],
            "registrations": entry["registrations"],
        }
    return out


def _ratios(results: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """Every configuration's figures divided by the baseline's (c)."""
    if BASELINE not in keys:
        return {}
    base_t = results["tracking"][BASELINE]
    out: dict[str, Any] = {}
    for key in keys:
        row: dict[str, Any] = {"throughput": {}, "p95": {}}
        for clients, figures in results["tracking"][key].items():
            if clients in base_t:
                row["throughput"][clients] = _ratio(
                    figures["runs_per_s"], base_t[clients]["runs_per_s"]
                )
                row["p95"][clients] = _ratio(figures["p95_ms"], base_t[clients]["p95_ms"])
        for state in ("migrated", "empty"):
            row[f"cold_start_{state}"] = _ratio(
                results["cold_start"][key][state]["median_s"],
                results["cold_start"][BASELINE][state]["median_s"],
            )
        for what in ("idle_pss_mb", "load_pss_mb", "idle_rss_mb", "load_rss_mb"):
            row[what] = _ratio(
                results["footprint"][key][what], results["footprint"][BASELINE][what]
            )
        out[key] = row
    return out


def _target(name: str, value: Any, goal: str, met: bool | None) -> dict[str, Any]:
    return {"target": name, "value": value, "goal": goal, "met": met}


def _targets(results: dict[str, Any], keys: list[str]) -> list[dict[str, Any]]:
    """The issue's targets, each with its figure and whether it is met (None: not measured)."""
    out: list[dict[str, Any]] = []
    ratios = results["ratios_vs_baseline"]
    for key in (k for k in OURS if k in keys):
        name = CONFIGS[key].name
        r = ratios.get(key, {})
        tp = r.get("throughput", {}).get("16")
        p95 = r.get("p95", {}).get("16")
        out.append(_target(f"{name}: throughput @16 vs (c)", tp, ">= 2.0", _ge(tp, 2.0)))
        out.append(_target(f"{name}: p95 @16 vs (c)", p95, "<= 0.5", _le(p95, 0.5)))
    for key in keys:
        name = CONFIGS[key].name
        figures = results["tracking"][key].values()
        errors = sum(f["errors"] for f in figures)
        lost = sum(f["lost_writes"] + f["incomplete_writes"] for f in figures)
        measured = bool(results["tracking"][key])
        out.append(
            _target(f"{name}: errors, all concurrencies", errors, "== 0", measured and errors == 0)
        )
        out.append(_target(f"{name}: lost/incomplete writes", lost, "== 0", measured and lost == 0))
    for key, plain in SAME_DB_PLAIN.items():
        if key in keys and plain in keys:
            name = CONFIGS[key].name
            ours, theirs = results["cold_start"][key], results["cold_start"][plain]
            cs = _ratio(ours["migrated"]["median_s"], theirs["migrated"]["median_s"])
            out.append(
                _target(f"{name}: cold start (migrated DB) vs (d)", cs, "<= 0.5", _le(cs, 0.5))
            )
            for what in ("idle_pss_mb", "load_pss_mb"):
                ratio = _ratio(results["footprint"][key][what], results["footprint"][plain][what])
                out.append(_target(f"{name}: {what} vs (d)", ratio, "<= 0.5", _le(ratio, 0.5)))
    if BASELINE in keys:
        for key in (k for k in OURS if k in keys):
            cs = ratios[key].get("cold_start_migrated")
            name = CONFIGS[key].name
            out.append(
                _target(f"{name}: cold start (migrated DB) vs (c)", cs, "<= 0.5", _le(cs, 0.5))
            )
            pss = ratios[key].get("idle_pss_mb")
            out.append(_target(f"{name}: idle PSS vs (c)", pss, "<= 0.5", _le(pss, 0.5)))
    art = results.get("artifacts") or {}
    sizes = sorted(int(s) for s in art.get("by_size", {}))
    if sizes:
        big = art["by_size"][str(sizes[-1])].get("proxied", {})
        for way in ("upload", "download"):
            ratio = big.get(f"{way}_vs_direct")
            out.append(
                _target(f"proxied {sizes[-1]} MB {way} vs direct", ratio, ">= 0.7", _ge(ratio, 0.7))
            )
    for cloud, entry in (results.get("program") or {}).items():
        if "skipped" in entry:
            out.append(_target(f"stack {cloud}: evaluates <= 1.5x floor", None, "<= 1.5", None))
            continue
        ratio = entry["ratio_to_floor"]
        out.append(_target(f"stack {cloud}: wall vs floor", ratio, "<= 1.5", _le(ratio, 1.5)))
        out.append(
            _target(
                f"stack {cloud}: no other cloud's SDK",
                entry["foreign_sdks_loaded"],
                "[]",
                entry["no_foreign_sdk"],
            )
        )
    return out


def _ge(value: float | None, goal: float) -> bool | None:
    return None if value is None else value >= goal


def _le(value: float | None, goal: float) -> bool | None:
    return None if value is None else value <= goal


# --------------------------------------------------------------------------- outputs


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    """The README table: machine, byte-code setting, figures per configuration, targets."""
    meta = results["meta"]
    machine = meta["machine"]
    keys = list(meta["configs"])
    lines = [
        f"### Benchmark {meta['date']}",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"load average at start {machine['loadavg_at_start']}; Python {meta['python']}; "
        f"PYTHONDONTWRITEBYTECODE={meta['bytecode']['PYTHONDONTWRITEBYTECODE'] or 'unset'} "
        f"for every configuration (site-packages precompiled: "
        f"{meta['bytecode']['site_packages_pyc_coverage'].get('mlflow', '?')} of mlflow). "
        f"Command: `{meta['command'].strip()}`; {meta['total_seconds']:.0f} s in total. "
        "Client, server and database share the machine; ratios are against (c), measured "
        "in the same run in alternating order.",
        "",
        "Configurations: " + "; ".join(f"{meta['configs'][k]}" for k in keys) + ".",
        "",
    ]
    tracking = results["tracking"]
    clients = sorted({int(c) for k in keys for c in tracking.get(k, {})})
    if clients:
        lines += [
            "| config | "
            + " | ".join(f"runs/s @{c}" for c in clients)
            + " | "
            + " | ".join(f"p50/p95/p99 ms @{c}" for c in clients)
            + " | errors | lost |",
            "|---" * (1 + 2 * len(clients) + 2) + "|",
        ]
        ratios = results.get("ratios_vs_baseline", {})
        for key in keys:
            row = tracking.get(key, {})
            tp = []
            for c in clients:
                fig = row.get(str(c), {})
                rat = ratios.get(key, {}).get("throughput", {}).get(str(c))
                tp.append(
                    f"{_fmt(fig.get('runs_per_s'))}"
                    + (f" ({rat:.2f}x)" if rat is not None and key != BASELINE else "")
                )
            lat = [
                "/".join(
                    _fmt(row.get(str(c), {}).get(p), 0) for p in ("p50_ms", "p95_ms", "p99_ms")
                )
                for c in clients
            ]
            errors = sum(f["errors"] for f in row.values())
            lost = sum(f["lost_writes"] + f["incomplete_writes"] for f in row.values())
            lines.append(f"| {key} | " + " | ".join(tp + lat) + f" | {errors} | {lost} |")
        lines.append("")
    lines += [
        "| config | cold start, migrated DB (s) | cold start, empty DB (s) | processes | "
        "idle RSS / PSS (MB) | under load RSS / PSS (MB) |",
        "|---|---|---|---|---|---|",
    ]
    for key in keys:
        cs, fp = results["cold_start"][key], results["footprint"][key]
        lines.append(
            f"| {key} | {_fmt(cs['migrated']['median_s'], 2)} | {_fmt(cs['empty']['median_s'], 2)} "
            f"| {_fmt(fp['processes'])} | {_fmt(fp['idle_rss_mb'], 0)} / "
            f"{_fmt(fp['idle_pss_mb'], 0)} | {_fmt(fp['load_rss_mb'], 0)} / "
            f"{_fmt(fp['load_pss_mb'], 0)} |"
        )
    lines.append("")
    art = results.get("artifacts")
    if art:
        lines += [
            f"Artifacts (image, {art['engine']} backend, moto S3; MB/s up / down; S3 parts):",
            "",
            "| size MiB | direct (4) | proxied (5) | proxied vs direct | proxied + client MPU |",
            "|---|---|---|---|---|",
        ]
        for size, row in art["by_size"].items():

            def cell(mode: str, row: dict[str, Any] = row) -> str:
                m = row.get(mode)
                if not m:
                    return "-"
                return (
                    f"{_fmt(m['upload_mb_s'])} / {_fmt(m['download_mb_s'])}; {m['s3_parts']} parts"
                    + ("" if m["intact"] else " CORRUPT")
                )

            prox = row.get("proxied", {})
            lines.append(
                f"| {size} | {cell('direct')} | {cell('proxied')} | "
                f"{_fmt(prox.get('upload_vs_direct'), 2)} / {_fmt(prox.get('download_vs_direct'), 2)}"
                f" | {cell('proxied-mpu')} |"
            )
        lines.append("")
    prog = results.get("program")
    if prog:
        lines += [
            "| stack | wall (s) | floor (s) | ratio | peak RSS / floor (MB) | SDKs loaded |",
            "|---|---|---|---|---|---|",
        ]
        for cloud, e in prog.items():
            if "skipped" in e:
                lines.append(f"| {cloud} | - | - | - | - | skipped: {e['skipped']} |")
                continue
            lines.append(
                f"| {cloud} | {_fmt(e['stack_wall_s'], 2)} | {_fmt(e['floor_wall_s'], 2)} | "
                f"{_fmt(e['ratio_to_floor'], 2)} | {_fmt(e['stack_maxrss_mb'], 0)} / "
                f"{_fmt(e['floor_maxrss_mb'], 0)} | {', '.join(e['pulumi_sdks_loaded'])} |"
            )
        lines.append("")
    lines += ["| target | value | goal | met |", "|---|---|---|---|"]
    for t in results["targets"]:
        met = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {_fmt(t['value'], 2)} | {t['goal']} | {met} |")
    for note in results["notes"]:
        lines.append(f"\nNote: {note}")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    """Throughput and p95 per config x clients; cold start and footprint bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(results["meta"]["configs"])
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    for key in keys:
        row = results["tracking"].get(key, {})
        xs = sorted(int(c) for c in row)
        label = f"{key}: {results['meta']['configs'][key]}"
        axes[0][0].plot(xs, [row[str(x)]["runs_per_s"] for x in xs], marker="o", label=label)
        axes[0][1].plot(xs, [row[str(x)]["p95_ms"] for x in xs], marker="o", label=label)
    for ax, title in ((axes[0][0], "runs/s"), (axes[0][1], "p95 latency per run (ms)")):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("concurrent clients")
        ax.set_title(title)
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    width = 0.38
    xs_pos = list(range(len(keys)))
    for offset, state in ((-width / 2, "migrated"), (width / 2, "empty")):
        axes[1][0].bar(
            [x + offset for x in xs_pos],
            [results["cold_start"][k][state]["median_s"] or 0 for k in keys],
            width,
            label=f"{state} DB",
        )
    axes[1][0].set_title("cold start to first healthy /health (s)")
    for offset, what in ((-width / 2, "idle_pss_mb"), (width / 2, "load_pss_mb")):
        axes[1][1].bar(
            [x + offset for x in xs_pos],
            [results["footprint"][k][what] or 0 for k in keys],
            width,
            label=what.replace("_pss_mb", ""),
        )
    axes[1][1].set_title("server process tree PSS (MB)")
    for ax in (axes[1][0], axes[1][1]):
        ax.set_xticks(xs_pos, keys, fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"MLflow server benchmark {results['meta']['date']}")
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.03 * ((len(keys) + 1) // 2) + 0.02, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(results: dict[str, Any], out: Path, started: dt.datetime) -> None:
    """Write <date>.json, latest.json, latest.md and latest.png into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=1, sort_keys=False)
    (out / f"{started.strftime('%Y-%m-%dT%H%M%SZ')}.json").write_text(text)
    (out / "latest.json").write_text(text)
    (out / "latest.md").write_text(markdown(results))
    plot(results, out / "latest.png")
