"""Run every benchmark: `python -m bench [--quick] [--only NAME,…] [--strict] [--out bench/results.json]`.

Each benchmark runs as `python -m bench.NAME ARGS` in its own process (one at a time, so they
do not disturb each other), its JSON lines are collected, printed as they come and written
to ``--out`` together with the machine and the command lines; `--markdown` also prints the
table of docs/performance.md. A benchmark that fails or times out is reported as a line with
``"error"``, the others still run. Every benchmark declares the metrics it prints and their
targets (``METRICS`` in its module, see bench/metrics.py): `--list` prints them, one JSON line
per metric. The exit status is 1 if a metric with a target is missing from a full run, and
with `--strict` also if any target is missed, a benchmark failed, or a line names a metric
its benchmark does not declare.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.metrics import Metric, misses

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bench:
    """How `python -m bench` runs `python -m bench.NAME`: full and --quick arguments, a time limit,
    and whether it runs by default or only when named with --only."""

    full: list[str] = field(default_factory=list)
    quick: list[str] = field(default_factory=list)
    limit_s: float = 900
    optional: bool = False


# one line per benchmark; its metric names and targets are declared in bench/NAME.py (METRICS)
BENCHES: dict[str, Bench] = {
    "engine_durable_ops": Bench([], ["--ops", "300", "--rounds", "3"], 600),
    "ticket_tap_to_bytes": Bench([], ["--n", "50"], 900),
    "button_to_display_frame": Bench([], ["--n", "300"], 600),
    "ui_startup": Bench([], ["--runs", "2", "--sessions", "1", "--tickets", "100"], 1800),
    "hq_ingest": Bench([], ["--branches", "200", "--events", "20"], 900),
    "backlog_drain": Bench([], ["--n", "5000"], 900),
    "estimate_cost": Bench([], [], 300),
    "hq_dashboard": Bench([], ["--seconds", "5", "--burst", "20000", "--no-browser"], 1800, optional=True),
    "hq_scale": Bench([], ["--branches", "2000", "--events", "20000"], 1800, optional=True),
    "hq_compare": Bench([], ["--branches", "100", "--days", "30", "--requests", "10"], 3600, optional=True),
    "soak": Bench([], ["--days", "2"], 3600, optional=True),
    "pi_budget": Bench([], ["--quick"], 3600, optional=True),
    "arm64_run": Bench([], [], 5400, optional=True),
    "lan_api": Bench([], ["--seconds", "3"], 600, optional=True),
    "power_cut": Bench(["--cuts", "50"], ["--cuts", "3"], 7200, optional=True),
    "phone_follow": Bench([], ["--quick"], 1800, optional=True),
}


def declared(name: str) -> tuple[Metric, ...]:
    """The metrics `bench.NAME` declares (importing the module runs no benchmark)."""
    return tuple(importlib.import_module(f"bench.{name}").METRICS)


def listing() -> list[dict]:
    """One entry per declared metric: its name, benchmark, unit, target and how it is run."""
    rows = []
    for name, bench in BENCHES.items():
        for m in declared(name):
            rows.append({"metric": m.name, "bench": name, "unit": m.unit,
                         "target": m.describe_target(), "what": m.what,
                         "default_run": not bench.optional,
                         "command": " ".join(["python -m", f"bench.{name}", *bench.full]).strip()})
    return rows


def run_one(name: str, args: list[str], limit_s: float) -> tuple[list[dict], float]:
    cmd = [sys.executable, "-m", f"bench.{name}", *args]
    t0 = time.monotonic()
    lines: list[dict] = []
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit_s,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err, rc = f"timed out after {limit_s:.0f} s", None
    for line in out.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "metric" in doc:
            lines.append({**doc, "bench": name})
    if rc != 0:
        lines.append({"metric": f"{name}_run", "bench": name, "error": f"exit {rc}", "stderr": err[-1500:]})
    return lines, time.monotonic() - t0


def figure(doc: dict) -> str:
    if "error" in doc or "skipped" in doc:
        return str(doc.get("error") or f"skipped: {doc['skipped']}")
    for key in ("p50", "value", "ratio", "max"):
        if key in doc and doc[key] is not None:
            text = f"{key} {doc[key]}"
            if key == "p50" and doc.get("p99") is not None:
                text += f", p99 {doc['p99']}"
            return text + (f" {doc['unit']}" if doc.get("unit") else "")
    return ""


def context(doc: dict) -> str:
    skip = {"metric", "p50", "p99", "value", "unit", "bench", "n", "ratio"}
    parts = [f"{k}={v}" for k, v in doc.items() if k not in skip and not isinstance(v, (dict, list))]
    return ", ".join(parts)[:160]


def markdown(results: list[dict]) -> str:
    rows = ["| metric | figure | n | conditions |", "|---|---|---|---|"]
    for d in results:
        rows.append(f"| `{d['metric']}` | {figure(d)} | {d.get('n', '')} | {context(d)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples (a few minutes in all)")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results.json"))
    ap.add_argument("--markdown", action="store_true", help="print the table of docs/performance.md at the end")
    ap.add_argument("--list", action="store_true", help="print every declared metric (JSON lines) and stop")
    ap.add_argument("--strict", action="store_true", help="exit 1 when a target is missed or a benchmark fails")
    a = ap.parse_args(argv)
    if a.list:
        for row in listing():
            print(json.dumps(row, ensure_ascii=False))
        return 0
    names = [n for n in a.only.split(",") if n] or [n for n, b in BENCHES.items() if not b.optional]
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHES)}")
    metrics = {m.name: m for n in names for m in declared(n)}
    results: list[dict] = []
    runs = []
    for name in names:
        bench = BENCHES[name]
        args = bench.quick if a.quick else bench.full
        print(f"# bench.{name} {' '.join(args)}", file=sys.stderr, flush=True)
        lines, took = run_one(name, args, bench.limit_s)
        for doc in lines:
            print(json.dumps(doc, ensure_ascii=False), flush=True)
        results += lines
        runs.append({"bench": name, "args": args, "seconds": round(took, 1)})
    seen = {d["metric"] for d in results if "error" not in d}
    required = [m.name for m in metrics.values() if m.targets]
    missing = [m for m in required if m not in seen] if not a.only else []
    missed = misses(results, metrics)
    doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": a.quick,
           "machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "cpus": os.cpu_count()},
           "runs": runs, "results": results, "missing": missing, "targets_missed": missed}
    Path(a.out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if a.markdown:
        print(markdown(results))
    for problem in missed:
        print(f"target missed: {problem}", file=sys.stderr)
    if missing:
        print(f"missing metrics: {', '.join(missing)}", file=sys.stderr)
    return 1 if missing or (a.strict and (missed or missing)) else 0


if __name__ == "__main__":
    sys.exit(main())
