"""Process-tree footprint from /proc (no psutil): RSS, PSS and CPU time of a server's tree.

RSS summed over a tree counts shared pages (the code every forked worker shares) once per
process; PSS divides them among the sharers, so the PSS sum is the tree's real share of
memory. Both are reported.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import process_tree

PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _kib(path: Path, key: str) -> int:
    """A `key: N kB` value of a /proc status-like file (0 when missing)."""
    with contextlib.suppress(OSError):
        for line in path.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class Footprint:
    """Memory of a process tree at one moment, in MiB."""

    processes: int
    rss_mb: float
    pss_mb: float


def footprint(root: int) -> Footprint:
    """RSS and PSS sums of `root`'s tree."""
    pids = process_tree(root)
    rss = sum(_kib(Path(f"/proc/{pid}/status"), "VmRSS") for pid in pids)
    pss = sum(_kib(Path(f"/proc/{pid}/smaps_rollup"), "Pss") for pid in pids)
    return Footprint(len(pids), round(rss / 1024, 1), round(pss / 1024, 1))


def cpu_seconds(root: int) -> float:
    """User + system CPU seconds of `root`'s live tree (and its reaped children)."""
    total = 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            # utime, stime, cutime, cstime are fields 14-17 (1-based) of stat.
            total += sum(int(x) for x in fields[11:15])
    return total / TICKS


@dataclass
class PeakSampler:
    """Samples a tree's footprint in a thread until stopped; keeps the peak (bounded)."""

    root: int
    interval: float = 0.5
    max_seconds: float = 1800
    peak: Footprint = field(default_factory=lambda: Footprint(0, 0.0, 0.0))
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        for _ in range(int(self.max_seconds / self.interval) + 1):
            sample = footprint(self.root)
            if sample.pss_mb > self.peak.pss_mb or sample.rss_mb > self.peak.rss_mb:
                self.peak = Footprint(
                    max(sample.processes, self.peak.processes),
                    max(sample.rss_mb, self.peak.rss_mb),
                    max(sample.pss_mb, self.peak.pss_mb),
                )
            if self._stop.wait(self.interval) or time.monotonic() > deadline:
                return

    def __enter__(self) -> PeakSampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)


def machine() -> dict[str, object]:
    """nproc, memory and CPU model of this machine."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = _kib(Path("/proc/meminfo"), "MemTotal")
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "cpu_model": model,
        "loadavg_at_start": [round(x, 2) for x in load],
    }
