"""Statistics and reporting shared by every scenario: percentiles, run summaries, targets met or missed.

Every figure a scenario prints goes through ``Report``: it prints one aligned line (median over runs,
spread across runs, ratio to the same-run baseline, the target and whether it is met) and keeps a
machine-readable copy that ``Report.save`` writes to ``bench/results/`` for docs/performance.md.
Targets are verdicts printed beside the figure, never assertions.
"""

from __future__ import annotations

import json
import math
import platform
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between closest ranks."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Distribution:
    """Percentiles of one run's samples (latencies in ms, for example)."""

    n: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> "Distribution":
        return cls(len(values), percentile(values, 50), percentile(values, 95), percentile(values, 99),
                   max(values) if values else math.nan)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def spread_pct(values: Sequence[float]) -> float:
    """Half the range across runs, as a percentage of the median: ±x % says how noisy the figure is."""
    mid = median(values)
    if len(values) < 2 or not mid:
        return 0.0
    return (max(values) - min(values)) / 2 / abs(mid) * 100


@dataclass(frozen=True)
class Target:
    """A goal from issue 9: ``value <= limit`` (lower is better) or ``value >= limit``."""

    limit: float
    higher_is_better: bool = False
    text: str = ""

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value >= self.limit if self.higher_is_better else value <= self.limit

    def describe(self) -> str:
        return self.text or f"{'≥' if self.higher_is_better else '<'} {_fmt(self.limit)}"


def _fmt(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


@dataclass
class Figure:
    scenario: str
    name: str
    unit: str
    runs: list[float]
    median: float
    spread_pct: float
    baseline: float | None = None
    ratio: float | None = None
    target: str | None = None
    met: bool | None = None
    note: str = ""


@dataclass
class Report:
    """Collects and prints the figures of one scenario run."""

    scenario: str
    figures: list[Figure] = field(default_factory=list)
    context: dict = field(default_factory=dict)

    def figure(self, name: str, runs: Sequence[float], unit: str, *, baseline: Sequence[float] | None = None,
               target: Target | None = None, note: str = "") -> Figure:
        """Print and keep one figure: median over runs, spread, ratio to the baseline's median, verdict."""
        runs = [float(v) for v in runs]
        mid = median(runs)
        fig = Figure(self.scenario, name, unit, runs, mid, spread_pct(runs), note=note)
        each = ", ".join(_fmt(v) for v in runs)
        parts = [f"  {name:<46} {_fmt(mid):>10} {unit:<8} ±{fig.spread_pct:4.0f}%  runs[{each}]"]
        if baseline:
            fig.baseline = median([float(v) for v in baseline])
            fig.ratio = mid / fig.baseline if fig.baseline else math.nan
            parts.append(f"baseline {_fmt(fig.baseline)} → ratio {_fmt(fig.ratio)}")
        if target is not None:
            fig.target, fig.met = target.describe(), target.met(mid)
            parts.append(f"target {fig.target}: {'MET' if fig.met else 'MISSED'}")
        if note:
            parts.append(f"({note})")
        print("  ".join(parts), flush=True)
        self.figures.append(fig)
        return fig

    def line(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def save(self) -> Path:
        RESULTS_DIR.mkdir(exist_ok=True)
        path = RESULTS_DIR / f"{self.scenario}-{time.strftime('%Y%m%d-%H%M%S')}.json"
        payload = {"scenario": self.scenario, "machine": machine(), "context": self.context,
                   "figures": [asdict(f) for f in self.figures]}
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
        print(f"  results written to {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
        return path


def machine() -> dict:
    """nproc, RAM and CPU model: printed with the figures so they are never quoted without their machine."""
    import os

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {"nproc": os.cpu_count(), "ram_gib": round(mem_kb / 1024 / 1024, 1), "cpu": cpu,
            "python": platform.python_version(), "kernel": platform.release()}


def header(title: str) -> None:
    m = machine()
    print(f"\n== {title} ==  ({m['nproc']} cores, {m['ram_gib']} GiB, {m['cpu']})", flush=True)
