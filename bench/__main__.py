"""Run every benchmark: `python -m bench [--quick] [--only NAME,…] [--out bench/results.json]`.

Each benchmark runs as `python -m bench.NAME ARGS` in its own process (one at a time, so they
do not disturb each other), its JSON lines are collected, printed as they come and written
to ``--out`` together with the machine and the command lines; `--markdown` also prints the
table of docs/performance.md. A benchmark that fails or times out is reported as a line with
``"error"``, the others still run. The exit status is 1 if a required metric is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name → (full arguments, --quick arguments, time limit in seconds)
BENCHES: dict[str, tuple[list[str], list[str], float]] = {
    "engine_durable_ops": ([], ["--ops", "300", "--rounds", "3"], 600),
    "ticket_tap_to_bytes": ([], ["--n", "50"], 900),
    "button_to_display_frame": ([], ["--n", "300"], 600),
    "ui_startup": ([], ["--runs", "2"], 900),
    "hq_ingest": ([], ["--branches", "200", "--events", "20"], 900),
    "backlog_drain": ([], ["--n", "5000"], 900),
    "estimate_cost": ([], [], 300),
}

# run only when named with --only (minutes each)
OPTIONAL: dict[str, tuple[list[str], list[str], float]] = {
    "soak": ([], ["--days", "2"], 3600),
}

REQUIRED = ("ticket_tap_to_bytes_ms", "button_to_display_frame_ms", "engine_durable_ops_ratio", "rss_headless_mb",
            "rss_ui_mb", "startup_ready_s", "hq_ingest_events_per_s", "backlog_drain_events_per_s")


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
    for key in ("p50", "value", "ratio"):
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
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args(argv)
    if a.list:
        for name, (full, quick, limit) in {**BENCHES, **OPTIONAL}.items():
            print(f"{name}: python -m bench.{name} {' '.join(full)}  (quick: {' '.join(quick)})"
                  + ("  [only with --only]" if name in OPTIONAL else ""))
        return 0
    names = [n for n in a.only.split(",") if n] or list(BENCHES)
    known = {**BENCHES, **OPTIONAL}
    unknown = [n for n in names if n not in known]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(known)}")
    results: list[dict] = []
    runs = []
    for name in names:
        full, quick, limit = known[name]
        args = quick if a.quick else full
        print(f"# bench.{name} {' '.join(args)}", file=sys.stderr, flush=True)
        lines, took = run_one(name, args, limit)
        for doc in lines:
            print(json.dumps(doc, ensure_ascii=False), flush=True)
        results += lines
        runs.append({"bench": name, "args": args, "seconds": round(took, 1)})
    seen = {d["metric"] for d in results if "error" not in d}
    missing = [m for m in REQUIRED if m not in seen] if not a.only else []
    doc = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "quick": a.quick,
           "machine": {"python": platform.python_version(), "platform": platform.platform(),
                       "cpus": os.cpu_count()},
           "runs": runs, "results": results, "missing": missing}
    Path(a.out).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    if a.markdown:
        print(markdown(results))
    if missing:
        print(f"missing metrics: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
